"""Python statements as changes to the graph: assignments, `with` grad-mode blocks, in-place updates, imports of
torch, and the dispatch of every statement; `.backward()`, `requires_grad_()` and `print` (checked, then ignored)
are read by `autograd_statements.py`, which `Translator` extends. Anything else is refused."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from gradstudio.model.annotations import FRAME_GRAD_MODES
from gradstudio.model.catalog import CATALOG
from gradstudio.model.edits import SetRetainGrad
from gradstudio.model.io.code_import.autograd_statements import AutogradStatements, zeroing
from gradstudio.model.io.code_import.errors import CodeImportError
from gradstudio.model.io.code_import.expressions import (
    FORBIDDEN_CALLS,
    INSPECTED,
    GradOf,
    Operand,
    forbidden,
)
from gradstudio.model.io.code_import.forms import FORMS
from gradstudio.model.io.code_import.leaf_calls import literal, refusal

PARSED_NAME = "<gradstudio import>"  # the file name ast.parse gives the code (no such file exists)
GRAD_BLOCKS = tuple(mode for mode in FRAME_GRAD_MODES if mode != "none")  # torch.no_grad(), ...
# ops whose result shares its input's storage in PyTorch: an in-place change of either changes both
SHARES_STORAGE = frozenset({"view", "reshape", "transpose", "T", "permute", "unsqueeze", "squeeze", "flatten",
                            "expand", "index", "detach"})
UNSUPPORTED = {
    ast.For: ("loops are not supported: a graph is one pass of the code", "write the steps out one by one "
              "(training loops: the Train panel)"),
    ast.While: ("loops are not supported: a graph is one pass of the code", "write the steps out one by one"),
    ast.AsyncFor: ("loops are not supported", "write the steps out one by one"),
    ast.FunctionDef: ("def is not supported: a graph holds tensors and ops, not functions",
                      "write the function's body out: y = torch.relu(x @ w)"),
    ast.AsyncFunctionDef: ("def is not supported", "write the function's body out"),
    ast.ClassDef: ("class is not supported: a graph holds tensors and ops", "write the computation out"),
    ast.If: ("if is not supported: a graph takes one path", "keep the branch you want"),
    ast.Try: ("try is not supported", "the statements inside it"),
    ast.Delete: ("del is not supported: a graph keeps every node", "leave the name"),
    ast.Return: ("return outside a function is not supported", "an assignment"),
}


@dataclass
class GradBlock:
    """A `with torch.no_grad():` (or enable_grad / inference_mode) block and the nodes made inside it."""

    grad_mode: str
    node_ids: list[str] = field(default_factory=list)
    parent: int | None = None  # the enclosing block's index in Translator.blocks


@dataclass
class Translator(AutogradStatements):
    """Reads statements one by one into the scratch document."""

    blocks: list[GradBlock] = field(default_factory=list)
    open_blocks: list[int] = field(default_factory=list)  # the `with` blocks being read, outermost first

    def run(self, code: str) -> None:
        """Translate a whole piece of code (CodeImportError at the first thing refused)."""
        try:
            tree = ast.parse(code, PARSED_NAME)
        except SyntaxError as error:
            raise CodeImportError(f"not valid Python: {error.msg}", error.lineno or 0, error.offset or 0,
                                  "Python code as PyTorch runs it") from None
        check_tricks(tree)
        for statement in tree.body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.import_(node)
        elif isinstance(node, ast.Assign):
            if len(node.targets) != 1:
                raise refusal(node, "chained assignment is not supported", "one name per assignment")
            self.assign(node.targets[0], node.value, node)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.assign(node.target, node.value, node)
        elif isinstance(node, ast.AugAssign):
            self.in_place(node.target, node.op, node.value, node)
        elif isinstance(node, ast.Expr):
            self.expression_statement(node.value)
        elif isinstance(node, ast.With):
            self.with_block(node)
        elif not isinstance(node, ast.Pass):
            reason, nearest = UNSUPPORTED.get(type(node), (f"{type(node).__name__} statements are not supported",
                                                           "assignments of tensor ops"))
            raise refusal(node, reason, nearest)

    # ----- imports ----------------------------------------------------------------------------------------------

    def import_(self, node: ast.Import | ast.ImportFrom) -> None:
        """`import torch`, `import torch.nn.functional as F` (and `from torch.nn import functional as F`)."""
        nearest = "import torch, or import torch.nn.functional as F"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "torch":
                    self.modules[alias.asname or "torch"] = "torch"
                elif alias.name == "torch.nn.functional" and alias.asname:
                    self.modules[alias.asname] = "F"
                elif alias.name.split(".")[0] == "torch" and not alias.asname:
                    self.modules["torch"] = "torch"
                else:
                    raise refusal(node, f"import of {alias.name} is refused: only torch is imported", nearest)
            return
        for alias in node.names:
            if (node.module, alias.name) not in (("torch.nn", "functional"), ("torch", "nn")) or node.level:
                raise refusal(node, f"from {node.module} import {alias.name} is refused: only torch is imported",
                              nearest)
            if alias.name == "functional":
                self.modules[alias.asname or "functional"] = "F"

    # ----- assignments ------------------------------------------------------------------------------------------

    def assign(self, target: ast.AST, value: ast.AST, at: ast.AST) -> None:
        if isinstance(target, ast.Attribute) and target.attr == "requires_grad" and isinstance(target.value,
                                                                                                ast.Name):
            self.requires_grad(target.value, literal(value), at)
            return
        if isinstance(target, ast.Attribute) and target.attr == "grad":
            raise zeroing(at)
        if not isinstance(target, ast.Name):
            raise refusal(target, "only plain names can be assigned", "y = x * 2")
        if isinstance(value, ast.Attribute) and value.attr == "grad" and isinstance(value.value, ast.Name):
            self.env[target.id] = GradOf(self.lookup(value.value), value.value.id)
            return
        if isinstance(value, ast.Name):  # an alias: both names stand for the same tensor, as in Python
            self.env[target.id] = self.lookup(value)
            return
        operand = self.expression(value, target.id)
        if not isinstance(operand, str):  # lr = 0.1: a named Python number
            operand = self.add_node("scalar", target.id, {"value": operand}, value)
        self.env[target.id] = operand

    def in_place(self, target: ast.AST, op: ast.operator, value: ast.AST, at: ast.AST, method: bool = False) -> str:
        """`x += 1` or `x.add_(1)`: a Python number gets a new node; a tensor gets the catalog's in-place op
        (`add_`, which runs after the tensor's other readers, as PyTorch's change does) once someone read it, or
        when the code calls the method; refused where the graph could not show it faithfully. The node now
        standing for the tensor."""
        if not isinstance(target, ast.Name):
            raise refusal(target, "only names can be updated in place", "x = x + 1")
        old = self.lookup(target)
        kind = FORMS.binary.get(type(op))
        if kind is None:
            raise refusal(at, "this in-place operator has no node", "x = x + 1")
        if self.document.nodes[old].kind == "scalar":  # a Python number: `n += 1` binds a new number
            return self.updated_copy(target.id, old, kind, value, at)
        self.check_in_place(target.id, old, at)
        in_place_kind = f"{kind}_"
        used = any(self.document.edges_from(old)) or self.aliases(target.id, old)
        if not (used or method):
            return self.updated_copy(target.id, old, kind, value, at)
        if in_place_kind not in CATALOG:
            raise refusal(at, f"{target.id} is changed in place after it was used, and {kind} has no in-place "
                              "node", f"a new name: {target.id}2 = ...")
        new = self.add_node(in_place_kind, target.id, {}, at)
        self.feed(old, new, "input", target.id, at)
        self.feed(self.expression(value, f"{target.id}_"), new, "other", f"{target.id}_", value)
        for name in [target.id, *self.aliases(target.id, old)]:  # every name of the tensor sees the change
            self.env[name] = new
        return new

    def updated_copy(self, name: str, old: str, kind: str, value: ast.AST, at: ast.AST) -> str:
        """`y += 1` on a tensor nobody read yet: a new node for y's new value shows the same numbers and grads."""
        new = self.add_node(kind, name, {}, at)
        self.feed(old, new, "a", name, at)
        self.feed(self.expression(value, f"{name}_"), new, "b", f"{name}_", value)
        self.env[name] = new
        return new

    def aliases(self, name: str, node_id: str) -> list[str]:
        """The other names bound to the tensor of `node_id` (`a = b` binds both to one tensor, as in Python)."""
        return [other for other, bound in self.env.items() if bound == node_id and other != name]

    def check_in_place(self, name: str, node_id: str, at: ast.AST) -> None:
        """Refuse an in-place change PyTorch refuses (a leaf that requires grad) or the graph cannot show: of a
        tensor that shares its storage with another (a view, `.detach()`), whose change a node cannot carry."""
        node = self.document.nodes[node_id]
        if node.kind == "tensor" and node.attributes["requires_grad"]:
            if self.open_blocks and self.blocks[self.open_blocks[-1]].grad_mode in ("no_grad", "inference_mode"):
                raise refusal(at, f"changing the leaf {name} in place under no_grad is an optimiser step: a graph "
                                  "node holds one value", f"{name}_new = {name} - 0.1 * ... (or the Train panel)")
            raise refusal(at, "a leaf Variable that requires grad is being used in an in-place operation "
                              "(PyTorch refuses this too)", f"{name}2 = {name} + ...")
        if node.kind in SHARES_STORAGE:
            raise refusal(at, f"{name} is a view of another tensor ({node.kind}): changing it in place changes "
                              "that tensor too, which the graph cannot show", f"{name}2 = {name} + ...")
        views = sorted(self.document.nodes[e.target].name for e in self.document.edges_from(node_id)
                       if self.document.nodes[e.target].kind in SHARES_STORAGE)
        if views:
            raise refusal(at, f"{name} is changed in place after {', '.join(views)} took a view of it: the view "
                              "would change too, which the graph cannot show", f"{name}2 = {name} + ...")

    # ----- expression statements ------------------------------------------------------------------------------

    def expression_statement(self, value: ast.AST) -> None:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return  # a docstring
        if isinstance(value, ast.Name):
            self.lookup(value)  # a notebook's display of a value
            return
        if isinstance(value, ast.Attribute) and value.attr in INSPECTED:
            self.check_inspection(value)  # a notebook's display of x.grad, as print(x.grad) shows it
            return
        if isinstance(value, ast.Call):
            function = value.func
            if isinstance(function, ast.Name) and function.id == "print":
                self.check_printed(value)
                return
            if isinstance(function, ast.Attribute) and self.method_statement(value, function):
                return
        self.expression(value, "value")

    def method_statement(self, call: ast.Call, function: ast.Attribute) -> bool:
        """`out.backward()`, `x.requires_grad_(False)`, `y.retain_grad()`, `torch.manual_seed(0)`, `x.add_(1)`.
        False if the call is an ordinary expression."""
        method, owner = function.attr, function.value
        if self.module_of(owner) == "torch" and method == "manual_seed":
            seed = literal(call.args[0]) if call.args else None
            if not isinstance(seed, int) or isinstance(seed, bool):
                raise refusal(call, "torch.manual_seed takes an integer", "torch.manual_seed(0)")
            self.seed, self.seeded, self.drawn_since_seed = seed, True, False
            return True
        if isinstance(owner, ast.Attribute) and owner.attr == "grad":
            raise zeroing(call)
        if not isinstance(owner, ast.Name) or owner.id in self.modules:
            return False
        if method == "backward":
            self.backward(owner, call)
        elif method == "requires_grad_":
            flag = literal(call.args[0]) if call.args else literal(call.keywords[0].value) if call.keywords else True
            self.requires_grad(owner, flag, call)
        elif method == "retain_grad":
            node_id = self.lookup(owner)
            if self.document.nodes[node_id].kind != "tensor":
                self.record(SetRetainGrad(node_id, True), call)
        elif in_place_operator(method) is not None:
            self.method_in_place(call, function)
        elif method.endswith("_"):
            raise refusal(call, f"the in-place method .{method}() is not supported",
                          f"a new name: {owner.id}2 = {owner.id}.{method[:-1]}(...)")
        else:
            return False
        return True

    def method(self, node: ast.Call, function: ast.Attribute, name: str, values: bool) -> Operand:
        """`c = b.add_(1)` changes b as the statement `b.add_(1)` does (and c names the same tensor)."""
        if isinstance(function.value, ast.Name) and in_place_operator(function.attr) is not None:
            return self.method_in_place(node, function)
        return super().method(node, function, name, values)

    def method_in_place(self, call: ast.Call, function: ast.Attribute) -> str:
        """`b.add_(1)`: one positional operand, as `b += 1` takes (`alpha=` has no node)."""
        if len(call.args) != 1 or call.keywords:
            raise refusal(call, f".{function.attr}() takes one operand here", f"{ast.unparse(function)}(1)")
        return self.in_place(function.value, in_place_operator(function.attr)(), call.args[0], call, method=True)

    # ----- grad-mode blocks -------------------------------------------------------------------------------------

    def with_block(self, node: ast.With) -> None:
        if len(node.items) != 1 or node.items[0].optional_vars is not None:
            raise refusal(node, "only `with torch.no_grad():` blocks (or enable_grad / inference_mode) are "
                                "supported", "with torch.no_grad():")
        context = node.items[0].context_expr
        mode = None
        if isinstance(context, ast.Call) and isinstance(context.func, ast.Attribute) and not context.args \
                and not context.keywords and self.module_of(context.func.value) == "torch":
            mode = context.func.attr if context.func.attr in GRAD_BLOCKS else None
        if mode is None:
            raise refusal(context, f"{ast.unparse(context)} is not a grad-mode block",
                          " / ".join(f"with torch.{block}():" for block in GRAD_BLOCKS))
        block = GradBlock(mode, parent=self.open_blocks[-1] if self.open_blocks else None)
        self.blocks.append(block)
        start = len(self.created)
        self.open_blocks.append(len(self.blocks) - 1)
        try:
            for statement in node.body:
                self.statement(statement)
        finally:
            self.open_blocks.pop()
        block.node_ids = self.created[start:]


def in_place_operator(method: str) -> type[ast.operator] | None:
    """The operator of an in-place method the catalog has (`add_` -> ast.Add), else None."""
    form = FORMS.methods.get(method)
    if form is None or form.spec.modifies is None:
        return None
    return next((op for op, kind in FORMS.binary.items() if f"{kind}_" == form.kind), None)


def check_tricks(tree: ast.AST) -> None:
    """Refuse attribute tricks (`__class__`, `getattr`, `__import__`) and `open`/`eval`/`exec`/`os.system`
    wherever they appear, before anything else is read."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            raise refusal(node, f"the attribute {node.attr} is refused: import reads tensor code only",
                          "tensor attributes such as x.grad or x.T")
        if isinstance(node, ast.Name) and (node.id in FORBIDDEN_CALLS or node.id.startswith("__")):
            raise forbidden(node, node.id) if node.id in FORBIDDEN_CALLS else refusal(
                node, f"the name {node.id} is refused: import reads tensor code only", "tensor code only")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in (
                "os", "sys", "subprocess", "shutil", "builtins", "importlib"):
            raise refusal(node, f"{node.value.id}.{node.attr} is refused: import never runs code, and only torch is "
                                "imported", "tensor code only")
