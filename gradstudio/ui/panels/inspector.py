"""The inspector: the selected node's name and attributes, editable, generated from the op catalog.

Every accepted change is one undoable command; a refused one leaves the document as it was and the
model's reason under the field. The form is rebuilt only when the node or the set of fields changes,
so a refresh after an edit keeps the focus where the user is typing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFormLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

import gradstudio.engine as engine
from gradstudio.model.attribute_kinds import placeholder, widget_role
from gradstudio.model.code_literals import float32
from gradstudio.model.document import EditError, Node
from gradstudio.model.edits import Batch, Edit, RenameNode, SetAttribute, SetRetainGrad
from gradstudio.model.evaluation import NodeResult
from gradstudio.model.op_spec import AttributeSpec
from gradstudio.model.port_constants import SetPortConstant, constant_text, parse_constant
from gradstudio.ui.edit.editor import Editor
from gradstudio.ui.panels.base import PanelDock
from gradstudio.ui.panels.lesson_fields import add_lesson_rows, is_lesson_key, lesson_edit, lesson_value
from gradstudio.ui.text_limits import escaped, short_name
from gradstudio.ui.widgets.attribute_fields import (
    VALUES_TABLE_LIMIT,
    CheckField,
    ChoiceField,
    Field,
    SpinField,
    TextField,
    ValuesField,
    pass_undo_through,
)
from gradstudio.ui.widgets.scrub_slider import ScrubSlider

NAME_TIP = "The node's variable name: unique, a Python identifier; the exported code uses it"
DATA_TIP = "Fill this tensor from a CSV file (rows of numbers, an optional header) or a .npy array"
DATA_FILTER = "Data files (*.csv *.npy);;All files (*)"
CONSTANT_TIP = "A constant for the unconnected input {port}: a number, True or False (empty: none; an edge wins)"
PORT_KEY = "port_"  # field keys of port constants: port_b
RETAIN_TIP = "Keep .grad on this non-leaf after Backward, as y.retain_grad() does (PyTorch drops it otherwise)"
# the field class for each widget role an attribute kind names (the values table is built apart: it needs the shape)
FIELDS: dict[str, Callable[[AttributeSpec, str, str], Field]] = {
    "check": lambda spec, tip, placeholder: CheckField("", tip),
    "spin": lambda spec, tip, placeholder: SpinField(tip),
    "choice": lambda spec, tip, placeholder: ChoiceField(spec.choices, tip),
    "text": TextField,
}


def _label(text: str, tip: str = "", muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setToolTip(tip)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setEnabled(not muted)
    return label


def _unwired(node: Node, editor: Editor | None) -> tuple[str, ...]:
    """The node's input ports no edge feeds (each gets a field for its constant)."""
    edges = editor.document.edges if editor is not None else {}
    return tuple(port for port in node.input_ports() if (node.id, port) not in edges)


def visible_attributes(node: Node) -> list[AttributeSpec]:
    """The attributes the form edits as fields: those that matter given the node's attributes (a tensor's only
    where its initialiser reads them), except those edited in a table (a tensor's values)."""
    return [s for s in node.spec.attributes if s.applies(node.attributes) and widget_role(s) != "table"]


def values_shape(node: Node) -> tuple[int, ...] | None:
    """The shape the values table edits, or None when the node has no table (not a tensor, or too big)."""
    if node.kind != "tensor":
        return None
    shape = tuple(node.attributes["shape"])
    return shape if math.prod(shape) <= VALUES_TABLE_LIMIT else None


def table_values(array: np.ndarray) -> tuple:
    """A computed tensor's values as the table edits them: float32 in its shortest decimals, bools as 0 and 1."""
    flat = array.reshape(-1)
    if array.dtype == np.float32:  # float32's shortest decimals; nan and inf as they are
        return tuple(float(float32(v)) if np.isfinite(v) else float(v) for v in flat)
    return tuple(int(v) if array.dtype == np.bool_ else v.item() for v in flat)


