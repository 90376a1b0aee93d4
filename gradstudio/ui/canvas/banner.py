"""The banner across the top of the canvas while the graph runs under `torch.no_grad()`."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QGraphicsView, QLabel

NO_GRAD_TEXT = "torch.no_grad(): nothing is tracked, Backward is unavailable"
MARGIN = 10


class NoGradBanner(QLabel):
    """A label floating at the top centre of the canvas, shown only in no-grad mode."""

    def __init__(self, canvas: QGraphicsView) -> None:
        super().__init__(NO_GRAD_TEXT, canvas)
        self.canvas = canvas
        self.setObjectName("noGradBanner")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("QLabel { background: #fff0c2; color: #5c4400; border: 1px solid #d9a400;"
                           " border-radius: 6px; padding: 6px 14px; font-weight: bold; }")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        canvas.installEventFilter(self)
        self.hide()

    def set_active(self, active: bool) -> None:
        """Show the banner (no-grad mode) or hide it."""
        self.setVisible(active)
        if active:
            self.place()
            self.raise_()

    def place(self) -> None:
        """Centre at the top of the canvas."""
        self.adjustSize()
        self.move(max(MARGIN, (self.canvas.width() - self.width()) // 2), MARGIN)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize and self.isVisible():
            self.place()
        return False
