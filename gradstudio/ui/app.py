"""Start the Qt application and show the main window (offering what a crashed run left behind)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from gradstudio.sysdeps import main as check_system_libraries

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

    from gradstudio.ui.main_window import MainWindow
    from gradstudio.ui.settings import AppSettings

DESKTOP_ID = "io.github.gradstudio.GradStudio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """The application icon: every shipped PNG size plus the SVG (an empty icon if none is found)."""
    from PySide6.QtGui import QIcon

    from gradstudio.resource_files import resource_path

    icon = QIcon()
    for size in ICON_SIZES:
        try:
            icon.addFile(str(resource_path("icons", f"{size}x{size}", f"{DESKTOP_ID}.png")))
        except FileNotFoundError:
            continue
    if icon.isNull():
        try:
            icon.addFile(str(resource_path("icons", f"{DESKTOP_ID}.svg")))
        except FileNotFoundError:
            pass
    return icon


def create_window(path: str | None = None, settings: AppSettings | None = None) -> MainWindow:
    """Show the main window (on `path` when given), then offer to restore recovery files of crashed runs."""
    from PySide6.QtWidgets import QApplication

    from gradstudio.ui import themes
    from gradstudio.ui.io.recovery import offer_recovery
    from gradstudio.ui.main_window import MainWindow

    window = MainWindow(settings)
    QApplication.setPalette(themes.application_palette(window.theme))
    if path:
        window.open_path(path)
    window.show()
    offer_recovery(window)
    return window


def run_app(path: str | None = None) -> int:
    """Open the main window (on `path` when given) and run the event loop."""
    if check_system_libraries() != 0:
        return 1
    from PySide6.QtWidgets import QApplication

    from gradstudio.ui.crash import install_crash_handler
    from gradstudio.ui.io.recovery import state_folder

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("GradStudio")
    app.setOrganizationName("GradStudio")
    app.setDesktopFileName(DESKTOP_ID)
    app.setWindowIcon(app_icon())
    app.setStyle("Fusion")
    install_crash_handler(state_folder())
    _window = create_window(path)  # referenced until the event loop ends
    return app.exec()
