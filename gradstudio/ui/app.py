"""Start the Qt application and show the main window."""

from __future__ import annotations

import sys

from gradstudio.sysdeps import main as check_system_libraries

DESKTOP_ID = "io.github.gradstudio.GradStudio"


def run_app(path: str | None = None) -> int:
    """Open the main window (on `path` when given) and run the event loop."""
    if check_system_libraries() != 0:
        return 1
    from PySide6.QtWidgets import QApplication

    from gradstudio.ui import themes
    from gradstudio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("GradStudio")
    app.setOrganizationName("GradStudio")
    app.setDesktopFileName(DESKTOP_ID)
    app.setStyle("Fusion")
    window = MainWindow()
    app.setPalette(themes.application_palette(window.theme))
    if path:
        window.open_path(path)
    window.show()
    return app.exec()
