"""Python expressions as graph nodes: operators, catalog calls and methods, creation calls and literals.

`ExpressionBuilder` adds nodes to a scratch copy of the document (so every node and edge is checked by the
document's own edits) and records the edits; it never runs the code.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from typing import Any

from gradstudio.model.document import Edge, EditError, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, Edit, SetAttribute
from gradstudio.model.io.code_import.errors import CodeImportError
from gradstudio.model.io.code_import.forms import FORMS, VARIADIC, CallForm
from gradstudio.model.io.code_import.leaf_calls import CREATORS, leaf_attributes, literal, refusal

Number = int | float | bool
Operand = str | Number  # a node id, or a Python number not yet given a node
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
FORBIDDEN_CALLS = {
    "open": "reading or writing files", "eval": "running code from a string", "exec": "running code from a string",
    "compile": "running code from a string", "getattr": "reaching attributes by name",
    "setattr": "changing attributes by name", "delattr": "deleting attributes by name",
    "__import__": "importing modules", "globals": "reaching the interpreter's variables",
    "locals": "reaching the interpreter's variables", "vars": "reaching the interpreter's variables",
    "input": "asking for input", "breakpoint": "starting a debugger",
}
# methods read as statements, not ops (`out.backward()`): a typo of one is pointed to it
STATEMENT_METHODS = ("backward", "requires_grad_", "retain_grad")
# tensor methods whose result is not a tensor
LEAVES_GRAPH = {"item": "a Python number", "tolist": "a Python list", "numpy": "a NumPy array"}
INSPECTED = ("grad", "shape", "requires_grad", "is_leaf", "grad_fn", "dtype", "data")  # what print() may show


@dataclass(frozen=True)
class GradOf:
    """A name bound to `node.grad` (`i = x.grad`): something Backward shows, not a node."""

    node_id: str
    variable: str


Binding = str | GradOf


@dataclass
class ExpressionBuilder:
    """Turns expressions into nodes of `document` (a scratch copy), recording each edit in `edits`."""

    document: GraphDocument
    env: dict[str, Binding] = field(default_factory=dict)
    # local name -> "torch" | "F"; snippets often leave out their imports, so both names are known from the start
    modules: dict[str, str] = field(default_factory=lambda: {"torch": "torch", "F": "F"})
    edits: list[Edit] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seed: int = 0
    seeded: bool = False  # torch.manual_seed was called
    drawn_since_seed: bool = False

    # ----- recording edits --------------------------------------------------------------------------------------

    def record(self, edit: Edit, at: ast.AST) -> None:
        """Apply `edit` to the scratch document and keep it (a refused edit becomes a refusal at `at`)."""
        try:
            edit.apply(self.document)
        except EditError as error:
            raise refusal(at, str(error)) from None
        self.edits.append(edit)

    def add_node(self, kind: str, name: str, attributes: dict[str, Any], at: ast.AST) -> str:
        """A new node named like `name` (made unique); its id. A name ending in "_" is an intermediate's: it gets
        the op (or a leaf's initialiser) added, `h_matmul` inside `h = torch.relu(x @ w)`."""
        if name.endswith("_"):
            name += attributes.get("init", kind) if kind == "tensor" else kind
        node = Node(self.document.new_id(), kind, self.document.new_name(name), attributes)
        self.record(AddNode(node), at)
        self.created.append(node.id)
        return node.id

    def set_attribute(self, node_id: str, name: str, value: Any, at: ast.AST) -> None:
        """Change an attribute of a node (made here or already in the document)."""
        if self.document.nodes[node_id].attributes.get(name) != value:
            self.record(SetAttribute(node_id, name, value), at)

    def feed(self, operand: Operand, target: str, port: str, name: str, at: ast.AST) -> None:
        """Wire `operand` into `port` of `target`: a node's output, or a number as a Scalar node."""
        source = operand if isinstance(operand, str) else self.number_node(operand, name, at)
        self.record(Connect(Edge(source, target, port)), at)

    def number_node(self, value: Number, name: str, at: ast.AST) -> str:
        """A Scalar node holding `value`, named after it where it is a small whole number (`two`)."""
        small = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(NUMBER_WORDS)
        return self.add_node("scalar", NUMBER_WORDS[value] if small else f"{_root(name)}value", {"value": value}, at)

    # ----- expressions ------------------------------------------------------------------------------------------

    def expression(self, node: ast.AST, name: str) -> Operand:
        """The node (or number) `node` computes; new nodes are named after `name`."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (int, float)) and not isinstance(node.value, complex):
                return node.value
            raise refusal(node, f"a {type(node.value).__name__} constant is not a tensor or a number", "2.0")
        if isinstance(node, ast.Name):
            return self.lookup(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, name)
        if isinstance(node, ast.BinOp):
            kind = FORMS.binary.get(type(node.op))
            if kind is None:
                raise refusal(node, f"the operator {_symbol(node)} has no node", _operators())
            return self.op(kind, {"a": node.left, "b": node.right}, {}, name, node)
        if isinstance(node, ast.Compare):
            kind = FORMS.compare.get(type(node.ops[0])) if len(node.ops) == 1 else None
            if kind is None:
                raise refusal(node, "this comparison has no node", "a > b or a < b")
            return self.op(kind, {"a": node.left, "b": node.comparators[0]}, {}, name, node)
        if isinstance(node, ast.Call):
            return self.call(node, name)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, name)
        if isinstance(node, ast.Subscript) and FORMS.subscript:
            index = ast.unparse(node.slice)
            return self.op(FORMS.subscript, {"input": node.value}, {"index": index}, name, node)
        if isinstance(node, ast.Lambda):
            raise refusal(node, "lambda functions are not supported: a graph holds tensors and ops",
                          "name the computation: y = torch.relu(x)")
        raise refusal(node, f"{type(node).__name__} expressions are not supported",
                      "a tensor op such as y = x * 2 + 1")

    def lookup(self, node: ast.Name) -> str:
        """The node a name stands for (refused if it stands for none)."""
        if node.id in FORBIDDEN_CALLS:
            raise forbidden(node, node.id)
        binding = self.env.get(node.id)
        if isinstance(binding, GradOf):
            holder = binding.variable
            raise refusal(node, f"{node.id} holds {holder}.grad, which Backward shows, not a node of the graph",
                          f"read {holder}.grad after Backward, or use {holder} itself")
        if binding is None:
            if node.id in self.modules:
                raise refusal(node, f"{node.id} is a module, not a tensor", f"{node.id}.ones(3)")
            close = difflib.get_close_matches(node.id, [known for known in self.env if known.isidentifier()], n=1)
            raise refusal(node, f"name {node.id!r} is not defined",
                          f"{close[0]} (defined above)" if close else f"define it first: {node.id} = torch.ones(3)")
        return binding

    def unary(self, node: ast.UnaryOp, name: str) -> Operand:
        if isinstance(node.op, ast.UAdd):
            return self.expression(node.operand, name)
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            value = self.expression(node.operand, name)
            return -value  # a negative literal, not an op
        kind = FORMS.unary.get(type(node.op))
        if kind is None:
            raise refusal(node, "this unary operator has no node", "-x")
        return self.op(kind, {"input": node.operand}, {}, name, node)

    def op(self, kind: str, inputs: dict[str, ast.AST], attributes: dict[str, Any], name: str,
           at: ast.AST) -> str:
        """An op node of `kind` fed by the given input expressions (intermediate nodes named after the op)."""
        operands = {port: self.expression(source, _root(name)) for port, source in inputs.items()}
        node_id = self.add_node(kind, name, attributes, at)
        for port, operand in operands.items():
            self.feed(operand, node_id, port, _root(name), inputs[port])
        return node_id

    # ----- calls ------------------------------------------------------------------------------------------------

    def module_of(self, node: ast.AST) -> str | None:
        """"torch" or "F" if `node` names the torch module or its functional module (however imported)."""
        if isinstance(node, ast.Name):
            return self.modules.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "functional":
            inner = node.value
            if isinstance(inner, ast.Attribute) and inner.attr == "nn" and self.module_of(inner.value) == "torch":
                return "F"
        return None

    def dotted(self, node: ast.AST) -> str | None:
        """`torch.optim.SGD` for a name reached through an imported module (None if not rooted at one)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.insert(0, node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.modules and parts:
            return ".".join([node.id, *parts])
        return None

    def call(self, node: ast.Call, name: str, values: bool = False) -> Operand:
        """A call of a creation function, a catalog function or a catalog method."""
        function = node.func
        if isinstance(function, ast.Name):
            if function.id in FORBIDDEN_CALLS:
                raise forbidden(function, function.id)
            raise unknown_function(function, function.id)
        if not isinstance(function, ast.Attribute):
            raise refusal(node, "only functions of torch and methods of tensors can be called", "torch.exp(x)")
        module = self.module_of(function.value)
        dotted = self.dotted(function)
        if module is None and dotted is not None:  # torch.optim.SGD, torch.nn.Linear, torch.autograd.grad
            raise unknown_function(function, dotted)
        if module is not None:
            if module == "torch" and function.attr in CREATORS:
                attributes = leaf_attributes(function.attr, node, self.next_seed)
                return self.add_node("tensor", name, attributes, node)
            form = FORMS.functions.get((module, function.attr))
            if form is None:
                raise unknown_function(function, f"{module}.{function.attr}")
            return self.apply_form(form, node, None, name, values)
        return self.method(node, function, name, values)

    def method(self, node: ast.Call, function: ast.Attribute, name: str, values: bool) -> Operand:
        """`receiver.method(...)`: a catalog method, or a change to a leaf just created (`.requires_grad_()`)."""
        form = FORMS.methods.get(function.attr)
        if function.attr in ("requires_grad_", "to", "reshape", "view") or form is None:
            receiver = self.expression(function.value, name)
            made_here = isinstance(function.value, ast.Call) and bool(self.created)
            fresh = made_here and receiver == self.created[-1]
            folded = self.fold_into_leaf(receiver, function.attr, node) if fresh else False
            if folded:
                return receiver
            if form is None:
                raise unknown_method(function)
            return self.apply_form(form, node, receiver, name, values)
        return self.apply_form(form, node, None, name, values)

    def fold_into_leaf(self, leaf_id: str, method: str, node: ast.Call) -> bool:
        """`torch.arange(6.).reshape(2, 3).requires_grad_()`: the chain describes one leaf, as the export writes
        it. True if `method` was folded into the leaf `leaf_id` just made."""
        leaf = self.document.nodes[leaf_id]
        if leaf.kind != "tensor":
            return False
        if method == "requires_grad_":
            flag = literal(node.args[0]) if node.args else literal(node.keywords[0].value) if node.keywords else True
            self.set_attribute(leaf_id, "requires_grad", flag, node)
            return True
        if method == "to" and len(node.args) == 1 and not node.keywords:
            self.set_attribute(leaf_id, "dtype", literal(node.args[0]), node)
            return True
        if method in ("reshape", "view") and leaf.attributes["init"] not in ("rand", "randn", "eye"):
            shape = _shape_arguments(node)
            count = 1
            for extent in leaf.attributes["shape"]:
                count *= extent
            if shape is not None and all(isinstance(e, int) and e >= 0 for e in shape) and _product(shape) == count:
                self.set_attribute(leaf_id, "shape", shape, node)
                return True
        return False

    def apply_form(self, form: CallForm, node: ast.Call, receiver: Operand | None, name: str,
                   values: bool) -> str:
        """An op node from a call matched to its catalog form: inputs wired, attributes read as literals."""
        arguments = self.bind(form, node)
        spec = form.spec
        attributes = {field_name: value for field_name, value in arguments.items()
                      if field_name in {a.name for a in spec.attributes}}
        if form.values_suffix and attributes.get("dim") is not None and not values:
            raise refusal(node, f"{ast.unparse(node)} gives values and indices", f"{ast.unparse(node)}.values")
        inputs = {port: source for port, source in arguments.items() if port not in attributes and port != VARIADIC}
        if VARIADIC in arguments:
            attributes["count"] = len(arguments[VARIADIC])
            inputs.update({f"{spec.inputs[0]}{i}": item for i, item in enumerate(arguments[VARIADIC])})
        operands = {port: self.expression(source, _root(name)) for port, source in inputs.items()}
        if receiver is None and form.receiver is not None:
            receiver = self.expression(node.func.value, _root(name))
        node_id = self.add_node(form.kind, name, attributes, node)
        if form.receiver is not None:
            self.feed(receiver, node_id, form.receiver, _root(name), node)
        for port, operand in operands.items():
            self.feed(operand, node_id, port, _root(name), inputs[port])
        return node_id

    def bind(self, form: CallForm, node: ast.Call) -> dict[str, Any]:
        """Each field of the form given by the call: input ports as expressions, attributes as literal values."""
        spec = form.spec
        kinds = {a.name: a.kind for a in spec.attributes}
        order = list(form.positional) + [f for f in form.keywords.values() if f not in form.positional]
        arguments: dict[str, Any] = {}
        positional = list(node.args)
        for index, argument in enumerate(positional):
            if index >= len(order):
                raise refusal(argument, f"too many arguments for {spec.title}", _call_text(form))
            field_name = order[index]
            if kinds.get(field_name) in ("shape", "dims") and index == len(form.positional) - 1:
                arguments[field_name] = _shape_arguments(node, index)
                break
            arguments[field_name] = self.argument(field_name, argument, kinds)
        for keyword in node.keywords:
            field_name = form.keywords.get(keyword.arg or "")
            if field_name is None:
                raise refusal(keyword.value, f"{spec.title} has no argument {keyword.arg!r} GradStudio knows",
                              _call_text(form))
            arguments[field_name] = self.argument(field_name, keyword.value, kinds)
        missing = [port for port in spec.inputs if port not in arguments and port != form.receiver
                   and not (spec.variadic and VARIADIC in arguments)]
        if missing:
            raise refusal(node, f"{spec.title} needs {', '.join(missing)}", _call_text(form))
        return arguments

    def argument(self, field_name: str, argument: ast.AST, kinds: dict[str, str]) -> Any:
        if field_name == VARIADIC:
            if not isinstance(argument, (ast.List, ast.Tuple)):
                raise refusal(argument, "give the tensors as a list", "torch.cat([a, b], dim=0)")
            return list(argument.elts)
        if field_name not in kinds:
            return argument  # an input port: an expression, turned into a node when wired
        value = literal(argument)
        return tuple(value) if isinstance(value, list) else value

    def attribute(self, node: ast.Attribute, name: str) -> Operand:
        """`x.T` (a catalog attribute form) or `x.max(0).values`; other attributes are refused."""
        if node.attr == "values" and isinstance(node.value, ast.Call):
            return self.call(node.value, name, values=True)
        kind = FORMS.attribute.get(node.attr)
        if kind is not None:
            return self.op(kind, {"input": node.value}, {}, name, node)
        if node.attr == "grad":
            raise refusal(node, "a .grad is what Backward shows, not a node", "i = x.grad on a line of its own")
        if self.dotted(node) is not None:
            raise refusal(node, f"{self.dotted(node)} is not a tensor op GradStudio knows", "torch.exp(x)")
        raise refusal(node, f"the attribute .{node.attr} has no node", "x.T, or an op such as x.sum()")

    def next_seed(self) -> int:
        """The seed of the next random leaf: the last manual_seed for the first draw after it, then fresh ones."""
        seed = self.seed
        if self.seeded and self.drawn_since_seed:
            self.warnings.append(f"a second random tensor after torch.manual_seed draws from seed {seed} here, "
                                 "not from where PyTorch's generator would continue")
        self.drawn_since_seed = True
        self.seed += 1
        return seed


def _root(name: str) -> str:
    """The name prefix of the nodes feeding one named `name`: `z_` (their own op is added: `z_mul`)."""
    return name if name.endswith("_") else f"{name}_"


def _shape_arguments(node: ast.Call, start: int = 0) -> tuple | None:
    """Sizes given as separate arguments (`reshape(2, 3)`) or as one tuple or list (`reshape((2, 3))`)."""
    values = [literal(argument) for argument in node.args[start:]]
    values += [literal(k.value) for k in node.keywords if k.arg in ("shape", "size", "dims")]
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        return tuple(values[0])
    return tuple(values)


def _product(values: tuple) -> int:
    result = 1
    for value in values:
        result *= value
    return result


def _symbol(node: ast.BinOp) -> str:
    return {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&",
            ast.BitOr: "|", ast.BitXor: "^"}.get(type(node.op), type(node.op).__name__)


def _operators() -> str:
    symbols = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
    return "one of " + " ".join(symbols.get(op, op.__name__) for op in FORMS.binary)


def _call_text(form: CallForm) -> str:
    spec = form.spec
    fields = ", ".join([*(p for p in form.positional if p), *(f"{k}=..." for k in form.keywords
                                                             if k not in form.positional)])
    return f"{spec.title}: {spec.template.replace('{', '').replace('}', '')} ({fields})"


def forbidden(node: ast.AST, name: str) -> CodeImportError:
    """The refusal of a builtin that would do more than compute (`open`, `eval`, `getattr`, ...)."""
    return refusal(node, f"{name}() is refused: import never runs code, and {FORBIDDEN_CALLS[name]} is not part of "
                         "a graph", "tensor code only, e.g. y = torch.exp(x)")


def unknown_function(node: ast.AST, name: str) -> CodeImportError:
    """The refusal of a function the catalog does not know, naming the closest one it does."""
    known = FORMS.function_names() + [f"torch.{creator}" for creator in CREATORS]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return refusal(node, f"unknown function {name}", close[0] if close else "a torch function such as torch.exp")


def unknown_method(node: ast.Attribute) -> CodeImportError:
    """The refusal of a method the catalog does not know."""
    receiver = ast.unparse(node.value)
    if node.attr in LEAVES_GRAPH:
        return refusal(node, f"{receiver}.{node.attr}() gives {LEAVES_GRAPH[node.attr]}, which leaves the graph: "
                             "no node can hold it", f"keep the tensor ({receiver}); its node shows the value")
    close = difflib.get_close_matches(node.attr, [*FORMS.methods, *STATEMENT_METHODS], n=1, cutoff=0.75)
    return refusal(node, f"unknown tensor method .{node.attr}()",
                   f".{close[0]}()" if close else "one of the palette's ops, such as .sum() or .exp()")
