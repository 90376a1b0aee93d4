"""What the app remembers between runs (QSettings): window and docks, recent files, theme, snapping, limits."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from gradstudio.model.limits import DEFAULT_MAX_ELEMENTS, MAX_ELEMENTS_CEILING
from gradstudio.ui.themes import THEME_CHOICES

MAX_RECENT = 10
ANIMATION_SECONDS = 1.0  # one animated pass, by default: about a second for the notes' graph
ANIMATION_RANGE = (0.05, 10.0)  # seconds a pass may take, fastest to slowest


class AppSettings:
    """Typed access to the app's QSettings (tests pass a QSettings backed by a temporary file)."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings()

    def save_window(self, window: QMainWindow) -> None:
        """Remember the window's geometry and its dock and toolbar layout."""
        self.store.setValue("window/geometry", window.saveGeometry())
        self.store.setValue("window/state", window.saveState())

    def restore_window(self, window: QMainWindow) -> bool:
        """Put the window and its docks back where they were; False when nothing was saved."""
        geometry = self.store.value("window/geometry")
        state = self.store.value("window/state")
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            window.restoreState(state)
        return isinstance(geometry, QByteArray)

    def recent_files(self) -> list[str]:
        """Recently opened or saved files, newest first, existing ones only."""
        stored = self.store.value("files/recent", [])
        paths = [stored] if isinstance(stored, str) else list(stored or [])
        return [path for path in paths if Path(path).is_file()]

    def add_recent_file(self, path: str) -> None:
        """Put `path` first in the recent files."""
        path = str(Path(path).resolve())
        paths = [path, *(p for p in self.recent_files() if p != path)][:MAX_RECENT]
        self.store.setValue("files/recent", paths)

    def clear_recent_files(self) -> None:
        """Forget the recent files."""
        self.store.setValue("files/recent", [])

    def theme(self) -> str:
        """The chosen theme: light, dark or system."""
        value = self.store.value("view/theme", "system")
        return value if value in THEME_CHOICES else "system"

    def set_theme(self, choice: str) -> None:
        """Remember the chosen theme."""
        self.store.setValue("view/theme", choice)

    def snap_to_grid(self) -> bool:
        """Whether dragged items snap to the grid."""
        return self.store.value("view/snap", False, type=bool)

    def set_snap_to_grid(self, on: bool) -> None:
        """Remember the snapping choice."""
        self.store.setValue("view/snap", on)

    def show_minimap(self) -> bool:
        """Whether the overview is shown."""
        return self.store.value("view/minimap", True, type=bool)

    def set_show_minimap(self, on: bool) -> None:
        """Remember whether the overview is shown."""
        self.store.setValue("view/minimap", on)

    def show_versions(self) -> bool:
        """Whether node faces show their tensor's version counter (off by default)."""
        return self.store.value("view/versions", False, type=bool)

    def set_show_versions(self, on: bool) -> None:
        """Remember whether node faces show version counters."""
        self.store.setValue("view/versions", on)

    def max_elements(self) -> int:
        """The limit on one tensor's elements (default 10**7); a stored value out of range reads as the default."""
        value = self.store.value("limits/max_elements", DEFAULT_MAX_ELEMENTS)
        try:
            count = int(value)
        except (TypeError, ValueError):
            return DEFAULT_MAX_ELEMENTS
        return count if 1 <= count <= MAX_ELEMENTS_CEILING else DEFAULT_MAX_ELEMENTS

    def set_max_elements(self, count: int) -> None:
        """Remember the limit on one tensor's elements."""
        self.store.setValue("limits/max_elements", int(count))

    def animate_passes(self) -> bool:
        """Whether Play Forward / Play Backward animate (off: they show the finished pass at once)."""
        return self.store.value("view/animate_passes", True, type=bool)

    def set_animate_passes(self, on: bool) -> None:
        """Remember whether passes animate."""
        self.store.setValue("view/animate_passes", bool(on))

    def animation_seconds(self) -> float:
        """How long one animated pass takes (a stored value out of range reads as the default)."""
        try:
            seconds = float(self.store.value("view/animation_seconds", ANIMATION_SECONDS))
        except (TypeError, ValueError):
            return ANIMATION_SECONDS
        low, high = ANIMATION_RANGE
        return seconds if low <= seconds <= high else ANIMATION_SECONDS

    def set_animation_seconds(self, seconds: float) -> None:
        """Remember how long one animated pass takes."""
        self.store.setValue("view/animation_seconds", float(seconds))
