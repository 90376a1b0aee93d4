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
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from gradstudio.engine.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from gradstudio.engine.ops import reduction as _reduction
from gradstudio.engine.ops._core import tensor_function as _tensor_function
from gradstudio.engine.ops.linalg import bmm, dot, matmul, mm, mv
from gradstudio.engine.ops.pointwise import (
    abs,
    add,
    cos,
    div,
    exp,
    log,
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
from gradstudio.engine.ops.reduction import log_softmax, max, mean, min, prod, softmax, std, sum, var
from gradstudio.engine.ops.selection import clamp, eq, ge, gt, le, lt, maximum, minimum, ne, where
from gradstudio.engine.ops.shape import (
    cat,
    flatten,
    narrow,
    permute,
    reshape,
    select,
    squeeze,
    stack,
    t,
    transpose,
    unsqueeze,
)

# The function forms (torch.sin(x)) refuse a non-tensor first argument as PyTorch does; methods need no check.
for _name in ("abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "neg", "reciprocal", "sum", "mean",
              "prod", "var", "std", "softmax", "log_softmax", "reshape", "flatten", "permute", "squeeze", "unsqueeze",
              "transpose", "t", "clamp"):
    globals()[_name] = _tensor_function(globals()[_name])

return_types = _SimpleNamespace(max=_reduction.MAX_RESULT, min=_reduction.MIN_RESULT)  # torch.return_types
float = float32  # noqa: A001 - torch.float
double = float64
long = int64
clip = clamp
concat = cat
__version__ = "2.13.0+gradstudio"

__all__ = [name for name in dir() if not name.startswith("_")]