class InspectorDock(PanelDock):
    """The `inspector` dock: edit the selected node."""

    follows = ("values_changed", "lesson_changed")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Inspector", "inspector", parent)
        self.node: Node | None = None
        self.editor: Editor | None = None
        self.fields: dict[str, Field] = {}
        self.status = _label("")
        self.header = _label("")
        self._signature: tuple | None = ()
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scrub_slider = ScrubSlider(lambda: self.workspace)
        container = QWidget()
        column = QVBoxLayout(container)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.scroll, 1)
        column.addWidget(self.scrub_slider)
        self.setWidget(container)
        self.show_node(None, None)

    def refresh(self) -> None:
        """Show the single selected node of the workspace, as it is now."""
        workspace = self.workspace
        node = self.selected_node()
        self.show_node(node, workspace.editor if workspace is not None else None,
                       workspace.result(node.id) if node is not None else None)

    def show_node(self, node: Node | None, editor: Editor | None, result: NodeResult | None = None) -> None:
        """Edit `node` through `editor` (None: say that nothing is selected); `result` is its current value."""
        signature = None if node is None else (id(editor), node.id, node.kind, node.input_ports(),
                                               tuple(s.name for s in visible_attributes(node)), values_shape(node),
                                               _unwired(node, editor), tuple(node.hidden), self._playing(),
                                               self._values_masked(node))
        self.node, self.editor = node, editor
        self._show_scrub_slider(node)
        if signature != self._signature:
            focused = self._focused_key()
            self._signature = signature
            self._build(node)
            if focused in self.fields:
                self.fields[focused].editor.setFocus()  # a new shape rebuilds the form; typing goes on
        if node is not None:
            self._sync(result)

    def _playing(self) -> bool:
        """True while a learner plays the lesson: the lesson rows are the author's only."""
        return self.workspace is not None and self.workspace.lesson.playing

    def _values_masked(self, node: Node) -> bool:
        """True when the lesson hides this node's value from the learner (its values table would show it)."""
        return self.workspace is not None and self.workspace.lesson.masks(node.id, "value")

    def commit_pending(self) -> None:
        """Commit what is typed but not yet entered in any field, before Undo, Redo or a command runs."""
        if self.node is None or self.editor is None or self.editor.busy:
            return
        for field in list(self.fields.values()):
            if self.fields and field.has_pending_input():
                field.commit_pending()

    def _focused_key(self) -> str | None:
        """The key of the field holding the keyboard focus, if one does."""
        focus = QApplication.focusWidget()
        for key, field in self.fields.items():
            if focus is not None and (focus is field.editor or field.editor.isAncestorOf(focus)):
                return key
        return None

    # ----- the form ------------------------------------------------------------------------------------------

    def _build(self, node: Node | None) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        for field in self.fields.values():
            field.retire()  # a doomed field losing the focus must not commit into the next node's form
        self.fields = {}
        self.status = _label("")
        if node is None:
            layout.addWidget(_label("Select a node to edit its attributes.", muted=True))
        else:
            spec = node.spec
            self.header = _label("", spec.doc)
            layout.addWidget(self.header)
            layout.addWidget(_label(spec.doc, spec.doc, muted=True))
            self.status.setStyleSheet("color: #d32f2f")
            layout.addWidget(self.status)
            layout.addLayout(self._form(node))
        layout.addStretch(1)
        old = self.scroll.takeWidget()
        if old is not None:
            old.deleteLater()  # later: the edit that asked for this rebuild may still be in one of its fields
        self.scroll.setWidget(body)

    def _form(self, node: Node) -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._add(form, "name", "name", TextField(None, NAME_TIP), NAME_TIP)
        for spec in visible_attributes(node):
            tip = spec.doc or f"{spec.name} ({spec.kind})"
            self._add(form, spec.name, spec.name, self._field_for(spec, tip), tip)
        if node.input_ports():
            self._add(form, "retain_grad", "retain_grad", CheckField("", RETAIN_TIP), RETAIN_TIP)
            form.addRow(_label("inputs", "The input ports, in order"), _label(", ".join(node.input_ports())))
            for port in _unwired(node, self.editor):
                tip = CONSTANT_TIP.format(port=port)
                self._add(form, PORT_KEY + port, f"{port} =", TextField(None, tip, "not connected"), tip)
        shape = values_shape(node) if not self._values_masked(node) else None
        if shape is not None:
            tip = node.spec.attribute("values").doc
            if node.attributes["init"] != "values":
                tip += " (editing a cell writes them all and switches init to values)"
            self._add(form, "values", "values", ValuesField(shape, tip), tip)
        elif node.kind == "tensor" and self._values_masked(node):
            form.addRow(_label("values"), _label("? (hidden in this lesson)", muted=True))
        elif node.kind == "tensor":
            form.addRow(_label("values"), _label(f"more than {VALUES_TABLE_LIMIT} elements: not edited here",
                                                 muted=True))
        if node.kind == "tensor":
            button = QPushButton("Load Data…")
            button.setObjectName("loadDataButton")
            button.setToolTip(DATA_TIP)
            button.clicked.connect(self.load_data)
            form.addRow("", button)
        if not self._playing():
            add_lesson_rows(form, node, self._add)
        return form

    def _show_scrub_slider(self, node: Node | None) -> None:
        """A leaf gets the slider that scrubs its number (a tensor's chosen cell) live; other nodes do not."""
        shape = values_shape(node) if node is not None and node.kind == "tensor" else None
        if node is None or node.kind not in ("tensor", "scalar") or (node.kind == "tensor" and (
                shape is None or node.attributes["dtype"] == "bool" or not math.prod(shape))):
            self.scrub_slider.show_leaf(None)
            return
        self.scrub_slider.show_leaf(node.id, math.prod(shape) if shape is not None else 1)

    def load_data(self) -> None:
        """Ask for a CSV or .npy file and fill the tensor from it as one command; a bad file changes nothing."""
        from gradstudio.model.data import DataFileError, load_data_edit, read_data  # (and csv) when first used

        node, editor = self.node, self.editor
        if node is None or editor is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, f"Load Data into {node.name}", "", DATA_FILTER)
        if not path:
            return
        try:
            array = read_data(path)
        except DataFileError as error:
            problem = f"{path.rsplit('/', 1)[-1]}: {error}"
        else:
            problem = editor.attempt(load_data_edit(editor.document, node.id, array), f"Load data into {node.name}")
        self.status.setText(f"Data not loaded: {problem}" if problem else "")
        self.status.setVisible(problem is not None)
        if self.workspace is not None:
            self.workspace.message.emit(f"Data not loaded: {problem}" if problem else f"Loaded data into {node.name}")

    def _field_for(self, spec: AttributeSpec, tip: str) -> Field:
        return FIELDS[widget_role(spec)](spec, tip, placeholder(spec))

    def _add(self, form: QFormLayout, key: str, text: str, field: Field, tip: str) -> None:
        field.setObjectName(f"field_{key}")
        field.committed.connect(lambda value, key=key: self._commit(key, value))
        pass_undo_through(field)
        self.fields[key] = field
        form.addRow(_label(text, tip), field)

    def _sync(self, result: NodeResult | None) -> None:
        spec = self.node.spec
        name = escaped(short_name(self.node.name))
        self.header.setText(f"<b>{name}</b> — {spec.title} <span style='color:gray'>({spec.kind})</span>")
        for key, field in self.fields.items():
            field.sync(self._model_value(key, result))
        self.status.setText(self._problem(result))
        self.status.setVisible(bool(self.status.text()))

    def _model_value(self, key: str, result: NodeResult | None) -> Any:
        node = self.node
        if key == "name":
            return node.name
        if key == "retain_grad":
            return node.retain_grad
        if is_lesson_key(key):
            return lesson_value(node, key)
        if key.startswith(PORT_KEY):
            return constant_text(node.port_constants.get(key.removeprefix(PORT_KEY)))
        if key == "values" and node.attributes["init"] != "values":
            value = result.value if result is not None and result.ok else None
            if isinstance(value, engine.Tensor):
                return table_values(value.detach().numpy())
        return node.attributes[key]

    def _problem(self, result: NodeResult | None) -> str:
        if result is None or result.ok:
            return ""
        if result.error is not None:
            from gradstudio.model.explain import GENERIC, explain  # loaded by the first error shown

            meaning = explain(result.error).explanation
            return f"Cannot compute: {result.error}" + (f"\n{meaning}" if meaning != GENERIC else "")
        return "Waits for an input that has no value"

    # ----- edits ---------------------------------------------------------------------------------------------

    def _commit(self, key: str, value: Any) -> None:
        """Turn what the user entered in field `key` into one command; show the model's refusal inline."""
        node, field = self.node, self.fields.get(key)
        if node is None or field is None or self.editor is None or node.id not in self.editor.document.nodes:
            return
        if value == field.model_value and key != "values":
            field.show_error(None)
            field.sync(value)  # the same value typed differently: nothing to do
            return
        try:
            edit, text = self._edit_for(node, key, value)
        except EditError as error:  # typed text that is no port constant
            field.show_error(str(error))
            return
        problem = self.editor.attempt(edit, text) if edit is not None else None
        field.show_error(problem)
        if problem is None:
            QTimer.singleShot(0, self, self.refresh)  # later: never rebuild the form while a field is signalling

    def _edit_for(self, node: Node, key: str, value: Any) -> tuple[Edit | None, str]:
        if is_lesson_key(key):
            return lesson_edit(node, key, value)
        if key.startswith(PORT_KEY):
            port = key.removeprefix(PORT_KEY)
            constant = parse_constant(value)
            if constant is None and port not in node.port_constants:
                return None, ""  # blanks typed into an empty field: nothing to remove
            what = f"Set {node.name}.{port} = {constant_text(constant)}" if constant is not None else \
                f"Clear the constant of {node.name}.{port}"
            return SetPortConstant(node.id, port, constant), what
        if key == "name":
            return RenameNode(node.id, value), f"Rename {node.name} to {value}"
        if key == "retain_grad":
            return SetRetainGrad(node.id, bool(value)), f"{'Retain' if value else 'Drop'} {node.name}.grad"
        if key == "values" and node.attributes["init"] != "values":
            edits = [SetAttribute(node.id, "values", value), SetAttribute(node.id, "init", "values")]
            return Batch(edits), f"Edit {node.name} values"
        return SetAttribute(node.id, key, value), f"Set {node.name}.{key}"
