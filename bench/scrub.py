"""Scrubbing benchmark: frames per second while dragging a leaf on graphs of 20, 100 and 200 nodes.

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python bench/scrub.py`.
One frame is what a scrub does per display frame: change the leaf, evaluate what it
feeds, re-run the last Backward, update the faces and the backward display, and let Qt
paint what changed (the canvas's dirty region, as on screen; a paint-event counter
checks that every frame was painted). The graph is a chain fed by the scrubbed leaf
(so every node is recomputed each frame), ending in a mean that Backward runs from,
shown at 100 % zoom in a 1366x768 window.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEvent, QObject, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gradstudio.model.document import AddNode, Connect, Edge, GraphDocument, Node  # noqa: E402
from gradstudio.ui.main_window import MainWindow  # noqa: E402
from gradstudio.ui.settings import AppSettings  # noqa: E402

SIZES = (20, 100, 200)
FRAMES = 60
REPEATS = 3  # each figure is the median of this many runs
TARGET_FPS = 60.0
COLUMN = 10
UNARY = ("tanh", "sigmoid", "relu")


def build(count: int, shared_scalar: bool = False) -> GraphDocument:
    """x (8 values, tracked), then a chain alternating `h * 0.9`, tanh, sigmoid, relu, and a mean at the end.

    The 0.9 is a constant typed on each Multiply's port; with `shared_scalar` it is one scalar node c wired
    into every Multiply instead (a wire from c to each, drawn dashed: tracking stops there).
    """
    document = GraphDocument()

    def add(node_id: str, kind: str, index: int, *inputs: str, constants: dict | None = None,
            **attributes: object) -> None:
        column, row = divmod(index, COLUMN)
        node = Node(node_id, kind, node_id, attributes, (column * 240.0, row * 130.0), port_constants=constants or {})
        document.apply(AddNode(node))
        for port, source in zip(document.nodes[node_id].input_ports(), inputs):
            document.apply(Connect(Edge(source, node_id, port)))

    add("x", "tensor", 0, shape=(8,), init="linspace", start=-1.0, end=1.0, requires_grad=True)
    add("c", "scalar", 1, value=0.9)
    previous = "x"
    for index in range(2, count - 1):
        name = f"h{index}"
        if index % 2 == 0:
            add(name, "mul", index, previous, *(["c"] if shared_scalar else []),
                constants=None if shared_scalar else {"b": 0.9})
        else:
            add(name, UNARY[index % len(UNARY)], index, previous)
        previous = name
    add("out", "mean", count - 1, previous)
    document.settings.backward_target = "out"
    return document


class PaintCounter(QObject):
    """Counts the paint events of the widget it filters."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def frames_per_second(window: MainWindow, count: int, shared_scalar: bool = False) -> tuple[float, float]:
    """Scrub x's first value through FRAMES frames; the rate at which they were computed and painted, and the
    processor time a frame took (milliseconds): on a machine shared with other work the rate swings, the
    processor time much less."""
    app = QApplication.instance()
    window.set_document(build(count, shared_scalar))
    window.workspace.refresh()
    window.view.reset_zoom()
    window.backward_tools.controller.run("out")
    app.processEvents()
    live = window.workspace.scrub
    live.begin("x", 0)
    counter = PaintCounter()
    window.view.viewport().installEventFilter(counter)
    started, processor = time.perf_counter(), time.process_time()
    for frame in range(FRAMES):
        live.move_to(-1.0 + 0.01 * (frame + 1))
        live.apply_pending()
        painted = counter.count
        while counter.count == painted:  # Qt paints the dirty region when its update request comes, as on screen
            app.processEvents()
    elapsed, busy = time.perf_counter() - started, time.process_time() - processor
    window.view.viewport().removeEventFilter(counter)
    live.end()
    window.undo_stack.setClean()
    assert len(window.document.nodes) == count and counter.count >= FRAMES, counter.count
    return FRAMES / elapsed, 1000 * busy / FRAMES


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    folder = tempfile.mkdtemp()
    window = MainWindow(AppSettings(QSettings(str(Path(folder) / "bench.ini"), QSettings.Format.IniFormat)))
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    print(f"scrub frames per second ({FRAMES} frames, median of {REPEATS}; target {TARGET_FPS:.0f}):")
    for shared in (False, True):
        print("  one scalar node c wired into every Multiply:" if shared else "  constants typed on the ports:")
        for count in SIZES:
            runs = [frames_per_second(window, count, shared) for _ in range(REPEATS)]
            rate = statistics.median(fps for fps, _ in runs)
            cpu = statistics.median(ms for _, ms in runs)
            print(f"    {count:4d} nodes: {rate:6.1f} fps  ({1000 / rate:5.1f} ms a frame, {cpu:5.1f} ms of processor)"
                  f"{'' if rate >= TARGET_FPS else '  below the display rate'}")
    window.close()


if __name__ == "__main__":
    main()
