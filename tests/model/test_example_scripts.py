"""Every example's exported script, run as a program in a fresh interpreter on real PyTorch and on our engine (its
`import torch` substituted), prints exactly what the app's model shows: the target's value, then after Backward each
`.grad` the model holds (a target that cannot run Backward prints its value and PyTorch's reason as a comment)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from codegen_runs import TORCH_MISSING, evaluated

from gradstudio.model.gradients import grad_holders
from gradstudio.model.io.codegen import generate_code
from gradstudio.model.io.fileformat import load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.gsg"))


def shown_by_the_model(path: Path) -> tuple[str, str]:
    """The example's script, and what the model shows for it: the target's value and, after Backward, the grads."""
    document = load(path)
    evaluator = evaluated(document)
    target = document.settings.backward_target
    lines = [repr(evaluator.value(target))]
    if evaluator.last_backward is not None:
        lines += [repr(evaluator.leaf_grad(node_id)) for node_id in grad_holders(document, evaluator.results, target)]
    return generate_code(document, evaluator.results), "\n".join(lines) + "\n"


def printed_by(script: Path, backend: str) -> str:
    code = script.read_text(encoding="utf-8")
    if backend == "engine":
        code = code.replace("import torch.nn.functional as F\n", "import gradstudio.engine.nn.functional as F\n")
        code = code.replace("import torch\n", "import gradstudio.engine as torch\n", 1)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return result.stdout


@pytest.mark.parametrize("backend", ["engine", "torch"])
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_the_exported_script_prints_what_the_app_shows(path: Path, backend: str, tmp_path: Path) -> None:
    if backend == "torch" and importlib.util.find_spec("torch") is None:
        pytest.skip(TORCH_MISSING)
    code, shown = shown_by_the_model(path)
    script = tmp_path / f"{path.stem}.py"
    script.write_text(code, encoding="utf-8")
    assert printed_by(script, backend) == shown


def test_the_notes_region_example_shows_an_untracked_y_and_a_tracked_x() -> None:
    code, shown = shown_by_the_model(ROOT / "resources" / "examples" / "notes_no_grad.gsg")
    assert "x = torch.ones(3, requires_grad=True)\n\nwith torch.no_grad():\n    y = x * 2\n" in code
    assert shown == "tensor([2., 2., 2.])\n"
