"""The Check Gradient dialog: analytic and numerical gradients of the target w.r.t. one node, side by side."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from gradstudio.model.gradcheck import ATOL, RTOL, GradCheck

COLUMNS = ("element", "analytic (autograd)", "numerical (central differences)", "|difference|")


def _index(shape: tuple[int, ...], flat: int) -> str:
    """`[i, j]` of a flat position (`[]` for a 0-d tensor)."""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]" if shape else "[]"


class GradCheckDialog(QDialog):
    """A non-modal dialog with one row per element and the verdict on top."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradCheckDialog")
        self.setWindowTitle(title)
        self.resize(560, 380)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setObjectName("gradCheckSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("gradCheckTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)

    def show_check(self, check: GradCheck, node: str, target: str) -> None:
        """Fill in the numbers of `check` (node and target are variable names)."""
        verdict = "<span style='color:#1e8449'>agree</span>" if check.passed else \
            "<span style='color:#c0392b'>DISAGREE</span>"
        self.summary.setText(
            f"<b>∂{target}/∂{node}</b>, float64, central differences with eps = {check.eps:g}: the gradients "
            f"{verdict}.<br>max |difference| = <b>{check.max_difference:.3g}</b> "
            f"(tolerance {ATOL:g} + {RTOL:g}·|numerical|)")
        shape = check.analytic.shape
        analytic, numerical = check.analytic.reshape(-1), check.numerical.reshape(-1)
        difference = check.difference.reshape(-1)
        self.table.setRowCount(analytic.size)
        for row in range(analytic.size):
            cells = (_index(shape, row), f"{analytic[row]:.8g}", f"{numerical[row]:.8g}", f"{difference[row]:.3g}")
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def show_problem(self, text: str) -> None:
        """Say why the check could not run."""
        self.summary.setText(f"<span style='color:#c0392b'>The gradient check cannot run: {text}</span>")
        self.table.setRowCount(0)
