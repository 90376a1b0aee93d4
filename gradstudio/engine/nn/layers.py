"""The layers tutorials build with: `Linear`, `Sequential`, the activations and the losses."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

from gradstudio.engine import _dtype
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.nn import functional as F  # noqa: N812 - PyTorch's alias
from gradstudio.engine.nn import init
from gradstudio.engine.nn.module import Module
from gradstudio.engine.nn.parameter import Parameter
from gradstudio.engine.ops import shape


class Linear(Module):
    """y = x W^T + b, initialised as PyTorch initialises it (same numbers under the same seed)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        """Weight (out_features x in_features) and bias drawn by `reset_parameters`."""
        super().__init__()
        numpy_dtype = dtype.numpy_dtype if dtype is not None else _dtype.DEFAULT_FLOAT
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(Tensor._make(np.empty((out_features, in_features), numpy_dtype)))
        if bias:
            self.bias = Parameter(Tensor._make(np.empty(out_features, numpy_dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight from kaiming_uniform_(a=sqrt(5)), bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """F.linear(input, weight, bias)."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        """in_features, out_features and whether there is a bias."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Sequential(Module):
    """Modules applied one after another."""

    def __init__(self, *modules: Any) -> None:
        """From modules in order, or from one OrderedDict of named modules."""
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, input: Any) -> Any:  # noqa: A002
        """Each module's output feeds the next."""
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        if not -len(items) <= index < len(items):
            raise IndexError(f"index {index} is out of range")
        return items[index][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a module at the end."""
        self.add_module(str(len(self)), module)
        return self


class Identity(Module):
    """Returns its input."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Any arguments are ignored."""
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """The input itself."""
        return input


class Flatten(Module):
    """Flattens dimensions start_dim..end_dim."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        """Which dimensions to merge."""
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """input.flatten(start_dim, end_dim)."""
        return shape.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        """start_dim and end_dim."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace: bool = False) -> None:
        """inplace writes into the input."""
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """F.relu."""
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        """inplace=True when set."""
        return "inplace=True" if self.inplace else ""


class Dropout(Module):
    """Zeroes elements with probability p while training (F.dropout, PyTorch's mask for the same seed)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        """p: the probability of zeroing an element; inplace writes into the input."""
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """F.dropout, active only in training mode."""
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        """p and inplace, as PyTorch prints them."""
        return f"p={self.p}, inplace={self.inplace}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """torch.sigmoid."""
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """torch.tanh."""
        return F.tanh(input)


class Softmax(Module):
    """softmax along `dim`."""

    def __init__(self, dim: int | None = None) -> None:
        """The dimension that sums to one."""
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """F.softmax(input, dim)."""
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        """dim=..."""
        return f"dim={self.dim}"


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        """The slope for negative inputs."""
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """F.leaky_relu."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        """negative_slope (and inplace when set)."""
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x * Phi(x) (or its tanh approximation)."""

    def __init__(self, approximate: str = "none") -> None:
        """'none' or 'tanh'."""
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """F.gelu."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        """approximate=..."""
        return f"approximate={self.approximate!r}"


class _Loss(Module):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
                 ) -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            from gradstudio.engine.nn._reduction import reduction_name

            reduction = reduction_name(reduction, size_average, reduce)
        self.reduction = reduction


class MSELoss(_Loss):
    """Mean squared error."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """F.mse_loss."""
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """F.l1_loss."""
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross entropy of probabilities."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        """An optional per-element weight."""
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """F.binary_cross_entropy."""
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits (sigmoid built in, stably)."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        """Optional weight and positive-class weight."""
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """F.binary_cross_entropy_with_logits."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Cross entropy of logits against class indices or probabilities."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        """Class weights, an ignored class index and label smoothing, as F.cross_entropy takes them."""
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        """F.cross_entropy."""
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)
