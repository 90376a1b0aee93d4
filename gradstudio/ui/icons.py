"""Toolbar icons: the desktop's freedesktop icon theme first, else the SVGs shipped in resources/icons/actions/."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from gradstudio.resource_files import resource_path

# action object name -> (freedesktop icon name, shipped fallback file stem)
ACTION_ICONS: dict[str, tuple[str, str]] = {
    "actionNew": ("document-new", "document-new"),
    "actionOpen": ("document-open", "document-open"),
    "actionSave": ("document-save", "document-save"),
    "actionUndo": ("edit-undo", "edit-undo"),
    "actionRedo": ("edit-redo", "edit-redo"),
    "actionFitView": ("zoom-fit-best", "zoom-fit-best"),
    "actionAutoLayout": ("", "auto-layout"),  # no freedesktop name says "lay out a graph"
    "actionBackward": ("", "backward"),
    "actionStepBackward": ("media-skip-backward", "step-backward"),
    "actionZeroGrad": ("edit-clear", "edit-clear"),
    "actionNoGrad": ("", "no-grad"),
}


def fallback_icon(stem: str) -> QIcon:
    """The shipped SVG `resources/icons/actions/<stem>.svg` (an empty icon when it is missing)."""
    try:
        return QIcon(str(resource_path("icons", "actions", f"{stem}.svg")))
    except FileNotFoundError:
        return QIcon()


def action_icon(theme_name: str, stem: str) -> QIcon:
    """The theme's icon called `theme_name` when the desktop has one, else the shipped fallback."""
    fallback = fallback_icon(stem)
    if theme_name and QIcon.hasThemeIcon(theme_name):
        return QIcon.fromTheme(theme_name, fallback)
    return fallback
