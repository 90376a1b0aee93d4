"""A live PyTorch tensor's autograd graph as a GradStudio document (torch is imported only when used).

`from_torch(out)` walks `out.grad_fn` and its `next_functions` down to the `AccumulateGrad` leaves, whose
`.variable` gives each leaf's values. Each `grad_fn` the catalog knows becomes that op's node; inputs that
take no gradient (constants, shown as `None` in `next_functions`) are read from what the node saved
(`_saved_other`, `_saved_self`, `_saved_exponent`, ...) or, for a sum or difference, recovered from its saved
result. A `grad_fn` the catalog lacks becomes an *opaque* node: a `values` tensor holding the op's output
(read from what it or its consumer saved), named `<op>_opaque`, with a note beside it naming the `grad_fn`;
its inputs stay in the document but are not wired to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, MoveNode, SetSetting
from gradstudio.model.layout import layered_positions

INSTALL_HINT = ("gradstudio.from_torch needs PyTorch, which is not installed. Install it with "
                "`pip install torch` (a CPU build is enough: "
                "`pip install torch --index-url https://download.pytorch.org/whl/cpu`).")
UNARY = {"ReluBackward0": "relu", "SigmoidBackward0": "sigmoid", "TanhBackward0": "tanh", "ExpBackward0": "exp",
         "LogBackward0": "log", "SqrtBackward0": "sqrt", "AbsBackward0": "abs", "SinBackward0": "sin",
         "CosBackward0": "cos", "NegBackward0": "neg", "TBackward0": "T", "CloneBackward0": "clone"}
BINARY = {"AddBackward0": "add", "SubBackward0": "sub", "MulBackward0": "mul", "DivBackward0": "div",
          "MmBackward0": "matmul", "PowBackward1": "pow", "MaximumBackward0": "maximum",
          "MinimumBackward0": "minimum"}
# what a grad_fn saved of each of its inputs, by input position
SAVED_INPUTS = {"MmBackward0": ("_saved_self", "_saved_mat2"),
                "AddmmBackward0": ("_saved_self", "_saved_mat1", "_saved_mat2"),
                "MseLossBackward0": ("_saved_self", "_saved_target")}
REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


class FromTorchError(ValueError):
    """A tensor whose graph cannot be shown (the message says which grad_fn and why)."""


def require_torch() -> Any:
    """The torch module, or ImportError saying how to install it."""
    try:
        import torch
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return torch


@dataclass
class _Walk:
    """The state of one conversion: the document, the node made for each grad_fn, names, known values."""

    torch: Any
    names: dict[int, str]
    document: GraphDocument = field(default_factory=GraphDocument)
    made: dict[int, str] = field(default_factory=dict)
    outputs: dict[int, Any] = field(default_factory=dict)  # id(grad_fn) -> its output value, where saved
    values: dict[str, engine.Tensor] = field(default_factory=dict)  # node id -> its value, as we compute it
    opaque: list[tuple[str, str]] = field(default_factory=list)
    freed: bool = False  # backward() ran without retain_graph: what the nodes saved is gone


def from_torch(tensor: Any, *, names: Mapping[str, Any] | None = None) -> GraphDocument:
    """The autograd graph that produced `tensor` as a document; `names` maps variable names to tensors."""
    torch = require_torch()
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"from_torch needs a torch.Tensor, got {type(tensor).__name__}")
    walk = _Walk(torch, _name_table(torch, names or {}))
    if tensor.grad_fn is None:
        root = _leaf(walk, tensor, tensor.requires_grad)
    else:
        walk.outputs[id(tensor.grad_fn)] = tensor.detach()
        root = _node_for(walk, tensor.grad_fn)
    if tensor.numel() == 1 and tensor.requires_grad:
        SetSetting("backward_target", root).apply(walk.document)
    _lay_out(walk)
    return walk.document


def _name_table(torch: Any, names: Mapping[str, Any]) -> dict[int, str]:
    """id of a leaf tensor or of a grad_fn -> the variable name it had (first name wins)."""
    table: dict[int, str] = {}
    for name, value in names.items():
        if isinstance(value, torch.Tensor) and name.isidentifier() and not name.startswith("_"):
            key = id(value.grad_fn) if value.grad_fn is not None else id(value)
            table.setdefault(key, name)
    return table


def _add(walk: _Walk, kind: str, base: str, attributes: dict[str, Any], inputs: list[str], key: int | None) -> str:
    """Add a node wired to `inputs` (node ids, in port order) and compute its value; its id."""
    document = walk.document
    name = walk.names.get(key) if key is not None else None
    node_id = document.new_id()
    document.apply(AddNode(Node(node_id, kind, document.new_name(name or base), attributes)))
    for port, source in zip(document.nodes[node_id].input_ports(), inputs):
        document.apply(Connect(Edge(source, node_id, port)))
    spec = CATALOG[kind]
    with engine.no_grad():
        given = {port: walk.values[source] for port, source in zip(spec.input_ports(attributes), inputs)}
        walk.values[node_id] = spec.compute(given, document.nodes[node_id].attributes)
    return node_id


def _as_engine(value: Any) -> engine.Tensor:
    return engine.tensor(value.detach().cpu().numpy())


def _dtype(value: Any) -> str:
    text = str(value.dtype).removeprefix("torch.")
    if text not in ("float32", "float64", "int64", "bool"):
        raise FromTorchError(f"a tensor of dtype {value.dtype} (GradStudio has float32, float64, int64, bool)")
    return text


def _leaf(walk: _Walk, value: Any, requires_grad: bool, base: str = "x", key: int | None = None) -> str:
    """A tensor node holding `value`'s numbers."""
    data = value.detach().cpu()
    attributes = {"shape": tuple(data.shape), "dtype": _dtype(data), "init": "values",
                  "values": tuple(data.reshape(-1).tolist()), "requires_grad": requires_grad}
    node_id = _add(walk, "tensor", base, attributes, [], id(value) if key is None else key)
    walk.values[node_id] = _as_engine(data)
    return node_id


