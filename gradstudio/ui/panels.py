"""Side panels: a read-only inspector and values view of the selected node, and the panels still to come."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDockWidget, QFormLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from gradstudio.model.document import Node
from gradstudio.model.evaluation import NodeResult


def _label(text: str, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if muted:
        label.setEnabled(False)
    return label


class InspectorDock(QDockWidget):
    """The `inspector` dock: what the selected node is and its attributes (editing arrives with the next issue)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Inspector", parent)
        self.setObjectName("inspector")
        self.show_node(None)

    def show_node(self, node: Node | None) -> None:
        """Describe `node` (or say that nothing is selected)."""
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        if node is None:
            layout.addWidget(_label("Select a node to see its attributes.", muted=True))
        else:
            spec = node.spec
            layout.addWidget(_label(f"<b>{node.name}</b> — {spec.title} <span style='color:gray'>({spec.kind})</span>"))
            layout.addWidget(_label(spec.doc, muted=True))
            form_widget = QWidget(body)
            form = QFormLayout(form_widget)
            form.addRow("inputs", _label(", ".join(node.input_ports()) or "none (a leaf)"))
            for attribute in spec.attributes:
                value = node.attributes.get(attribute.name)
                form.addRow(attribute.name, _label("—" if value is None else str(value)))
            layout.addWidget(form_widget)
            layout.addWidget(_label("Attributes become editable here in the next release.", muted=True))
        # the dock deletes the widget it showed before
        self.setWidget(body)


class ValuesDock(QDockWidget):
    """The `valuesPanel` dock: the selected node's full value as PyTorch prints it, or its error."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Values", parent)
        self.setObjectName("valuesPanel")
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(font)
        self.setWidget(self.text)
        self.show_result(None, None)

    def show_result(self, node: Node | None, result: NodeResult | None) -> None:
        """Show `node`'s value (its repr), its error, or a hint when nothing is selected."""
        if node is None:
            self.text.setPlainText("")
            self.text.setPlaceholderText("Select a node to see its value.")
        elif result is None or result.blocked_by is not None:
            self.text.setPlainText(f"{node.name}: no value yet (an input has no value)")
        elif result.error is not None:
            self.text.setPlainText(f"{node.name}: error\n{result.error}")
        else:
            self.text.setPlainText(f"{node.name} = {result.value!r}")


def coming_dock(object_name: str, title: str, text: str, parent: QWidget | None = None) -> QDockWidget:
    """A dock for a panel that a later release fills, saying so plainly."""
    dock = QDockWidget(title, parent)
    dock.setObjectName(object_name)
    label = _label(text, muted=True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    dock.setWidget(label)
    return dock
