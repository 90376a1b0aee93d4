"""The backward display on the canvas: lit edges (colour and width by log gradient magnitude), dimmed rest,
gradient badges under nodes, the stop marks where tracking ends, and the ring around the current step's node.

It paints a `FlowView` (model/flow_view.py) onto a scene and takes it off again;
the document is never touched, this is display state only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gradstudio.model.flow_view import FlowView, magnitude
from gradstudio.ui.canvas.edge_items import EdgeItem, hairline_pen
from gradstudio.ui.canvas.face_cache import cacheable, draw_cached
from gradstudio.ui.canvas.fonts import MONO_FONT, SMALL_FONT
from gradstudio.ui.canvas.items import NodeItem, set_opacity
from gradstudio.ui.canvas.lesson_face import HIDDEN, HIDDEN_TIP
from gradstudio.ui.canvas.node_geometry import WIDTH
from gradstudio.ui.canvas.preview import compact_values, shown_key

# low -> high gradient magnitude (log scale)
RAMP = (QColor("#f2c230"), QColor("#ec7a1c"), QColor("#c41e3a"))
STOPPED = QColor("#8a939c")
MIN_WIDTH, MAX_WIDTH = 2.5, 8.0
DIM_EDGE, DIM_NODE = 0.18, 0.38
BADGE_HEIGHT = 19.0
GRAD_FILL = QColor("#c41e3a")
EARLIER_FILL = QColor("#fbe3e7")  # a .grad an earlier Backward left: the same red, outlined on a pale tab
FLOW_INK = QColor("#b35a00")
RING = QColor("#1e88e5")


def log_positions(values: Mapping[object, float]) -> dict[object, float]:
    """Each positive value's place between the smallest (0) and the largest (1) on a log scale."""
    logs = {key: math.log10(value) for key, value in values.items() if value > 0}
    if not logs:
        return {key: 0.0 for key in values}
    low, high = min(logs.values()), max(logs.values())
    span = high - low
    return {key: (logs[key] - low) / span if span > 0 and key in logs else (1.0 if key in logs else 0.0)
            for key in values}


def ramp_color(position: float) -> QColor:
    """The colour at `position` (0..1) along the low-to-high ramp."""
    position = min(max(position, 0.0), 1.0) * (len(RAMP) - 1)
    index = min(int(position), len(RAMP) - 2)
    low, high, t = RAMP[index], RAMP[index + 1], position - index
    return QColor.fromRgbF(low.redF() + (high.redF() - low.redF()) * t,
                           low.greenF() + (high.greenF() - low.greenF()) * t,
                           low.blueF() + (high.blueF() - low.blueF()) * t)


PEN_STEPS = 64  # pens along the ramp: a scrub frame that barely moves a gradient keeps its edge's very pen
_FLOW_PENS: dict[int, QPen] = {}


def flow_pen(position: float) -> QPen:
    """The pen of an edge carrying a gradient whose log magnitude sits at `position` (one of PEN_STEPS + 1 pens,
    shared: an edge whose gradient stays in the same step is not repainted)."""
    step = round(min(max(position, 0.0), 1.0) * PEN_STEPS)
    pen = _FLOW_PENS.get(step)
    if pen is None:
        at = step / PEN_STEPS
        pen = _FLOW_PENS[step] = QPen(ramp_color(at), MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * at)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


STOPPED_PEN = hairline_pen(STOPPED)


def stopped_pen() -> QPen:
    """The pen of an input edge of the path that takes no gradient (tracking stops at its source): dashed,
    drawn as hairlines, since such wires can be long and many (one constant feeding every layer)."""
    return STOPPED_PEN


