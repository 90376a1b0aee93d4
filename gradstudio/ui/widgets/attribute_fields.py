"""Inspector fields: one editor widget per attribute kind, each with an error line under it.

A field shows the model's value, emits `committed` with what the user entered (converted, never
checked: the model decides), and shows the model's refusal inline until the input changes.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gradstudio.model.attribute_text import format_number, format_value, parse_number, parse_value
from gradstudio.model.op_spec import AttributeSpec

INT_RANGE = (-(2**31), 2**31 - 1)
ERROR_COLOUR = "#d32f2f"
VALUES_TABLE_LIMIT = 64  # explicit values are edited in a table up to this many elements


class Field(QWidget):
    """An editor widget with an inline error message under it."""

    committed = Signal(object)

    def __init__(self, editor: QWidget, tip: str) -> None:
        super().__init__()
        self.editor = editor
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR}")
        self.error.hide()
        self.model_value: Any = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(editor)
        layout.addWidget(self.error)
        editor.setToolTip(tip)

    @property
    def refused(self) -> bool:
        """True while the field shows a refusal."""
        return not self.error.isHidden()

    def sync(self, value: Any) -> None:
        """Show the model's value, unless the field holds refused input and the model value is unchanged."""
        if self.refused and value == self.model_value:
            return
        self.model_value = value
        self.revert()

    def revert(self) -> None:
        """Show the model's value again, dropping what was typed or refused."""
        self.show_error(None)
        self.editor.blockSignals(True)
        try:
            self.display(self.model_value)
        finally:
            self.editor.blockSignals(False)

    def display(self, value: Any) -> None:
        """Put `value` in the editor widget (signals blocked)."""
        raise NotImplementedError

    def show_error(self, problem: str | None) -> None:
        """Mark the input refused (red border, the reason underneath), or clear that."""
        self.error.setText(problem or "")
        self.error.setVisible(problem is not None)
        self.editor.setProperty("invalid", problem is not None)
        self.editor.setStyleSheet(self._invalid_style() if problem is not None else "")
        self.editor.setAccessibleDescription(problem or "")
        self._fit_error()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A new width wraps the refusal onto another number of lines."""
        super().resizeEvent(event)
        self._fit_error()

    def _fit_error(self) -> None:
        """Reserve the lines the wrapped refusal takes at the field's width: the inspector's form and scroll area
        keep a word-wrapped label's earlier height, which cut a longer refusal off."""
        self.error.setMinimumHeight(0)  # a label's height for width is at least its minimum height
        if not self.error.isHidden():
            self.error.setMinimumHeight(self.error.heightForWidth(self.width()))

    def _invalid_style(self) -> str:
        kind = type(self.editor).__name__
        return f"{kind} {{ border: 2px solid {ERROR_COLOUR}; border-radius: 3px; padding: 1px 2px; }}"

    def has_pending_input(self) -> bool:
        """True when the editor holds typing not yet committed (then Ctrl+Z undoes the typing, not the document)."""
        return False

    def commit_pending(self) -> None:
        """Commit typing not yet entered (fields that commit on every change have none)."""

    def retire(self) -> None:
        """The form is being replaced: emit nothing more (the editor may still lose its focus on the way out)."""
        self.blockSignals(True)
        self.editor.blockSignals(True)


