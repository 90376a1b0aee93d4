"""Writing `.gsg` files: the layout, round trips and atomic saves (no display needed)."""

from __future__ import annotations

import json
import math
import os
import stat
from typing import Any

import pytest
from gsg_samples import base_data, changed

from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.document import Edge, EditError, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, SetAttribute, SetSetting
from gradstudio.model.io import fileformat
from gradstudio.model.io.fileformat import dumps, load, loads, save


def test_dumps_layout():
    text = dumps(loads(json.dumps(base_data())))
    assert text.startswith('{\n  "format": "gradstudio-graph",\n  "version": 5,\n')
    assert text.endswith("\n}\n")
    assert ('\n  "settings": {\n    "grad_mode": "normal",\n    "backward_target": "n4",\n    "training": null,\n'
            '    "loss_history": []\n  },\n') in text
    assert '\n        "values": [\n          [1, 2],\n          [3, 4]\n        ],\n' in text
    assert '\n    {"source": "n1", "target": "n3", "port": "a"},\n' in text
    assert list(json.loads(text)) == ["format", "version", "settings", "nodes", "edges", "annotations"]
    assert list(json.loads(text)["nodes"][0]) == ["id", "kind", "name", "position", "retain_grad", "attributes"]


def test_edges_are_written_by_target_then_port_order():
    document = GraphDocument()
    for node_id, kind in (("a", "tensor"), ("b", "tensor"), ("s", "sub")):
        AddNode(Node(node_id, kind, f"v_{node_id}")).apply(document)
    Connect(Edge("a", "s", "b")).apply(document)
    Connect(Edge("b", "s", "a")).apply(document)
    edges = json.loads(dumps(document))["edges"]
    assert [edge["port"] for edge in edges] == ["a", "b"]


def test_non_finite_numbers_round_trip():
    data = changed((("nodes", 1, "attributes", "value"), math.inf))(base_data())
    document = loads(json.dumps(data))
    text = dumps(document)
    assert '"value": Infinity' in text
    assert dumps(loads(text)) == text


def test_everything_round_trips():
    document = loads(json.dumps(base_data()))
    AddNode(Node("n7", "clamp", "clamped", {"max": 1.5}, (12.5, -3.25), retain_grad=True)).apply(document)
    Connect(Edge("n3", "n7", "input")).apply(document)
    SetSetting("grad_mode", "no_grad").apply(document)
    AddAnnotation(Annotation("n8", "frame", "Forward pass — ∂out/∂x", (1.0, 2.0), (300.0, 150.0))).apply(document)
    again = loads(dumps(document))
    assert again.snapshot() == document.snapshot()
    assert dumps(again) == dumps(document)


def test_text_that_utf_8_cannot_encode_is_escaped():
    document = GraphDocument()
    AddAnnotation(Annotation("a1", "note", "half a pair: \ud800")).apply(document)
    text = dumps(document)
    assert '"text": "half a pair: \\ud800"' in text
    assert loads(text.encode("utf-8")).annotations["a1"].text == "half a pair: \ud800"


@pytest.mark.parametrize("shape", [[100000, 100000], [3, -1]])
def test_the_document_refuses_leaf_shapes_a_file_could_not_hold(shape):
    document = loads(json.dumps(base_data()))
    with pytest.raises(EditError, match="^shape "):
        SetAttribute("n1", "shape", shape).apply(document)
    with pytest.raises(EditError, match="^shape "):
        AddNode(Node("n9", "tensor", "big", {"shape": shape})).apply(document)


def test_dumps_does_not_change_the_document():
    document = loads(json.dumps(base_data()))
    before = document.snapshot()
    dumps(document)
    assert document.snapshot() == before


def test_a_snapshot_is_written_as_it_was_taken_whatever_the_document_does_meanwhile(tmp_path):
    document = loads(json.dumps(base_data()))
    document.apply(AddNode(Node("big", "tensor", "big", {"shape": (3, 4000), "init": "values",
                                                        "values": tuple(float(i) for i in range(12_000))})))
    snapshot = fileformat.to_data(document)
    at_snapshot = dumps(document)
    save(document, tmp_path / "then.gsg")
    document.apply(SetAttribute("big", "values", tuple(-1.0 for _ in range(12_000))))
    document.apply(SetAttribute("n1", "init", "zeros"))
    document.apply(SetSetting("grad_mode", "no_grad"))
    fileformat.write_data(snapshot, tmp_path / "snap.gsg")
    assert load(tmp_path / "snap.gsg").snapshot() == load(tmp_path / "then.gsg").snapshot()
    assert dumps(load(tmp_path / "snap.gsg")) == at_snapshot
    assert sorted(os.listdir(tmp_path / "snap.data")) == ["big.npy"]  # the large values still go beside the file


def test_json_scalars_are_written_as_json_writes_them():
    values = [0.1, -0.0, 1e300, 5e-324, 3.0, 7, -10**30, True, False, None, "é\"\\\n\x01", "日本"]
    assert fileformat.format_json(values) == json.dumps(values, ensure_ascii=False)
    assert fileformat.format_json([math.nan, math.inf, -math.inf]) == "[NaN, Infinity, -Infinity]"


# ----- saving -------------------------------------------------------------------------------------------


def test_save_then_load(tmp_path):
    document = loads(json.dumps(base_data()))
    save(document, tmp_path / "graph.gsg")
    assert (tmp_path / "graph.gsg").read_text(encoding="utf-8") == dumps(document)
    assert load(tmp_path / "graph.gsg").snapshot() == document.snapshot()
    assert os.listdir(tmp_path) == ["graph.gsg"]


def _fail(*args: Any, **kwargs: Any) -> None:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("broken", ["write", "fsync", "replace", "format_json"])
def test_a_failed_save_leaves_the_old_file_and_the_document_untouched(tmp_path, monkeypatch, broken):
    path = tmp_path / "graph.gsg"
    path.write_bytes(b"the old file")
    document = loads(json.dumps(base_data()))
    SetAttribute("n1", "dtype", "float64").apply(document)
    before = document.snapshot()
    if broken == "write":
        monkeypatch.setattr(fileformat.os, "fdopen", lambda fd, mode: _BrokenStream(fd))
    elif broken == "format_json":
        monkeypatch.setattr(fileformat, "format_json", _fail)
    else:
        monkeypatch.setattr(fileformat.os, broken, _fail)
    with pytest.raises(OSError, match="No space left on device"):
        save(document, path)
    monkeypatch.undo()
    assert path.read_bytes() == b"the old file"
    assert os.listdir(tmp_path) == ["graph.gsg"]
    assert document.snapshot() == before


class _BrokenStream:
    """A file whose write fails after the descriptor was opened (a full disk)."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def __enter__(self) -> _BrokenStream:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.descriptor)

    def write(self, data: bytes) -> None:
        _fail()


def test_save_keeps_the_old_files_permissions(tmp_path):
    path = tmp_path / "graph.gsg"
    path.write_text("old")
    path.chmod(0o640)
    save(loads(json.dumps(base_data())), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_save_through_a_symlink_replaces_the_target(tmp_path):
    (tmp_path / "real.gsg").write_text("old")
    (tmp_path / "link.gsg").symlink_to(tmp_path / "real.gsg")
    save(loads(json.dumps(base_data())), tmp_path / "link.gsg")
    assert (tmp_path / "link.gsg").is_symlink()
    assert load(tmp_path / "real.gsg").nodes["n1"].name == "x"


def test_save_into_a_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError):
        save(GraphDocument(), tmp_path / "nowhere" / "graph.gsg")
    assert os.listdir(tmp_path) == []
