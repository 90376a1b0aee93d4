"""The quick-add box (Tab or double-click on empty canvas): type to filter ops, Enter adds one at the cursor."""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from gradstudio import engine
from gradstudio.model.catalog import CATALOG

TRIAL_LIMIT = 10_000  # elements: a larger tensor is not tried on every one-input op


def accepting(value: Any) -> list[str]:
    """Op kinds a wire carrying `value` can feed: every op with an input, less one-input ops that refuse it."""
    kinds = [kind for kind, spec in CATALOG.items() if spec.input_ports(spec.default_attributes())]
    trial = isinstance(value, engine.Tensor) and value.numel() <= TRIAL_LIMIT
    return [kind for kind in kinds if not trial or _takes(kind, value)]


def _takes(kind: str, tensor: Any) -> bool:
    """True unless `kind` has one input and fails on `tensor` with its default attributes."""
    spec = CATALOG[kind]
    ports = spec.input_ports(spec.default_attributes())
    if len(ports) != 1:
        return True
    try:
        with engine.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a deprecation warning is not a refusal
            spec.compute({ports[0]: tensor.detach()}, spec.default_attributes())
    except Exception:  # noqa: BLE001 - any refusal means the op does not take this tensor
        return False
    return True


# what people type for an op besides its kind and title: operators, spoken names, other libraries' names
SYNONYMS: dict[str, tuple[str, ...]] = {
    "add": ("+", "plus", "sum of two", "addition"),
    "sub": ("-", "minus", "difference", "subtraction"),
    "mul": ("*", "times", "product of two", "multiplication", "hadamard"),
    "div": ("/", "divided by", "over", "division", "quotient"),
    "pow": ("**", "^", "power", "square", "exponent"),
    "matmul": ("@", "matrix multiply", "matrix product", "dot"),
    "mm": ("matrix multiply",),
    "neg": ("-", "minus", "negative"),
    "relu": ("rectifier", "rectified linear"),
    "mean": ("average", "avg"),
    "sum": ("total", "reduce sum"),
    "max": ("largest", "amax"),
    "min": ("smallest", "amin"),
    "gt": (">",),
    "lt": ("<",),
    "index": ("[]", "slice", "subscript"),
    # and the creation calls the notes make a leaf with (`torch.ones(3, requires_grad=True)`, `torch.randn(2, 2)`)
    "tensor": ("leaf", "input", "variable", "parameter", "weight", "ones", "zeros", "rand", "randn"),
    "scalar": ("constant", "number"),
    "cat": ("concat", "join"),
    "mse_loss": ("mse", "mean squared error", "l2 loss"),
    "T": ("transpose",),
}


def _names(kind: str) -> tuple[str, ...]:
    """The op's kind, title and synonyms, lower case."""
    return (kind.lower(), CATALOG[kind].title.lower(), *SYNONYMS.get(kind, ()))


def matches(kind: str, text: str) -> bool:
    """True when `text` is one of the op's names, or every word of it appears in its names, category or doc."""
    spec = CATALOG[kind]
    text = text.strip().lower()
    if text in _names(kind):
        return True
    haystack = f"{' '.join(_names(kind))} {spec.category} {spec.doc}".lower()
    return all(word in haystack for word in text.split())


def rank(kind: str, text: str) -> int:
    """How well an op matches (lower first): its kind or title is the text, a synonym is, a name starts with it,
    a name contains it, or only the category or doc does."""
    text = text.strip().lower()
    names = _names(kind)
    if text in names[:2]:
        return 0
    if text in names:
        return 1
    if any(name.startswith(text) for name in names):
        return 2
    return 3 if any(text in name for name in names) else 4


NAMED_QUERY = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)\s*(.*)$")


def split_name(text: str) -> tuple[str | None, str]:
    """`"y = +"` -> ("y", "+"): the variable name typed before `=` (as code is written) and the op query after it."""
    match = NAMED_QUERY.match(text)
    return (match.group(1), match.group(2)) if match else (None, text)


class NodeSearch(QFrame):
    """A small floating box with a filter line and the matching ops; emits `chosen(kind)`.

    Typing `name = op` (`y = +`) names the new node as code would; `name` holds it until the next popup.
    """

    chosen = Signal(object)
    closed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("nodeSearch")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("Add node…  (y = + names it y)")
        self.line.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.line)
        layout.addWidget(self.list)
        self.resize(240, 280)
        self.line.textChanged.connect(self._filter)
        self.line.installEventFilter(self)
        self.list.itemActivated.connect(self._activate)
        self.kinds: Collection[str] = CATALOG
        self.name: str | None = None
        self._filter("")
        self.hide()

    def popup(self, position: QPoint, kinds: Collection[str] | None = None) -> None:
        """Show the box at a viewport position, cleared and focused, offering `kinds` (default: every op)."""
        self.kinds = CATALOG if kinds is None else kinds
        self.name = None
        self.line.clear()
        self._filter("")
        parent = self.parentWidget()
        x = min(position.x(), max(0, parent.width() - self.width()))
        y = min(position.y(), max(0, parent.height() - self.height()))
        self.move(x, y)
        self.show()
        self.raise_()
        self.line.setFocus()

    def _filter(self, text: str) -> None:
        self.name, text = split_name(text)
        self.list.clear()
        found = sorted((kind for kind in self.kinds if matches(kind, text)), key=lambda kind: rank(kind, text))
        for kind in found:
            spec = CATALOG[kind]
            item = QListWidgetItem(f"{spec.title}   ·   {spec.category}")
            item.setData(Qt.ItemDataRole.UserRole, kind)
            item.setToolTip(spec.doc)
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def _activate(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.hide()
            self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.closed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.line and event.type() == QEvent.Type.KeyPress:
            return self._key(event)
        if watched is self.line and event.type() == QEvent.Type.FocusOut and not self.list.hasFocus():
            self.hide()
        return super().eventFilter(watched, event)

    def _key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.hide()
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._activate(self.list.currentItem())
            return True
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            step = 1 if key == Qt.Key.Key_Down else -1
            self.list.setCurrentRow(max(0, min(self.list.count() - 1, self.list.currentRow() + step)))
            return True
        return False
