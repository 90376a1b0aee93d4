"""The layering rule: the model, the UI and the CLI use only the engine's public names (DESIGN.md, "Layers").

Every module above the engine is parsed with `ast` and checked for two kinds of reach into the engine's
insides: importing an underscore module or name of the engine, and touching an underscore attribute the
engine defines on its objects (its own `self._x`, not a UI class's). The third half of the layering, that
the model imports no Qt and the engine neither the model nor networkx, is `tests/model/test_no_qt.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gradstudio"
ENGINE = "gradstudio.engine"
OWN_BASES = ("self", "cls")  # a class's own underscore attributes are its business


def _private(name: str) -> bool:
    """An underscore name that is not a dunder (dunders such as `__init__` are public protocol)."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def module_name(path: Path) -> str:
    """The dotted module name of a file under the checkout."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def checked_files() -> list[Path]:
    """Every module above the engine: the model, the UI and the CLI."""
    files = sorted((PACKAGE / "model").rglob("*.py")) + sorted((PACKAGE / "ui").rglob("*.py"))
    return files + sorted((PACKAGE / "cli").rglob("*.py"))


def engine_private_attributes(engine: Path = PACKAGE / "engine") -> set[str]:
    """Underscore attribute names the engine defines on its objects: stored attributes (`self._x = ...`),
    `__slots__` strings, and class-level assignments and defs."""
    names: set[str] = set()
    for path in engine.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.ClassDef):
                names |= _members(node.body)
    return {name for name in names if _private(name)}


def _members(body: list[ast.stmt]) -> set[str]:
    """Names a class body defines: defs, nested classes, assignments, and the strings of `__slots__`."""
    names: set[str] = set()
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
            continue
        targets = (statement.targets if isinstance(statement, ast.Assign)
                   else [statement.target] if isinstance(statement, ast.AnnAssign) else [])
        for target in targets:
            names |= {name.id for name in ast.walk(target) if isinstance(name, ast.Name)}
            if isinstance(target, ast.Name) and target.id == "__slots__" and statement.value is not None:
                names |= {c.value for c in ast.walk(statement.value)
                          if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return names


def _absolute(module: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute dotted name a (possibly relative) `from ... import` refers to."""
    if level == 0:
        return module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _in_engine(dotted: str) -> bool:
    return dotted == ENGINE or dotted.startswith(ENGINE + ".")


def _private_path(dotted: str) -> bool:
    return any(_private(part) for part in dotted.split("."))


def violations(source: str, filename: str, private_attributes: set[str], module: str = "",
               is_package: bool = False) -> list[str]:
    """Every reach into the engine's insides in `source` (the module `module`), as `filename:line: what`."""
    tree = ast.parse(source, filename=filename)
    bound = _engine_bindings(tree, module, is_package)
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            problem = _import_problem(node, module, is_package)
        elif isinstance(node, ast.Attribute):
            problem = _attribute_problem(node, private_attributes, bound)
        else:
            continue
        if problem:
            found.append((node.lineno, node.col_offset, f"{filename}:{node.lineno}: {problem}"))
    return [message for *_, message in sorted(found)]


