"""Start-up imports only what the first frame needs: heavy modules load when first used (issue 15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QTableView, QWidget
from ui_helpers import chain_document

import gradstudio.engine as engine
from gradstudio.dataclass_code_cache import read_codes
from gradstudio.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "examples" / "notes_forward_backward.gsg"

# modules the first frame does not need; each loads when its feature is first used
DEFERRED = ("networkx", "pyqtgraph", "gradstudio.model.layout", "gradstudio.model.io.code_import")

BUILD_WINDOW = """
import json, sys
from PySide6.QtWidgets import QApplication, QTableView, QWidget
from gradstudio.ui.app import create_window
app = QApplication(sys.argv[:1])
window = create_window(sys.argv[1])
app.processEvents()
window.view.viewport().grab()
loaded = {name: name in sys.modules for name in json.loads(sys.argv[2])}
window.workspace.undo_stack.setClean()
print(json.dumps({"loaded": loaded, "nodes": len(window.scene.nodes), "search_built": window.view._search is not None,
                  "stale": sorted(panel.objectName() for panel in window.panels.values() if panel.stale),
                  "train_form_built": window.findChild(QWidget, "trainLoss") is not None,
                  "value_tables": len(window.values_panel.findChildren(QTableView)),
                  "lesson_built": window.findChild(QWidget, "lessonPlay") is not None}))
"""


def test_first_window_leaves_heavy_modules_unloaded(tmp_path: Path) -> None:
    """A window opened on the notes' example, painted once, has not imported networkx, pyqtgraph, ..., nor built
    the quick-add box, the closed Train and Lesson panels' widgets or the values panel's charts and tables (no node
    is selected), nor refreshed the closed panels."""
    environ = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
                   GRADSTUDIO_STATE_DIR=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", BUILD_WINDOW, str(EXAMPLE), json.dumps(DEFERRED)], cwd=ROOT,
                          env=environ, capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["nodes"] > 0, "the example is on the canvas"
    assert report["loaded"] == dict.fromkeys(DEFERRED, False)
    assert not report["search_built"], "the quick-add box is built when first opened"
    closed = ["autogradPanel", "lessonPanel", "stepPanel", "trainPanel"]
    assert report["stale"] == closed, "the closed panels wait to be shown"
    assert not report["train_form_built"], "the Train panel's form is built when the panel is first shown"
    assert report["value_tables"] == 0, "the values panel's views make their table with the first value shown"
    assert not report["lesson_built"], "the Lesson panel makes its widgets when first shown"

# Builds the window as run_app does: the Qt-free layers first, then Qt; prints what was imported after Qt.
PRELOAD_THEN_WINDOW = """
import json, sys
import gradstudio.ui.app as gui
gui.load_qt_free_layers()
qt_loaded_early = [name for name in sys.modules if name.startswith(("PySide6", "shiboken6"))]
before_qt = set(sys.modules)
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
window = gui.create_window(sys.argv[1])
app.processEvents()
window.view.viewport().grab()
window.workspace.undo_stack.setClean()
later = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items()) if name not in before_qt}
print(json.dumps({"qt_loaded_early": qt_loaded_early, "later": later}))
"""


def test_qt_free_layers_load_before_qt(tmp_path: Path) -> None:
    """run_app imports numpy, the engine and every model module the first frame uses before PySide6 (whose import
    hook reads the source of each module imported after it), and that preload imports nothing of Qt."""
    environ = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
                   GRADSTUDIO_STATE_DIR=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", PRELOAD_THEN_WINDOW, str(EXAMPLE)], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["qt_loaded_early"] == []
    qt_free_after = sorted(name for name, path in report["later"].items()
                           if name.startswith(("numpy", "gradstudio.")) and path and path.endswith(".py")
                           and "PySide6" not in Path(path).read_text(encoding="utf-8"))
    assert qt_free_after == [], f"add {qt_free_after} to gradstudio.ui.app.QT_FREE_MODULES"

# Starts the app through run_app; create_window notes the collector's state, and the event loop quits at once.
RUN_APP_GC = """
import gc, json, sys
import gradstudio.ui.app as gui
seen = {}

def create_window(path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from PySide6.QtGui import QFont, QFontInfo

    from gradstudio.ui.canvas.fonts import SMALL_FONT
    seen.update(frozen=gc.get_freeze_count(), enabled=gc.isenabled(),
                window_module="gradstudio.ui.main_window" in sys.modules, style=QApplication.style().name(),
                canvas_font=QFontInfo(SMALL_FONT).family(), app_font=QFontInfo(QFont()).family())
    window = real_create_window(path)
    window.workspace.undo_stack.setClean()
    QTimer.singleShot(0, QApplication.quit)
    return window

real_create_window, gui.create_window = gui.create_window, create_window
seen["status"] = gui.run_app(sys.argv[1])
seen["enabled_after"] = gc.isenabled()
print(json.dumps(seen))
"""


def run_app_report(tmp_path: Path) -> dict:
    """What RUN_APP_GC saw of a start through run_app on the notes' example (a desktop asking for another style)."""
    environ = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), QT_STYLE_OVERRIDE="Windows",
                   GRADSTUDIO_STATE_DIR=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", RUN_APP_GC, str(EXAMPLE)], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["status"] == 0
    return seen


