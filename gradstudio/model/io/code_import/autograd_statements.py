"""Statements that drive autograd instead of computing a value: `.backward()` (and its gradient), `requires_grad_()`
and `.requires_grad =`, and the `print()` / notebook display of names, `.grad` and `.shape`, which must read what the
graph holds. Apart from `statements.py` (which dispatches each statement here or to the ops) because this is the
part of a script that sets the document's backward target and leaf flags, not the part that computes values."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from gradstudio.model.edits import AddNode, Edit, RemoveNode
from gradstudio.model.io.code_import.errors import CodeImportError
from gradstudio.model.io.code_import.expressions import INSPECTED, ExpressionBuilder, GradOf
from gradstudio.model.io.code_import.forms import FORMS
from gradstudio.model.io.code_import.leaf_calls import refusal


@dataclass
class AutogradStatements(ExpressionBuilder):
    """Reads backward calls, requires_grad changes and inspections of values into the scratch document."""

    backward_target: str | None = None
    frozen: dict[str, str] = field(default_factory=dict)  # leaf id -> name, for requires_grad_(False) after use

    def check_printed(self, call: ast.Call) -> None:
        """print(...) is ignored, but what it prints must be names, their .grad/.shape/..., or text."""
        for argument in [*call.args, *(k.value for k in call.keywords)]:
            self.check_inspection(argument)

    def check_inspection(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            return
        if isinstance(node, ast.Name):
            if not isinstance(self.env.get(node.id), GradOf):
                self.lookup(node)
            return
        if isinstance(node, ast.Attribute) and node.attr in INSPECTED:
            self.check_inspection(node.value)
            return
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                self.check_inspection(part.value if isinstance(part, ast.FormattedValue) else part)
            return
        raise refusal(node, "print() may show names, their .grad, .shape or .requires_grad, and text",
                      "assign it first: y = ...; print(y)")

    def backward(self, owner: ast.Name, call: ast.Call) -> None:
        """`out.backward()` (and `gradient=`) makes `out` the document's backward target, as the app does."""
        node_id = self.lookup(owner)
        allowed = ("gradient", "retain_graph", "create_graph", "inputs")
        for keyword in call.keywords:
            if keyword.arg not in allowed[:3]:
                raise refusal(keyword.value, f"backward's argument {keyword.arg!r} is not supported",
                              "out.backward() or y.backward(gradient=torch.ones(3))")
        gradients = call.args[:1] + [k.value for k in call.keywords if k.arg == "gradient"]
        for gradient in gradients:
            self.check_gradient(gradient)
        for leaf_id, name in self.frozen.items():
            if self.document.reaches(leaf_id, node_id):
                raise refusal(call, f"{name}.requires_grad_(False) came after {name} was used: this backward would "
                                    f"leave {name}.grad alone in PyTorch, which the graph cannot show",
                              f"call {name}.requires_grad_(False) before using {name}")
        self.backward_target = node_id

    def check_gradient(self, gradient: ast.AST) -> None:
        """The gradient argument: a name, a literal or a creation call; the app asks for it again on Backward."""
        if isinstance(gradient, ast.Name):
            self.lookup(gradient)
            return
        if isinstance(gradient, ast.Call) and isinstance(gradient.func, ast.Attribute) and gradient.func.attr in (
                "ones_like", "zeros_like") and self.module_of(gradient.func.value) == "torch":
            for argument in gradient.args:
                self.check_inspection(argument)
            return
        scratch = len(self.edits)
        if not (isinstance(gradient, ast.Call) and isinstance(gradient.func, ast.Attribute)
                and self.module_of(gradient.func.value) == "torch"):
            raise refusal(gradient, "the gradient must be a name or a tensor made by torch",
                          "y.backward(gradient=torch.ones(3))")
        self.expression(gradient, "gradient")  # checked like any creation call, then dropped
        undo = self.edits[scratch:]
        del self.edits[scratch:]
        for edit in reversed(undo):
            self.forget(edit)

    def forget(self, edit: Edit) -> None:
        """Take back a node a checked-only expression made in the scratch document (its edges go with it)."""
        if isinstance(edit, AddNode):
            RemoveNode(edit.node.id).apply(self.document)
            self.created.remove(edit.node.id)

    def requires_grad(self, owner: ast.Name, flag: object, at: ast.AST) -> None:
        """`x.requires_grad_(flag)`: the leaf's flag if nothing used it yet; after use, `False` gives later code
        a detached copy (what PyTorch's later ops see); other cases are refused with the reason."""
        if not isinstance(flag, bool):
            raise refusal(at, "requires_grad_ takes True or False", f"{owner.id}.requires_grad_(False)")
        node_id = self.lookup(owner)
        node = self.document.nodes[node_id]
        if node.kind != "tensor":
            raise refusal(at, f"you can only change requires_grad flags of leaf variables ({owner.id} is computed "
                              "by an op)", f"{owner.id}_detached = {owner.id}.detach()")
        if not self.document.edges_from(node_id) or node.attributes["requires_grad"] == flag:
            self.set_attribute(node_id, "requires_grad", flag, at)
            return
        if flag:
            raise refusal(at, f"{owner.id} was used before requires_grad_(True): the ops above would not be "
                              "tracked in PyTorch, but a graph has one flag per leaf",
                          f"create {owner.id} with requires_grad=True")
        copy = self.add_node(FORMS.methods["detach"].kind, owner.id, {}, at)
        self.feed(node_id, copy, "input", owner.id, at)
        self.frozen[node_id] = owner.id
        for name, bound in list(self.env.items()):
            if bound == node_id:
                self.env[name] = copy


def zeroing(at: ast.AST) -> CodeImportError:
    """The refusal of `x.grad.zero_()` / `x.grad = None`: gradients are Backward's, not the graph's."""
    return refusal(at, "gradients are not part of the graph: Backward fills them and Zero Grad clears them",
                   "Graph > Zero Grad in the app (or leave the line out)")
