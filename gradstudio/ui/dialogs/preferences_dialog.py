"""Edit > Preferences…: the settings a user may change that are not on a menu (the element limit)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from gradstudio.model.limits import MAX_ELEMENTS_CEILING


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
    """The element limit per tensor, checked as typed; OK only when it is valid."""

    def __init__(self, max_elements: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.max_elements_edit = QLineEdit(f"{max_elements:,}")
        self.max_elements_edit.setObjectName("maxElementsEdit")
        self.max_elements_edit.setToolTip("Larger tensors are refused before they are computed")
        form.addRow("Elements per tensor:", self.max_elements_edit)
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
