"""The `gradstudio` command: run, run --json/--backward/--no-grad, check, bad files, and no Qt when headless."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradstudio.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
FORWARD = str(EXAMPLES / "notes_forward_backward.gsg")

FORWARD_OUTPUT = f"""\
# {FORWARD} (grad mode: normal)
x = tensor([1., 1., 1.], requires_grad=True)
two = 2
y = tensor([3., 3., 3.], grad_fn=<AddBackward0>)
y_squared = tensor([9., 9., 9.], grad_fn=<MulBackward0>)
three = 3
z = tensor([27., 27., 27.], grad_fn=<MulBackward0>)
out = tensor(27., grad_fn=<MeanBackward0>)
"""


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `gradstudio ARGV` in-process: (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "graph.gsg"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_run_prints_values_in_pytorchs_repr(capsys):
    assert cli(capsys, "run", FORWARD) == (0, FORWARD_OUTPUT, "")


def test_run_backward_from_the_files_target(capsys):
    expected = FORWARD_OUTPUT + "# out.backward()\nx.grad = tensor([6., 6., 6.])\n"
    assert cli(capsys, "run", FORWARD, "--backward") == (0, expected, "")


@pytest.mark.parametrize("node", ["out", "n7"])
def test_run_backward_from_a_node_by_name_or_id(capsys, node):
    status, out, _ = cli(capsys, "run", FORWARD, "--backward", node)
    assert status == 0 and out.endswith("# out.backward()\nx.grad = tensor([6., 6., 6.])\n")


def test_multi_line_tensors_stay_aligned(capsys):
    status, out, _ = cli(capsys, "run", str(EXAMPLES / "notes_randn_mean.gsg"), "--backward")
    assert "\na.grad = tensor([[0.7500, 0.7500],\n                 [0.7500, 0.7500]])\n" in out


def test_run_no_grad(capsys):
    status, out, err = cli(capsys, "run", FORWARD, "--no-grad")
    assert status == 0 and err == ""
    assert "# " + FORWARD + " (grad mode: no_grad)\n" in out
    assert "\ny = tensor([3., 3., 3.])\n" in out and "\nout = tensor(27.)\n" in out


def test_backward_under_no_grad_fails_as_pytorch_does(capsys):
    status, out, err = cli(capsys, "run", FORWARD, "--no-grad", "--backward", "out")
    assert status == 1
    assert out.endswith("# out.backward() failed\n")
    assert err == (f"gradstudio: {FORWARD}: backward from out: element 0 of tensors does not require grad and "
                   "does not have a grad_fn\n")


def test_run_json(capsys):
    status, out, err = cli(capsys, "run", FORWARD, "--backward", "--json")
    report = json.loads(out)
    assert (status, err) == (0, "")
    assert (report["grad_mode"], report["backward"]) == ("normal", {"target": "out", "error": None})
    nodes = {node["name"]: node for node in report["nodes"]}
    assert list(nodes) == ["x", "two", "y", "y_squared", "three", "z", "out"]
    assert nodes["x"] == {"id": "n1", "name": "x", "kind": "tensor", "value": [1.0, 1.0, 1.0], "shape": [3],
                          "dtype": "torch.float32", "requires_grad": True, "is_leaf": True, "grad_fn": None,
                          "grad": [6.0, 6.0, 6.0], "summary": None, "grad_summary": None, "error": None,
                          "blocked_by": None}
    assert (nodes["out"]["value"], nodes["out"]["grad_fn"], nodes["out"]["grad"]) == (27.0, "MeanBackward0", None)
    assert nodes["two"]["value"] == 2 and nodes["two"]["dtype"] is None


def test_run_json_without_backward_has_no_grads(capsys):
    report = json.loads(cli(capsys, "run", FORWARD, "--json")[1])
    assert report["backward"] is None and all(node["grad"] is None for node in report["nodes"])


BROKEN_GRAPH = """{"format": "gradstudio-graph", "version": 2, "nodes": [
  {"id": "a", "kind": "tensor", "name": "a", "attributes": {"shape": [3], "fill": NaN, "init": "full"}},
  {"id": "b", "kind": "tensor", "name": "b", "attributes": {"shape": [4]}},
  {"id": "s", "kind": "add", "name": "s"},
  {"id": "m", "kind": "mean", "name": "m"}],
  "edges": [{"source": "a", "target": "s", "port": "a"}, {"source": "b", "target": "s", "port": "b"},
            {"source": "s", "target": "m", "port": "input"}]}"""


def test_node_errors_are_reported_and_exit_1(capsys, tmp_path):
    path = write(tmp_path, BROKEN_GRAPH)
    status, out, err = cli(capsys, "run", path)
    assert (status, err) == (1, "")
    assert "\na = tensor([nan, nan, nan])\n" in out
    assert ("\ns = <error: The size of tensor a (3) must match the size of tensor b (4) at non-singleton "
            "dimension 0>\n") in out
    assert out.endswith("\nm = <not computed: s failed>\n")


def test_json_errors_and_non_finite_numbers(capsys, tmp_path):
    nodes = {node["name"]: node for node in json.loads(cli(capsys, "run", write(tmp_path, BROKEN_GRAPH), "--json")[1])
             ["nodes"]}
    assert nodes["a"]["value"] == ["nan", "nan", "nan"]
    assert nodes["s"]["error"].startswith("The size of tensor a (3) must match")
    assert (nodes["m"]["value"], nodes["m"]["blocked_by"]) == (None, "s")


def test_check(capsys):
    expected = f"{FORWARD}: OK (7 nodes, 7 edges, grad mode normal, backward target out)\n"
    assert cli(capsys, "check", FORWARD) == (0, expected, "")


@pytest.mark.parametrize("name", sorted(path.name for path in EXAMPLES.glob("*.gsg")))
def test_every_example_checks(capsys, name):
    status, out, _ = cli(capsys, "check", str(EXAMPLES / name))
    assert status == 0 and ": OK (" in out


BAD = '{"format": "gradstudio-graph", "version": 2, "nodes": [{"id": "a", "kind": "foo", "name": "x"}]}'


@pytest.mark.parametrize("command", ["run", "check"])
def test_a_bad_file_exits_2_with_one_line(capsys, tmp_path, command):
    path = write(tmp_path, BAD)
    assert cli(capsys, command, path) == (2, "", f"gradstudio: {path}: nodes[0].kind: unknown op kind 'foo'\n")


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "not valid JSON: Expecting value (line 1, column 1)"),
    ("", "the file is empty"),
    ('{"format": "gradstudio-graph", "version": 9, "nodes": []}',
     "version: format version 9 was written by a newer GradStudio; this one reads versions 1 to 5"),
])
def test_other_bad_files(capsys, tmp_path, text, message):
    path = write(tmp_path, text)
    assert cli(capsys, "check", path) == (2, "", f"gradstudio: {path}: {message}\n")


def test_a_missing_file_exits_2(capsys, tmp_path):
    path = str(tmp_path / "missing.gsg")
    assert cli(capsys, "run", path) == (2, "", f"gradstudio: {path}: cannot read the file: No such file or directory\n")


def test_an_unknown_backward_node_exits_2(capsys):
    status, out, err = cli(capsys, "run", FORWARD, "--backward", "nope")
    assert (status, out) == (2, "")
    assert err == f"gradstudio: {FORWARD}: --backward: no node named 'nope' (and no node with that id)\n"


def test_backward_without_a_target_in_the_file(capsys, tmp_path):
    path = write(tmp_path, '{"format": "gradstudio-graph", "version": 2, "nodes": []}')
    assert cli(capsys, "run", path, "--backward") == (
        2, "", f"gradstudio: {path}: --backward: the file sets no backward target; name a node\n")


def test_a_file_argument_opens_the_app(monkeypatch):
    import gradstudio.ui.app

    opened = []
    monkeypatch.setattr(gradstudio.ui.app, "run_app", lambda path=None: opened.append(path) or 0)
    assert main([FORWARD]) == 0
    assert main([]) == 0
    assert opened == [FORWARD, None]


def test_opening_a_file_builds_no_argument_parser(monkeypatch):
    """`gradstudio` and `gradstudio FILE` go straight to the app; an option or a missing file still meets argparse."""
    import gradstudio.cli.arguments
    import gradstudio.ui.app

    def no_parser():
        raise AssertionError("the argument parser was built")

    opened = []
    monkeypatch.setattr(gradstudio.ui.app, "run_app", lambda path=None: opened.append(path) or 0)
    monkeypatch.setattr(gradstudio.cli.arguments, "build_parser", no_parser)
    assert main([FORWARD]) == 0 and main([]) == 0 and opened == [FORWARD, None]
    for argv in (["--smoke"], [FORWARD, "--smoke"], ["missing.gsg"]):
        with pytest.raises(AssertionError, match="argument parser"):
            main(argv)


NO_QT = """
import sys
sys.modules["PySide6"] = None  # any import of Qt now fails
from gradstudio.cli import main
assert main(["run", sys.argv[1], "--backward", "--json"]) == 0
assert main(["check", sys.argv[1]]) == 0
assert main(["export-code", sys.argv[1]]) == 0
loaded = sorted(name for name in sys.modules if name.startswith(("PySide6", "gradstudio.ui", "pyqtgraph")))
assert loaded == ["PySide6"] and sys.modules["PySide6"] is None, loaded
"""


def test_run_and_check_never_import_qt():
    result = subprocess.run([sys.executable, "-c", NO_QT, FORWARD], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert '"grad": [6.0, 6.0, 6.0]' in result.stdout


def test_python_dash_m_gradstudio_runs_headless():
    result = subprocess.run([sys.executable, "-m", "gradstudio", "check", FORWARD], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith(": OK (7 nodes, 7 edges, grad mode normal, backward target out)\n")


# ----- --version, --help, mistyped commands ---------------------------------------------------------------


def test_version(capsys):
    from gradstudio import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gradstudio {__version__}"


def test_help_lists_every_command_and_flag(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("gradstudio run FILE", "gradstudio check FILE", "gradstudio export-code FILE", "gradstudio FILE"):
        assert sum(line.lstrip().startswith(command) for line in out.splitlines()) == 1, command
    for flag in ("--version", "--smoke", "--install-desktop", "--uninstall-desktop"):
        assert flag in out


@pytest.mark.parametrize("argv, hint", [(["export-cod", "x"], "did you mean 'export-code'?"),
                                        (["chek", "x.gsg"], "did you mean 'check'?")])
def test_a_mistyped_command_names_the_real_ones(capsys, argv, hint):
    status, out, err = cli(capsys, *argv)
    assert status == 2 and out == ""
    assert f"unknown command {argv[0]!r}" in err and "run, check, export-code" in err and hint in err
    assert len(err.strip().splitlines()) == 1


def test_a_graph_file_name_is_not_taken_for_a_command(monkeypatch):
    opened = []
    monkeypatch.setattr("gradstudio.ui.app.run_app", opened.append)
    main(["missing.gsg"])
    assert opened == ["missing.gsg"]


def test_smoke_passes_in_process(capsys):
    from gradstudio.smoke import smoke

    assert smoke() == 0
    assert capsys.readouterr().out.startswith("gradstudio --smoke: OK")


def test_smoke_fails_with_one_line_when_the_example_is_missing(capsys, monkeypatch):
    import gradstudio.smoke

    monkeypatch.setattr(gradstudio.smoke, "EXAMPLE", ("examples", "no_such_example.gsg"))
    assert gradstudio.smoke.smoke() == 1
    err = capsys.readouterr().err
    assert err.startswith("gradstudio --smoke: FAILED:") and "no_such_example.gsg" in err
    assert len(err.strip().splitlines()) == 1


def test_smoke_fails_when_the_numbers_are_wrong(capsys, monkeypatch):
    import gradstudio.smoke

    monkeypatch.setattr(gradstudio.smoke, "EXPECTED_GRAD", [1.0, 1.0, 1.0])
    assert gradstudio.smoke.smoke() == 1
    assert "x.grad = [6.0, 6.0, 6.0], expected [1.0, 1.0, 1.0]" in capsys.readouterr().err


def test_smoke_as_a_command():
    done = subprocess.run([sys.executable, "-m", "gradstudio", "--smoke"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "x.grad = [6.0, 6.0, 6.0]" in done.stdout
