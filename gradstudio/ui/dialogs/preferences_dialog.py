"""Edit > Preferences…: the settings a user may change that are not on a menu (the element limit, animations)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from gradstudio.model.limits import MAX_ELEMENTS_CEILING
from gradstudio.ui.settings import ANIMATION_RANGE, ANIMATION_SECONDS


def parse_element_limit(text: str) -> int | str:
    """The element limit typed as `text` (digits, with `,` `_` or spaces between groups), or why it is refused."""
    digits = "".join(text.split()).replace(",", "").replace("_", "")
    if not digits:
        return "type how many elements one tensor may hold"
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        return f"a whole number from 1 to {MAX_ELEMENTS_CEILING:,}"
    count = int(digits)
    if not 1 <= count <= MAX_ELEMENTS_CEILING:
        return f"a whole number from 1 to {MAX_ELEMENTS_CEILING:,}"
    return count


class PreferencesDialog(QDialog):
    """The element limit per tensor, checked as typed (OK only when it is valid), and how passes animate."""

    def __init__(self, max_elements: int, parent: QWidget | None = None, animate: bool = True,
                 seconds: float = ANIMATION_SECONDS) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.max_elements_edit = QLineEdit(f"{max_elements:,}")
        self.max_elements_edit.setObjectName("maxElementsEdit")
        self.max_elements_edit.setToolTip("Larger tensors are refused before they are computed")
        form.addRow("Elements per tensor:", self.max_elements_edit)
        self.animate_check = QCheckBox("Animate Play Forward and Play Backward")
        self.animate_check.setObjectName("animatePassesCheck")
        self.animate_check.setChecked(animate)
        self.animate_check.setToolTip("Off: playing a pass shows it finished at once")
        form.addRow("Animations:", self.animate_check)
        self.seconds_spin = QDoubleSpinBox()
        self.seconds_spin.setObjectName("animationSecondsSpin")
        self.seconds_spin.setRange(*ANIMATION_RANGE)
        self.seconds_spin.setDecimals(2)
        self.seconds_spin.setSingleStep(0.25)
        self.seconds_spin.setSuffix(" s")
        self.seconds_spin.setValue(seconds)
        self.seconds_spin.setToolTip("How long one animated pass takes, whatever the graph's size")
        self.animate_check.toggled.connect(self.seconds_spin.setEnabled)
        self.seconds_spin.setEnabled(animate)
        form.addRow("One pass takes:", self.seconds_spin)
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setObjectName("preferencesProblem")
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.max_elements_edit.textChanged.connect(self._check)
        self._check()

    def max_elements(self) -> int | None:
        """The typed limit, or None when it is not valid."""
        parsed = parse_element_limit(self.max_elements_edit.text())
        return parsed if isinstance(parsed, int) else None

    def _check(self) -> None:
        parsed = parse_element_limit(self.max_elements_edit.text())
        self.problem.setText("" if isinstance(parsed, int) else parsed)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(isinstance(parsed, int))
