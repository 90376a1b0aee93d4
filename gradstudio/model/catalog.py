"""The op catalog: every node kind described once, in `CATALOG` (kind -> `OpSpec`).

Each entry gives the node's input ports, its attributes (type, default,
choices), the engine call that computes it, the code-generation template, its
palette category, a one-line doc and its symbolic derivative. Palette, inspector,
validation, evaluation, code export and file loading all read this table; what an
entry holds (`OpSpec`, `AttributeSpec`) is defined in `op_spec.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gradstudio.engine as engine
from gradstudio.model import matrix_derivatives as matrix
from gradstudio.model.derivatives import (
    ONE,
    OUT,
    TARGET,
    A,
    B,
    ByAttribute,
    N,
    Pointwise,
    Reduce,
    Route,
    Var,
    Within,
    X,
    call,
    choose,
)
from gradstudio.model.leaves import DTYPES, INITIALISERS, element_count, make_leaf, uses_attribute
from gradstudio.model.limits import check_python_result, python_power
from gradstudio.model.op_spec import AttributeSpec, OpSpec

CATEGORIES = ("Tensors", "Arithmetic", "Math", "Activations", "Reductions", "Shape", "Linear algebra", "Losses")

CATALOG: dict[str, OpSpec] = {}


def _register(spec: OpSpec) -> None:
    CATALOG[spec.kind] = spec


def _attr(name: str, kind: str, default: Any, doc: str = "", **extra: Any) -> AttributeSpec:
    return AttributeSpec(name, kind, default, doc, **extra)


DIM = _attr("dim", "dim", None, "dimension to reduce (empty: all)", optional=True)
DIM_REQUIRED = _attr("dim", "dim", 0, "dimension")
KEEPDIM = _attr("keepdim", "bool", False, "keep reduced dimensions with size one")


def _is_python_number(value: Any) -> bool:
    return isinstance(value, (int, float))  # bool is an int; a Tensor is neither


def _binary(kind: str, title: str, symbol: str, function: Callable[[Any, Any], Any], doc: str,
            derivative: Any, category: str = "Arithmetic", broadcasts: tuple[str, ...] = ("a", "b")) -> None:
    def compute(inputs: Mapping[str, Any], attributes: Mapping[str, Any]) -> Any:
        a, b = inputs["a"], inputs["b"]
        if not (_is_python_number(a) and _is_python_number(b)):
            return function(a, b)
        # two Python numbers compute in Python: exact ints can grow without bound (10 ** 10**15 never ends)
        if kind == "pow":
            return python_power(a, b)
        return check_python_result(function(a, b))

    _register(OpSpec(kind, title, category, ("a", "b"), compute, f"{{a}} {symbol} {{b}}", doc,
                     broadcasts=broadcasts, derivative=derivative))


def _call(kind: str, title: str, category: str, function: Callable[..., Any], template: str, doc: str,
          inputs: tuple[str, ...] = ("input",), attributes: tuple[AttributeSpec, ...] = (),
          derivative: Any = None, broadcasts: tuple[str, ...] = ()) -> None:
    names = tuple(spec.name for spec in attributes)
    optional = {spec.name for spec in attributes if spec.optional}

    def compute(values: Mapping[str, Any], attrs: Mapping[str, Any]) -> Any:
        arguments = [values[port] for port in inputs]
        keywords = {name: attrs[name] for name in names if not (attrs[name] is None and name in optional)}
        return function(*arguments, **keywords)

    def compute_one(values: Mapping[str, Any], _attrs: Mapping[str, Any]) -> Any:
        return function(values[inputs[0]])

    # a one-input op without attributes (tanh, exp) calls straight through: evaluation pays this once per node
    simple = len(inputs) == 1 and not names
    _register(OpSpec(kind, title, category, inputs, compute_one if simple else compute, template, doc, attributes,
                     broadcasts=broadcasts, derivative=derivative))


# ----- leaves -------------------------------------------------------------------------------------------------


def _leaf_attr(name: str, kind: str, default: Any, doc: str = "", **extra: Any) -> AttributeSpec:
    """A tensor attribute, which matters only if the node's initialiser reads it (leaves.uses_attribute)."""
    return _attr(name, kind, default, doc, applies_when=lambda a: uses_attribute(a["init"], name), **extra)


