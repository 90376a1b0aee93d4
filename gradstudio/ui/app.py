"""Start the Qt application and show the main window (offering what a crashed run left behind)."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import ModuleType
from typing import TYPE_CHECKING

from gradstudio.dataclass_code_cache import cached_dataclass_code
from gradstudio.sysdeps import main as check_system_libraries

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

    from gradstudio.ui.main_window import MainWindow
    from gradstudio.ui.settings import AppSettings

DESKTOP_ID = "io.github.gradstudio.GradStudio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)

# The Qt-free modules the main window's first frame uses (numpy, the engine and the stdlib come with them),
# imported by `load_qt_free_layers` before PySide6; tests/ui/test_startup_imports.py keeps the list complete.
QT_FREE_MODULES = (
    "gradstudio.ui.crash",
    "gradstudio.model.workspace", "gradstudio.model.io.fileformat", "gradstudio.model.io.codegen",
    "gradstudio.model.io.torch_file", "gradstudio.model.io.code_suffixes", "gradstudio.model.versions",
    "gradstudio.model.flow_view", "gradstudio.model.autograd_graph", "gradstudio.model.chain_rule",
    "gradstudio.model.lesson_play", "gradstudio.model.scrub", "gradstudio.model.broadcasting",
    "gradstudio.model.attribute_text", "gradstudio.model.formulas",
    "gradstudio.resource_files",
    # the UI's own Qt-free modules, and the package files of its subpackages
    "gradstudio.ui.io.recovery_files", "gradstudio.ui.text_limits", "gradstudio.ui.canvas.preview",
    "gradstudio.ui.backward", "gradstudio.ui.dialogs", "gradstudio.ui.edit", "gradstudio.ui.widgets",
)


def load_qt_free_layers() -> None:
    """Import the model, the engine and numpy before Qt: PySide6's import hook reads the source of every module
    imported after PySide6 (to see whether it uses `__feature__`), about a tenth of a millisecond for each of
    these ~200 modules; imported first, they skip it."""
    for name in QT_FREE_MODULES:
        importlib.import_module(name)


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


@contextmanager
def own_modules_judged_cheaply() -> Iterator[None]:
    """While start-up imports the window's modules and opens the window, let PySide6's import hook judge this
    package's modules from their raw bytes.

    The hook (`shibokensupport.feature`, PySide6's `__feature__` support) judges each module imported after PySide6,
    the first time it sees its name, by whether its source names PySide6, read with `inspect.getsource` (the file
    decoded, split into lines and joined again): ~130 of ours at start (each Qt-free module too, when a UI module
    imports from it), about 5 ms. Our sources are UTF-8, so searching the file's bytes gives the same answer. Any
    other module, and every module imported after the block, gets the hook's own check; without the hook (another
    PySide6), nothing changes.
    """
    feature = sys.modules.get("shibokensupport.feature")
    reads_source = getattr(feature, "_mod_uses_pyside", None)
    if reads_source is None:
        yield
        return
    package = __package__.partition(".")[0]

    def uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if getattr(module, "__name__", "").partition(".")[0] == package and path and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                pass
        return reads_source(module)

    feature._mod_uses_pyside = uses_pyside
    try:
        yield
    finally:
        feature._mod_uses_pyside = reads_source


@contextmanager
def frozen_imports() -> Iterator[None]:
    """Run start-up's imports without the cyclic garbage collector, then freeze what they made.

    The modules, classes and functions loaded at start (~50,000 objects) live as long as the process: collecting
    them again and again while they loaded took about a fifth of start-up's CPU, and every later full collection
    (a pause while the user works) walked them all. Frozen, they are never walked again; the few cycles the imports
    leave behind (a few hundred objects) stay. What is built after (the window, the document) is collected as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


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
    with ExitStack() as start_up:  # from PySide6's import until the window is open: the hook judges ours cheaply
        with frozen_imports(), cached_dataclass_code():
            load_qt_free_layers()
            from PySide6.QtWidgets import QApplication

            start_up.enter_context(own_modules_judged_cheaply())
            from gradstudio.ui.crash import install_crash_handler
            from gradstudio.ui.io.recovery import state_folder

            app = QApplication.instance()
            if app is None:  # Qt makes the style itself: setStyle's QStyle wrapper would build ~100 enums (6 ms)
                app = QApplication([*sys.argv[:1], "-style", "Fusion"])
            else:
                app.setStyle("Fusion")
            # the window's modules, after the QApplication: their module-level fonts resolve against its default font
            importlib.import_module("gradstudio.ui.main_window")
        app.setApplicationName("GradStudio")
        app.setOrganizationName("GradStudio")
        app.setDesktopFileName(DESKTOP_ID)
        app.setWindowIcon(app_icon())
        install_crash_handler(state_folder())
        _window = create_window(path)  # referenced until the event loop ends
    return app.exec()