def test_start_up_freezes_its_imports_and_collects_the_rest(tmp_path: Path) -> None:
    """run_app imports without the garbage collector and freezes what the imports made (the window's modules
    among them), then builds the window with the collector on."""
    seen = run_app_report(tmp_path)
    assert seen["window_module"] and seen["frozen"] > 10_000, "the start-up imports are frozen"
    assert seen["enabled"] and seen["enabled_after"], "the window is built and run with the collector on"


def test_the_window_modules_load_after_the_application(tmp_path: Path) -> None:
    """The canvas's module-level fonts resolve like a font made while the app runs: imported before the
    QApplication, a default QFont resolves without the app's default font (a serif face here)."""
    seen = run_app_report(tmp_path)
    assert seen["canvas_font"] == seen["app_font"]


def test_the_app_runs_in_the_fusion_style(tmp_path: Path) -> None:
    """run_app gives the QApplication it makes the Fusion style (asked for on its command line), whatever style
    the desktop asks for."""
    assert run_app_report(tmp_path)["style"].lower() == "fusion"


# Starts the app through run_app, noting the modules whose source PySide6's import hook reads through inspect; prints
# how many are gradstudio's, and the hook's verdict on each gradstudio module beside the answer its source gives.
RUN_APP_FEATURE_HOOK = """
import inspect, json, sys
import gradstudio.ui.app as gui
read = []
real_getsource = inspect.getsource

def getsource(module):
    read.append(getattr(module, "__name__", "").partition(".")[0])
    return real_getsource(module)

def create_window(path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    window = real_create_window(path)
    window.workspace.undo_stack.setClean()
    QTimer.singleShot(0, QApplication.quit)
    return window

inspect.getsource = getsource
real_create_window, gui.create_window = gui.create_window, create_window
status = gui.run_app(sys.argv[1])
inspect.getsource = real_getsource
verdicts = sys.modules["shibokensupport.feature"].pyside_feature_dict
ours = {name: [verdicts[name], "PySide6" in real_getsource(sys.modules[name])] for name in verdicts
        if name.partition(".")[0] == "gradstudio"}
print(json.dumps({"status": status, "read": read.count("gradstudio"), "ours": ours}))
"""


def test_pyside_judges_our_modules_at_start_without_inspect_and_as_it_would(tmp_path: Path) -> None:
    """PySide6's import hook judges each module imported after PySide6 by its source, got through
    `inspect.getsource`; while run_app imports, it searches our modules' bytes instead, and its verdict on each of
    them (0 for one that names PySide6, -1 for one that does not) is the one the source gives."""
    environ = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
                   GRADSTUDIO_STATE_DIR=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", RUN_APP_FEATURE_HOOK, str(EXAMPLE)], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == 0
    assert report["read"] == 0
    assert len(report["ours"]) > 50, "the window's modules were judged"
    assert {name: verdict for name, (verdict, _named) in report["ours"].items()} == {
        name: 0 if named else -1 for name, (_verdict, named) in report["ours"].items()}


def test_auto_layout_imports_its_module_on_use(window: MainWindow) -> None:
    """The deferred layout module still works: Auto layout imports it on first use and moves the nodes."""
    window.set_document(chain_document())
    before = {node_id: node.position for node_id, node in window.document.nodes.items()}
    window.commands.auto_layout()
    assert {node_id: node.position for node_id, node in window.document.nodes.items()} != before
    window.undo_stack.setClean()


def test_a_closed_panel_skips_refreshes_and_catches_up_when_opened(window: MainWindow) -> None:
    """The Train panel starts closed: a new document does not refresh it, opening it from View > Panels does."""
    panel = window.train_panel
    assert panel.isHidden()
    window.set_document(chain_document())
    assert panel.stale and window.findChild(QWidget, "trainLoss") is None, "nothing was built for the closed panel"
    panel.toggleViewAction().trigger()
    assert panel.isVisible() and not panel.stale
    assert window.findChild(QWidget, "trainLoss") is panel.form.loss, "the form is there once the panel shows"
    assert [panel.form.loss.itemText(index) for index in range(panel.form.loss.count())] == ["y", "z"]
    window.undo_stack.setClean()


