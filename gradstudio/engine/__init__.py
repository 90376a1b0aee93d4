"""GradStudio's autograd engine: numpy underneath, PyTorch's semantics on top.

Use it as `import gradstudio.engine as torch`: typical autograd snippets run
unchanged and print what PyTorch prints.
"""

from types import SimpleNamespace as _SimpleNamespace

from gradstudio.engine import (
    _methods,  # noqa: F401 - attaches ops to Tensor
    autograd,
    grad_mode,
    nn,
    optim,
)
from gradstudio.engine._aliases import accepting_aliases as _accepting_aliases
from gradstudio.engine._dtype import Size, device, dtype, float32, float64, int32, int64
from gradstudio.engine._dtype import bool_ as bool  # noqa: A001 - torch.bool
from gradstudio.engine._tensor import Tensor, is_tensor
from gradstudio.engine.autograd import is_anomaly_enabled
from gradstudio.engine.creation import (
    arange,
    as_tensor,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from gradstudio.engine.draws import (
    bernoulli,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
)
from gradstudio.engine.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from gradstudio.engine.nn._activations import erf
from gradstudio.engine.ops import reduction as _reduction
from gradstudio.engine.ops._core import tensor_function as _tensor_function
from gradstudio.engine.ops.integer import (
    all,
    allclose,
    any,
    argmax,
    argmin,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    floor_divide,
    isclose,
    isfinite,
    isinf,
    isnan,
    logical_not,
    remainder,
)
from gradstudio.engine.ops.joining import cat, stack
from gradstudio.engine.ops.linalg import bmm, dot, matmul, mm, mv
from gradstudio.engine.ops.ordering import (
    cumprod,
    cumsum,
    diag,
    flip,
    gather,
    logsumexp,
    masked_fill,
    norm,
    sort,
    topk,
    tril,
    triu,
)
from gradstudio.engine.ops.pointwise import (
    abs,
    add,
    cos,
    div,
    exp,
    log,
    logit,
    mul,
    neg,
    pow,
    reciprocal,
    relu,
    sigmoid,
    sin,
    sqrt,
    sub,
    tanh,
)
from gradstudio.engine.ops.reduction import max, mean, min, prod, sum
from gradstudio.engine.ops.selection import clamp, eq, ge, gt, le, lt, maximum, minimum, ne, where
from gradstudio.engine.ops.shape import (
    flatten,
    narrow,
    permute,
    reshape,
    select,
    squeeze,
    t,
    transpose,
    unsqueeze,
)
from gradstudio.engine.ops.softmax import log_softmax, softmax
from gradstudio.engine.ops.spread import std, var
from gradstudio.engine.ops.tiling import chunk, einsum, outer, split, split_with_sizes, unbind
from gradstudio.engine.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from gradstudio.engine.sampling import multinomial

# The function forms (torch.sin(x)) refuse a non-tensor first argument as PyTorch does; methods need no check.
for _name in ("abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "neg", "reciprocal", "sum", "mean",
              "prod", "var", "std", "softmax", "log_softmax", "reshape", "flatten", "permute", "squeeze", "unsqueeze",
              "transpose", "t", "clamp"):
    globals()[_name] = _tensor_function(globals()[_name])
for _name in ("sum", "mean", "prod", "max", "min", "var", "std", "softmax", "log_softmax", "argmax", "argmin", "any",
              "all", "norm", "logsumexp", "cumsum", "cumprod"):
    globals()[_name] = _accepting_aliases(globals()[_name])
for _name in ("add", "sub", "mul", "div", "maximum", "minimum", "matmul", "eq", "ne", "lt", "le", "gt", "ge",
              "floor_divide", "remainder"):
    globals()[_name] = _accepting_aliases(globals()[_name], second="other")

return_types = _SimpleNamespace(max=_reduction.MAX_RESULT, min=_reduction.MIN_RESULT)  # torch.return_types
float = float32  # noqa: A001 - torch.float
double = float64
long = int64
clip = clamp
absolute = abs
concat = cat
__version__ = "2.13.0+gradstudio"

__all__ = [name for name in dir() if not name.startswith("_")]
