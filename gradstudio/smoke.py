"""`gradstudio --smoke`: open an example offscreen, evaluate it, run Backward, and say whether all of it worked.

It checks an installation (a checkout, a wheel or the PyInstaller bundle) end to end: the resources are
found, Qt starts, the window builds, the engine computes PyTorch's numbers.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from gradstudio.ui.main_window import MainWindow

EXAMPLE = ("examples", "notes_forward_backward.gsg")
# x = torch.ones(3, requires_grad=True); y = x + 2; z = y * y * 3; out = z.mean(): out = 27, x.grad = 2 * y = 6
EXPECTED_OUT = 27.0
EXPECTED_GRAD = [6.0, 6.0, 6.0]


class SmokeFailure(Exception):
    """One step of the smoke test went wrong; the message says which and why."""


def smoke() -> int:
    """Run the smoke test; print one line and return 0 when it passes, 1 (with the reason on stderr) when not."""
    try:
        report = run_smoke()
    except SmokeFailure as failure:
        print(f"gradstudio --smoke: FAILED: {failure}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - any failure is the answer; report it in one line
        print(f"gradstudio --smoke: FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"gradstudio --smoke: OK ({report})")
    return 0


def run_smoke() -> str:
    """Do the steps; return a summary, or raise SmokeFailure naming the step that failed."""
    from gradstudio.resource_files import resource_path
    from gradstudio.sysdeps import missing_packages

    missing = missing_packages() if sys.platform.startswith("linux") else []
    if missing:
        raise SmokeFailure(f"system libraries missing; install: {' '.join(missing)}")
    try:
        example = resource_path(*EXAMPLE)
    except FileNotFoundError as error:
        raise SmokeFailure(str(error)) from None
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gradstudio.ui.main_window import MainWindow
    from gradstudio.ui.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="gradstudio-smoke-") as folder:
        # a throw-away settings file: the smoke test never touches the user's recent files or layout
        settings = AppSettings(QSettings(os.path.join(folder, "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings)
        try:
            return _exercise(app, window, str(example))
        finally:
            window.workspace.undo_stack.setClean()
            window.close()
            window.deleteLater()
            app.processEvents()


def _exercise(app: QApplication, window: MainWindow, example: str) -> str:
    """Open, show, evaluate and run Backward in `window`; check the numbers."""
    if not window.open_path(example):
        raise SmokeFailure(f"could not open {example}")
    window.show()
    app.processEvents()
    document = window.document
    names = {node.name: node_id for node_id, node in document.nodes.items()}
    results = window.workspace.results()
    failed = [document.nodes[n].name for n, result in results.items() if not result.ok]
    if failed:
        raise SmokeFailure(f"evaluation failed at {', '.join(failed)}")
    out = float(results[names["out"]].value.item())
    if abs(out - EXPECTED_OUT) > 1e-5:
        raise SmokeFailure(f"out = {out}, expected {EXPECTED_OUT}")
    window.actions.actionBackward.trigger()
    app.processEvents()
    grad = window.workspace.model.grad(names["x"])
    if grad is None:
        raise SmokeFailure("Backward gave x no gradient")
    if [round(float(v), 5) for v in grad.tolist()] != EXPECTED_GRAD:
        raise SmokeFailure(f"x.grad = {grad.tolist()}, expected {EXPECTED_GRAD}")
    name = os.path.basename(example)
    return f"{name}: {len(document.nodes)} nodes evaluated, out = {out:g}, x.grad = {grad.tolist()}"