class GradBadge(QGraphicsItem):
    """A tab under a node: `.grad` (solid: what PyTorch stores; pale when an earlier Backward left it) or the
    gradient that flowed (dashed: not stored)."""

    def __init__(self, kind: str, label: str, value: object, parent: NodeItem, tip_now: bool = True,
                 hidden: bool = False, earlier: str = "") -> None:
        super().__init__(parent)
        self.kind = kind
        self.label = label
        self.value = value
        self.hidden = hidden
        self.earlier = earlier  # why this .grad is not the last Backward's ("" when it is)
        self._shown: tuple | None = None  # what the face shows: label and the first values (text made when drawn)
        self._text: str | None = None
        self._tipped = False
        self._top: float | None = None
        self.setAcceptHoverEvents(True)
        self.show_value(label, value, tip_now, hidden, earlier)

    def show_value(self, label: str, value: object, tip_now: bool = True, hidden: bool = False,
                   earlier: str = "") -> None:
        """Show another gradient in this badge (a scrub frame reuses the badges of the last); a lesson's hidden
        gradient shows only `?`, and keeps no value to leak. Repainted only when its label, first values or
        earlier mark changed; their text is written when it is drawn (most badges of a large graph are off
        screen)."""
        self.label, self.value, self.hidden, self.earlier = label, None if hidden else value, hidden, earlier
        shown = (label, HIDDEN if hidden else shown_key(value), bool(earlier))
        if shown != self._shown:
            self._shown, self._text = shown, None
            self.update()
        # without tip_now the tip waits for the first hover: a scrub frame redraws every badge, and a repr is slow
        if tip_now:
            self.write_tip()
        elif self._tipped:
            self.setToolTip("")
            self._tipped = False

    def place(self, top: float) -> None:
        """Stand `top` pixels below the node's top (moved only when that changed)."""
        if top != self._top:
            self._top = top
            self.setPos(0, top)

    @property
    def text(self) -> str:
        """The values the badge shows: the first few, or `?` where a lesson hides them."""
        if self._text is None:
            self._text = HIDDEN if self.hidden else compact_values(self.value)
        return self._text

    def write_tip(self) -> None:
        """The tool tip: the gradient as PyTorch prints it, and what kind of gradient it is."""
        shown = HIDDEN_TIP if self.hidden else repr(self.value)
        why = (f"\n{self.earlier}" if self.earlier else "") if self.kind == "grad" else (
            "\nthe gradient that flowed through this node; PyTorch keeps a non-leaf's .grad None unless retain_grad()")
        self.setToolTip(f"{self.label} = {shown}{why}")
        self._tipped = True

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if not self._tipped:
            self.write_tip()
        super().hoverEnterEvent(event)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, WIDTH, BADGE_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        # the tab and its label come from the face cache (a dashed rounded outline is slow to stroke, and a scrub
        # repaints every badge each frame); only the values, which a scrub changes, are drawn each time
        scene = self.scene()
        if (scene is not None and getattr(scene, "exporting", False)) or not cacheable(painter):
            self._paint_tab(painter)
        else:
            draw_cached(painter, self.boundingRect(), ("grad badge", self.kind, self.label, bool(self.earlier)),
                        self._paint_tab)
        rect = self._rect()
        label_width = self._label_width()
        painter.setPen(self._ink())
        painter.setFont(MONO_FONT)
        values = QRectF(rect.left() + label_width + 10, rect.top(), rect.width() - label_width - 14, rect.height())
        text = QFontMetricsF(MONO_FONT).elidedText(self.text, Qt.TextElideMode.ElideRight, values.width())
        painter.drawText(values, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)

    def _ink(self) -> QColor:
        """The colour of the label and values: white on a solid tab, else the tab's outline colour."""
        if self.kind != "grad":
            return FLOW_INK
        return GRAD_FILL if self.earlier else QColor("white")

    def _rect(self) -> QRectF:
        return self.boundingRect().adjusted(4, 0.5, -4, -0.5)

    def _label_font(self) -> QFont:
        font = QFont(SMALL_FONT)
        font.setBold(self.kind == "grad")
        font.setItalic(self.kind != "grad")
        return font

    def _label_width(self) -> float:
        return min(QFontMetricsF(self._label_font()).horizontalAdvance(self.label) + 4, self._rect().width() / 2)

    def _paint_tab(self, painter: QPainter) -> None:
        """The tab (solid for `.grad`, dashed for a gradient that flowed) and its label, without the values."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self._rect()
        solid = self.kind == "grad"
        pen = QPen(GRAD_FILL if solid else FLOW_INK, 1.2, Qt.PenStyle.SolidLine if solid else Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush((EARLIER_FILL if self.earlier else GRAD_FILL) if solid else QColor(255, 248, 235))
        painter.drawRoundedRect(rect, 4, 4)
        label_font = self._label_font()
        label_width = self._label_width()
        painter.setPen(self._ink())
        painter.setFont(label_font)
        label = QFontMetricsF(label_font).elidedText(self.label, Qt.TextElideMode.ElideRight, label_width)
        painter.drawText(rect.adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, label)


def badges_of(item: QGraphicsItem) -> dict[str, GradBadge]:
    """A node item's gradient badges by kind (`grad`, `flow`)."""
    return {child.kind: child for child in item.childItems() if isinstance(child, GradBadge)}


