"""One tensor shown three ways: a chart by rank, PyTorch's repr, and the exact numbers in a table."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

import gradstudio.engine as engine
from gradstudio.engine.autograd import graph
from gradstudio.model.code_literals import element
from gradstudio.ui.text_limits import clip, int_text, shorten_words, tensor_text
from gradstudio.ui.widgets import charts

Index = QModelIndex | QPersistentModelIndex
FIT_CELLS = 4096  # up to this many cells each column fits its contents; beyond, measuring every cell takes seconds
SHOW_LIMIT = 1_000_000  # elements charted and listed; beyond, only the first SHOW_EXTENT along each dimension
SHOW_EXTENT = 1000
SAMPLE = 256  # larger tables size all columns alike, from this many values plus the extremes


def monospace() -> QFont:
    """The fixed-width font reprs and code are shown in."""
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


def cell_text(value: Any, dtype: np.dtype) -> str:
    """One element exactly (the shortest text that reads back the same); `nan`, `inf`, `-inf` as PyTorch prints them."""
    if isinstance(value, np.ndarray) and dtype.kind == "O":
        value = value.item()  # a Python number the scalar view wraps
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)
    if dtype.kind == "f" and not np.isfinite(value):
        return str(float(value))
    try:
        return element(value, dtype)
    except (OverflowError, ValueError, TypeError):  # a Python number beyond float range, say
        return clip(value, 40) if not isinstance(value, int) else int_text(value)


def chart_kind(value: Any) -> str:
    """How a value is drawn: none, empty, scalar (a large number), bar (1-d), heatmap (2-d) or slices (3-d+)."""
    if value is None:
        return "none"
    if not isinstance(value, engine.Tensor):
        return "scalar"
    if value.numel() == 0:
        return "empty"
    return {0: "scalar", 1: "bar", 2: "heatmap"}.get(value.dim(), "slices")


class ArrayModel(QAbstractTableModel):
    """A 0-d, 1-d (one column) or 2-d numpy array as a read-only table of exact numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.array = np.zeros((0, 0))

    def set_array(self, array: np.ndarray) -> None:
        """Show `array` (1-d as a column, 0-d as one cell)."""
        self.beginResetModel()
        self.array = array.reshape(-1, 1) if array.ndim < 2 else array
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else self.array.shape[0]

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else self.array.shape[1]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(self.array[index.row(), index.column()], self.array.dtype)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return str(section) if role == Qt.ItemDataRole.DisplayRole else None