_register(OpSpec(
    "tensor", "Tensor", "Tensors", (), lambda i, a: make_leaf(a), "{leaf_call}",
    "A leaf tensor: shape, dtype, initialiser and requires_grad.",
    (
        # minimum 0: a leaf infers no extent, so the shape kind's "(or -1 to infer)" must not be offered
        _leaf_attr("shape", "shape", (3,), "extent of each dimension", minimum=0, validate=element_count),
        _leaf_attr("dtype", "choice", "float32", choices=DTYPES),
        _leaf_attr("init", "choice", "ones", "how the values are made", choices=INITIALISERS),
        _leaf_attr("fill", "float", 0.0, "value for init=full"),
        _leaf_attr("values", "values", (), "explicit values, row by row, for init=values", widget="table"),
        _leaf_attr("seed", "int", 0, "random seed for rand/randn"),
        _leaf_attr("start", "float", 0.0, "first value for arange/linspace"),
        _leaf_attr("end", "float", 1.0, "end value for arange (exclusive) / linspace (inclusive)"),
        _leaf_attr("requires_grad", "bool", False, "record operations for backward"),
    ),
))
_register(OpSpec("scalar", "Scalar", "Tensors", (), lambda i, a: a["value"], "{value}",
                 "A Python number used as an operand (x + 2).", (_attr("value", "number", 2.0),)))

# ----- arithmetic -----------------------------------------------------------------------------------------
_binary("add", "Add", "+", lambda a, b: a + b, "Elementwise sum a + b, broadcast.",
        Pointwise({"a": ONE, "b": ONE}))
_binary("sub", "Subtract", "-", lambda a, b: a - b, "Elementwise difference a - b, broadcast.",
        Pointwise({"a": ONE, "b": -ONE}))
_binary("mul", "Multiply", "*", lambda a, b: a * b, "Elementwise product a * b, broadcast.",
        Pointwise({"a": B, "b": A}))
_binary("div", "Divide", "/", lambda a, b: a / b, "Elementwise true division a / b, broadcast.",
        Pointwise({"a": 1 / B, "b": -A / B ** 2}))
_binary("pow", "Power", "**", lambda a, b: a ** b, "Elementwise power a ** b.",
        Pointwise({"a": B * A ** (B - 1), "b": OUT * call("log", A)}))
_binary("matmul", "MatMul", "@", lambda a, b: a @ b, "Matrix product a @ b (any ranks, batched).", matrix.MATMUL,
        "Linear algebra", broadcasts=())
_call("neg", "Negate", "Arithmetic", lambda x: -x, "-{input}", "Elementwise negation -x.",
      derivative=Pointwise({"input": -ONE}))



def _in_place(kind: str, title: str, function: Callable[[Any, Any], Any], derivative: Pointwise) -> None:
    """`input.add_(other)`: changes the input's tensor itself (bumping its version) and returns it."""
    _register(OpSpec(kind, title, "Arithmetic", ("input", "other"),
                     lambda i, a: function(i["input"], i["other"]), f"{{input}}.{kind}({{other}})",
                     f"In place: {title.split()[0].lower()} other into input's own tensor (its version goes up).",
                     broadcasts=("other",), derivative=derivative, modifies="input"))


_OTHER = Var("other")
_in_place("add_", "Add in place", lambda x, y: x.add_(y), Pointwise({"input": ONE, "other": ONE}))
_in_place("sub_", "Subtract in place", lambda x, y: x.sub_(y), Pointwise({"input": ONE, "other": -ONE}))
_in_place("mul_", "Multiply in place", lambda x, y: x.mul_(y), Pointwise({"input": _OTHER, "other": OUT / _OTHER}))
_in_place("div_", "Divide in place", lambda x, y: x.div_(y), Pointwise({"input": 1 / _OTHER, "other": -OUT / _OTHER}))

