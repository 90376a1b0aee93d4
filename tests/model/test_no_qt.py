"""The layering rule: model and engine import no Qt, and the engine imports neither the model nor networkx."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph")


def modules_of(package: str) -> list[str]:
    """Dotted names of every module file under `package` (found on disk, so namespace packages count too)."""
    folder = ROOT.joinpath(*package.split("."))
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def loaded_after_importing(modules: list[str]) -> list[str]:
    """Import `modules` in a fresh interpreter and return every module name it then has loaded."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


@pytest.mark.parametrize("package", ["gradstudio.model", "gradstudio.engine"])
def test_package_imports_no_qt(package: str) -> None:
    modules = modules_of(package)
    assert len(modules) > 3
    loaded = loaded_after_importing(modules)
    assert set(modules) <= set(loaded)
    assert [name for name in loaded if name.startswith(QT_PREFIXES)] == []


def test_engine_imports_neither_the_model_nor_networkx() -> None:
    loaded = loaded_after_importing(modules_of("gradstudio.engine"))
    assert [name for name in loaded if name.startswith(("gradstudio.model", "gradstudio.ui", "networkx"))] == []


def test_the_check_would_see_qt() -> None:
    # guards the guard: the same probe does report Qt when something imports it
    pytest.importorskip("PySide6", reason="PySide6 not installed: nothing to detect")
    loaded = loaded_after_importing(["PySide6.QtCore"])
    assert "PySide6" in loaded