def _import_problem(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> str | None:
    """What is wrong with an import statement, if it reaches for an underscore module or name of the engine."""
    if isinstance(node, ast.Import):
        bad = [alias.name for alias in node.names if _in_engine(alias.name) and _private_path(alias.name)]
        return f"imports the engine's private module {', '.join(bad)}" if bad else None
    source = _absolute(node.module, node.level, module, is_package)
    if not _in_engine(source):
        return None
    if _private_path(source):
        return f"imports from the engine's private module {source}"
    bad = [alias.name for alias in node.names if _private(alias.name)]
    return f"imports the private name {', '.join(bad)} from {source}" if bad else None


def _engine_bindings(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """Local names bound to the engine's modules and names by imports, mapped to the dotted path they stand for."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _in_engine(alias.name):
                    head = alias.name.split(".")[0]
                    bound[alias.asname or head] = alias.name if alias.asname else head
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node.module, node.level, module, is_package)
            if _in_engine(source):
                bound.update({alias.asname or alias.name: f"{source}.{alias.name}" for alias in node.names})
    return bound


def _attribute_problem(node: ast.Attribute, private_attributes: set[str], bound: dict[str, str]) -> str | None:
    """What is wrong with `base.attr`: an underscore member of an engine module or class, or an underscore
    attribute the engine defines, read off anything but `self`, `cls` or `super()`."""
    if not _private(node.attr):
        return None
    path = _dotted(node.value)
    if path is not None and path.split(".")[0] in bound:
        head, _, rest = path.partition(".")
        resolved = ".".join(filter(None, (bound[head], rest)))
        if _in_engine(resolved):
            return f"touches the engine's private name {resolved}.{node.attr}"
    if node.attr in private_attributes and not _own(node.value):
        return f"touches the engine's private attribute .{node.attr}"
    return None


def _dotted(expression: ast.expr) -> str | None:
    """`a.b.c` for a chain of names and attributes, None for anything else."""
    if isinstance(expression, ast.Name):
        return expression.id
    if isinstance(expression, ast.Attribute):
        base = _dotted(expression.value)
        return None if base is None else f"{base}.{expression.attr}"
    return None


def _own(base: ast.expr) -> bool:
    """`self.x`, `cls.x` and `super().x`: an object's own attributes, not the engine's."""
    if isinstance(base, ast.Name):
        return base.id in OWN_BASES
    return isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super"


@pytest.fixture(scope="module")
def private_attributes() -> set[str]:
    """The engine's underscore attribute names, collected once."""
    return engine_private_attributes()


def test_model_ui_and_cli_use_only_public_engine_names(private_attributes: set[str]) -> None:
    files = checked_files()
    assert len(files) > 20 and PACKAGE / "cli" / "commands.py" in files
    found = []
    for path in files:
        found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), private_attributes,
                            module_name(path), path.name == "__init__.py")
    assert found == [], "\n".join(found)


def test_the_engine_private_names_are_collected(private_attributes: set[str]) -> None:
    # guards the guard: each kind of definition the collector reads contributes a name
    assert {"_grad", "_requires_grad"} <= private_attributes  # Tensor.__slots__
    assert {"_sequence_nr", "_make", "_version"} <= private_attributes  # self._x = ..., class-level defs
    assert not {"__init__", "__slots__", "grad", "grad_fn"} & private_attributes


SYNTHETIC = """\
import gradstudio.engine._graph
import gradstudio.engine as torch
from gradstudio.engine._backward import BackwardObserver
from gradstudio.engine import _tensor
from gradstudio.engine.ops.inplace import _check_leaf
from ..engine import _views
from gradstudio.engine.autograd.graph import stored_grad, version
from gradstudio.engine import Tensor, no_grad, __name__
import gradstudio.model._private_helper
import gradstudio.engine
from gradstudio.engine.autograd import graph as public_graph


class Panel:
    def show(self, tensor):
        self._grad = stored_grad(tensor)
        grad = tensor._grad
        node = torch._graph.Node
        ops = gradstudio.engine._tensor.Tensor._make
        helper = public_graph._tensor_helper
        return self._grad, grad, node, ops, helper, version(tensor), super()._grad, self.window._unrelated
"""


def test_the_checker_reports_each_kind_of_violation(private_attributes: set[str]) -> None:
    found = violations(SYNTHETIC, "synthetic.py", private_attributes, "gradstudio.model.synthetic")
    assert found == [
        "synthetic.py:1: imports the engine's private module gradstudio.engine._graph",
        "synthetic.py:3: imports from the engine's private module gradstudio.engine._backward",
        "synthetic.py:4: imports the private name _tensor from gradstudio.engine",
        "synthetic.py:5: imports the private name _check_leaf from gradstudio.engine.ops.inplace",
        "synthetic.py:6: imports the private name _views from gradstudio.engine",
        "synthetic.py:17: touches the engine's private attribute ._grad",
        "synthetic.py:18: touches the engine's private name gradstudio.engine._graph",
        "synthetic.py:19: touches the engine's private name gradstudio.engine._tensor",
        "synthetic.py:19: touches the engine's private name gradstudio.engine._tensor.Tensor._make",
        "synthetic.py:20: touches the engine's private name gradstudio.engine.autograd.graph._tensor_helper",
    ]


@pytest.mark.parametrize(("module", "is_package", "level", "name", "expected"), [
    ("gradstudio.model.evaluation", False, 2, "engine", "gradstudio.engine"),
    ("gradstudio.model", True, 2, "engine._graph", "gradstudio.engine._graph"),
    ("gradstudio.ui.panels.inspector", False, 3, None, "gradstudio"),
    ("gradstudio.cli", False, 0, "gradstudio.engine", "gradstudio.engine"),
])
def test_relative_imports_resolve(module: str, is_package: bool, level: int, name: str | None,
                                  expected: str) -> None:
    assert _absolute(name, level, module, is_package) == expected
