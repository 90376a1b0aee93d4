"""The dialog that asks for Backward's gradient argument when the output is not a scalar."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

import gradstudio.engine as engine
from gradstudio.model.explain import NOT_SCALAR, explain


class GradientDialog(QDialog):
    """`name.backward(gradient)`: ones of the output's shape (the default) or values typed in."""

    def __init__(self, name: str, value: engine.Tensor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradientDialog")
        self.setWindowTitle(f"Backward from {name}")
        self.value = value
        shape = list(value.shape)
        layout = QVBoxLayout(self)
        self.intro = intro = QLabel(f"<b>{name}</b> has shape {shape}, so <code>{name}.backward()</code> alone raises "
                       f"<br><code>RuntimeError: {NOT_SCALAR}</code><br>{explain(NOT_SCALAR).explanation}")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.ones = QRadioButton(f"gradient = torch.ones({', '.join(map(str, shape))})")
        self.ones.setObjectName("gradientOnes")
        self.custom = QRadioButton(f"these {value.numel()} values, row by row:")
        self.custom.setObjectName("gradientValues")
        self.group = QButtonGroup(self)
        for button in (self.ones, self.custom):
            self.group.addButton(button)
            layout.addWidget(button)
        self.ones.setChecked(True)
        self.values = QLineEdit()
        self.values.setObjectName("gradientText")
        self.values.setPlaceholderText(", ".join(["1"] * min(value.numel(), 6)) + (", …" if value.numel() > 6 else ""))
        self.values.textEdited.connect(lambda _text: self.custom.setChecked(True))
        layout.addWidget(self.values)
        self.problem = QLabel()
        self.problem.setObjectName("gradientProblem")
        self.problem.setStyleSheet("color: #c0392b")
        layout.addWidget(self.problem)
        self.buttons = self._buttons()
        layout.addWidget(self.buttons)
        self._gradient: engine.Tensor | None = None

    def _buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run Backward")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        return buttons

    def gradient(self) -> engine.Tensor | None:
        """The chosen gradient (after the dialog was accepted)."""
        return self._gradient

    def parse(self) -> engine.Tensor:
        """The gradient the dialog describes now (ValueError saying what is wrong)."""
        if self.ones.isChecked():
            return engine.ones_like(self.value.detach())
        pieces = [piece for piece in re.split(r"[\s,;\[\]]+", self.values.text()) if piece]
        try:
            numbers = np.array([float(piece) for piece in pieces], dtype=np.float64)
        except ValueError:
            raise ValueError("values must be numbers separated by commas or spaces") from None
        if numbers.size != self.value.numel():
            raise ValueError(f"shape {list(self.value.shape)} needs {self.value.numel()} values, got {numbers.size}")
        data = numbers.reshape(tuple(self.value.shape)).astype(self.value.dtype.numpy_dtype)
        return engine.from_numpy(data)

    def accept(self) -> None:
        try:
            self._gradient = self.parse()
        except ValueError as error:
            self.problem.setText(str(error))
            return
        super().accept()
