"""The keyword spellings PyTorch accepts besides its own: `axis=`, `keepdims=`, `input=`, `other=`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_RENAMED = {"axis": "dim", "keepdims": "keepdim"}
MISSING = object()  # no first positional argument (`torch.mean(input=x)`)


def accepting_aliases(function: Callable[..., Any], *, second: str | None = None) -> Callable[..., Any]:
    """`function` also called with NumPy's names, `input=` (and `second=` such as `other=`) as keywords; a function
    marked `accepts_aliases` (one that takes them itself, as `reduction.mean`) as it is."""
    if getattr(function, "accepts_aliases", False):
        return function

    @functools.wraps(function)
    def aliased(first: Any = MISSING, /, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and first is not MISSING:  # the common `x.mean()`: a plain call
            return function(first)
        if first is not MISSING:
            args = (first, *args)
        if kwargs:
            for numpy_name, torch_name in _RENAMED.items():
                if numpy_name in kwargs:
                    kwargs[torch_name] = kwargs.pop(numpy_name)
            if "input" in kwargs:
                args = (kwargs.pop("input"), *args)
            if second is not None and second in kwargs and len(args) == 1:
                args = (*args, kwargs.pop(second))
        return function(*args, **kwargs)

    return aliased
