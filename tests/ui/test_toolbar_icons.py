"""Toolbar icons: a freedesktop theme icon when the desktop has one, else the SVG shipped under resources/."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QToolBar

from gradstudio.resource_files import resource_path
from gradstudio.ui import icons
from gradstudio.ui.main_window import MainWindow


def test_every_toolbar_action_has_an_icon_and_keeps_its_text(window: MainWindow) -> None:
    toolbar = window.findChild(QToolBar, "mainToolbar")
    on_toolbar = [action for action in toolbar.actions() if not action.isSeparator()]
    assert on_toolbar and {action.objectName() for action in on_toolbar} <= set(icons.ACTION_ICONS)
    for action in on_toolbar:
        assert not action.icon().isNull() and action.text(), action.objectName()
        assert not action.icon().pixmap(18, 18).isNull()


@pytest.mark.parametrize("name", sorted(icons.ACTION_ICONS))
def test_every_fallback_svg_is_shipped_and_draws(name: str) -> None:
    _theme_name, stem = icons.ACTION_ICONS[name]
    assert resource_path("icons", "actions", f"{stem}.svg").is_file()
    image = icons.fallback_icon(stem).pixmap(24, 24).toImage()
    assert any(image.pixelColor(x, y).alpha() > 0 for x in range(24) for y in range(24))


def test_the_desktop_theme_icon_wins_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    themed = QIcon(str(resource_path("icons", "actions", "edit-clear.svg")))
    asked: list[Any] = []
    monkeypatch.setattr(QIcon, "hasThemeIcon", lambda name: asked.append(name) or name == "document-save")
    monkeypatch.setattr(QIcon, "fromTheme", lambda name, fallback: themed)
    assert icons.action_icon("document-save", "document-save") is themed
    assert icons.action_icon("document-open", "document-open") is not themed
    assert asked == ["document-save", "document-open"]