class TextField(Field):
    """A line edit for shapes, dims, numbers and text; Enter (or leaving the field) commits."""

    def __init__(self, spec: AttributeSpec | None, tip: str, placeholder: str = "") -> None:
        super().__init__(QLineEdit(), tip)
        self.spec = spec
        self.editor.setPlaceholderText(placeholder)
        self.editor.editingFinished.connect(self._finish)
        self.editor.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Escape drops the typing or the refused input (a learner's way out of a red field)."""
        if (watched is self.editor and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Escape and (self.refused or self.has_pending_input())):
            self.revert()
            return True
        return super().eventFilter(watched, event)

    def display(self, value: Any) -> None:
        self.editor.setText(self.text_of(value))

    def text_of(self, value: Any) -> str:
        """How the model's value reads in the line edit."""
        return format_value(self.spec, value) if self.spec is not None else str(value)

    def _finish(self) -> None:
        text = self.editor.text()
        if text == self.text_of(self.model_value) and not self.refused:
            return
        self.committed.emit(parse_value(self.spec, text) if self.spec is not None else text)

    def has_pending_input(self) -> bool:
        return self.editor.text() != self.text_of(self.model_value)

    def commit_pending(self) -> None:
        self._finish()


class SpinField(Field):
    """A spin box for integer attributes (the range is wide: the model, not the widget, sets the limits)."""

    def __init__(self, tip: str) -> None:
        spin = QSpinBox()
        spin.setRange(*INT_RANGE)
        spin.setKeyboardTracking(False)
        spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        super().__init__(spin, tip)
        spin.valueChanged.connect(self._changed)

    def display(self, value: Any) -> None:
        self.editor.setValue(int(value))

    def _changed(self, value: int) -> None:
        if value != self.model_value or self.refused:
            self.committed.emit(value)

    def has_pending_input(self) -> bool:
        return self.editor.lineEdit().text() != self.editor.textFromValue(int(self.model_value))

    def commit_pending(self) -> None:
        self.editor.interpretText()


class CheckField(Field):
    """A checkbox for true/false attributes; a click commits."""

    def __init__(self, text: str, tip: str) -> None:
        super().__init__(QCheckBox(text), tip)
        self.editor.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # clickable where it shows
        self.editor.toggled.connect(self.committed.emit)

    def display(self, value: Any) -> None:
        self.editor.setChecked(bool(value))


class ChoiceField(Field):
    """A combo box of the attribute's choices; picking one commits."""

    def __init__(self, choices: tuple[str, ...], tip: str) -> None:
        combo = QComboBox()
        combo.addItems(list(choices))
        super().__init__(combo, tip)
        combo.activated.connect(lambda index: self.committed.emit(combo.itemText(index)))

    def display(self, value: Any) -> None:
        self.editor.setCurrentIndex(self.editor.findText(str(value)))


class ValuesField(Field):
    """A table of a small tensor's values, rows x columns (the last dimension across); editing a cell commits
    every value, in order."""

    def __init__(self, shape: tuple[int, ...], tip: str) -> None:
        table = QTableWidget()
        columns = shape[-1] if shape else 1
        rows = max(1, math.prod(shape) // columns) if columns else 0
        table.setRowCount(rows)
        table.setColumnCount(columns)
        table.setHorizontalHeaderLabels([str(i) for i in range(columns)])  # indices count from 0, as in Python
        table.setVerticalHeaderLabels([str(i) for i in range(rows)])
        header = table.horizontalHeader()
        # cells as narrow as their numbers, no narrower than a row is high: a fixed 40 px made a 4-element
        # tensor scroll sideways in the inspector at 1366 px
        header.setMinimumSectionSize(table.fontMetrics().height() + 8)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        row_height = table.fontMetrics().height() + 8
        table.verticalHeader().setDefaultSectionSize(row_height)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        scroll_bar = table.horizontalScrollBar().sizeHint().height()
        table.setFixedHeight(header.sizeHint().height() + min(rows, 8) * row_height + 2 * table.frameWidth()
                             + scroll_bar)
        super().__init__(table, tip)
        table.itemChanged.connect(lambda _item: self.committed.emit(self.entered()))

    def display(self, value: Any) -> None:
        table = self.editor
        flat = list(value)
        for index in range(table.rowCount() * table.columnCount()):
            text = format_number(flat[index]) if index < len(flat) else ""
            table.setItem(*divmod(index, table.columnCount()), QTableWidgetItem(text))

    def entered(self) -> tuple:
        """Every filled cell's text, row by row, as numbers where they are numbers (empty cells are missing
        values: the node then says how many it needs)."""
        table = self.editor
        cells = [table.item(row, column) for row in range(table.rowCount()) for column in range(table.columnCount())]
        texts = [cell.text() for cell in cells if cell is not None and cell.text().strip()]
        return tuple(parse_number(text) for text in texts)


class UndoPassThrough(QObject):
    """Lets Ctrl+Z / Ctrl+Shift+Z reach the window's Undo and Redo from a field with nothing typed in it."""

    def __init__(self, field: Field) -> None:
        super().__init__(field)
        self.field = field

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            history = event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)
            if history and not self.field.has_pending_input():
                event.ignore()
                return True  # unaccepted: the shortcut goes to the window's action
        return False


def pass_undo_through(field: Field) -> None:
    """Install `UndoPassThrough` on a field's editor (and a spin box's inner line edit)."""
    watcher = UndoPassThrough(field)
    field.editor.installEventFilter(watcher)
    if isinstance(field.editor, QAbstractSpinBox):
        field.editor.lineEdit().installEventFilter(watcher)