def _constant(walk: _Walk, value: Any) -> str:
    """A constant input: a scalar node for one number (PyTorch's wrapped `x + 2`), else a plain tensor node."""
    data = value.detach().cpu()
    if data.dim() == 0 and data.dtype != walk.torch.bool:
        number = data.item()
        node_id = _add(walk, "scalar", "const", {"value": number}, [], None)
        walk.values[node_id] = _as_engine(data)
        return node_id
    return _leaf(walk, data, False, "const", key=-1)


def _saved(fn: Any, attribute: str, walk: _Walk | None = None) -> Any:
    try:
        return getattr(fn, attribute)
    except AttributeError:
        return None
    except RuntimeError:  # freed by a backward() without retain_graph=True
        if walk is not None:
            walk.freed = True
        return None


def _input_value(walk: _Walk, fn: Any, position: int) -> Any:
    """What `fn` saved of its input at `position` (None if nothing)."""
    name = type(fn).__name__
    candidates = SAVED_INPUTS.get(name, ("_saved_self", "_saved_other"))
    if position < len(candidates):
        saved = _saved(fn, candidates[position], walk)
        if isinstance(saved, walk.torch.Tensor):
            return saved
    return None


def _output_value(walk: _Walk, fn: Any) -> Any:
    """`fn`'s output value: the root's, its own `_saved_result`, or what a consumer saved of it."""
    if id(fn) in walk.outputs:
        return walk.outputs[id(fn)]
    saved = _saved(fn, "_saved_result", walk)
    return saved if isinstance(saved, walk.torch.Tensor) else None


def _note_consumers(walk: _Walk, fn: Any) -> None:
    """Remember the values `fn` saved of its inputs: they are those inputs' outputs."""
    for position, (child, _) in enumerate(fn.next_functions):
        if child is not None and id(child) not in walk.outputs:
            value = _input_value(walk, fn, position)
            if value is not None:
                walk.outputs[id(child)] = value


def _node_for(walk: _Walk, fn: Any) -> str:
    """The node made for grad_fn `fn` (made, with its inputs, on first visit)."""
    if id(fn) in walk.made:
        return walk.made[id(fn)]
    name = type(fn).__name__
    if name == "AccumulateGrad":
        node_id = _leaf(walk, fn.variable, True)
    else:
        _note_consumers(walk, fn)
        node_id = _op(walk, fn, name)
    walk.made[id(fn)] = node_id
    return node_id


