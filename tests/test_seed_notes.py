"""Every snippet of the user's notes on PyTorch autograd runs on our engine and prints PyTorch's output."""

import contextlib
import io
import re
from pathlib import Path

import pytest

NOTES = Path(__file__).resolve().parents[1] / "resources" / "notes" / "pytorch_autograd_notes.md"


def notes_program() -> str:
    """All python code blocks of the notes, in order, as one program (later snippets use earlier names)."""
    return "\n".join(re.findall(r"```python\n(.*?)```", NOTES.read_text(), flags=re.S))


def run_program(source: str, module) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source.replace("import torch\n", ""), str(NOTES), "exec"), {"torch": module})
    return out.getvalue()


TORCH_MISSING = "PyTorch not installed: differential tests against real PyTorch skipped"

EXPECTED_WITHOUT_RANDN = """\
tensor([1., 1., 1.], requires_grad=True)
tensor([3., 3., 3.], grad_fn=<AddBackward0>)
tensor(27., grad_fn=<MeanBackward0>)
tensor([6., 6., 6.])
tensor([[0.7500, 0.7500],
        [0.7500, 0.7500]])
"""


def test_notes_have_all_snippets():
    assert len(re.findall(r"```python\n", NOTES.read_text())) == 7


def test_notes_print_pytorchs_output():
    import gradstudio.engine as engine

    assert run_program(notes_program(), engine) == EXPECTED_WITHOUT_RANDN


def test_notes_match_real_pytorch_line_by_line():
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    import gradstudio.engine as engine

    assert run_program(notes_program(), engine) == run_program(notes_program(), torch)


def section_six() -> str:
    """The notes' section 6 (the randn example): the only snippet that draws random numbers."""
    return next(block for block in re.findall(r"```python\n(.*?)```", NOTES.read_text(), flags=re.S)
                if "torch.randn" in block)


@pytest.mark.parametrize("seed", [0, 1, 42, 2024, -5])
def test_section_six_with_a_seed_prints_what_pytorch_prints(seed):
    """Seeded, the random tensor itself and everything computed from it print as in PyTorch, digit for digit."""
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    import gradstudio.engine as engine

    program = f"torch.manual_seed({seed})\n" + section_six() + "print(a)\nprint(b)\nprint(c)\nprint(c.item())\n"
    printed = run_program(program, engine)
    assert printed == run_program(program, torch)
    assert "tensor([[" in printed


def test_whole_notes_with_a_seed_match_real_pytorch():
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    import gradstudio.engine as engine

    program = "torch.manual_seed(7)\n" + notes_program() + "print(a)\n"
    assert run_program(program, engine) == run_program(program, torch)