class CanvasHighlight:
    """Paints one `FlowView` on the scene's items and removes it again."""

    def __init__(self, nodes: Mapping[str, NodeItem], edges: Mapping[tuple[str, str], EdgeItem],
                 name_of: Callable[[str], str], masks: Callable[[str, str], bool] = lambda _node, _kind: False) -> None:
        self.nodes = nodes
        self.edges = edges
        self.name_of = name_of
        self.masks = masks  # a lesson's: True where a gradient is hidden from the learner
        self.lit: dict[tuple[str, str], float] = {}
        self.stopped: set[tuple[str, str]] = set()
        self._ring: QGraphicsPathItem | None = None
        self._badges: dict[str, tuple[NodeItem, dict[str, GradBadge]]] = {}  # node id -> its item and badges
        self.lazy_tips = False  # set while a scrub redraws the display every frame: tool tips wait for a hover

    def show(self, view: FlowView) -> None:
        """Light the path of `view`, dim the rest, badge the nodes, ring the current step.

        Edges and badges are repainted only where they change: a scrub shows a new pass every frame, mostly alike.
        """
        self._take_off_ring()
        self.lit.clear()
        self.stopped.clear()
        positions = log_positions({key: magnitude(grad) for key, grad in view.edge_grads.items()})
        for key, item in self.edges.items():
            if key in positions:
                tip = self._flow_tip(view.edge_grads[key], self.masks(item.edge.source, "grad"))
                self._style_edge(item, flow_pen(positions[key]), 1.0, tip)
                self.lit[key] = positions[key]
            elif key in view.stopped:
                source = self.name_of(item.edge.source)
                tip = f"tracking stops here: {source} gets no gradient (a constant, or requires_grad=False)"
                self._style_edge(item, stopped_pen(), 1.0, tip)
                self.stopped.add(key)
            else:
                self._style_edge(item, None, DIM_EDGE, "")
        for node_id, item in self.nodes.items():
            set_opacity(item, 1.0 if node_id in view.involved else DIM_NODE)
        self._badge(view)
        self._ring_current(view.current)

    def _flow_tip(self, grad: object, hidden: bool) -> Callable[[], str]:
        """How to write an edge's tip when it is asked for: the gradient's repr, or while scrubbing its first
        values (a scrub frame re-tips every wire, and most are never hovered)."""
        compact = self.lazy_tips

        def tip() -> str:
            shown = HIDDEN_TIP if hidden else compact_values(grad) if compact else repr(grad)
            return f"gradient flowing back: {shown}"
        return tip

    @staticmethod
    def _style_edge(item: EdgeItem, pen: QPen | None, opacity: float, tip: str | Callable[[], str]) -> None:
        """Give an edge its pen, opacity and tool tip (or how to write it on a hover), repainting it only when
        its pen or opacity changed."""
        if pen is not item.flow_pen and pen != item.flow_pen:
            item.flow_pen = pen
            item.update()
        set_opacity(item, opacity)
        item.set_tip(tip)

    def show_forward(self, order: list[str], index: int) -> None:
        """One frame of Play Forward: nodes `order[:index + 1]` computed, the current one ringed with its inputs lit."""
        self.clear()
        reached = set(order[: index + 1])
        current = order[index]
        for item in self.edges.values():
            if item.edge.target == current:
                item.flow_pen = QPen(RING, MIN_WIDTH + 1.5)
                item.update()
            elif item.edge.target not in reached:
                set_opacity(item, DIM_EDGE)
        for node_id, item in self.nodes.items():
            set_opacity(item, 1.0 if node_id in reached else DIM_NODE)
        self._ring_current(current)

    def show_badges(self, view: FlowView) -> None:
        """Badge the nodes only (no lit path, nothing dimmed): the `.grad`s kept while no pass is shown."""
        self._badge(view)

    def _badge(self, view: FlowView) -> None:
        """Badge every node with the gradients it shows, reusing the badges it has (a scrub frame is like the last)."""
        target = self.name_of(view.target) if view.target is not None else ""
        for node_id, item in self.nodes.items():
            wanted = []
            if node_id in view.node_flows:
                wanted.append(("flow", f"∂{target}/∂{self.name_of(node_id)}", view.node_flows[node_id]))
            if node_id in view.grads:
                wanted.append(("grad", ".grad", view.grads[node_id]))
            shown = self._badges.pop(node_id, None)
            kept = shown[1] if shown is not None and shown[0] is item else {}
            if not wanted and not kept:
                continue
            hidden = self.masks(node_id, "grad")
            badges = {}
            earlier = view.earlier.get(node_id, "")
            for row, (kind, label, value) in enumerate(wanted):
                badge = kept.pop(kind, None)
                why = earlier if kind == "grad" else ""
                if badge is None:
                    badge = GradBadge(kind, label, value, item, not self.lazy_tips, hidden, why)
                else:
                    badge.show_value(label, value, not self.lazy_tips, hidden, why)
                badge.place(item.height() + 2 + row * (BADGE_HEIGHT + 2))
                badges[kind] = badge
            for badge in kept.values():
                badge.scene().removeItem(badge)
            if badges:
                self._badges[node_id] = (item, badges)

    def _ring_current(self, node_id: str | None) -> None:
        item = self.nodes.get(node_id) if node_id is not None else None
        if item is None:
            return
        path = QPainterPath()
        path.addRoundedRect(QRectF(-7, -7, WIDTH + 14, item.height() + 14), 10, 10)
        ring = QGraphicsPathItem(path, item)
        pen = QPen(RING, 3.5)
        ring.setPen(pen)
        ring.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
        self._ring = ring

    def clear(self) -> None:
        """Back to the plain canvas."""
        for item in self.edges.values():
            if item.flow_pen is not None or item.opacity() < 1.0:
                self._style_edge(item, None, 1.0, "")
        for item in self.nodes.values():
            set_opacity(item, 1.0)
        self._take_off_children()
        self.lit.clear()
        self.stopped.clear()

    def _take_off_children(self) -> None:
        """Remove the badges and the ring."""
        self._take_off_ring()
        self._badges.clear()
        for item in self.nodes.values():
            for child in item.childItems():
                if isinstance(child, GradBadge):
                    child.scene().removeItem(child)

    def _take_off_ring(self) -> None:
        ring, self._ring = self._ring, None
        if ring is not None and ring.scene() is not None:
            ring.scene().removeItem(ring)

    def lit_edges(self) -> set[tuple[str, str]]:
        """Keys of the edges drawn as carrying a gradient."""
        return set(self.lit)
