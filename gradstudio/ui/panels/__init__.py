"""The dockable panels of the main window, registered in one table.

Each panel is a `PanelDock` (see `base.py`): it binds to the open workspace and
shows a selection. The window creates the docks from `PANELS`, in this order, and
the View > Panels menu lists them; adding a panel is its own module plus one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from gradstudio.ui.panels.autograd_view import AutogradDock
from gradstudio.ui.panels.base import PanelDock
from gradstudio.ui.panels.code_panel import CodeDock
from gradstudio.ui.panels.inspector import InspectorDock
from gradstudio.ui.panels.lesson_panel import LessonDock
from gradstudio.ui.panels.palette import Palette
from gradstudio.ui.panels.step_panel import StepPanel
from gradstudio.ui.panels.train_panel import TrainDock
from gradstudio.ui.panels.values_panel import ValuesDock

Area = Qt.DockWidgetArea


@dataclass(frozen=True)
class PanelEntry:
    """How the window places one panel: its attribute on the window, factory, dock area and first size."""

    attribute: str
    factory: Callable[[QWidget], PanelDock]
    area: Area
    shown: bool = True
    size: int | None = None  # width on the sides, height at the bottom
    tab_with: str | None = None  # the attribute of a panel (earlier in the table) whose dock it shares as a tab


PANELS: tuple[PanelEntry, ...] = (
    PanelEntry("palette", Palette, Area.LeftDockWidgetArea, size=170),
    PanelEntry("inspector", InspectorDock, Area.RightDockWidgetArea, size=270),
    # a tab beside the inspector, with the window's height for its explanations; shown when a lesson opens to be
    # played (MainWindow.set_workspace)
    PanelEntry("lesson_panel", LessonDock, Area.RightDockWidgetArea, shown=False, size=340,
               tab_with="inspector"),
    # value and gradient side by side need the window's width: the values panel sits below the canvas,
    # low at first (it says "select a node" until there is something to show), so the canvas gets the room
    PanelEntry("values_panel", ValuesDock, Area.BottomDockWidgetArea, size=130),
    PanelEntry("code_panel", CodeDock, Area.BottomDockWidgetArea),
    PanelEntry("train_panel", TrainDock, Area.BottomDockWidgetArea, shown=False),
    PanelEntry("step_panel", StepPanel, Area.BottomDockWidgetArea, shown=False),
    PanelEntry("autograd_panel", AutogradDock, Area.BottomDockWidgetArea, shown=False),
)
