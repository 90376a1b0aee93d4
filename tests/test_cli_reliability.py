"""The `gradstudio` command never prints a traceback: exit codes 0/1/2/3, bounded output for huge values."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gradstudio.cli import commands, main
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, SetSetting
from gradstudio.model.io.fileformat import save
from gradstudio.model.workspace import GraphWorkspace

ROOT = Path(__file__).resolve().parents[1]
FORWARD = str(ROOT / "resources" / "examples" / "notes_forward_backward.gsg")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def big_graph(path: Path) -> str:
    """x: ones (3000, 3000) requiring grad; e = ones(1, 1).expand(3000, 3000); out = (x * e).sum()."""
    document = GraphDocument()
    document.apply(AddNode(Node("n1", "tensor", "x", {"shape": (3000, 3000), "requires_grad": True})))
    document.apply(AddNode(Node("n2", "tensor", "one", {"shape": (1, 1)})))
    document.apply(AddNode(Node("n3", "expand", "e", {"shape": (3000, 3000)})))
    document.apply(AddNode(Node("n4", "mul", "y")))
    document.apply(AddNode(Node("n5", "sum", "out")))
    for edge in (Edge("n2", "n3", "input"), Edge("n1", "n4", "a"), Edge("n3", "n4", "b"), Edge("n4", "n5", "input")):
        document.apply(Connect(edge))
    document.apply(SetSetting("backward_target", "n5"))
    save(document, path)
    return str(path)


def test_run_json_summarises_big_tensors_instead_of_listing_them(capsys, tmp_path):
    status, out, err = run_cli(capsys, "run", big_graph(tmp_path / "big.gsg"), "--backward", "--json")
    assert (status, err) == (0, "")
    assert len(out) < 20_000  # 9 million elements each for x, e, y and x.grad
    nodes = {node["name"]: node for node in json.loads(out)["nodes"]}
    assert nodes["x"]["value"] is None and nodes["x"]["shape"] == [3000, 3000]
    assert nodes["x"]["summary"].startswith("tensor([[1., 1., 1.,  ..., 1., 1., 1.],")
    assert nodes["e"]["summary"].startswith("tensor([[1., 1., 1.,  ..., 1., 1., 1.],")
    assert nodes["x"]["grad"] is None and nodes["x"]["grad_summary"].startswith("tensor([[1., 1., 1.,  ...")
    assert nodes["out"]["value"] == 9_000_000.0 and nodes["out"]["summary"] is None


def power_file(path: Path, base: int, exponent: int) -> str:
    document = GraphDocument()
    document.apply(AddNode(Node("n1", "scalar", "a", {"value": base})))
    document.apply(AddNode(Node("n2", "scalar", "b", {"value": exponent})))
    document.apply(AddNode(Node("n3", "pow", "c")))
    document.apply(Connect(Edge("n1", "n3", "a")))
    document.apply(Connect(Edge("n2", "n3", "b")))
    save(document, path)
    return str(path)


def test_huge_python_ints_print_bounded(capsys, tmp_path):
    status, out, err = run_cli(capsys, "run", power_file(tmp_path / "p.gsg", 2, 1000))
    assert (status, err) == (0, "")
    assert "\nc = <an integer of about 302 digits>\n" in out


def test_a_scalar_power_beyond_float_range_is_a_node_error_exit_1(capsys, tmp_path):
    status, out, err = run_cli(capsys, "run", power_file(tmp_path / "p.gsg", 10, 10**15))
    assert status == 1 and err == ""
    assert "\nc = <error: the result of 10 ** 1000000000000000 is beyond the range of a float>\n" in out


def test_a_memory_error_during_backward_is_one_line_exit_1(capsys, monkeypatch):
    def exhausted(self, target):
        raise MemoryError

    monkeypatch.setattr(GraphWorkspace, "backward", exhausted)
    status, out, err = run_cli(capsys, "run", FORWARD, "--backward")
    assert status == 1
    assert err == f"gradstudio: {FORWARD}: backward from out: not enough memory for backward\n"
    assert out.endswith("# out.backward() failed\n")


def test_an_internal_error_is_one_line_exit_3_and_a_report(capsys, monkeypatch, tmp_path):
    def broken(path, document):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(commands, "check", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    status, out, err = run_cli(capsys, "check", FORWARD)
    assert status == 3 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"gradstudio: {FORWARD}: internal error: ZeroDivisionError: a bug (report written to ")
    report = Path(err.rsplit("report written to ", 1)[1].rstrip(")\n"))
    assert report.parent == tmp_path
    assert "Traceback (most recent call last)" in report.read_text() and "a bug" in report.read_text()


@pytest.mark.parametrize(("argv", "status"), [(["run"], 2), (["check", "a", "b"], 2), (["run", "--help"], 0),
                                              (["run", FORWARD, "--bogus"], 2)])
def test_usage_errors_return_2_from_main(capsys, argv, status):
    assert main(argv) == status
    capsys.readouterr()


def test_a_huge_path_is_quoted_shortened(capsys, tmp_path):
    path = str(tmp_path / ("d" * 100) / ("x" * 100_000))
    status, _, err = run_cli(capsys, "check", path)
    assert status == 2 and len(err) < 500 and "..." in err


@pytest.mark.parametrize("text", ['{"format": "gradstudio-graph", "version": 2, "nodes": [{"id": "n1", "kind": [], '
                                  '"name": "x"}]}', "[" * 100_000, '{"format": "gradstudio-graph", "version": 2, '
                                  '"nodes": [{"id": "n1", "kind": "tensor", "name": "x", "attributes": {"fill": 1' +
                                  "0" * 400 + "}}]}"])
def test_bad_files_give_one_line_and_no_traceback_in_a_subprocess(tmp_path, text):
    path = tmp_path / "bad.gsg"
    path.write_text(text)
    for command in ("check", "run"):
        done = subprocess.run([sys.executable, "-m", "gradstudio", command, str(path)], capture_output=True,
                              text=True, timeout=60, cwd=ROOT)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_engine_warnings_are_one_line_each(capsys, tmp_path):
    document = GraphDocument()
    document.apply(AddNode(Node("n1", "tensor", "x", {"shape": (3, 1)})))
    document.apply(AddNode(Node("n2", "tensor", "t", {"shape": (3,)})))
    document.apply(AddNode(Node("n3", "mse_loss", "loss")))
    document.apply(Connect(Edge("n1", "n3", "input")))
    document.apply(Connect(Edge("n2", "n3", "target")))
    path = tmp_path / "warns.gsg"
    save(document, path)
    status, out, err = run_cli(capsys, "run", str(path))
    assert status == 0 and "\nloss = tensor(0.)\n" in out
    assert err == (f"gradstudio: {path}: warning: Using a target size (torch.Size([3])) that is different to the "
                   "input size (torch.Size([3, 1])). This will likely lead to incorrect results due to broadcasting. "
                   "Please ensure they have the same size.\n")
