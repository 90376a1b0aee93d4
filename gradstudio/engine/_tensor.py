"""`Tensor`: a numpy array plus the autograd bookkeeping PyTorch keeps beside it.

Math methods and operators are attached in `_methods.py` from the op modules,
so this file holds only state, autograd entry points and conversions.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from gradstudio.engine import _dtype, grad_mode
from gradstudio.engine._conversions import TensorConversions
from gradstudio.engine._graph import AccumulateGrad, Node, gradient_edge, output_nr
from gradstudio.engine._node_hooks import RemovableHandle
from gradstudio.engine._versions import (  # the counters' home; importable from here as before
    INFERENCE_IN_PLACE_MESSAGE,
    INFERENCE_SAVED_MESSAGE,
    InferenceVersionCounter,
    VersionCounter,
    is_inference_counter,
    new_counter,
)

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information. "
    "(Triggered internally at /__w/pytorch/pytorch/build/aten/src/ATen/core/TensorBody.h:493.)"
)


_STATE = grad_mode.STATE
_INFERENCE_THREADS = grad_mode.INFERENCE_THREADS
_new = object.__new__
_NDARRAY = np.ndarray  # one global read instead of np's attribute, in the constructor every op calls
_ONES_0D = {np.dtype(dtype): np.ones((), dtype) for dtype in (np.float32, np.float64)}  # backward's usual seeds


def check_can_require_grad(numpy_dtype: np.dtype) -> None:
    """Only floating tensors can require gradients (PyTorch's message)."""
    if numpy_dtype.kind != "f":
        raise RuntimeError("only Tensors of floating point dtype can require gradients")


class Tensor(TensorConversions):
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = (
        "_data", "_requires_grad", "_grad", "grad_fn", "_counter",
        "_accumulator", "_retains_grad", "_view", "__weakref__",
    )  # `_view` is set on views only (see _views.py); `_counter` is None until `_version_counter` is first read
    __array_priority__ = 1000
    _accumulates = True  # whether a leaf that requires grad gets an AccumulateGrad (not views made under no_grad)

    def __init__(self, data: Any = (), *, requires_grad: bool = False) -> None:
        array = np.asarray(data)
        if array.dtype.kind in "fiu":
            array = array.astype(np.float32)
        self._init(array, requires_grad)

    def _init(self, array: np.ndarray, requires_grad: bool = False) -> None:
        self._data = array
        self._requires_grad = requires_grad
        self._grad = None
        self.grad_fn = None
        self._counter = new_counter()
        self._accumulator = None
        self._retains_grad = False

    @classmethod
    def _make(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an ndarray without copying (the fast path every op uses; `_init` inlined, as it runs for every
        tensor every op makes)."""
        tensor = _new(cls)
        tensor._data = array if type(array) is _NDARRAY else np.asarray(array)
        tensor._requires_grad = requires_grad
        tensor._grad = None
        tensor.grad_fn = None
        # most tensors (gradients, intermediates no node saves) never have their version read: their counter
        # is made on first read, except an inference tensor's, which must be one from the start
        tensor._counter = InferenceVersionCounter() if _INFERENCE_THREADS[0] and _STATE.inference else None
        tensor._accumulator = None
        tensor._retains_grad = False
        return tensor

    @classmethod
    def _from_node(cls, array: np.ndarray, node: Node, counter: VersionCounter) -> Tensor:
        """Rebuild a node's saved output: same data, same version counter, that node as grad_fn."""
        tensor = cls._make(array, True)
        tensor.grad_fn = node
        tensor._counter = counter
        return tensor

    def _own_copy(self) -> Tensor:
        """This tensor with data no one else holds (so later in-place adds touch nothing else)."""
        return Tensor._make(self._data.copy())

    # ----- autograd state -------------------------------------------------------------------------------

    @property
    def _version_counter(self) -> VersionCounter:
        """The counter of in-place changes this tensor shares with its views, made on first read."""
        counter = self._counter
        if counter is None:
            counter = self._counter = VersionCounter()
        return counter

    @_version_counter.setter
    def _version_counter(self, counter: VersionCounter) -> None:
        self._counter = counter

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            message = "you can only change requires_grad flags of leaf variables."
            if not value:
                message += (" If you want to use a computed variable in a subgraph that doesn't require "
                            "differentiation use var_no_grad = var.detach().")
            raise RuntimeError(message)
        if value and self._data.dtype.kind != "f":  # the setter's wording differs from requires_grad_()'s
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if value and self.is_inference() and not grad_mode.STATE.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set `requires_grad` in place and return self."""
        if requires_grad:
            check_can_require_grad(self._data.dtype)
            if self.grad_fn is not None:  # unlike the setter, PyTorch lets a non-leaf be asked for what it does
                return self
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        """Accumulated gradient of a leaf (None for non-leaves unless `retain_grad()`)."""
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None and not isinstance(value, Tensor):
            raise TypeError("assigned grad expected to be a Tensor or None but got grad of type "
                            f"{type(value).__name__}")
        if value is not None and value._data.shape != self._data.shape:
            raise RuntimeError(f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor of "
                               f"size '{list(self._data.shape)}'. Please ensure that the gradient and the tensor are "
                               "the same size")
        if value is not None:
            _dtype.check_assigned_grad_dtype(self._data.dtype, value._data.dtype)
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        """True if `retain_grad()` was called on this non-leaf."""
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor during backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self.grad_fn.retain_output(self)
        self._retains_grad = True

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        edge = gradient_edge(self)
        if edge is None:  # a view made under no_grad: no gradient ever reaches it, so the hook never runs
            return RemovableHandle([hook], hook)
        return edge.register_tensor_hook(hook, output_nr(self))

    @property
    def output_nr(self) -> int:
        """Which output of its grad_fn this tensor is (0 but for the pieces of split, chunk and unbind)."""
        return output_nr(self)

    @property
    def _version(self) -> int:
        if is_inference_counter(self._counter):
            raise RuntimeError("Inference tensors do not track version counter.")
        counter = self._counter
        return 0 if counter is None else counter.value

    def is_inference(self) -> bool:
        """True for tensors created in `inference_mode` (and their views)."""
        return is_inference_counter(self._counter)

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`."""
        node, data = self.grad_fn, self._data
        if (gradient is None and node is not None and self._requires_grad and not create_graph and inputs is None
                and (not (ndim := data.ndim) or data.size == 1)
                and node._output_numbers is None):  # (a piece of a split: execute fills its slot)
            # the common call, `loss.backward()`: autograd.backward's checks all pass, so its seed, ones_like(self),
            # goes straight to the engine's one-root path (as a bare array: see run_from)
            one = _ONES_0D.get(data.dtype) if not ndim else None  # a copy of a 0-d one: cheaper than np.array
            seed = one.copy() if one is not None else np.ones(data.shape, data.dtype)  # np.ones: ~1 us
            (_RUN_FROM or _load_run_from())(node, seed, retain_graph)  # (None, as False: run_from reads it with `not`)
            return
        _autograd_backward()(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this data (and version counter) but outside the graph."""
        tensor = Tensor._make(self._data)
        tensor._version_counter = self._version_counter
        return tensor

    def detach_(self) -> Tensor:
        """Make this tensor a leaf that does not require grad."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        """The values without history: shares memory but not the version counter, as in PyTorch."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    # ----- shape and type -------------------------------------------------------------------------------

    @property
    def shape(self) -> _dtype.Size:
        """The tensor's shape as `torch.Size`."""
        return _dtype.Size._of(self._data.shape)

    def size(self, dim: int | None = None) -> _dtype.Size | int:
        """The shape, or the extent of one dimension."""
        if dim is None:
            return self.shape
        if not self._data.ndim:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        from gradstudio.engine.ops._core import normalize_dim

        return self._data.shape[normalize_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    def nelement(self) -> int:
        """Number of elements."""
        return self._data.size

    @property
    def dtype(self) -> _dtype.dtype:
        """Element type (`torch.float32` by default)."""
        return _dtype.from_numpy_dtype(self._data.dtype)

    def is_floating_point(self) -> bool:
        """True for float32 and float64 tensors."""
        return self._data.dtype.kind == "f"

    @property
    def device(self) -> _dtype.device:
        """Always the CPU."""
        return _dtype.CPU

    def __hash__(self) -> int:
        return id(self)

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild, (self._data, self._requires_grad))

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                               "be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        copy = Tensor._make(self._data.copy(), self._requires_grad)
        if self._grad is not None:
            copy._grad = Tensor._make(self._grad._data.copy())
        memo[id(self)] = copy
        return copy


@functools.cache
def _autograd_backward() -> Callable[..., None]:
    """`autograd.backward`, imported once on first use (autograd imports this module)."""
    from gradstudio.engine.autograd import backward

    return backward


_RUN_FROM: Callable[..., None] | None = None  # `_one_root.run_from`, set on first use (it imports this module)


def _load_run_from() -> Callable[..., None]:
    """Import `_one_root.run_from` once: a module global read after that, no cached call per backward."""
    global _RUN_FROM
    from gradstudio.engine._one_root import run_from

    _RUN_FROM = run_from
    return run_from


def _rebuild(data: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor._make(data, requires_grad)


def is_tensor(value: Any) -> bool:
    """True for engine tensors."""
    return isinstance(value, Tensor)


def tracking(*tensors: Tensor) -> bool:
    """Whether an op on these tensors must be recorded right now."""
    if grad_mode.GRAD_OFF and not _STATE.enabled:
        return False
    for tensor in tensors:  # a loop, not any(generator): this runs for every op
        if tensor._requires_grad:
            return True
    return False


__all__ = ["Tensor", "AccumulateGrad", "is_tensor", "tracking", "check_can_require_grad", "VersionCounter",
           "InferenceVersionCounter", "is_inference_counter", "INFERENCE_IN_PLACE_MESSAGE", "INFERENCE_SAVED_MESSAGE"]