# ----- math -------------------------------------------------------------------------------------------------
for _name, _doc, _local in (("abs", "Absolute value.", call("sign", X)), ("exp", "Exponential e ** x.", OUT),
                            ("log", "Natural logarithm.", 1 / X), ("sqrt", "Square root.", 1 / (2 * OUT)),
                            ("sin", "Sine.", call("cos", X)), ("cos", "Cosine.", -call("sin", X))):
    _call(_name, _name.capitalize() if _name != "sqrt" else "Sqrt", "Math", getattr(engine, _name),
          f"torch.{_name}({{input}})", _doc, derivative=Pointwise({"input": _local}))
_call("clamp", "Clamp", "Math", engine.clamp, "torch.clamp({input}, min={min}, max={max})",
      "Limit values to [min, max].",
      attributes=(_attr("min", "number", 0.0, "lower bound (empty: none)", optional=True),
                  _attr("max", "number", None, "upper bound (empty: none)", optional=True)),
      derivative=Pointwise({"input": Within(X, "min", "max")}))
_call("maximum", "Maximum", "Math", engine.maximum, "torch.maximum({a}, {b})", "Elementwise maximum.",
      inputs=("a", "b"), broadcasts=("a", "b"),
      derivative=Pointwise({"a": choose(A > B, 1, choose(A.equals(B), 0.5, 0)),
                            "b": choose(B > A, 1, choose(A.equals(B), 0.5, 0))}))
_call("minimum", "Minimum", "Math", engine.minimum, "torch.minimum({a}, {b})", "Elementwise minimum.",
      inputs=("a", "b"), broadcasts=("a", "b"),
      derivative=Pointwise({"a": choose(A < B, 1, choose(A.equals(B), 0.5, 0)),
                            "b": choose(B < A, 1, choose(A.equals(B), 0.5, 0))}))
_call("where", "Where", "Math", engine.where, "torch.where({condition}, {a}, {b})",
      "Pick a where condition holds, else b.", inputs=("condition", "a", "b"), broadcasts=("condition", "a", "b"),
      derivative=Pointwise({"a": choose(Var("condition"), 1, 0), "b": choose(Var("condition"), 0, 1)}))
_call("gt", "Greater than", "Math", lambda a, b: a > b, "{a} > {b}", "Elementwise a > b (bool, no gradient).",
      inputs=("a", "b"))
_call("lt", "Less than", "Math", lambda a, b: a < b, "{a} < {b}", "Elementwise a < b (bool, no gradient).",
      inputs=("a", "b"))

# ----- activations --------------------------------------------------------------------------------------
for _name, _title, _doc, _local in (("relu", "ReLU", "max(x, 0).", choose(X > 0, 1, 0)),
                                    ("sigmoid", "Sigmoid", "1 / (1 + e ** -x).", OUT * (1 - OUT)),
                                    ("tanh", "Tanh", "Hyperbolic tangent.", 1 - OUT ** 2)):
    _call(_name, _title, "Activations", getattr(engine, _name), f"torch.{_name}({{input}})", _doc,
          derivative=Pointwise({"input": _local}))
_call("softmax", "Softmax", "Activations", engine.softmax, "torch.softmax({input}, dim={dim})",
      "exp(x) normalised along dim.", attributes=(_attr("dim", "dim", -1, "dimension"),), derivative=matrix.SOFTMAX)
_call("log_softmax", "LogSoftmax", "Activations", engine.log_softmax, "torch.log_softmax({input}, dim={dim})",
      "log(softmax(x)) along dim, computed stably.", attributes=(_attr("dim", "dim", -1, "dimension"),),
      derivative=matrix.LOG_SOFTMAX)
