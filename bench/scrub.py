"""Scrubbing benchmark: frames per second while dragging a leaf on graphs of 20, 100 and 200 nodes.

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python bench/scrub.py [--sizes 200] [--graph shared] [--repeats N]`.
One frame is what a scrub does per display frame: change the leaf, evaluate what it
feeds, re-run the last Backward, update the faces and the backward display, and let Qt
paint what changed (the canvas's dirty region, as on screen; a paint-event counter
checks that every frame was painted). The graph is a chain fed by the scrubbed leaf
(so every node is recomputed each frame), ending in a mean that Backward runs from,
shown at 100 % zoom in a 1366x768 window.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEvent, QObject, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gradstudio.model.document import Edge, GraphDocument, Node  # noqa: E402
from gradstudio.model.edits import AddNode, Connect  # noqa: E402
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


class FrameTimes(NamedTuple):
    """One run's figures: frames a second, and per frame the processor milliseconds in all, in the update (the
    evaluation, the Backward and telling the items) and in the paint (Qt painting the dirty region)."""

    fps: float
    processor_ms: float
    update_ms: float
    paint_ms: float


def frames_per_second(window: MainWindow, count: int, shared_scalar: bool = False) -> FrameTimes:
    """Scrub x's first value through FRAMES frames: the rate at which they were computed and painted, and the
    processor time a frame took (milliseconds), split into the update and the paint. On a machine shared with
    other work the rate swings, the processor time much less."""
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
    updating = painting = 0.0
    started, processor = time.perf_counter(), time.process_time()
    for frame in range(FRAMES):
        before = time.process_time()
        live.move_to(-1.0 + 0.01 * (frame + 1))
        live.apply_pending()
        updated = time.process_time()
        painted = counter.count
        while counter.count == painted:  # Qt paints the dirty region when its update request comes, as on screen
            app.processEvents()
        updating, painting = updating + updated - before, painting + time.process_time() - updated
    elapsed, busy = time.perf_counter() - started, time.process_time() - processor
    window.view.viewport().removeEventFilter(counter)
    live.end()
    window.undo_stack.setClean()
    assert len(window.document.nodes) == count and counter.count >= FRAMES, counter.count
    return FrameTimes(FRAMES / elapsed, 1000 * busy / FRAMES, 1000 * updating / FRAMES, 1000 * painting / FRAMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="graph sizes in nodes")
    parser.add_argument("--graph", choices=("constants", "shared", "both"), default="both",
                        help="constants typed on the Multiply ports, one scalar node wired into them all, or both")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs per figure (the median is shown)")
    options = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = tempfile.mkdtemp()
    window = MainWindow(AppSettings(QSettings(str(Path(folder) / "bench.ini"), QSettings.Format.IniFormat)))
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    print(f"scrub frames per second ({FRAMES} frames, median of {options.repeats}; target {TARGET_FPS:.0f}); "
          f"processor ms a frame = update (evaluate, Backward, tell the items) + paint")
    graphs = {"constants": (False,), "shared": (True,), "both": (False, True)}[options.graph]
    for shared in graphs:
        print("  one scalar node c wired into every Multiply:" if shared else "  constants typed on the ports:")
        for count in options.sizes:
            runs = [frames_per_second(window, count, shared) for _ in range(options.repeats)]
            rate, cpu, update, paint = (statistics.median(figure) for figure in zip(*runs))
            print(f"    {count:4d} nodes: {rate:6.1f} fps  ({1000 / rate:5.1f} ms a frame, {cpu:5.1f} ms of processor"
                  f" = {update:5.1f} update + {paint:5.1f} paint)"
                  f"{'' if rate >= TARGET_FPS else '  below the display rate'}")
    window.close()


if __name__ == "__main__":
    main()
