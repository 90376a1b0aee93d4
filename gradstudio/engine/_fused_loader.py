"""Whether a parameter's optimiser step may take a compiled loop of `_fused.py`, and the loading of it.

Adam's and SGD's updates both ask here. This module imports nothing of numba: `_fused` (and so numba, a few
tenths of a second) is imported by `fused_loops` on the first step of a parameter `fusable` accepts, never at
`import gradstudio.engine` nor for a parameter of SMALL elements or fewer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SMALL = 16384  # parameters up to this size stay on numpy (Adam's share one flat update); larger ones take the loop
FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_UNLOADED: Any = object()
_loops: Any = _UNLOADED  # the `_fused` module once loaded, None without numba


def fused_loops() -> Any:
    """The `_fused` module (numba's compiled Adam and SGD loops), or None when numba cannot be imported.
    Imported on the first step of a large parameter, never at `import gradstudio.engine` (numba takes a few
    tenths of a second)."""
    global _loops
    if _loops is _UNLOADED:
        try:
            from gradstudio.engine import _fused
        except ImportError:  # not installed (the PyInstaller bundle leaves numba out): the numpy passes serve
            _fused = None
        _loops = _fused
    return _loops


def fusable(param: np.ndarray, grad: np.ndarray, state: list[np.ndarray]) -> bool:
    """Whether a compiled loop may update `param`: large (below SMALL a loop saves a few microseconds, never
    worth loading numba for), float32 or float64, its gradient of that dtype, `param` and its state arrays
    C-contiguous in it (the loops take them flat). Whether numba loads is `fused_loops`'s answer."""
    dtype = param.dtype
    if param.size <= SMALL or dtype not in FUSED_DTYPES or grad.dtype != dtype:
        return False
    return param.flags.c_contiguous and all(array.flags.c_contiguous and array.dtype == dtype for array in state)
