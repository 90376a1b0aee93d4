"""What a node's face looks like: its key (everything it shows) and the painting of the header, ports, preview line
and values, in the canvas's fonts (fonts.py).

`face_key` and `paint_face` change together (a face shows exactly what its key holds, so the face cache may keep
its pixels by that key), so both live here; the node item (items.py) takes them as its methods and keeps the rest:
ports as handles, following the model, hover and mouse. The requires_grad header and checkbox, the version badge
and the lesson's tag are painted by their own modules, which the face calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from gradstudio.ui.canvas import lesson_face, requires_grad_face, version_badge
from gradstudio.ui.canvas.fonts import MONO_FONT, NAME_FONT, SMALL_FONT
from gradstudio.ui.canvas.node_geometry import HEADER, LINE, LOD_SIMPLE, PORT_RADIUS, ROW, WIDTH, value_line
from gradstudio.ui.themes import Theme

if TYPE_CHECKING:
    from gradstudio.ui.canvas.items import NodeItem

LOD_TEXT_PIXELS = 11.0  # on screen, the name and value of a node drawn simply (zoomed far out)
LOD_MIN_PIXELS = 9.0  # a long name or value shrinks to fit down to this size on screen, then is elided
AUTOGRAD_SHARE = 0.6  # of a face's line at most, for the grad_fn name; the shape and dtype keep the rest
AUTOGRAD_MIN_SHARE = 0.4  # what the grad_fn name keeps at least when the shape and dtype need more room
SUMMARY_GAP = 6.0  # between the shape and dtype and the grad_fn name
LINE_WIDTH = WIDTH - 16
VALUES_AT = 0  # where a face key holds the values text


def fitted_autograd(text: str, summary: str = "") -> str:
    """A face's grad_fn label, elided at its end (never clipped at its start) to its share of the line, less
    what the shape and dtype beside it need, down to its minimum share: `[4, 1] float32` stays whole beside
    `SigmoidBack…` (a cut grad_fn still names its op; a cut dtype says nothing)."""
    metrics = QFontMetricsF(SMALL_FONT)
    left = LINE_WIDTH - metrics.horizontalAdvance(summary) - SUMMARY_GAP if summary else LINE_WIDTH
    room = min(AUTOGRAD_SHARE * LINE_WIDTH, max(AUTOGRAD_MIN_SHARE * LINE_WIDTH, left))
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)


def fitted_summary(summary: str, autograd: str) -> str:
    """A face's shape and dtype, elided at their end to what the (fitted) grad_fn label leaves of the line."""
    metrics = QFontMetricsF(SMALL_FONT)
    room = LINE_WIDTH - metrics.horizontalAdvance(autograd) - SUMMARY_GAP
    return metrics.elidedText(summary, Qt.TextElideMode.ElideRight, room)


def face_key(item: NodeItem, theme: Theme) -> tuple:
    """Everything the face shows: two nodes with equal keys paint the same pixels at the same zoom. The values
    text sits at VALUES_AT."""
    node = item.node
    preview = item.preview()
    return (preview.values, id(theme), node.name, node.kind, item.inputs,
            tuple(item.port_label(port) for port in item.inputs),
            tuple(item.is_connected(port) for port in item.inputs), bool(node.attributes.get("requires_grad")),
            requires_grad_face.is_untracked(item.result), preview.summary, preview.autograd,
            preview.is_error, item.isSelected(), item.highlighted, version_badge.shown_version(item),
            lesson_face.tag_text(node, item.lesson()), lesson_face.tag_ink(node, item.lesson()).name(),
            item.value_hovered, item.scrubbed_cell)


def paint_face(item: NodeItem, painter: QPainter, lod: float, theme: Theme | None = None) -> None:
    """Paint the face as seen at level of detail `lod` (what the face cache keeps as pixels)."""
    theme = theme or item.theme()
    rect = QRectF(0, 0, WIDTH, item.height())
    header = requires_grad_face.header_color(item, theme)
    border = QPen(theme.selection, 2.5) if item.isSelected() else QPen(theme.node_border, 1)
    if lod < LOD_SIMPLE:
        painter.setPen(border)
        painter.setBrush(header)
        painter.drawRect(rect)
        _paint_simple_text(painter, item, lod)
        return
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(border)
    painter.setBrush(theme.node_body)
    painter.drawRoundedRect(rect, 6, 6)
    _paint_header(painter, item, header)
    _paint_ports(painter, item, theme)
    requires_grad_face.paint_checkbox(painter, item, theme)
    _paint_preview(painter, item, theme)
    lesson_face.paint_tag(painter, item.node, item.lesson(), WIDTH, theme)


