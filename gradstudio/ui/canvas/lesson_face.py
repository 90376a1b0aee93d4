"""What a node face shows of a lesson: `?` for a value the learner has yet to predict, and a small tag above the
node naming its hidden items (for the author) or the learner's progress on them (`value ?`, `gradient ✓`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen

from gradstudio.model.lesson import KIND_TITLES
from gradstudio.ui.canvas.fonts import canvas_font
from gradstudio.ui.canvas.preview import Preview
from gradstudio.ui.themes import Theme

if TYPE_CHECKING:
    from gradstudio.model.document import Node
    from gradstudio.model.lesson_play import Lesson

HIDDEN = "?"
HIDDEN_TIP = "Hidden in this lesson: predict it in the Lesson panel, then press Reveal"
TAG_HEIGHT = 16.0
TAG_FONT = canvas_font(10, bold=True)
LESSON_INK = QColor("#7b4fc4")  # one colour for everything a lesson adds to the canvas, in both themes
RIGHT_INK = QColor("#2e7d32")
WRONG_INK = QColor("#c62828")


def masked_preview(preview: Preview) -> Preview:
    """The face of a hidden value: its shape and dtype stay (the wires show them anyway), the numbers are `?`."""
    return Preview(preview.summary, HIDDEN, tip=HIDDEN_TIP, autograd=preview.autograd)


def tag_text(node: Node, lesson: Lesson | None) -> str:
    """The tag above a node that hides something: `hidden: value, gradient`, or in play `value ✓ · gradient ?`."""
    if lesson is None or not node.hidden:
        return ""
    if not lesson.playing:
        return "hidden: " + ", ".join(KIND_TITLES[kind] for kind in node.hidden)
    marks = []
    for kind in node.hidden:
        verdict = lesson.verdicts.get((node.id, kind))
        mark = "?" if verdict is None else {True: "✓", False: "✗", None: "shown"}[verdict.correct]
        marks.append(f"{KIND_TITLES[kind]} {mark}")
    return " · ".join(marks)


def tag_ink(node: Node, lesson: Lesson) -> QColor:
    """Green when every answer on the node was right, red when one was wrong, else the lesson's colour."""
    verdicts = [lesson.verdicts.get((node.id, kind)) for kind in node.hidden] if lesson.playing else []
    results = {verdict.correct for verdict in verdicts if verdict is not None}
    if False in results:
        return WRONG_INK
    if results == {True} and None not in verdicts:
        return RIGHT_INK
    return LESSON_INK


def paint_tag(painter: QPainter, node: Node, lesson: Lesson | None, width: float, theme: Theme) -> None:
    """Draw the lesson tag just above the node's header (nothing for a node that hides nothing)."""
    text = tag_text(node, lesson)
    if not text:
        return
    metrics = QFontMetricsF(TAG_FONT)
    text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width - 16)
    rect = QRectF(4, -TAG_HEIGHT - 2, metrics.horizontalAdvance(text) + 12, TAG_HEIGHT)
    ink = tag_ink(node, lesson)
    painter.setPen(QPen(ink, 1.2))
    painter.setBrush(theme.node_body)
    painter.drawRoundedRect(rect, 4, 4)
    painter.setFont(TAG_FONT)
    painter.setPen(ink)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
