"""The canvas's fonts: `canvas_font` makes each one, and the three every node face, badge, pin and sparkline share.

Node faces size their text in scene pixels (not points: the same on every screen), so a graph opened at 70 % zoom
shows names and values at least 9 px tall; notes and wire labels keep point sizes. Fonts are made at import, which
the window's modules get after the QApplication exists, so they resolve against the app's default font.
"""

from __future__ import annotations

from PySide6.QtGui import QFont


def canvas_font(pixels: int = 0, *, points: float = 0.0, bold: bool = False, monospace: str = "") -> QFont:
    """A font of `pixels` scene pixels (or else of `points` points), bold or not; a `monospace` family comes with
    the fixed-pitch style hint, so a machine without that family falls back to another fixed-pitch one."""
    font = QFont(monospace) if monospace else QFont()
    if monospace:
        font.setStyleHint(QFont.StyleHint.Monospace)
    if pixels:
        font.setPixelSize(pixels)
    else:
        font.setPointSizeF(points)
    if bold:
        font.setBold(True)
    return font


NAME_FONT = canvas_font(13, bold=True)
SMALL_FONT = canvas_font(11)
MONO_FONT = canvas_font(13, monospace="DejaVu Sans Mono")