def _paint_simple_text(painter: QPainter, item: NodeItem, lod: float) -> None:
    """Zoomed far out: the name and the value in large letters, readable where ports and facts are not."""
    height = item.height()
    pixels = min(LOD_TEXT_PIXELS / max(lod, 1e-3), height * 0.42)
    painter.setPen(QColor("white"))
    for row, (font, text) in enumerate(((NAME_FONT, item.node.name), (MONO_FONT, item.preview().values))):
        big = QFont(font)
        big.setPixelSize(max(1, round(pixels)))
        advance = QFontMetricsF(big).horizontalAdvance(text)
        if advance > WIDTH - 8:  # a long text shrinks towards the node's width, never below readable, then elides
            readable = min(pixels, LOD_MIN_PIXELS / max(lod, 1e-3))
            big.setPixelSize(max(1, int(max(pixels * (WIDTH - 8) / advance, readable))))
        painter.setFont(big)
        shown = QFontMetricsF(big).elidedText(text, Qt.TextElideMode.ElideRight, WIDTH - 8)
        painter.drawText(QRectF(4, row * height / 2, WIDTH - 8, height / 2), Qt.AlignmentFlag.AlignCenter, shown)


def _paint_header(painter: QPainter, item: NodeItem, color: QColor) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(0.5, 0.5, WIDTH - 1, HEADER), 6, 6)
    painter.drawRect(QRectF(0.5, HEADER - 6, WIDTH - 1, 6))
    painter.setPen(QColor("white"))
    title = item.node.spec.title
    painter.setFont(SMALL_FONT)
    title_width = QFontMetricsF(SMALL_FONT).horizontalAdvance(title) + 8
    painter.drawText(QRectF(8, 0, WIDTH - 12, HEADER),
                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, title)
    badge = version_badge.paint_badge(painter, item, WIDTH - title_width - 4, HEADER, SMALL_FONT)
    painter.setPen(QColor("white"))
    painter.setFont(NAME_FONT)
    name = QFontMetricsF(NAME_FONT).elidedText(item.node.name, Qt.TextElideMode.ElideRight,
                                               WIDTH - title_width - badge - 14)
    painter.drawText(QRectF(8, 0, WIDTH, HEADER), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)


def _paint_ports(painter: QPainter, item: NodeItem, theme: Theme) -> None:
    painter.setFont(SMALL_FONT)
    painter.setPen(theme.muted_text)
    metrics = QFontMetricsF(SMALL_FONT)
    for index, name in enumerate(item.inputs):
        label = metrics.elidedText(item.port_label(name), Qt.TextElideMode.ElideRight, WIDTH / 2)
        painter.drawText(QRectF(12, HEADER + index * ROW, WIDTH / 2, ROW),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
    painter.drawText(QRectF(WIDTH / 2, HEADER, WIDTH / 2 - 12, ROW),
                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "out")
    for port in [*item.inputs, None]:
        lit = port in item.highlighted
        color = theme.port_highlight if lit else theme.port
        painter.setPen(QPen(color, 1.5))
        painter.setBrush(color if port is None or item.is_connected(port) else theme.node_body)
        radius = PORT_RADIUS + (2 if lit else 0)
        painter.drawEllipse(item.port_position(port), radius, radius)


def _paint_preview(painter: QPainter, item: NodeItem, theme: Theme) -> None:
    preview = item.preview()
    top = HEADER + max(len(item.inputs), 1) * ROW
    painter.setPen(QPen(theme.node_border, 0.5))
    painter.drawLine(QPointF(6, top + 1), QPointF(WIDTH - 6, top + 1))
    painter.setPen(theme.error_text if preview.is_error else theme.muted_text)
    painter.setFont(SMALL_FONT)
    autograd = fitted_autograd(preview.autograd, preview.summary)
    # right-aligned in the whole line, not in a box of the measured width: at any zoom the text's hinted
    # width may differ from the measure, and a box too narrow would clip its first letter
    painter.drawText(QRectF(8, top + 2, WIDTH - 16, LINE),
                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, autograd)
    summary = fitted_summary(preview.summary, autograd)
    painter.drawText(QRectF(8, top + 2, WIDTH - 16, LINE), Qt.AlignmentFlag.AlignVCenter, summary)
    if item.value_hovered or item.scrubbed_cell is not None:
        _paint_scrub_field(painter, item, theme)
    painter.setPen(theme.error_text if preview.is_error else theme.text)
    painter.setFont(MONO_FONT)
    text = QFontMetricsF(MONO_FONT).elidedText(preview.values, Qt.TextElideMode.ElideRight, WIDTH - 16)
    painter.drawText(value_line(item), Qt.AlignmentFlag.AlignVCenter, text)


def _paint_scrub_field(painter: QPainter, item: NodeItem, theme: Theme) -> None:
    """The value line as a number field: a tinted box, arrows at its ends, as a drag may change it."""
    field = value_line(item).adjusted(-4, -1, 4, 1)
    painter.setPen(QPen(theme.selection, 1))
    tint = QColor(theme.selection)
    tint.setAlpha(60 if item.scrubbed_cell is not None else 28)
    painter.setBrush(tint)
    painter.drawRoundedRect(field, 3, 3)
    painter.setFont(SMALL_FONT)
    painter.setPen(theme.selection)
    painter.drawText(field.adjusted(2, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, "◂▸")