# Starts the app as `gradstudio FILE` does (cli.main); the event loop quits at once. Prints which of the given modules
# were loaded by then.
CLI_START = """
import json, sys
import gradstudio.cli as cli
import gradstudio.ui.app as gui

def create_window(path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    window = real_create_window(path)
    window.workspace.undo_stack.setClean()
    QTimer.singleShot(0, QApplication.quit)
    return window

real_create_window, gui.create_window = gui.create_window, create_window
status = cli.main([sys.argv[1]])
print(json.dumps({"status": status, "loaded": {name: name in sys.modules for name in json.loads(sys.argv[2])}}))
"""

# what the first frame does without: each loads when its feature is first used (a mistyped command, a crash, an
# error to explain or pin, Check Gradient, Load Data, copy and paste, a node shown, the Code tab, Preferences, an
# image export, a formula's fraction, a random draw, the first autosave, the Train panel shown); the system check
# loads the platform plugin instead of running ldd, and recovery files are named without secrets (nor its hashlib)
LOADED_ON_USE = (
    "difflib", "subprocess", "ctypes.util", "numpy.random", "fractions", "decimal", "html", "csv",
    "secrets", "hashlib", "concurrent.futures", "queue", "gradstudio.model.training", "gradstudio.ui.panels.train_form",
    "gradstudio.ui.dialogs.crash_dialog", "gradstudio.ui.canvas.pins", "gradstudio.ui.dialogs.gradient_dialog",
    "gradstudio.ui.dialogs.gradcheck_dialog", "gradstudio.model.gradcheck", "gradstudio.model.explain",
    "gradstudio.model.data", "gradstudio.model.regions", "gradstudio.model.io.fragment",
    "gradstudio.ui.panels.code_highlighter", "gradstudio.ui.dialogs.preferences_dialog", "gradstudio.ui.io.export",
    "numba", "llvmlite", "gradstudio.engine._fused",  # Adam's compiled loop: a training run's first large step
)


def start_through_the_cli(tmp_path: Path) -> dict:
    """What CLI_START saw of a start of `gradstudio` on the notes' example (caches under tmp_path)."""
    environ = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), GRADSTUDIO_STATE_DIR=str(tmp_path),
                   XDG_CONFIG_HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-c", CLI_START, str(EXAMPLE), json.dumps(LOADED_ON_USE)], cwd=ROOT,
                          env=environ, capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == 0
    return report


def test_the_first_frame_loads_no_module_it_does_not_use(tmp_path: Path) -> None:
    """`gradstudio FILE` opens the window without the modules of features not used yet."""
    loaded = start_through_the_cli(tmp_path)["loaded"]
    assert [name for name in LOADED_ON_USE if loaded[name]] == []


def test_start_up_keeps_the_compiled_dataclass_methods_for_the_next_start(tmp_path: Path) -> None:
    """The first start compiles the methods of the dataclasses its modules define and keeps them; the next start
    compiles none, so it leaves the cache file as it was."""
    start_through_the_cli(tmp_path)
    kept = list((tmp_path / "cache" / "gradstudio").glob("dataclass-code-*.marshal"))
    assert len(kept) == 1 and len(read_codes(kept[0])) > 100
    written = kept[0].stat().st_mtime_ns
    start_through_the_cli(tmp_path)
    assert kept[0].stat().st_mtime_ns == written


def test_a_value_view_asked_for_its_widgets_before_any_value_shows_nothing_in_them(window: MainWindow) -> None:
    """The values panel's views make their chart, repr and table with the first value; asked for them earlier
    (as tests and the copy keys do), a view makes them then, empty and hidden, as they were when made at once."""
    view = window.values_panel.value_view
    assert view.findChildren(QTableView) == []
    assert view.text.toPlainText() == "" and view.table_model.rowCount() == 0
    assert view.body.isHidden() and view.findChildren(QTableView) == [view.table]
    view.show_value(engine.tensor([0.0, 1.0, 2.0]), "Value of x", "")
    assert view.kind == "bar" and not view.body.isHidden() and view.table_model.rowCount() == 3
    assert view.text.toPlainText() == "tensor([0., 1., 2.])"


def test_the_lesson_panel_makes_its_widgets_when_first_shown(window: MainWindow, qtbot: Any) -> None:
    """The Lesson panel starts closed and without its widgets; View > Panels > Lesson shows it with them, refreshed."""
    panel = window.lesson_panel
    assert panel.isHidden() and window.findChild(QWidget, "lessonPlay") is None
    panel.toggleViewAction().trigger()
    qtbot.waitUntil(panel.play.isVisible)
    assert window.findChild(QWidget, "lessonPlay") is panel.play and panel.play.text() == "Play"
    assert panel.help.text() and not panel.stale
