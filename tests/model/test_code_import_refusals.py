"""Code import refuses what it cannot show, with line, column, reason and the nearest supported form, changes
nothing, and never runs the code it reads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gradstudio.model.document import GraphDocument
from gradstudio.model.io.code_import import CodeImportError, plan_import
from gradstudio.model.io.code_import.statements import PARSED_NAME
from tests.model.code_import_helpers import imported

PRELUDE = "import torch\nx = torch.ones(3, requires_grad=True)\n"  # lines 1-2; the refused code is on line 3

REFUSALS = [
    ("y = torch.frobnicate(x)", 3, 5, "unknown function torch.frobnicate", "torch."),
    ("y = x.frobnicate()", 3, 5, "unknown tensor method .frobnicate()", "."),
    ("for i in range(3):\n    x = x * 2", 3, 1, "loops are not supported", "write the steps out"),
    ("while True:\n    pass", 3, 1, "loops are not supported", "write the steps out"),
    ("def f(t):\n    return t * 2", 3, 1, "def is not supported", "body out"),
    ("class Model:\n    pass", 3, 1, "class is not supported", "computation out"),
    ("f = lambda t: t * 2", 3, 5, "lambda functions are not supported", "name the computation"),
    ("import os", 3, 1, "import of os is refused", "import torch"),
    ("from pathlib import Path", 3, 1, "from pathlib import Path is refused", "import torch"),
    ("y = x.__class__", 3, 5, "the attribute __class__ is refused", "x.grad"),
    ("y = __import__('os')", 3, 5, "__import__() is refused", "tensor code only"),
    ("y = getattr(x, 'exp')()", 3, 5, "getattr() is refused", "tensor code only"),
    ("f = open('/tmp/gradstudio_import_probe', 'w')", 3, 5, "open() is refused", "tensor code only"),
    ("eval('1 + 1')", 3, 1, "eval() is refused", "tensor code only"),
    ("exec('import os')", 3, 1, "exec() is refused", "tensor code only"),
    ("os.system('touch /tmp/gradstudio_import_probe')", 3, 1, "os.system is refused", "tensor code only"),
    ("x += 1", 3, 1, "a leaf Variable that requires grad is being used in an in-place operation", "x2 = x +"),
    ("y = x * 2\nz = y.view(3, 1)\ny.mul_(3)", 5, 1, "y is changed in place after z took a view of it", "y2 = y +"),
    ("y = q + 1", 3, 5, "name 'q' is not defined", "q = torch.ones(3)"),
    ("y = xx + 1", 3, 5, "name 'xx' is not defined", "x (defined above)"),
    ("out = x.sum()\nout.backwards()", 4, 1, "unknown tensor method .backwards()", ".backward()"),
    ("y = x + 1\ny.requires_grad_(False)", 4, 1, "you can only change requires_grad flags of leaf variables",
     ".detach()"),
    ("if x.sum() > 0:\n    y = x", 3, 1, "if is not supported", "keep the branch"),
    ("y = x +", 3, 8, "not valid Python", "Python code"),
    ("i = x.grad\ny = i * 2", 4, 5, "i holds x.grad", "read x.grad after Backward"),
    ("with open('f') as f:\n    pass", 3, 6, "open() is refused", "tensor code only"),
    ("with torch.no_grad():\n    x -= 0.1 * x", 4, 5, "optimiser step", "Train panel"),
    ("opt = torch.optim.SGD([x], lr=0.1)", 3, 7, "unknown function torch.optim.SGD", "torch.exp"),
    ("s = x.sum().item()", 3, 5, "x.sum().item() gives a Python number, which leaves the graph", "keep the tensor"),
    ("y = x.tolist()", 3, 5, "x.tolist() gives a Python list", "keep the tensor (x)"),
    ("y = x.sigmod()", 3, 5, "unknown tensor method .sigmod()", ".sigmoid()"),
    ("x.grad.zero_()", 3, 1, "gradients are not part of the graph", "Zero Grad"),
    ("y = torch.ones(3, device='cuda')", 3, 26, "GradStudio computes on the CPU", "device='cpu'"),
    ("y = x.max(0)", 3, 5, "x.max(0) gives values and indices", "x.max(0).values"),
]


@pytest.mark.parametrize("code, line, column, reason, nearest", REFUSALS, ids=[r[3][:40] for r in REFUSALS])
def test_refusal_names_line_column_reason_and_nearest_form(code, line, column, reason, nearest):
    document = imported(PRELUDE)
    before = document.snapshot()
    with pytest.raises(CodeImportError) as caught:
        plan_import(document, PRELUDE + code + "\n")
    error = caught.value
    assert (error.line, error.column) == (line, column), str(error)
    assert reason in error.reason
    assert nearest in error.nearest
    assert str(error).startswith(f"line {line}, column {column}: ")
    assert document.snapshot() == before


def test_refused_code_never_runs(tmp_path, monkeypatch):
    """Importing every refused snippet writes no file and starts no process."""
    probe = tmp_path / "probe"
    started: list[object] = []
    monkeypatch.setattr(subprocess.Popen, "__init__", lambda self, *a, **k: started.append(a))
    monkeypatch.setattr(os, "system", lambda command: started.append(command))
    for code, *_ in REFUSALS:
        text = code.replace("/tmp/gradstudio_import_probe", str(probe))
        with pytest.raises(CodeImportError):
            plan_import(GraphDocument(), PRELUDE + text + f"\nopen({str(probe)!r}, 'w').write('ran')\n")
    assert not probe.exists()
    assert started == []
    assert not os.path.exists("/tmp/gradstudio_import_probe")


AUDITED: list[tuple[str, tuple]] | None = None  # set while a test listens
WATCHED = ("exec", "os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.fork", "os.spawn", "open",
           "os.remove", "import")


def _audit(event: str, arguments: tuple) -> None:
    if AUDITED is not None and event in WATCHED:
        AUDITED.append((event, arguments))


sys.addaudithook(_audit)  # a hook cannot be removed: it only records while a test sets AUDITED


@pytest.mark.parametrize("code", [code for code, *_ in REFUSALS] + ["x = torch.ones(3)\ny = x * 2\n"])
def test_import_executes_no_code_opens_no_file_and_starts_no_process(code):
    """Python's audit events while an import is planned: no code object runs (`exec`), no module is imported,
    no file is opened, no process is started, whether the code is refused or not. (A first run loads the
    importer's own lazily imported modules, which would count; the code itself would run every time.)"""
    global AUDITED

    def attempt() -> None:
        try:
            plan_import(GraphDocument(), PRELUDE + code + "\n")
        except CodeImportError:
            pass

    attempt()
    AUDITED = []
    try:
        attempt()
        seen = AUDITED
    finally:
        AUDITED = None
    # on a syntax error CPython's parser looks for the named file to quote its line: a name no file has
    assert [event for event in seen if event != ("open", (PARSED_NAME, "rb", 0))] == []


def test_a_refusal_in_a_later_block_of_notes_names_its_line_in_the_file_and_changes_nothing():
    notes = ("# Lesson\n\n```python\nimport torch\nx = torch.ones(3)\n```\n\nThen:\n\n"
             "```python\nfor i in x:\n    pass\n```\n")
    document = GraphDocument()
    with pytest.raises(CodeImportError) as caught:
        plan_import(document, notes)
    assert caught.value.line == 11 and caught.value.column == 1
    assert not document.nodes and not document.annotations
