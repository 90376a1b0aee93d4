"""Views: tensors that share their base's memory, and how their history follows in-place changes.

A view op (`view`, `reshape`, `t`, `permute`, `unsqueeze`, `x[0]`, ...) turns its result
into a `ViewTensor` that remembers its root base (views of views share the root), the grad
mode it was created in, and the base's version when its `grad_fn` was last set. As in
PyTorch:

- an in-place op through a view rewrites the root base's history (`CopySlices`, see
  `ops/inplace.py`), so the base and every other view see the change;
- a view whose base changed in place since its `grad_fn` was set regenerates it on first
  use as `AsStridedBackward0` reading the view's region out of the base's current history;
- a view created under `no_grad` or `inference_mode` may not be modified in place (nor
  regenerated) with grad mode on: PyTorch forbids it as ambiguous, with its message.

A view's region is found from memory, not from a replay of its view ops: every engine view
is a numpy view of its root's array, so its strides and offset say which elements of the
root it holds (`view_positions`), whatever chain of view ops produced it.
"""

from __future__ import annotations

import weakref

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._formatting import format_tensor
from gradstudio.engine._graph import Node, gradient_edge
from gradstudio.engine._tensor import InferenceVersionCounter, Tensor

# How a view was created (PyTorch's CreationMeta): in-place changes are forbidden unless DEFAULT.
# MULTI_OUTPUT_NODE: one of several views sharing one grad_fn (split, chunk, unbind).
DEFAULT, NO_GRAD_MODE, INFERENCE_MODE, MULTI_OUTPUT_NODE = 0, 1, 2, 3

DETACH_VIEW_MESSAGE = (
    "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for training, "
    "and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence detach_() cannot be "
    "called on these gradients. To fix this error, please refer to the Optimizer.zero_grad() function in "
    "torch/optim/optimizer.py as the solution."
)

_GRAD_FN = Tensor.__dict__["grad_fn"]
_REQUIRES_GRAD = Tensor.__dict__["_requires_grad"]


def _view_grad_fn(view: ViewTensor) -> Node | None:
    """`view.grad_fn`, regenerated first if the root changed in place since it was set."""
    if view._view[2] != view._version_counter.value:
        refresh(view)
    return _GRAD_FN.__get__(view, Tensor)


def _set_view_grad_fn(view: ViewTensor, node: Node | None) -> None:
    """Store `view.grad_fn` in the tensor's own slot."""
    _GRAD_FN.__set__(view, node)


def _view_requires_grad(view: ViewTensor) -> bool:
    """Whether ops on the view record: true once its root requires grad (after a regeneration)."""
    info = view._view
    if info[2] != view._version_counter.value and info[1] == DEFAULT:
        refresh(view)
    return _REQUIRES_GRAD.__get__(view, Tensor)


def _set_view_requires_grad(view: ViewTensor, value: bool) -> None:
    """Store the view's own requires-grad flag."""
    _REQUIRES_GRAD.__set__(view, value)


class ViewTensor(Tensor):
    """A tensor sharing a root tensor's memory (`_view` is `(root, creation meta, version seen)`).

    Reading `grad_fn` or `_requires_grad` first brings the history up to date when the root
    changed in place since it was set; everything else is an ordinary tensor.
    """

    __slots__ = ()

    grad_fn = property(_view_grad_fn, _set_view_grad_fn, doc="The node that produced this view (regenerated "
                                                              "as AsStridedBackward0 after an in-place change).")
    _requires_grad = property(_view_requires_grad, _set_view_requires_grad)

    @property
    def _accumulates(self) -> bool:
        """A view made without recording has no AccumulateGrad: PyTorch drops the gradients sent to it."""
        return self._view[1] == DEFAULT

    @property
    def _base(self) -> Tensor:
        """The tensor this is a view of (the root, for views of views)."""
        return self._view[0]

    def _is_view(self) -> bool:
        return True

    def detach_(self) -> Tensor:
        """Refused, as in PyTorch: a view cannot leave its base's history in place."""
        raise RuntimeError(DETACH_VIEW_MESSAGE)

    def __repr__(self) -> str:
        try:
            self.grad_fn  # noqa: B018 - reading it is the check
        except RuntimeError:  # PyTorch prints a view whose history cannot be regenerated this way
            return format_tensor(self._data, grad_fn_name="Invalid")
        return Tensor.__repr__(self)


def mark_view(base: Tensor, out: Tensor) -> None:
    """Make `out` (a fresh op result sharing `base`'s memory) a view of `base`'s root.

    Only floating tensors become views that track history, as PyTorch's differentiable views.
    """
    if out._data.dtype.kind != "f" or out._version_counter.__class__ is InferenceVersionCounter:
        return  # views of inference tensors never record, so they need no history of their own
    state = grad_mode.STATE
    meta = INFERENCE_MODE if state.inference else DEFAULT if state.enabled else NO_GRAD_MODE
    if base.__class__ is ViewTensor:
        root, inherited, _ = base._view
        if meta == DEFAULT or inherited == INFERENCE_MODE:
            meta = inherited
    else:
        root = base
    if meta != DEFAULT and base._requires_grad:
        out._requires_grad = True  # as PyTorch: a view made without recording still requires grad, as a leaf
    out.__class__ = ViewTensor
    out._view = (root, meta, out._version_counter.value)


