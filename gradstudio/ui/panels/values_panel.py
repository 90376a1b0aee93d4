"""The values panel: the selected node's value and its gradient side by side, charted, printed and tabulated.

The gradient column says which gradient it shows, because PyTorch draws a line here: a leaf's `.grad`,
a non-leaf's retained `.grad`, or (GradStudio's addition) the gradient that flowed through a non-leaf
on the last Backward, which PyTorch computes but does not keep.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

import gradstudio.engine as engine
from gradstudio.model.document import Node
from gradstudio.model.gradients import ShownGradient
from gradstudio.ui.canvas.lesson_face import HIDDEN_TIP
from gradstudio.ui.panels.base import PanelDock
from gradstudio.ui.text_limits import escaped, short_name
from gradstudio.ui.widgets.charts import new_plot, show_regions
from gradstudio.ui.widgets.tensor_view import TensorView

ERROR_STYLE = "color: #d32f2f"


def describe(value: Any) -> str:
    """Shape, dtype and autograd facts of a value, in PyTorch's words."""
    if not isinstance(value, engine.Tensor):
        return f"Python {type(value).__name__}"
    parts = [f"shape {list(value.shape)}", str(value.dtype).replace("torch.", ""),
             f"requires_grad={value.requires_grad}", "leaf" if value.is_leaf else "non-leaf"]
    if value.grad_fn is not None:
        parts.append(f"grad_fn={value.grad_fn.name()}")
    return " · ".join(parts)


class CopyKeys(QObject):
    """Ctrl+C in the panel copies the PyTorch repr of the column it is pressed in (selected text stays native)."""

    def __init__(self, panel: ValuesDock) -> None:
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        if not isinstance(event, QKeyEvent) or not event.matches(QKeySequence.StandardKey.Copy):
            return False
        if isinstance(watched, QPlainTextEdit) and watched.textCursor().hasSelection():
            return False
        event.accept()
        if event.type() == QEvent.Type.KeyPress:
            self.panel.copy(self.panel.column_of(watched))
        return True


class ValuesDock(PanelDock):
    """The `valuesPanel` dock."""

    follows = ("values_changed", "backward_changed", "lesson_changed")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Values", "valuesPanel", parent)
        self.node: Node | None = None
        self.header = QLabel()
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value_view = TensorView()
        self.value_view.setObjectName("valueView")
        self.grad_view = TensorView()
        self.grad_view.setObjectName("gradView")
        self.copy_value = QPushButton("Copy value")
        self.copy_grad = QPushButton("Copy gradient")
        self.copy_value.setToolTip("Copy the value as PyTorch prints it (Ctrl+C)")
        self.copy_grad.setToolTip("Copy the gradient as PyTorch prints it")
        self.copy_value.clicked.connect(lambda: self.copy("value"))
        self.copy_grad.clicked.connect(lambda: self.copy("gradient"))
        self.gradient = ShownGradient(None, "none", "Gradient")
        self.regions = None  # pyqtgraph plot of a 2-D classifier's decision regions, made on first need
        self.regions_box = QVBoxLayout()
        self.setWidget(self._body())
        self._install_copy_keys()
        self.show_node(None)

    def _body(self) -> QWidget:
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.copy_value)
        top.addWidget(self.copy_grad)
        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.addWidget(self.value_view)
        columns.addWidget(self.grad_view)
        columns.addWidget(self._regions_holder())
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addWidget(columns, 1)
        return body

    def _regions_holder(self) -> QWidget:
        holder = QWidget()
        holder.setLayout(self.regions_box)
        self.regions_box.setContentsMargins(0, 0, 0, 0)
        holder.setVisible(False)
        self.regions_holder = holder
        return holder

    def _show_regions(self, node: Node | None) -> None:
        """Draw the decision regions when the node is a 2-D classifier's output; hide the plot otherwise."""
        regions = None
        if node is not None and self.workspace is not None:
            from gradstudio.model.regions import decision_regions  # loaded by the first node shown

            regions = decision_regions(self.workspace.model, node.id)
        self.regions_holder.setVisible(regions is not None)
        if regions is None:
            return
        if self.regions is None:
            self.regions = new_plot()
            self.regions.setObjectName("regionsPlot")
            self.regions.setToolTip("Decision regions: the class this node gives each point of the data's plane")
            self.regions_box.addWidget(self.regions)
        show_regions(self.regions, regions)

    def _install_copy_keys(self) -> None:
        keys = CopyKeys(self)
        self.widget().installEventFilter(keys)
        for view in (self.value_view, self.grad_view):
            view.install_key_filter(keys)

    # ----- showing a node ------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the single selected node's value and gradient as the workspace has them now.

        With no node selected, and none shown already, there is nothing to redo: an edit elsewhere in the graph
        neither rewrites nor repaints the panel."""
        node = self.selected_node()
        if node is None and self.node is None:
            return
        self.show_node(node)

    def show_node(self, node: Node | None) -> None:
        """Show `node`'s value and gradient (None: nothing selected)."""
        self.node = node
        workspace = self.workspace
        result = workspace.result(node.id) if node is not None and workspace is not None else None
        name = escaped(short_name(node.name)) if node is not None else ""
        self.header.setStyleSheet("")
        if node is None:
            self._show_nothing("Select a node to see its value and gradient.")
        elif result is None:
            self._show_nothing(f"{name}: not evaluated yet")
        elif result.error is not None:
            self._show_nothing(f"{name} cannot be computed: {result.error}", error=True)
        elif result.blocked_by is not None:
            source = escaped(short_name(workspace.name_of(result.blocked_by)))
            self._show_nothing(f"{name} waits for {source}, which has no value")
        else:
            self.header.setText(f"<b>{name}</b> — {describe(result.value)}")
            lesson = workspace.lesson
            if lesson.masks(node.id, "value"):
                self.value_view.show_value(None, f"Value of {name} = ?", HIDDEN_TIP)
            else:
                self.value_view.show_value(result.value, f"Value of {name}", "")
            self.gradient = workspace.shown_gradient(node.id)
            if lesson.masks(node.id, "grad"):
                self.gradient = ShownGradient(None, "hidden", f"{self.gradient.title} = ?", HIDDEN_TIP)
            self.grad_view.show_value(self.gradient.value, self.gradient.title, self.gradient.note)
        self.copy_value.setEnabled(self.value_view.value is not None)
        self.copy_grad.setEnabled(self.grad_view.value is not None)
        self._show_regions(node if result is not None and result.ok else None)

    def _show_nothing(self, text: str, error: bool = False) -> None:
        self.header.setText(text)
        self.header.setStyleSheet(ERROR_STYLE if error else "")
        self.gradient = ShownGradient(None, "none", "Gradient")
        self.value_view.show_value(None, "", "")
        self.grad_view.show_value(None, "", "")

    # ----- copying -------------------------------------------------------------------------------------------

    def column_of(self, widget: QObject) -> str:
        """"gradient" for a widget in the gradient column, else "value"."""
        while widget is not None:
            if widget is self.grad_view:
                return "gradient"
            widget = widget.parent()
        return "value"

    def copy_text(self, column: str = "value") -> str:
        """The value's (or gradient's) repr, as PyTorch prints it."""
        return (self.grad_view if column == "gradient" else self.value_view).copy_text()

    def copy(self, column: str = "value") -> None:
        """Put the repr of one column on the clipboard."""
        text = self.copy_text(column)
        if text:
            QGuiApplication.clipboard().setText(text)