def _inputs(walk: _Walk, fn: Any) -> list[str | None]:
    """Node ids of `fn`'s inputs; None where the input is a constant not yet known."""
    result: list[str | None] = []
    for position, (child, _) in enumerate(fn.next_functions):
        if child is not None:
            result.append(_node_for(walk, child))
            continue
        value = _input_value(walk, fn, position)
        result.append(_constant(walk, value) if value is not None else None)
    return result


def _op(walk: _Walk, fn: Any, name: str) -> str:
    """A node for a non-leaf grad_fn: its catalog op if one fits, else an opaque node."""
    handler = HANDLERS.get(name)
    made = handler(walk, fn, name) if handler is not None else None
    return made if made is not None else _opaque(walk, fn, name)


def _opaque(walk: _Walk, fn: Any, name: str) -> str:
    """A values tensor standing for an op the catalog lacks; its inputs are walked but not wired to it."""
    value = _output_value(walk, fn)
    for child, _ in fn.next_functions:
        if child is not None:
            _node_for(walk, child)
    if value is None and walk.freed:
        raise FromTorchError(f"the values {name} saved were freed by backward(); call from_torch (or show) "
                             "before backward(), or run backward(retain_graph=True)")
    if value is None and name in HANDLERS:
        raise FromTorchError(f"{name} has an operand that takes no gradient and that PyTorch did not save "
                             "(as in `x + 1` followed by a sum), so its value is unknown; make it a tensor "
                             "with requires_grad=True to show this graph")
    if value is None:
        raise FromTorchError(f"{name} is not in GradStudio's catalog and saved no value of its output, "
                             "so it cannot be shown as an opaque node")
    base = name.removesuffix("Backward0").removesuffix("Backward1").lower() + "_opaque"
    node_id = _leaf(walk, value, True, base, key=id(fn))
    walk.opaque.append((node_id, name))
    return node_id


def _binary(walk: _Walk, fn: Any, name: str) -> str | None:
    kind = BINARY[name]
    alpha = _saved(fn, "_saved_alpha")
    if alpha not in (None, 1):
        return None
    inputs = _inputs(walk, fn)
    if None in inputs:
        recovered = _recover_constant(walk, fn, kind, inputs)
        if recovered is None:
            return None
        inputs = recovered
    return _add(walk, kind, kind, {}, inputs, id(fn))


def _recover_constant(walk: _Walk, fn: Any, kind: str, inputs: list[str | None]) -> list[str] | None:
    """For `a + c`, `c + a`, `a - c`, `c - a` with an unsaved constant c: c from the saved result and a."""
    output = _output_value(walk, fn)
    if kind not in ("add", "sub") or output is None or inputs.count(None) != 1:
        return None
    known = walk.values[next(i for i in inputs if i is not None)].numpy()
    out = output.detach().cpu().numpy()
    if kind == "add":
        constant = out - known
    else:
        constant = known - out if inputs[0] is not None else out + known
    value = walk.torch.from_numpy(np.ascontiguousarray(constant).astype(out.dtype))
    if value.numel() > 1 and bool((value == value.reshape(-1)[0]).all()):
        value = value.reshape(-1)[0]
    return [i if i is not None else _constant(walk, value) for i in inputs]


def _unary(walk: _Walk, fn: Any, name: str) -> str | None:
    [source] = _inputs(walk, fn)
    return None if source is None else _add(walk, UNARY[name], UNARY[name], {}, [source], id(fn))


def _pow_scalar(walk: _Walk, fn: Any, name: str) -> str | None:
    [source] = _inputs(walk, fn)
    exponent = _saved(fn, "_saved_exponent")
    if source is None or not isinstance(exponent, (int, float)):
        return None
    scalar = _add(walk, "scalar", "p", {"value": float(exponent)}, [], None)
    return _add(walk, "pow", "pow", {}, [source, scalar], id(fn))


