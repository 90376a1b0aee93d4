"""Start-up benchmark: process start -> main window's first frame, against a bare PySide6 + numpy window.

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python bench/startup.py [--rounds N]`.
Each round starts two whole processes, A (GradStudio opening the notes' example through the `gradstudio FILE`
entry point, from this checkout) and B (a bare PySide6 window with a QGraphicsScene holding a few items, numpy
imported), in the order A B A B ... Each child prints a marker on its canvas's first paint and exits at once;
the parent takes the wall time from spawn to marker and the child's CPU time (user + system). It prints the
medians, the median of the per-round ratios and the load average around the run. Target: A / B <= 1.5 (CPU).
As every bench here, both sides run numpy's BLAS on one thread unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS say
otherwise (`OPENBLAS_NUM_THREADS=2 ... bench/startup.py` gives the two-thread figures): a fresh OpenBLAS worker
spins for about 0.1 s of CPU, which on a shared 2-core machine would swamp what is measured.
Both children run from bytecode compiled by the warm-up round (kept under $TMPDIR, not in the checkout), as an
installed app does. The app starts as on a first run, from an empty settings folder of its own (no window geometry,
dock layout or recent files another run saved: they changed the window's size, and so what was measured), with a
cache folder of its own that the warm-up round fills (`dataclass_code_cache`), as an installed app's would be.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "resources" / "examples" / "notes_forward_backward.gsg"
MARKER = "FIRST-FRAME"
TARGET = 1.5

# Both children share this: print the marker on the window's first paint, then leave without tearing down.
FIRST_PAINT = f"""
import os, sys
from PySide6.QtCore import QEvent, QObject

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            sys.stdout.write("{MARKER}\\n")
            sys.stdout.flush()
            os._exit(0)
        return False
"""

BARE = FIRST_PAINT + """
import numpy
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
scene = QGraphicsScene()
for index in range(6):
    scene.addRect(index * 120.0, 0.0, 100.0, 60.0)
    scene.addText(f"node {index}").setPos(index * 120.0, 0.0)
view = QGraphicsView(scene)
window.setCentralWidget(view)
window.resize(1280, 820)
watcher = FirstPaint()
view.viewport().installEventFilter(watcher)
window.show()
app.exec()
"""

# The app starts as `gradstudio FILE` does: gradstudio.cli.main, which imports Qt only inside run_app (so the
# child imports nothing of Qt before it either). As in B, the marker filter watches only the canvas's viewport:
# it is installed when create_window has built and shown the window, before the event loop paints it.
APP = f"""
import sys
import gradstudio.cli as cli
import gradstudio.ui.app as gui

if not gui.__file__.startswith({str(ROOT)!r}):
    sys.exit("the child imported gradstudio from " + gui.__file__ + ", not this checkout")

def create_window_watched(*args, **kwargs):
    global watcher
    window = create_window(*args, **kwargs)
    exec({FIRST_PAINT!r}, globals())
    watcher = FirstPaint()
    window.view.viewport().installEventFilter(watcher)
    return window

create_window, gui.create_window = gui.create_window, create_window_watched
sys.exit(cli.main([{str(EXAMPLE)!r}]))
"""


def run_child(code: str, environ: dict[str, str]) -> tuple[float, float]:
    """Wall seconds from spawn to the child's marker, and the child's CPU seconds."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=environ, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    line = child.stdout.readline()
    wall = time.perf_counter() - start
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    if line.strip() != MARKER:
        raise RuntimeError(f"child exited with {child.returncode} before its first frame")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print the medians and the median ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    scratch = Path(os.environ.get("TMPDIR", "/tmp"))
    settings = scratch / f"gradstudio-bench-config-{os.getpid()}"  # empty: every child starts as a first run
    shutil.rmtree(settings, ignore_errors=True)
    settings.mkdir(parents=True)
    environ = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   GRADSTUDIO_STATE_DIR=os.environ.get("GRADSTUDIO_STATE_DIR", "/tmp/gradstudio-bench-state"),
                   PYTHONPYCACHEPREFIX=str(scratch / "gradstudio-bench-pycache"), XDG_CONFIG_HOME=str(settings),
                   XDG_CACHE_HOME=str(scratch / "gradstudio-bench-cache"))
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        environ.setdefault(name, "1")
    environ.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app runs from compiled bytecode: so do both children
    load_before = os.getloadavg()[0]
    run_child(BARE, environ)  # warm the file cache for both
    run_child(APP, environ)
    app_runs, bare_runs = [], []
    for _ in range(args.rounds):
        app_runs.append(run_child(APP, environ))
        bare_runs.append(run_child(BARE, environ))
    wall_ratio = statistics.median(a[0] / b[0] for a, b in zip(app_runs, bare_runs))
    cpu_ratio = statistics.median(a[1] / b[1] for a, b in zip(app_runs, bare_runs))
    print(f"start-up to first frame, {args.rounds} rounds A B A B, medians "
          f"(load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"BLAS threads {environ['OPENBLAS_NUM_THREADS']})")
    print(f"{'':18}{'wall':>9}{'cpu':>9}")
    for name, runs in (("GradStudio", app_runs), ("bare PySide6", bare_runs)):
        print(f"{name:18}{statistics.median(r[0] for r in runs):>8.3f}s{statistics.median(r[1] for r in runs):>8.3f}s")
    shutil.rmtree(settings, ignore_errors=True)
    verdict = "ok" if cpu_ratio <= TARGET else "MISSED"
    print(f"{'ratio':18}{wall_ratio:>8.2f}x{cpu_ratio:>8.2f}x   target <= {TARGET}x (cpu): {verdict}")
    return 0 if cpu_ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
