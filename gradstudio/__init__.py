"""GradStudio: build autograd graphs by hand and watch gradients flow.

`gradstudio.from_torch(tensor)` and `gradstudio.show(tensor)` open a live PyTorch computation; they are
loaded on first use, so `import gradstudio` imports neither torch nor Qt.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "from_torch", "show"]


def __getattr__(name: str) -> Any:
    """Load `from_torch` and `show` lazily."""
    if name == "from_torch":
        from gradstudio.model.from_torch import from_torch

        return from_torch
    if name == "show":
        from gradstudio.ui.show_tensor import show

        return show
    raise AttributeError(f"module 'gradstudio' has no attribute {name!r}")