class TensorView(QWidget):
    """A titled column showing one value (or a note saying why there is none).

    The widgets that show a value (`BODY`: chart, repr, table) are made with the first value shown, or when first
    asked for: the window starts with no node selected, and its two views' ~20 widgets were a tenth of the time its
    panels took to build."""

    BODY = frozenset({"body", "chart", "number", "caption", "slices", "text", "table_model", "table"})

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = "none"
        self.value: Any = None
        self._drawn: tuple[int, bool] | None = None  # the shown tensor's version and requires_grad when drawn
        self._body: QSplitter | None = None
        self._key_filters: list[QObject] = []
        self.title = QLabel()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setEnabled(False)
        self.plot: Any = None
        self._spins: list[QSpinBox] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        layout.addStretch(0)  # holds the title and note at the top while there is no value to show
        self.show_value(None, "", "")

    def __getattr__(self, name: str) -> Any:
        # only for names not set yet: the value's widgets, made on first use
        if name in TensorView.BODY and self.__dict__.get("_body", False) is None:
            self._build_body()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def install_key_filter(self, keys: QObject) -> None:
        """Let `keys` see the key events of this view and of its repr and table (now, or when they are made)."""
        self.installEventFilter(keys)
        self._key_filters.append(keys)
        if self._body is not None:
            self.text.installEventFilter(keys)
            self.table.installEventFilter(keys)

    def _build_body(self) -> None:
        """Make the chart, repr and table, showing the current value."""
        self.number = QLabel()
        self.number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.number.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        big = self.number.font()
        big.setPointSize(big.pointSize() * 2 + 6)
        self.number.setFont(big)
        self.caption = QLabel()
        self.caption.setObjectName("chartCaption")
        self.caption.setStyleSheet("color: #d32f2f")
        self.caption.setWordWrap(True)
        self.slices = QWidget()
        self.slices.setLayout(QHBoxLayout())
        self.slices.layout().setContentsMargins(0, 0, 0, 0)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(monospace())
        self.table_model = ArrayModel()
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        for keys in self._key_filters:
            self.text.installEventFilter(keys)
            self.table.installEventFilter(keys)
        self._body = self._layout()
        self._render()

    def _layout(self) -> QSplitter:
        self.chart = QWidget()
        chart_layout = QVBoxLayout(self.chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(self.slices)
        chart_layout.addWidget(self.caption)
        chart_layout.addWidget(self.number, 1)
        numbers = QSplitter(Qt.Orientation.Vertical)
        numbers.addWidget(self.text)
        numbers.addWidget(self.table)
        numbers.setSizes([60, 140])
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.addWidget(self.chart)
        self.body.addWidget(numbers)
        self.body.setSizes([300, 300])
        self.layout().insertWidget(2, self.body, 1)  # below the title and note, above the stretch
        return self.body

    # ----- what is shown -------------------------------------------------------------------------------------

    def show_value(self, value: Any, title: str, note: str) -> None:
        """Show `value` (a tensor, a Python number, or None with only the title and note)."""
        self.title.setText(shorten_words(title))
        self.note.setText(shorten_words(note))
        self.note.setVisible(bool(note))
        tensor = isinstance(value, engine.Tensor) and not value.is_inference()  # inference tensors keep no version
        # requires_grad too: unchecking it on a leaf changes its repr, not its tensor (requires_grad_ in place)
        drawn = (graph.version(value), value.requires_grad) if tensor else None
        if value is self.value and drawn == self._drawn and value is not None:
            return  # the same tensor, unchanged since it was drawn
        self.value, self._drawn = value, drawn
        self.kind = chart_kind(value)
        if self._body is not None:
            self._render()
        elif self.kind != "none":
            self._build_body()

    def _render(self) -> None:
        self.body.setVisible(self.kind not in ("none",))
        self.text.setPlainText(self.copy_text())
        self._draw()

    def copy_text(self) -> str:
        """The value as PyTorch prints it (empty when there is none)."""
        return "" if self.value is None else tensor_text(self.value)

    def _draw(self) -> None:
        array = self._array()
        self._clear_slices()
        self._drop_plot()
        self.number.setVisible(self.kind in ("scalar", "empty"))
        if self.kind == "scalar":
            self.number.setText(cell_text(array.reshape(()), array.dtype))
        elif self.kind == "empty":
            self.number.setText(f"empty: shape {list(array.shape)}")
        elif self.kind == "slices":
            self._add_slice_selector(array.shape)
        self._show_part(array)

    def _array(self) -> np.ndarray:
        if isinstance(self.value, engine.Tensor):
            return self.value.detach().numpy()
        return np.asarray(self.value if self.value is not None else np.zeros((0, 0)))

    def _show_part(self, array: np.ndarray) -> None:
        """Chart and table of the whole value, or of the selected 2-d slice of a higher-rank one."""
        if self.kind == "slices":
            array = array[tuple(spin.value() for spin in self._spins)]
        whole = array.shape
        if array.size > SHOW_LIMIT:  # an expanded view can be huge: chart and list only its first rows and columns
            array = array[tuple(slice(0, SHOW_EXTENT) for _ in whole)]
        self._size_columns(array)  # before the reset: a reset in fit-to-contents mode measures every cell
        self.table_model.set_array(array if array.ndim else array.reshape(1))
        charted = self.kind in ("bar", "heatmap", "slices") and array.size
        caption = charts.nonfinite_caption(array) if charted else ""
        if array.shape != whole:
            cut = " × ".join(str(n) for n in array.shape)
            caption = f"showing the first {cut} of {list(whole)}" + (f"; {caption}" if caption else "")
        self.caption.setText(caption)
        self.caption.setVisible(bool(self.caption.text()))
        if charted:
            self._drop_plot()
            self.plot = charts.new_plot(self.chart)
            self.chart.layout().addWidget(self.plot, 1)
            (charts.show_bars if array.ndim == 1 else charts.show_heatmap)(self.plot, array)

    def _size_columns(self, array: np.ndarray) -> None:
        """Columns fit their contents in a small table; a large one gets one width from a sample of its values."""
        header = self.table.horizontalHeader()
        if array.size <= FIT_CELLS:
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            return
        flat = array.reshape(-1)
        sample = [flat[:SAMPLE], flat[-1:]]
        if np.issubdtype(array.dtype, np.number):
            sample.append(np.asarray([np.nanmin(flat), np.nanmax(flat)] if np.isfinite(flat).any() else [],
                                     dtype=array.dtype))
        metrics = self.table.fontMetrics()
        width = max(metrics.horizontalAdvance(cell_text(v, array.dtype)) for v in np.concatenate(sample))
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(width + 12)

    def _drop_plot(self) -> None:
        if self.plot is not None:
            self.plot.hide()
            self.plot.deleteLater()
            self.plot = None

    # ----- slices of 3-d and higher tensors ------------------------------------------------------------------

    def _add_slice_selector(self, shape: tuple[int, ...]) -> None:
        layout = self.slices.layout()
        layout.addWidget(QLabel("slice"))
        self._spins = []
        for dim, extent in enumerate(shape[:-2]):
            spin = QSpinBox()
            spin.setObjectName(f"sliceDim{dim}")
            spin.setRange(0, extent - 1)
            spin.setPrefix(f"dim {dim}: ")
            spin.valueChanged.connect(lambda _=0: self._show_part(self._array()))
            layout.addWidget(spin)
            self._spins.append(spin)
        layout.addWidget(QLabel(", :, :"))
        layout.addStretch(1)
        self.slices.show()

    def _clear_slices(self) -> None:
        layout = self.slices.layout()
        while layout.count():
            item = layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._spins = []
        self.slices.hide()