def _reduction(walk: _Walk, fn: Any, name: str) -> str | None:
    kind = "mean" if name.startswith("Mean") else "sum"
    attributes: dict[str, Any] = {}
    if name.endswith("Backward1"):
        dims = _saved(fn, "_saved_dim")
        if not isinstance(dims, tuple) or len(dims) != 1:
            return None
        attributes = {"dim": dims[0], "keepdim": bool(_saved(fn, "_saved_keepdim"))}
    [source] = _inputs(walk, fn)
    return None if source is None else _add(walk, kind, kind, attributes, [source], id(fn))


def _with_dim(walk: _Walk, fn: Any, name: str) -> str | None:
    kind = {"SoftmaxBackward0": "softmax", "LogSoftmaxBackward0": "log_softmax"}[name]
    [source] = _inputs(walk, fn)
    return None if source is None else _add(walk, kind, kind, {"dim": _saved(fn, "_saved_dim")}, [source], id(fn))


def _permute(walk: _Walk, fn: Any, name: str) -> str | None:
    [source] = _inputs(walk, fn)
    if source is None:
        return None
    if name == "TransposeBackward0":
        attributes = {"dim0": _saved(fn, "_saved_dim0"), "dim1": _saved(fn, "_saved_dim1")}
        return _add(walk, "transpose", "transpose", attributes, [source], id(fn))
    return _add(walk, "permute", "permute", {"dims": tuple(_saved(fn, "_saved_dims"))}, [source], id(fn))


def _addmm(walk: _Walk, fn: Any, name: str) -> str | None:
    """`bias + mat1 @ mat2` (what nn.Linear and F.linear record) as a matmul and an add."""
    if _saved(fn, "_saved_alpha") != 1 or _saved(fn, "_saved_beta") != 1:
        return None
    bias, mat1, mat2 = _inputs(walk, fn)
    if None in (bias, mat1, mat2):
        return None
    product = _add(walk, "matmul", "matmul", {}, [mat1, mat2], None)
    return _add(walk, "add", "add", {}, [product, bias], id(fn))


def _mse(walk: _Walk, fn: Any, name: str) -> str | None:
    reduction = REDUCTIONS.get(_saved(fn, "_saved_reduction"))
    inputs = _inputs(walk, fn)
    if reduction is None or None in inputs:
        return None
    return _add(walk, "mse_loss", "loss", {"reduction": reduction}, inputs, id(fn))


HANDLERS: dict[str, Callable[[_Walk, Any, str], str | None]] = {
    **dict.fromkeys(BINARY, _binary), **dict.fromkeys(UNARY, _unary), "PowBackward0": _pow_scalar,
    **dict.fromkeys(("MeanBackward0", "MeanBackward1", "SumBackward0", "SumBackward1"), _reduction),
    "SoftmaxBackward0": _with_dim, "LogSoftmaxBackward0": _with_dim, "PermuteBackward0": _permute,
    "TransposeBackward0": _permute, "AddmmBackward0": _addmm, "MseLossBackward0": _mse,
}


def _lay_out(walk: _Walk) -> None:
    """Place the nodes in columns, and a note above each opaque node naming its grad_fn."""
    document = walk.document
    for node_id, position in layered_positions(document).items():
        MoveNode(node_id, position).apply(document)
    for node_id, grad_fn in walk.opaque:
        x, y = document.nodes[node_id].position
        text = (f"Opaque: {grad_fn} is not in GradStudio's catalog. This node holds its output values "
                "(gradients reaching it are PyTorch's); its inputs are not wired to it.")
        AddAnnotation(Annotation(document.new_id(), "note", text, (x, y - 150.0), (220.0, 120.0))).apply(document)


def backward_ran(tensor: Any) -> bool:
    """True when a leaf of `tensor`'s graph has a `.grad` (Backward ran, so the app should show gradients)."""
    seen: set[int] = set()
    pending = [tensor.grad_fn] if tensor.grad_fn is not None else []
    while pending:
        fn = pending.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        if type(fn).__name__ == "AccumulateGrad" and fn.variable.grad is not None:
            return True
        pending.extend(child for child, _ in fn.next_functions)
    return False
