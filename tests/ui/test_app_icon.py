"""The window carries the application icon in every shipped size."""

from gradstudio.desktop_install import ICON_SIZES
from gradstudio.ui.app import app_icon


def test_the_window_has_the_icon(window):
    sizes = {(s.width(), s.height()) for s in window.windowIcon().availableSizes()}
    assert {(size, size) for size in ICON_SIZES} <= sizes


def test_app_icon_is_found_through_the_resources(qapp):
    assert not app_icon().isNull()
