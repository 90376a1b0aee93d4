"""Colour themes (light and dark) for the canvas and the application palette."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

THEME_CHOICES = ("light", "dark", "system")


@dataclass(frozen=True)
class Theme:
    """Every colour the canvas draws with."""

    name: str
    background: QColor
    grid_minor: QColor
    grid_major: QColor
    node_body: QColor
    node_border: QColor
    text: QColor
    muted_text: QColor
    error_text: QColor
    selection: QColor
    port: QColor
    port_highlight: QColor
    edge: QColor
    note: QColor
    note_text: QColor
    frame: QColor
    headers: dict[str, QColor] = field(default_factory=dict)
    regions: dict[str, QColor] = field(default_factory=dict)  # a grad-mode frame's colour, by its mode

    def header(self, category: str) -> QColor:
        """Header colour of a node in `category`."""
        return self.headers.get(category, self.node_border)

    def region(self, mode: str) -> QColor:
        """Border and badge colour of a frame in grad mode `mode` (no_grad, enable_grad, inference_mode)."""
        return self.regions.get(mode, self.node_border)


_HEADERS = {
    "Tensors": "#3b82c4", "Arithmetic": "#c47a2c", "Math": "#8a5cc4", "Activations": "#2f9e6e",
    "Reductions": "#c44f4f", "Shape": "#5f7d8c", "Linear algebra": "#b0568f", "Losses": "#9a8a2a",
}


def _colors(mapping: dict[str, str]) -> dict[str, QColor]:
    return {key: QColor(value) for key, value in mapping.items()}


def _theme(name: str, regions: dict[str, str], **colors: str | tuple[int, int, int, int]) -> Theme:
    converted = {key: QColor(*value) if isinstance(value, tuple) else QColor(value) for key, value in colors.items()}
    return Theme(name, headers=_colors(_HEADERS), regions=_colors(regions), **converted)


LIGHT = _theme(
    "light", background="#f4f5f7", grid_minor="#e6e8ec", grid_major="#d3d8de", node_body="#ffffff",
    node_border="#9aa3ad", text="#1d2329", muted_text="#66707a", error_text="#c0392b", selection="#f39c12",
    port="#5d6873", port_highlight="#27ae60", edge="#6b7784", note="#fff3b0", note_text="#3d3520",
    frame=(80, 120, 170, 40),
    regions={"no_grad": "#7d3c98", "enable_grad": "#1e8449", "inference_mode": "#a04000"},
)

DARK = _theme(
    "dark", background="#1e2126", grid_minor="#252930", grid_major="#30353c", node_body="#2c3138",
    node_border="#4a525c", text="#e6e9ed", muted_text="#98a2ad", error_text="#ff6b5b", selection="#f5b041",
    port="#aab4be", port_highlight="#58d68d", edge="#8d99a6", note="#5c5326", note_text="#f4ecd0",
    frame=(120, 160, 220, 45),
    regions={"no_grad": "#c39bd3", "enable_grad": "#7dcea0", "inference_mode": "#f0b27a"},
)


def system_prefers_dark() -> bool:
    """True when the desktop asks for a dark colour scheme."""
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def resolve(choice: str) -> Theme:
    """The theme for a user choice: light, dark or system (follow the desktop)."""
    if choice == "system":
        return DARK if system_prefers_dark() else LIGHT
    return DARK if choice == "dark" else LIGHT


def application_palette(theme: Theme) -> QPalette:
    """A widget palette matching `theme` (Fusion-style dark, or the default light one)."""
    if theme.name == "light":
        return QPalette()
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2f35", QPalette.ColorRole.WindowText: "#e6e9ed",
        QPalette.ColorRole.Base: "#23272c", QPalette.ColorRole.AlternateBase: "#2b2f35",
        QPalette.ColorRole.Text: "#e6e9ed", QPalette.ColorRole.Button: "#32373e",
        QPalette.ColorRole.ButtonText: "#e6e9ed", QPalette.ColorRole.Highlight: "#3d7cc9",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#32373e",
        QPalette.ColorRole.ToolTipText: "#e6e9ed", QPalette.ColorRole.PlaceholderText: "#8d99a6",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6b7480"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b7480"))
    return palette