_SLOPE, _ALPHA, _BETA = Var("negative_slope"), Var("alpha"), Var("beta")
_SIG = call("σ", X)
_GELU_TANH = 0.7978845608028654 * (X + 0.044715 * X ** 3)
_ACTIVATION_LOCALS = {
    "leaky_relu": choose(X > 0, 1, _SLOPE),
    "gelu": ByAttribute("approximate", {
        "tanh": 0.5 * (1 + call("tanh", _GELU_TANH)) + 0.5 * X * (1 - call("tanh", _GELU_TANH) ** 2)
        * 0.7978845608028654 * (1 + 3 * 0.044715 * X ** 2),
        "none": call("Φ", X) + X * call("φ", X)}),
    "silu": _SIG * (1 + X * (1 - _SIG)),
    "elu": choose(X > 0, 1, _ALPHA * call("exp", X)),
    "softplus": choose(_BETA * X > Var("threshold"), 1, call("σ", _BETA * X)),
}

for _name, _title, _doc, _extra in (
    ("leaky_relu", "LeakyReLU", "x where x > 0, else negative_slope * x.",
     (_attr("negative_slope", "float", 0.01, "slope for negative inputs"),)),
    ("gelu", "GELU", "x * Phi(x), Phi the standard normal CDF (or its tanh approximation).",
     (_attr("approximate", "choice", "none", "exact, or the tanh approximation", choices=("none", "tanh")),)),
    ("silu", "SiLU", "x * sigmoid(x).", ()),
    ("elu", "ELU", "x where x > 0, else alpha * (exp(x) - 1).",
     (_attr("alpha", "float", 1.0, "scale of the negative part"),)),
    ("softplus", "Softplus", "log(1 + exp(beta * x)) / beta, linear above the threshold.",
     (_attr("beta", "float", 1.0, "sharpness"),
      _attr("threshold", "float", 20.0, "beta * x above which it is linear"))),
):
    _arguments = "".join(f", {spec.name}={{{spec.name}}}" for spec in _extra)
    _call(_name, _title, "Activations", getattr(engine.nn.functional, _name), f"F.{_name}({{input}}{_arguments})",
          _doc, attributes=_extra, derivative=Pointwise({"input": _ACTIVATION_LOCALS[_name]}))

# ----- reductions ---------------------------------------------------------------------------------------
for _name, _title, _doc, _local in (("sum", "Sum", "Sum of elements.", ONE),
                                    ("mean", "Mean", "Mean of elements.", 1 / N)):
    _call(_name, _title, "Reductions", getattr(engine, _name),
          f"{{input}}.{_name}({{dim_args}})", _doc + " Over all, or along dim.", attributes=(DIM, KEEPDIM),
          derivative=Reduce(_local))


