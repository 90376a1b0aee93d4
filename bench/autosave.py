"""Autosave benchmark: how long one autosave pauses the UI thread at 1,000 and 5,000 nodes (issue 15: one frame).

Run `python bench/autosave.py` (`--quick` for fewer repeats). The graph is bench/model.py's chain-and-branch
graph, open in the real main window (offscreen), with a state folder in a temporary directory. Rows:

- synchronous write: `RecoveryStore.write` on the UI thread, which is what every autosave cost before the
  write moved to a worker (and still what restoring a recovery file does once).
- autosave() call: the UI thread's share of a background autosave (the document's snapshot, and handing it
  to the worker).
- longest UI stall during the write: while the worker serialises, writes and syncs, the UI thread runs its
  event loop flat out; the longest time between two of its turns is the worst pause an edit could see then
  (Python's GIL is shared: see `gradstudio/ui/io/background_writer.py`). Each autosave follows an edit and
  the event loop's settling (the window's own follow-up work after an edit is not counted). The row below
  it runs the same loop for as long with no write, after the same edit: what the window stalls by itself.
- worker write: the write's wall time on the worker, for scale.

Median and worst over the repeats after one warm-up (a stall row: of each repeat's longest stall). The machine
is shared: the load average is printed above the table. Not a test: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from model import chain_and_branch  # noqa: E402 - bench/model.py's graph


def measure(nodes: int, repeats: int) -> list[tuple[str, list[float]]]:
    """(row name, seconds of each repeat) for a graph of `nodes` nodes."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gradstudio.ui.main_window import MainWindow
    from gradstudio.ui.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    store = QSettings(str(Path(tempfile.gettempdir()) / "gradstudio-bench-autosave.ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppSettings(store))
    window.set_document(chain_and_branch(nodes))
    workspace = window.workspace
    autosave = window.autosave
    autosave.timer.stop()
    autosave.edits = 10**9  # only this benchmark's calls write
    steps = iter(range(10**9))

    def edit() -> None:
        """One undoable move, then the event loop run until the window's own follow-up work is done."""
        before = window.document.nodes["n1"].position
        window.editor.move({"n1": (before, (before[0], before[1] + 1 + next(steps) % 5))}, mergeable=False)
        workspace.flush()
        settle(app)

    def synchronous() -> float:
        edit()
        start = time.perf_counter()
        autosave.store.write(workspace.document, workspace.path, workspace.display_name)
        return time.perf_counter() - start

    rows = [(f"synchronous write (before), {nodes:,} nodes", repeated(synchronous, repeats))]
    if hasattr(autosave, "writer"):
        calls, stalls, idle_stalls, writes = [], [], [], []
        for index in range(repeats + 1):
            edit()
            start = time.perf_counter()
            autosave.autosave()
            call = time.perf_counter() - start
            stall, end = longest_turn(app, lambda _start: autosave.writer.busy())
            edit()
            idle_stall, _ = longest_turn(app, lambda begun, length=end - start: time.perf_counter() - begun < length)
            if index:  # the first is the warm-up
                calls.append(call)
                stalls.append(stall)
                idle_stalls.append(idle_stall)
                writes.append(end - start)
        rows += [(f"autosave() call on the UI thread, {nodes:,} nodes", calls),
                 (f"longest UI stall during the write, {nodes:,} nodes", stalls),
                 (f"  the same with no write (the window alone), {nodes:,}", idle_stalls),
                 (f"worker write (wall), {nodes:,} nodes", writes)]
    window.autosave.stop()
    window.undo_stack.setClean()
    window.close()
    return rows


def longest_turn(app: object, going: Callable[[float], bool]) -> tuple[float, float]:
    """Run the event loop flat out while `going(start)`; the longest time between two turns, and when it ended."""
    start = last = time.perf_counter()
    longest = 0.0
    while going(start):
        app.processEvents()  # type: ignore[attr-defined]
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    return longest, last


def settle(app: object, quiet: float = 0.2, limit: float = 10.0) -> None:
    """Run the event loop until it has gone `quiet` seconds with no turn longer than 2 ms (at most `limit`)."""
    start = last_busy = time.perf_counter()
    while time.perf_counter() - last_busy < quiet and time.perf_counter() - start < limit:
        before = time.perf_counter()
        app.processEvents()  # type: ignore[attr-defined]
        if time.perf_counter() - before > 0.002:
            last_busy = time.perf_counter()


def repeated(step: Callable[[], float], repeats: int) -> list[float]:
    """`step()`'s returned seconds over `repeats` runs after one warm-up."""
    step()
    return [step() for _ in range(repeats)]


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--nodes", type=int, nargs="*", default=[1000, 5000])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["GRADSTUDIO_STATE_DIR"] = folder
        rows = [row for nodes in args.nodes for row in measure(nodes, 5 if args.quick else 15)]
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(f"wall time; load average {load}; one frame is 16 ms")
    print(f"{'':<52} {'median':>11} {'worst':>11}")
    for name, seconds in rows:
        print(f"{name:<52} {statistics.median(seconds) * 1e3:>8.2f} ms {max(seconds) * 1e3:>8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
