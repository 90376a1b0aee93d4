"""`gradstudio import-code SOURCE -o FILE.gsg`: code and notes into a graph file, refusals as one line."""

from __future__ import annotations

import json
import subprocess
import sys

from gradstudio.cli import main
from gradstudio.model.io import fileformat
from tests.model.code_import_helpers import NOTES, ROOT, same_structure
from tests.model.test_code_import import import_notes


def test_import_code_writes_the_notes_as_one_graph(tmp_path, capsys):
    output = tmp_path / "notes.gsg"
    assert main(["import-code", str(NOTES), "-o", str(output)]) == 0
    document = fileformat.load(output)
    assert same_structure(document, import_notes())
    titles = [item.text for item in document.annotations.values() if item.kind == "frame"]
    assert titles[0] == "2. Creating Tensors with Gradient Tracking"
    assert f"{output}: 14 nodes, 13 edges, 8 frames" in capsys.readouterr().out


def test_imported_notes_run_backward_from_out(tmp_path, capsys):
    output = tmp_path / "notes.gsg"
    main(["import-code", str(NOTES), "-o", str(output)])
    capsys.readouterr()
    assert main(["run", str(output), "--backward", "out"]) == 0
    assert "x.grad = tensor([6., 6., 6.])" in capsys.readouterr().out


def test_import_code_reads_a_python_file_and_a_notebook(tmp_path, capsys):
    script = tmp_path / "script.py"
    script.write_text("import torch\nw = torch.ones(2, 2, requires_grad=True)\nloss = (w * w).sum()\n"
                      "loss.backward()\n")
    assert main(["import-code", str(script), "-o", str(tmp_path / "a.gsg")]) == 0
    notebook = tmp_path / "book.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": script.read_text()}]}))
    assert main(["import-code", str(notebook), "-o", str(tmp_path / "b.gsg")]) == 0
    assert same_structure(fileformat.load(tmp_path / "a.gsg"), fileformat.load(tmp_path / "b.gsg"))
    capsys.readouterr()
    assert main(["run", str(tmp_path / "a.gsg"), "--backward"]) == 0
    assert "w.grad = tensor([[2., 2.]," in capsys.readouterr().out


def test_a_refused_import_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    script = tmp_path / "bad.py"
    script.write_text("import torch\nimport os\n")
    output = tmp_path / "out.gsg"
    assert main(["import-code", str(script), "-o", str(output)]) == 2
    error = capsys.readouterr().err
    assert error == (f"gradstudio: {script}: line 2, column 1: import of os is refused: only torch is imported. "
                     "Nearest supported form: import torch, or import torch.nn.functional as F\n")
    assert not output.exists()


def test_import_code_needs_an_output_and_a_known_suffix(tmp_path, capsys):
    assert main(["import-code", str(NOTES)]) == 2
    other = tmp_path / "data.csv"
    other.write_text("1,2\n")
    assert main(["import-code", str(other), "-o", str(tmp_path / "x.gsg")]) == 2
    assert "import reads .py" in capsys.readouterr().err


def test_import_code_runs_headless_without_qt(tmp_path):
    code = ("import sys; from gradstudio.cli import main; "
            f"status = main(['import-code', {str(NOTES)!r}, '-o', {str(tmp_path / 'n.gsg')!r}]); "
            "assert not any(name.startswith('PySide6') for name in sys.modules); sys.exit(status)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_second_draw_after_manual_seed_is_a_warning(tmp_path, capsys):
    script = tmp_path / "seeded.py"
    script.write_text("import torch\ntorch.manual_seed(3)\na = torch.randn(2)\nb = torch.randn(2)\n")
    assert main(["import-code", str(script), "-o", str(tmp_path / "s.gsg")]) == 0
    assert "warning: a second random tensor after torch.manual_seed draws from seed 4" in capsys.readouterr().err
    seeds = sorted(node.attributes["seed"] for node in fileformat.load(tmp_path / "s.gsg").nodes.values())
    assert seeds == [3, 4]