def _values_only(function: Callable[..., Any]) -> Callable[..., Any]:
    def reduce(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
        return function(x, keepdim=keepdim) if dim is None else function(x, dim, keepdim).values

    return reduce


_call("max", "Max", "Reductions", _values_only(engine.max), "{input}.max({dim_args}){values}",
      "Largest element (along dim: the values).", attributes=(DIM, KEEPDIM),
      derivative=Reduce(choose(X.equals(OUT), 1 / Var("ties"), 0)))
_call("min", "Min", "Reductions", _values_only(engine.min), "{input}.min({dim_args}){values}",
      "Smallest element (along dim: the values).", attributes=(DIM, KEEPDIM),
      derivative=Reduce(choose(X.equals(OUT), 1 / Var("ties"), 0)))
_call("prod", "Product", "Reductions", engine.prod, "{input}.prod({dim_args})", "Product of elements.",
      attributes=(DIM, KEEPDIM), derivative=Reduce(OUT / X))
_CORRECTION = Var("correction")
for _name, _title, _local in (("var", "Variance", 2 * (X - Var("mean")) / (N - _CORRECTION)),
                              ("std", "Std", (X - Var("mean")) / ((N - _CORRECTION) * OUT))):
    _call(_name, _title, "Reductions", getattr(engine, _name), f"{{input}}.{_name}({{dim_args}})",
          f"{_title} (Bessel-corrected unless correction=0).",
          attributes=(DIM, KEEPDIM, _attr("correction", "int", 1, "degrees of freedom subtracted")),
          derivative=Reduce(_local))

_call("norm", "Norm", "Reductions", engine.norm, "torch.norm({input}, p={p}, dim={dim}, keepdim={keepdim})",
      "The vector p-norm, of all elements or along dim.",
      attributes=(_attr("p", "float", 2.0, "order of the norm (2: Euclidean, 1: sum of magnitudes)"), DIM, KEEPDIM),
      derivative=Reduce(call("sign", X) * (call("abs", X) / OUT) ** (Var("p") - 1)))

# ----- shape --------------------------------------------------------------------------------------------
RESHAPED = Route("the incoming gradient reshaped back to the input's shape")
REORDERED = Route("the incoming gradient with its dimensions put back in the input's order")
COPIED = Route("the incoming gradient summed over the copies")
PICKED = Route("the incoming gradient put back where each element was picked, zero elsewhere")
SLICED = Route("the slice of the incoming gradient this input filled")
SAME = Route("the incoming gradient unchanged")

_call("reshape", "Reshape", "Shape", lambda x, shape: engine.reshape(x, shape), "{input}.reshape({shape})",
      "Same values, new shape.",
      attributes=(_attr("shape", "shape", (-1,), "new shape (-1 infers one dimension)"),), derivative=RESHAPED)
_call("view", "View", "Shape", lambda x, shape: x.view(shape), "{input}.view({shape})",
      "Same memory seen with a new shape.", attributes=(_attr("shape", "shape", (-1,), "new shape"),),
      derivative=RESHAPED)
_call("transpose", "Transpose", "Shape", engine.transpose, "{input}.transpose({dim0}, {dim1})",
      "Swap two dimensions.", attributes=(_attr("dim0", "dim", 0), _attr("dim1", "dim", 1)), derivative=REORDERED)
_call("T", "T", "Shape", lambda x: x.T, "{input}.T", "Matrix transpose (all dimensions reversed).",
      derivative=REORDERED)
_call("permute", "Permute", "Shape", lambda x, dims: engine.permute(x, dims), "{input}.permute({dims})",
      "Reorder dimensions.",
      attributes=(_attr("dims", "dims", (1, 0), "new order of dimensions"),), derivative=REORDERED)
_call("unsqueeze", "Unsqueeze", "Shape", engine.unsqueeze, "{input}.unsqueeze({dim})",
      "Insert a dimension of size one.", attributes=(DIM_REQUIRED,), derivative=RESHAPED)
_call("squeeze", "Squeeze", "Shape", engine.squeeze, "{input}.squeeze({dim_args})",
      "Drop dimensions of size one.", attributes=(_attr("dim", "dim", None, "dimension (empty: all)",
                                                        optional=True),), derivative=RESHAPED)
_call("flatten", "Flatten", "Shape", engine.flatten, "{input}.flatten({start_dim}, {end_dim})",
      "Merge dimensions into one.", attributes=(_attr("start_dim", "dim", 0), _attr("end_dim", "dim", -1)),
      derivative=RESHAPED)
_call("expand", "Expand", "Shape", lambda x, shape: x.expand(*shape), "{input}.expand({shape})",
      "Broadcast to a larger shape without copying.", attributes=(_attr("shape", "shape", (2, -1)),), derivative=COPIED)
COUNT = _attr("count", "int", 2, "number of inputs", minimum=1, maximum=64)
_call("index", "Index", "Shape", lambda x, index: x[_parse_index(index)], "{input}[{index}]",
      "Indexing: ints, slices, None, ... and lists of ints (e.g. 0, 1:3, [0, 2]).",
      attributes=(_attr("index", "index", "0"),), derivative=PICKED)
_call("gather", "Gather", "Shape", lambda x, index, dim: engine.gather(x, dim, index),
      "torch.gather({input}, {dim}, {index})", "Pick elements along dim at the positions an int64 index tensor gives.",
      inputs=("input", "index"), attributes=(_attr("dim", "dim", -1, "dimension to pick along"),), derivative=PICKED)
_register(OpSpec("cat", "Concatenate", "Shape", ("tensor",),
                 lambda i, a: engine.cat([i[f"tensor{k}"] for k in range(a["count"])], dim=a["dim"]),
                 "torch.cat([{tensors}], dim={dim})", "Join tensors along an existing dimension.",
                 (COUNT, DIM_REQUIRED), variadic=True, derivative=SLICED))
_register(OpSpec("stack", "Stack", "Shape", ("tensor",),
                 lambda i, a: engine.stack([i[f"tensor{k}"] for k in range(a["count"])], dim=a["dim"]),
                 "torch.stack([{tensors}], dim={dim})", "Join same-shaped tensors along a new dimension.",
                 (COUNT, DIM_REQUIRED), variadic=True, derivative=SLICED))
_call("clone", "Clone", "Tensors", engine.Tensor.clone, "{input}.clone()", "A copy that keeps the history.",
      derivative=SAME)
_call("detach", "Detach", "Tensors", engine.Tensor.detach, "{input}.detach()", "The values, cut off from the graph.")

# ----- linear algebra and losses ------------------------------------------------------------------------
_call("mm", "MM", "Linear algebra", engine.mm, "torch.mm({a}, {b})", "Product of two matrices.", inputs=("a", "b"),
      derivative=matrix.MATMUL)
_call("linear", "Linear", "Linear algebra",
      lambda x, w, b: engine.nn.functional.linear(x, w, b), "F.linear({input}, {weight}, {bias})",
      "x @ W.T + b.", inputs=("input", "weight", "bias"), broadcasts=("bias",), derivative=matrix.LINEAR)
REDUCTION = _attr("reduction", "choice", "mean", "how to combine the per-element losses",
                  choices=("mean", "sum", "none"))


def _loss(kind: str, title: str, doc: str, local: Any, extra: tuple[AttributeSpec, ...] = (),
          target_local: Any = None) -> None:
    def loss(x: Any, target: Any, reduction: str, **options: Any) -> Any:
        return getattr(engine.nn.functional, kind)(x, target, reduction=reduction, **options)

    arguments = "".join(f", {spec.name}={{{spec.name}}}" for spec in extra)
    derivative = local if target_local is None and local is matrix.CROSS_ENTROPY else Pointwise(
        {"input": local, "target": -local if target_local is None else target_local})
    _call(kind, title, "Losses", loss, f"F.{kind}({{input}}, {{target}}, reduction={{reduction}}{arguments})", doc,
          inputs=("input", "target"), attributes=(REDUCTION, *extra), derivative=derivative)


_DIFF = X - TARGET  # a loss's local derivatives read N: the element count under reduction="mean", else 1
_loss("mse_loss", "MSE loss", "Mean squared error.", 2 * _DIFF / N, target_local=2 * (TARGET - X) / N)
_loss("cross_entropy", "Cross entropy", "Softmax cross-entropy against class indices or probabilities.",
      matrix.CROSS_ENTROPY)
_loss("binary_cross_entropy", "BCE loss", "Binary cross-entropy of probabilities.",
      _DIFF / (X * (1 - X)) / N, target_local=(call("log", 1 - X) - call("log", X)) / N)
_loss("l1_loss", "L1 loss", "Mean absolute error.", call("sign", _DIFF) / N,
      target_local=call("sign", TARGET - X) / N)
_loss("smooth_l1_loss", "Smooth L1 loss", "Quadratic below beta, absolute error above.",
      choose(call("abs", _DIFF) < Var("beta"), _DIFF / Var("beta"), call("sign", _DIFF)) / N,
      (_attr("beta", "float", 1.0, "where the quadratic part ends", minimum=0.0),))
_loss("huber_loss", "Huber loss", "Quadratic below delta, delta times the absolute error above.",
      choose(call("abs", _DIFF) < Var("delta"), _DIFF, Var("delta") * call("sign", _DIFF)) / N,
      (_attr("delta", "float", 1.0, "where the quadratic part ends", minimum=1e-12),))


def _parse_index(text: str) -> tuple:
    from gradstudio.model.attribute_kinds import parse_index

    return parse_index(text)
