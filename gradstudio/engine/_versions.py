"""Version counters: how many in-place changes a tensor (and every view sharing its counter) has seen, which
autograd checks saved tensors against; and the counter an inference tensor holds instead."""

from __future__ import annotations

from gradstudio.engine import grad_mode

_STATE = grad_mode.STATE
_INFERENCE_THREADS = grad_mode.INFERENCE_THREADS

INFERENCE_SAVED_MESSAGE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode in "
    "computation tracked by autograd. To work around this, you can make a clone to get a normal tensor and use it "
    "in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`."
)
INFERENCE_IN_PLACE_MESSAGE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a normal "
    "tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details."
)


class VersionCounter:
    """Counts in-place changes; shared by a tensor and its views."""

    value = 0  # a class default and no __init__: `VersionCounter()` costs only the allocation


class InferenceVersionCounter(VersionCounter):
    """What a tensor created in inference mode (an inference tensor) holds instead of a version counter.

    PyTorch tracks no version for inference tensors, so autograd may not save one for backward: saving
    reads the version (`SavedTensor`), and reading it outside inference mode raises PyTorch's error. This
    costs ordinary tensors nothing. Views and `detach()` share the counter, so they are inference tensors too.
    """

    __slots__ = ("_count",)

    def __init__(self) -> None:
        self._count = 0

    @property
    def value(self) -> int:  # type: ignore[override]
        """The in-place count, readable only inside inference mode."""
        if not grad_mode.STATE.inference:
            raise RuntimeError(INFERENCE_SAVED_MESSAGE)
        return self._count

    @value.setter
    def value(self, count: int) -> None:
        self._count = count


def new_counter() -> VersionCounter | None:
    """A fresh tensor's counter slot: an inference tensor's counter when made in inference mode, else None (an
    ordinary counter is made on first read, see `Tensor._version_counter`)."""
    return InferenceVersionCounter() if _INFERENCE_THREADS[0] and _STATE.inference else None


def is_inference_counter(counter: VersionCounter | None) -> bool:
    """Whether a tensor holding `counter` is an inference tensor."""
    return counter.__class__ is InferenceVersionCounter
