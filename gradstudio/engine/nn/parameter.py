"""`nn.Parameter`: a tensor that a Module registers as one of its parameters."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine._tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and prints as `Parameter containing:`."""

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        """Share `data`'s memory (an empty float32 tensor if None)."""
        array = data._data if data is not None else np.empty(0, np.float32)
        parameter = cls._make(array, False)
        if requires_grad:
            parameter.requires_grad_(True)
        return parameter

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        """Everything is set up by `__new__`."""

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return Parameter, (Tensor._make(self._data), self._requires_grad)
