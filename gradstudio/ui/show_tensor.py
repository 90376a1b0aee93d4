"""`gradstudio.show(tensor)`: open a live PyTorch tensor's autograd graph in the app, named after your variables."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping
from typing import Any


def caller_names(depth: int = 2) -> dict[str, Any]:
    """The locals, then the globals not shadowed, of the frame `depth` calls up (the caller of `show`)."""
    frame = inspect.currentframe()
    try:
        for _ in range(depth):
            frame = frame.f_back if frame is not None else None
        if frame is None:
            return {}
        return {**frame.f_globals, **frame.f_locals}
    finally:
        del frame


def show(tensor: Any, *, names: Mapping[str, Any] | None = None, block: bool = True) -> Any:
    """Open `tensor`'s graph in a GradStudio window (making a QApplication if none); the window.

    Variable names come from `names`, else from the caller's variables. With `block` (the default, when
    this call made the QApplication) the event loop runs until the window closes.
    """
    from gradstudio.model.from_torch import backward_ran, from_torch

    document = from_torch(tensor, names=names if names is not None else caller_names())
    from PySide6.QtWidgets import QApplication

    from gradstudio.ui.app import DESKTOP_ID, app_icon
    from gradstudio.ui.main_window import MainWindow

    existing = QApplication.instance()
    app = existing or QApplication(sys.argv[:1] or ["gradstudio"])
    if existing is None:
        app.setApplicationName("GradStudio")
        app.setDesktopFileName(DESKTOP_ID)
        app.setWindowIcon(app_icon())
    window = MainWindow()
    window.set_document(document, None, f"{_title(document)} (from PyTorch)")
    window.show()
    if document.settings.backward_target is not None and backward_ran(tensor):
        window.actions.actionBackward.trigger()  # show the gradients the script's backward() computed
    if block and existing is None:
        app.exec()
    return window


def _title(document: Any) -> str:
    target = document.settings.backward_target
    return document.nodes[target].name if target is not None else "graph"
