"""A `.pt` file opens when it holds one tensor saved with torch.save; any other pickle is refused and never runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradstudio.model.io.fileschema import GraphFileError
from gradstudio.model.io.torch_file import load_any, load_tensor_file
from gradstudio.model.workspace import GraphWorkspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch not installed: .pt files cannot be read without it")


class Payload:
    """An object whose unpickling creates a file: what a malicious .pt would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_saved_tensor_opens_as_a_values_leaf(torch, tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(torch.tensor([[1.5, -2.0], [0.25, 4.0]]), path)
    document = load_any(path)
    [node] = document.nodes.values()
    assert node.name == "weights" and node.attributes["init"] == "values"
    assert GraphWorkspace(document).results()[node.id].value.tolist() == [[1.5, -2.0], [0.25, 4.0]]


def test_a_pickled_object_is_refused_and_nothing_of_it_runs(torch, tmp_path):
    # the crafted file is live: an ordinary unpickling would create its marker
    proof = tmp_path / "proof.pt"
    torch.save(Payload(tmp_path / "ran-when-unpickled"), proof)
    torch.load(proof, weights_only=False).close()
    assert (tmp_path / "ran-when-unpickled").exists()

    marker = tmp_path / "must-not-exist"
    evil = tmp_path / "evil.pt"
    torch.save(Payload(marker), evil)
    with pytest.raises(GraphFileError, match="not a file of one tensor saved with torch.save"):
        load_any(evil)
    assert not marker.exists()


def test_a_container_of_tensors_is_refused(torch, tmp_path):
    path = tmp_path / "state.pt"
    torch.save({"weight": torch.ones(2)}, path)
    with pytest.raises(GraphFileError, match="holds a dict, not a tensor"):
        load_tensor_file(path)


def test_garbage_and_missing_files(torch, tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a pickle at all")
    with pytest.raises(GraphFileError, match="not a file of one tensor"):
        load_tensor_file(garbage)
    with pytest.raises(GraphFileError, match="cannot read the file"):
        load_tensor_file(tmp_path / "missing.pt")


def test_without_torch_a_pt_file_says_how_to_install_it(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)
    path = tmp_path / "x.pt"
    path.write_bytes(b"")
    with pytest.raises(GraphFileError, match="pip install torch"):
        load_tensor_file(path)


def test_a_gsg_still_loads_through_load_any():
    document = load_any(ROOT / "resources" / "examples" / "notes_forward_backward.gsg")
    assert "out" in {node.name for node in document.nodes.values()}