def refresh(view: ViewTensor) -> None:
    """After an in-place change of the root (through any view, or directly), re-derive the view's history."""
    root, meta, version = view._view
    current = view._version_counter.value
    if version == current or _GRAD_FN.__get__(view, Tensor) is None and not root._requires_grad:
        return
    if meta != DEFAULT:
        raise RuntimeError(creation_meta_message(view, indirect=True))
    region = Region.of(root, view)
    if region is None:  # the root's data was replaced: this tensor no longer shares its memory
        return
    from gradstudio.engine.ops.inplace import AsStridedBackward0

    node = AsStridedBackward0()
    node.next_functions = ((gradient_edge(root), 0),)
    node.region = region
    old = _GRAD_FN.__get__(view, Tensor)
    _GRAD_FN.__set__(view, node)
    _REQUIRES_GRAD.__set__(view, True)
    view._view = (root, meta, current)
    move_retained(view, old, node)


def mark_multi_output_view(view: Tensor) -> None:
    """Forbid in-place changes of `view`, one of several recorded views sharing one grad_fn (as PyTorch)."""
    if view.__class__ is ViewTensor and view._view[1] == DEFAULT:
        root, _, version = view._view
        view._view = (root, MULTI_OUTPUT_NODE, version)


def creation_meta_message(view: ViewTensor, *, indirect: bool) -> str:
    """PyTorch's refusal of an in-place change of a view created under no_grad or inference_mode, or of one
    of several views sharing one grad_fn."""
    meta = view._view[1]
    node = _GRAD_FN.__get__(view, Tensor)
    modified = "its base or another view of its base has been" if indirect else "is being"
    if meta == MULTI_OUTPUT_NODE:
        number = (node._output_numbers or {}).get(id(view), 0)  # not output_nr(view): it would refresh the view
        return (f"Output {number} of {node.name().split('Backward')[0]} is a view and {modified} modified "
                "inplace. This view is the output of a function that returns multiple views. Such functions do not "
                "allow the output views to be modified inplace. You should replace the inplace operation by an "
                "out-of-place one.")
    if node is not None:
        prefix = f"Output 0 of {node.name().split('Backward')[0]} is a view of a view which was created in"
    else:
        prefix = "A view was created in"
    if meta == INFERENCE_MODE:
        message, block = f"{prefix} inference mode and {modified} modified inplace in normal mode.", "inference_mode"
    else:
        message, block = f"{prefix} no_grad mode and {modified} modified inplace with grad mode enabled.", "no_grad"
    return (f"{message} Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
            f"your code by moving both the view and the inplace either both inside the {block} block (if you don't "
            "want the inplace to be tracked) or both outside (if you want the inplace to be tracked).")


def move_retained(tensor: Tensor, old: Node | None, new: Node) -> None:
    """`retain_grad()` follows a tensor to its new grad_fn when an in-place op replaces it, as in PyTorch."""
    if not tensor._retains_grad or old is None or not old._retained:
        return
    for ref in old._retained:
        if ref() is tensor:
            old._retained.remove(ref)
            if new._retained is None:
                new._retained = []
            new._retained.append(weakref.ref(tensor))
            return


class Region:
    """Which elements of a base a view holds: their C-order positions in the base, shaped as the view."""

    __slots__ = ("positions", "base_shape", "overlapping")

    def __init__(self, positions: np.ndarray, base_shape: tuple[int, ...], overlapping: bool) -> None:
        self.positions = positions
        self.base_shape = base_shape
        self.overlapping = overlapping  # some base element appears more than once (an expanded view)

    @classmethod
    def of(cls, root: Tensor, view: Tensor) -> Region | None:
        """The region of `root` that `view` shares memory with (None when it shares none of it)."""
        positions = view_positions(root._data, view._data)
        if positions is None:
            return None
        return cls(positions, root._data.shape, has_internal_overlap(view._data))

    def kept(self, numpy_dtype: np.dtype) -> np.ndarray:
        """Ones of the base's shape with zeros over the region (what the base's old values still reach)."""
        mask = np.ones(int(np.prod(self.base_shape)), dtype=numpy_dtype)
        mask[self.positions.reshape(-1)] = 0
        return mask.reshape(self.base_shape)


def _memory_span(array: np.ndarray) -> tuple[int, int]:
    """First byte and one past the last byte of memory the array's elements occupy."""
    low = high = array.ctypes.data
    if array.size == 0:
        return low, low
    for extent, stride in zip(array.shape, array.strides):
        if stride < 0:
            low += stride * (extent - 1)
        else:
            high += stride * (extent - 1)
    return low, high + array.itemsize


def view_positions(root: np.ndarray, view: np.ndarray) -> np.ndarray | None:
    """For every element of `view`, the C-order index of the element of `root` at the same address.

    None when `view` is not laid out on `root`'s elements (not a view of it, or of another dtype).
    """
    itemsize = root.itemsize
    if view.itemsize != itemsize:
        return None
    low, high = _memory_span(root)
    view_low, view_high = _memory_span(view)
    if view.size == 0:
        return np.zeros(view.shape, dtype=np.intp)
    if view_low < low or view_high > high or (view_low - low) % itemsize:
        return None
    if any(stride % itemsize for stride in (*root.strides, *view.strides)):
        return None
    index = np.full((high - low) // itemsize, -1, dtype=np.intp)

    def laid_out(array: np.ndarray) -> np.ndarray:
        start = (array.ctypes.data - low) // itemsize
        strides = tuple(stride // itemsize * index.itemsize for stride in array.strides)
        return np.lib.stride_tricks.as_strided(index[start:], array.shape, strides)

    laid_out(root)[...] = np.arange(root.size, dtype=np.intp).reshape(root.shape)
    positions = laid_out(view).copy()
    if (positions < 0).any():
        return None
    return positions


def has_internal_overlap(array: np.ndarray) -> bool:
    """Whether two elements share one address (a stride of zero over an extent above one), as after expand."""
    return any(stride == 0 and extent > 1 for extent, stride in zip(array.shape, array.strides))
