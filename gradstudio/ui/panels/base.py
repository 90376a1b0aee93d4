"""The one protocol every panel follows: bind to a workspace, and show a selection.

A panel is a dock that repaints from its workspace's signals. `bind` swaps the
workspace (when another document opens) and disconnects from the old one, so a
panel never shows a closed graph; `show_selection` is called with the selected
node ids. Subclasses implement `refresh` and read what they show from
`self.workspace`, never from the window. A closed panel does not repaint: what
it missed is shown when it is opened again (an edit at 1,000 nodes pays only for
the panels on screen, and start-up builds nothing for the closed ones).
"""

from __future__ import annotations

from PySide6.QtCore import QMetaObject, QObject
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDockWidget, QWidget

from gradstudio.model.document import Node
from gradstudio.ui.workspace import Workspace


class PanelDock(QDockWidget):
    """A dock bound to the open workspace; it repaints on the signals named in `follows`."""

    # which workspace signals call `refresh`: values, backward, settings (selection always does)
    follows: tuple[str, ...] = ("values_changed", "backward_changed", "settings_changed")

    def __init__(self, title: str, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setObjectName(object_name)
        self.workspace: Workspace | None = None
        self.selection: list[str] = []
        self._connections: list[QMetaObject.Connection] = []
        self.stale = False  # something changed while the panel was closed: it refreshes when shown

    def bind(self, workspace: Workspace) -> None:
        """Show `workspace` from now on (the previous one is let go)."""
        for connection in self._connections:
            QObject.disconnect(connection)
        self.workspace = workspace
        self._connections = [getattr(workspace, name).connect(self._follow) for name in self.follows]
        self._connections.append(workspace.selection_changed.connect(self.show_selection))
        self.selection = list(workspace.selection)
        self._refresh_when_shown()

    def _follow(self, *_payload: object) -> None:
        self._refresh_when_shown()

    def _refresh_when_shown(self) -> None:
        """Refresh now if the panel is open, else on its next show."""
        if self.isHidden():
            self.stale = True
        else:
            self.stale = False
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        # opened (View > Panels, or by the window): catch up with what changed while it was closed
        super().showEvent(event)
        if self.stale:
            self.stale = False
            self.refresh()

    def show_selection(self, node_ids: list[str]) -> None:
        """The canvas selection changed to `node_ids`."""
        self.selection = list(node_ids)
        self._refresh_when_shown()

    def selected_node(self) -> Node | None:
        """The single selected node, or None."""
        if self.workspace is None or len(self.selection) != 1:
            return None
        return self.workspace.document.nodes.get(self.selection[0])

    def refresh(self) -> None:
        """Repaint from the workspace (subclasses)."""

