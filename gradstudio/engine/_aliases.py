"""The keyword spellings PyTorch accepts besides its own: `axis=`, `keepdims=`, `input=`, `other=`, and
`dtype=` on reductions that cast before reducing."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_RENAMED = {"axis": "dim", "keepdims": "keepdim"}


def accepting_aliases(function: Callable[..., Any], *, second: str | None = None, casts: bool = False
                      ) -> Callable[..., Any]:
    """`function` also called with NumPy's names, `input=` (and `second=` such as `other=`) as keywords;
    with `casts`, `dtype=` converts the input first (as `mean(dtype=...)` and `prod(dtype=...)` do)."""

    @functools.wraps(function)
    def aliased(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for numpy_name, torch_name in _RENAMED.items():
                if numpy_name in kwargs:
                    kwargs[torch_name] = kwargs.pop(numpy_name)
            if "input" in kwargs:
                args = (kwargs.pop("input"), *args)
            if second is not None and second in kwargs and len(args) == 1:
                args = (*args, kwargs.pop(second))
            if casts:
                dtype = kwargs.pop("dtype", None)
                if dtype is not None:
                    from gradstudio.engine.ops.shape import to_dtype

                    args = (to_dtype(args[0], dtype.numpy_dtype), *args[1:])
        return function(*args, **kwargs)

    return aliased
