"""The inspector's scrub slider: drag to change a leaf's number live, as a drag on its node face does.

The slider rests in the middle; a drag moves the value away from where it started by
the leaf's scrub step per slider unit, through the workspace's `LiveScrub` (one
evaluation and one Backward per frame, one undo step for the whole drag), then springs
back to the middle. An arrow key is a one-step change. A tensor leaf picks its cell
with the spin box beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget

if TYPE_CHECKING:
    from gradstudio.ui.workspace import Workspace

SLIDER_UNITS = 100  # each side of the middle
UNIT_STEPS = 2  # scrub steps per slider unit: a full swing moves 200 steps (2.0 for a value of 1)
TIP = "Drag to change the value live: every value and the last Backward follow; the drag undoes as one step"


class ScrubSlider(QWidget):
    """A centred slider (and, for a tensor, a cell picker) that scrubs one leaf of the workspace it is given.

    It lives below the inspector's form, which is rebuilt as fields come and go; `show_leaf` points it at the
    selected leaf or hides it.
    """

    def __init__(self, workspace_of: Callable[[], Workspace | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace_of = workspace_of
        self.node_id: str | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 6)
        label = QLabel("scrub")
        label.setToolTip(TIP)
        layout.addWidget(label)
        self.cell = QSpinBox()
        self.cell.setObjectName("scrubCell")
        self.cell.setToolTip("Which element (flat index) the slider changes")
        layout.addWidget(self.cell)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scrubSlider")
        self.slider.setRange(-SLIDER_UNITS, SLIDER_UNITS)
        self.slider.setToolTip(TIP)
        layout.addWidget(self.slider, 1)
        self._start = 0.0
        self.slider.sliderPressed.connect(self._pressed)
        self.slider.valueChanged.connect(self._moved)
        self.slider.sliderReleased.connect(self._released)
        self.hide()

    def show_leaf(self, node_id: str | None, cells: int = 1) -> None:
        """Scrub this leaf (of `cells` elements) from now on; None hides the slider."""
        if node_id != self.node_id:
            self.cell.setValue(0)
        self.node_id = node_id
        self.cell.setRange(0, max(cells - 1, 0))
        self.cell.setVisible(cells > 1)
        self.setVisible(node_id is not None)

    def _begin(self) -> bool:
        workspace = self.workspace_of()
        if workspace is None or self.node_id is None:
            return False
        session = workspace.scrub.begin(self.node_id, self.cell.value())
        if session is not None:
            self._start = float(session.start)
        return session is not None

    def _pressed(self) -> None:
        self._begin()

    def _moved(self, position: int) -> None:
        workspace = self.workspace_of()
        if workspace is None:
            return
        live = workspace.scrub
        if self.slider.isSliderDown():
            if live.active:
                live.move_to(self._start + position * UNIT_STEPS * live.step())
            return
        if position and self._begin():  # a key or a click on the groove: one change, one step
            live.move_to(self._start + position * UNIT_STEPS * live.step())
            live.end()
        self._recentre()

    def _released(self) -> None:
        workspace = self.workspace_of()
        if workspace is not None:
            workspace.scrub.end()
        self._recentre()

    def _recentre(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
