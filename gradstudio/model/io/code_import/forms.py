"""The Python forms of every catalog op, read from the catalog's code templates and the engine's names.

Each template (`{a} + {b}`, `torch.exp({input})`, `{input}.sum({dim_args})`, `F.linear(...)`) is parsed
with `ast` once; its shape says how code spells the op: an operator, a function of `torch` or `F`, a method,
an attribute (`.T`) or a subscript. Where the engine offers the same op under the other spelling (`x.exp()`
for `torch.exp(x)`, `torch.sum(x)` for `x.sum()`, `torch.add(a, b)` for `a + b`), that form is accepted too.
No op is named here: adding one to the catalog teaches the importer its forms.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import gradstudio.engine as engine
from gradstudio.model.catalog import CATALOG
from gradstudio.model.op_spec import OpSpec

PLACEHOLDER = re.compile(r"\{(\w+)\}")
PREFIX = "gs_field_"
MODULES = ("torch", "F")  # the names templates call functions through
VARIADIC = "tensors"
DIM_ARGS = "dim_args"
VALUES = "{values}"  # max/min along a dim: the namedtuple's `.values`


@dataclass(frozen=True)
class CallForm:
    """How one op is called: its fields by position (an input port, an attribute, or the variadic list) and by
    keyword; `receiver` is the port a method is called on."""

    kind: str
    positional: tuple[str, ...]
    keywords: dict[str, str] = field(default_factory=dict)
    receiver: str | None = None
    values_suffix: bool = False

    @property
    def spec(self) -> OpSpec:
        """The catalog entry of the op."""
        return CATALOG[self.kind]


@dataclass
class Forms:
    """Every way code may name a catalog op."""

    binary: dict[type, str] = field(default_factory=dict)      # ast.Add -> "add"
    unary: dict[type, str] = field(default_factory=dict)       # ast.USub -> "neg"
    compare: dict[type, str] = field(default_factory=dict)     # ast.Gt -> "gt"
    attribute: dict[str, str] = field(default_factory=dict)    # "T" -> "T"
    subscript: str | None = None                               # "index"
    functions: dict[tuple[str, str], CallForm] = field(default_factory=dict)  # ("torch", "exp")
    methods: dict[str, CallForm] = field(default_factory=dict)                # "sum"

    def function_names(self) -> list[str]:
        """`torch.exp`, `F.relu`, ...: for messages naming the nearest supported call."""
        return sorted(f"{module}.{name}" for module, name in self.functions)


def _field(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name) and node.id.startswith(PREFIX):
        return node.id[len(PREFIX):]
    return None


def _expanded(spec: OpSpec, fields: list[str]) -> tuple[list[str], dict[str, str]]:
    """Positional fields with `dim_args` spread out: dim by position, the other attributes it covers by keyword."""
    positional: list[str] = []
    keywords: dict[str, str] = {}
    for name in fields:
        if name != DIM_ARGS:
            positional.append(name)
            continue
        named = {spec_attr.name for spec_attr in spec.attributes}
        positional += ["dim"] if "dim" in named else []
        keywords.update({attr: attr for attr in named if attr != "dim"})
    return positional, keywords


def _call_form(spec: OpSpec, call: ast.Call, receiver: str | None, values_suffix: bool) -> CallForm:
    fields = []
    for argument in call.args:
        if isinstance(argument, ast.List):  # torch.cat([{tensors}], ...)
            fields.append(VARIADIC)
        else:
            fields.append(_field(argument) or "")
    positional, keywords = _expanded(spec, fields)
    keywords.update({keyword.arg: _field(keyword.value) or "" for keyword in call.keywords if keyword.arg})
    keywords.update({name: name for name in positional if name in {a.name for a in spec.attributes}})
    return CallForm(spec.kind, tuple(positional), keywords, receiver, values_suffix)


def _engine_has(module: str, name: str) -> bool:
    namespace = engine if module == "torch" else engine.nn.functional
    return callable(getattr(namespace, name, None))


def _add_call(forms: Forms, spec: OpSpec, call: ast.Call, values_suffix: bool) -> None:
    function = call.func
    if not isinstance(function, ast.Attribute):
        return
    owner = function.value
    if isinstance(owner, ast.Name) and owner.id in MODULES:
        form = _call_form(spec, call, None, values_suffix)
        forms.functions[(owner.id, function.attr)] = form
        _add_aliases(forms, spec, function.attr, form, owner.id)
    elif (receiver := _field(owner)) is not None:
        form = _call_form(spec, call, receiver, values_suffix)
        forms.methods.setdefault(function.attr, form)
        if _engine_has("torch", function.attr):
            forms.functions.setdefault(("torch", function.attr), CallForm(
                spec.kind, (receiver, *form.positional), form.keywords, None, values_suffix))


def _add_aliases(forms: Forms, spec: OpSpec, name: str, form: CallForm, module: str) -> None:
    """`F.relu` for `torch.relu` (and back), and `x.exp()` for `torch.exp(x)` where the engine has them."""
    other = "F" if module == "torch" else "torch"
    if _engine_has(other, name):
        forms.functions.setdefault((other, name), form)
    first = form.positional[0] if form.positional else None
    inputs = spec.inputs
    if first in inputs and len(inputs) < 3 and callable(getattr(engine.Tensor, name, None)):
        forms.methods.setdefault(name, CallForm(spec.kind, form.positional[1:], form.keywords, first,
                                                form.values_suffix))


def _add_operator_names(forms: Forms, spec: OpSpec) -> None:
    """`torch.add(a, b)` and `a.add(b)` for an operator template, where the engine has the name."""
    positional = (*spec.inputs, *(a.name for a in spec.attributes))
    keywords = {a.name: a.name for a in spec.attributes}
    if _engine_has("torch", spec.kind):
        forms.functions.setdefault(("torch", spec.kind), CallForm(spec.kind, positional, keywords))
    if callable(getattr(engine.Tensor, spec.kind, None)) and spec.inputs:
        forms.methods.setdefault(spec.kind, CallForm(spec.kind, positional[1:], keywords, spec.inputs[0]))


def _add_template(forms: Forms, spec: OpSpec) -> None:
    template = spec.template
    values_suffix = template.endswith(VALUES)
    template = template.removesuffix(VALUES)
    source = PLACEHOLDER.sub(lambda match: PREFIX + match.group(1), template)
    try:
        expression = ast.parse(source, mode="eval").body
    except SyntaxError:
        return
    if isinstance(expression, ast.Name):  # a leaf's or a number's own template: no op form
        return
    if isinstance(expression, ast.BinOp):
        forms.binary.setdefault(type(expression.op), spec.kind)
    elif isinstance(expression, ast.UnaryOp):
        forms.unary.setdefault(type(expression.op), spec.kind)
    elif isinstance(expression, ast.Compare) and len(expression.ops) == 1:
        forms.compare.setdefault(type(expression.ops[0]), spec.kind)
    elif isinstance(expression, ast.Attribute):
        forms.attribute.setdefault(expression.attr, spec.kind)
        return
    elif isinstance(expression, ast.Subscript):
        forms.subscript = spec.kind
        return
    elif isinstance(expression, ast.Call):
        _add_call(forms, spec, expression, values_suffix)
        return
    _add_operator_names(forms, spec)


def build_forms() -> Forms:
    """Read every catalog template into the forms code may use."""
    forms = Forms()
    for spec in CATALOG.values():
        _add_template(forms, spec)
    return forms


FORMS = build_forms()
