"""The palette dock: every op of the catalog by category, filterable, dragged onto the canvas to add it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gradstudio.model.catalog import CATALOG, CATEGORIES
from gradstudio.ui.canvas.search import matches
from gradstudio.ui.canvas.view import OP_MIME
from gradstudio.ui.panels.base import PanelDock

KIND_ROLE = Qt.ItemDataRole.UserRole


class OpTree(QTreeWidget):
    """Categories with their ops; dragging an op carries its kind as `application/x-gradstudio-op`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paletteTree")
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for category in CATEGORIES:
            group = QTreeWidgetItem(self, [category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for kind, spec in CATALOG.items():
                if spec.category == category:
                    item = QTreeWidgetItem(group, [spec.title])
                    item.setData(0, KIND_ROLE, kind)
                    item.setToolTip(0, f"{spec.title} ({kind})\n{spec.doc}")
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                                  | Qt.ItemFlag.ItemIsDragEnabled)
        self.expandAll()

    def mimeTypes(self) -> list[str]:
        return [OP_MIME]

    def supportedDropActions(self) -> Qt.DropAction:
        # copy only: a move would make the item view delete the dragged op from the palette
        return Qt.DropAction.CopyAction

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        mime = QMimeData()
        kinds = [item.data(0, KIND_ROLE) for item in items if item.data(0, KIND_ROLE)]
        if kinds:
            mime.setData(OP_MIME, kinds[0].encode("utf-8"))
            mime.setText(kinds[0])
        return mime

    def op_item(self, kind: str) -> QTreeWidgetItem | None:
        """The tree item of op `kind`."""
        for index in range(self.topLevelItemCount()):
            group = self.topLevelItem(index)
            for child in range(group.childCount()):
                if group.child(child).data(0, KIND_ROLE) == kind:
                    return group.child(child)
        return None

    def apply_filter(self, text: str) -> None:
        """Show only ops matching `text` (and the categories that still have some)."""
        for index in range(self.topLevelItemCount()):
            group = self.topLevelItem(index)
            visible = 0
            for child in range(group.childCount()):
                item = group.child(child)
                shown = matches(item.data(0, KIND_ROLE), text)
                item.setHidden(not shown)
                visible += shown
            group.setHidden(visible == 0)


class Palette(PanelDock):
    """The `palette` dock: a filter box over the op tree; double-click adds an op at the canvas centre."""

    activated = Signal(object)
    follows = ()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Palette", "palette", parent)
        body = QWidget(self)
        self.filter = QLineEdit(body)
        self.filter.setObjectName("paletteFilter")
        self.filter.setPlaceholderText("Filter ops…")
        self.filter.setClearButtonEnabled(True)
        self.tree = OpTree(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self.setWidget(body)
        self.filter.textChanged.connect(self.tree.apply_filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind:
            self.activated.emit(kind)

    def show_selection(self, node_ids: list[str]) -> None:
        """The catalog does not depend on the selection."""
        self.selection = list(node_ids)
