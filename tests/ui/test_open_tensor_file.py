"""File > Open takes a tensor saved with torch.save; a pickled object is refused with a message."""

import pytest


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch not installed: .pt files cannot be read without it")


def test_open_a_pt_file(window, torch, tmp_path):
    path = tmp_path / "activations.pt"
    torch.save(torch.arange(6.0).reshape(2, 3), path)
    assert window.files.open_path(str(path))
    [node] = window.document.nodes.values()
    assert node.name == "activations"
    assert window.workspace.path is None  # Save asks for a .gsg name instead of writing over the .pt


def test_open_dialog_offers_pt_files(window, dialogs):
    window.files.open()
    [args] = [args for name, args in dialogs.calls if name == "getOpenFileName"]
    assert "*.pt" in args[3] and "*.gsg" in args[3]


def test_a_pickled_object_is_refused(window, dialogs, torch, tmp_path):
    from tests.model.test_torch_file import Payload

    marker = tmp_path / "must-not-exist"
    path = tmp_path / "evil.pt"
    torch.save(Payload(marker), path)
    before = window.document
    assert not window.files.open_path(str(path))
    assert window.document is before and not marker.exists()
    assert "critical" in dialogs.names()
