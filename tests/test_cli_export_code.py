"""`gradstudio export-code FILE [-o SCRIPT]`: the graph's PyTorch script on stdout or written atomically to a file,
one line and exit status 2 for a file that cannot be read or a script that cannot be written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gradstudio.cli import main
from gradstudio.model.io.codegen import generate_code
from gradstudio.model.io.fileformat import load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
FORWARD = str(EXAMPLES / "notes_forward_backward.gsg")
NO_GRAD = str(EXAMPLES / "notes_no_grad.gsg")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("path", [FORWARD, NO_GRAD])
def test_the_script_goes_to_stdout(capsys, path):
    assert cli(capsys, "export-code", path) == (0, generate_code(load(path)), "")


def test_the_notes_script_runs_and_prints_the_gradient(tmp_path, capsys):
    script = tmp_path / "notes.py"
    assert cli(capsys, "export-code", FORWARD, "-o", str(script)) == (0, "", "")
    assert script.read_text(encoding="utf-8") == generate_code(load(FORWARD))
    engine_script = script.read_text(encoding="utf-8").replace("import torch\n", "import gradstudio.engine as torch\n")
    result = subprocess.run([sys.executable, "-c", engine_script], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "tensor(27., grad_fn=<MeanBackward0>)\ntensor([6., 6., 6.])\n"


def test_output_replaces_an_existing_script_and_leaves_no_temporary_file(tmp_path, capsys):
    script = tmp_path / "out.py"
    script.write_text("old", encoding="utf-8")
    assert cli(capsys, "export-code", NO_GRAD, "--output", str(script))[0] == 0
    assert script.read_text(encoding="utf-8") == generate_code(load(NO_GRAD))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.py"]


def test_a_bad_file_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.gsg"
    bad.write_text('{"format": "gradstudio-graph", "version": 2, "nodes": [{"id": "a", "kind": "foo", "name": "x"}]}',
                   encoding="utf-8")
    script = tmp_path / "out.py"
    assert cli(capsys, "export-code", str(bad), "-o", str(script)) == (
        2, "", f"gradstudio: {bad}: nodes[0].kind: unknown op kind 'foo'\n")
    assert not script.exists()


def test_a_missing_file_exits_2(tmp_path, capsys):
    missing = tmp_path / "missing.gsg"
    assert cli(capsys, "export-code", str(missing)) == (
        2, "", f"gradstudio: {missing}: cannot read the file: No such file or directory\n")


def test_a_script_that_cannot_be_written_exits_2(tmp_path, capsys):
    script = tmp_path / "no such folder" / "out.py"
    assert cli(capsys, "export-code", FORWARD, "-o", str(script)) == (
        2, "", f"gradstudio: {FORWARD}: cannot write {script}: No such file or directory\n")


def test_usage_errors_exit_2(capsys):
    status, out, err = cli(capsys, "export-code")
    assert (status, out) == (2, "") and "the following arguments are required: file" in err
