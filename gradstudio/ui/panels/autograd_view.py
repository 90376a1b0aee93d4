"""The autograd graph view: the grad_fn graph of the backward target as PyTorch builds it, laid out by depth.

A panel (`autogradPanel`) toggled by `actionAutogradGraph`. Functions are boxes
(`MulBackward0`, …, `AccumulateGrad`; the full PyTorch name and the owning node in
the tool tip), edges run along `next_functions`, leaves on the left and the root on
the right, like the canvas. After a Backward the same highlighting applies: edges
lit by the gradient they carried, functions that did not run dimmed, and the
current function ringed while stepping.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QLabel,
    QStackedWidget,
    QWidget,
)

from gradstudio.model.autograd_graph import AutogradGraph, autograd_graph_of, edge_flows, executed
from gradstudio.model.flow_view import magnitude
from gradstudio.ui.canvas.edge_items import bezier
from gradstudio.ui.canvas.highlight import DIM_EDGE, DIM_NODE, RING, flow_pen, log_positions
from gradstudio.ui.canvas.lesson_face import HIDDEN_TIP
from gradstudio.ui.panels.base import PanelDock
from gradstudio.ui.text_limits import shorten_words

BOX = (150.0, 40.0)
GAP = (70.0, 24.0)
FILL = {"AccumulateGrad": QColor("#dbe9f7"), "default": QColor("#f3ece2")}
EMPTY = "No grad_fn: {name} was not recorded by autograd (no input requires grad, or torch.no_grad() is on)."


class FunctionItem(QGraphicsRectItem):
    """One grad_fn box: its short name and, underneath, the document node that created it."""

    def __init__(self, key: str, label: str, full_name: str, owner: str, rect: QRectF) -> None:
        super().__init__(rect)
        self.key = key
        self.label = label
        self.setBrush(QBrush(FILL.get(label, FILL["default"])))
        self.setPen(QPen(QColor("#7a8591"), 1.2))
        self.setToolTip(f"{full_name}\ncreated by node {owner}")
        title = QGraphicsSimpleTextItem(label, self)
        font = QFont()
        font.setPointSizeF(9)
        font.setBold(True)
        title.setFont(font)
        title.setPos(rect.x() + (rect.width() - title.boundingRect().width()) / 2, rect.y() + 4)
        caption = QGraphicsSimpleTextItem(owner, self)
        caption.setBrush(QColor("#5d6873"))
        caption.setPos(rect.x() + (rect.width() - caption.boundingRect().width()) / 2, rect.y() + 21)


class AutogradDock(PanelDock):
    """The dock holding the autograd graph view."""

    follows = ("values_changed", "backward_changed", "lesson_changed")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Autograd Graph", "autogradPanel", parent)
        self.graph = AutogradGraph()
        self.items: dict[str, FunctionItem] = {}
        self.edges: dict[tuple[str, str, int], QGraphicsPathItem] = {}
        self.lit: dict[tuple[str, str, int], float] = {}
        self.current: str | None = None
        self._scene = QGraphicsScene(self)
        self.view = QGraphicsView(self._scene)
        self.view.setObjectName("autogradView")
        self.view.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        self.setWidget(self.stack)
        self.visibilityChanged.connect(lambda visible: self.refresh() if visible else None)

    def target(self) -> str | None:
        """Whose grad_fn graph to show: the shown Backward's target, else the node Backward would start from."""
        workspace = self.workspace
        if workspace.backward_result is not None:
            return workspace.backward_result.target
        return workspace.backward_start()

    def refresh(self) -> None:
        """Rebuild from the current values and paint the current backward display (only while visible)."""
        if not self.isVisible() or self.workspace is None:
            return
        target = self.target()
        evaluator = self.workspace.model.evaluator
        self.graph = autograd_graph_of(evaluator, target) if target is not None else AutogradGraph()
        self._build()
        if not self.graph.nodes:
            name = self.workspace.name_of(target) if target else "nothing selected"
            text = EMPTY.format(name=name) if target else "Select a node to see its grad_fn graph."
            self.empty.setText(shorten_words(text))
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.view)
        self._highlight()
        self.view.fitInView(self._scene.itemsBoundingRect().adjusted(-20, -20, 20, 20),
                            Qt.AspectRatioMode.KeepAspectRatio)
        if self.view.transform().m11() > 1.0:
            self.view.resetTransform()

    def _build(self) -> None:
        self._scene.clear()
        self.items, self.edges, self.lit, self.current = {}, {}, {}, None
        for column_index, column in enumerate(self.graph.columns()):
            top = -(len(column) * (BOX[1] + GAP[1]) - GAP[1]) / 2
            for row, key in enumerate(column):
                node = self.graph.nodes[key]
                rect = QRectF(column_index * (BOX[0] + GAP[0]), top + row * (BOX[1] + GAP[1]), *BOX)
                owner = self.workspace.name_of(node.owner) if node.owner else "?"
                item = FunctionItem(key, node.label, node.name, owner, rect)
                self._scene.addItem(item)
                self.items[key] = item
        for key in self.graph.edges():
            parent, child, index = key
            start = self.items[child].rect()
            end = self.items[parent].rect()
            inputs = max(len(self.graph.nodes[parent].next), 1)
            entry = QPointF(end.left(), end.top() + end.height() * (index + 1) / (inputs + 1))
            path = QGraphicsPathItem(bezier(QPointF(start.right(), start.center().y()), entry))
            path.setPen(QPen(QColor("#8d99a6"), 1.8))
            path.setZValue(-1)
            path.setToolTip(f"next_functions[{index}] of {self.graph.nodes[parent].label}")
            self._scene.addItem(path)
            self.edges[key] = path

    def _highlight(self) -> None:
        result, view = self.workspace.backward_result, self.workspace.flow
        if result is None or view is None:
            return
        steps = result.steps if view.step is None else result.steps[: view.step + 1]
        flows = edge_flows(self.graph, steps)
        ran = set(executed(self.graph, steps))
        positions = log_positions({key: magnitude(grad) for key, grad in flows.items()})
        hidden = self.workspace.lesson.hides_gradients()  # which edge carries a hidden gradient is not told apart
        for key, path in self.edges.items():
            if key in positions:
                path.setPen(flow_pen(positions[key]))
                path.setToolTip(f"gradient: {HIDDEN_TIP if hidden else repr(flows[key])}")
                self.lit[key] = positions[key]
            else:
                path.setOpacity(DIM_EDGE)
        for key, item in self.items.items():
            item.setOpacity(1.0 if key in ran else DIM_NODE)
        if view.step is not None:
            self._ring(self.graph.id_of(result.steps[view.step].function))

    def _ring(self, key: str | None) -> None:
        if key is None or key not in self.items:
            return
        self.current = key
        self.items[key].setPen(QPen(RING, 3.5))

    def lit_edges(self) -> set[tuple[str, str, int]]:
        """Edges drawn as carrying a gradient."""
        return set(self.lit)
