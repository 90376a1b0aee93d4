"""Scrubbing benchmark: frames per second while dragging a leaf on graphs of 20, 100 and 200 nodes.

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python bench/scrub.py`.
One frame is what a scrub does per display frame: change the leaf, evaluate what it
feeds, re-run the last Backward, repaint the faces and the backward display, and paint
the canvas once. The graph is a chain fed by the scrubbed leaf (so every node is
recomputed each frame), ending in a mean that Backward runs from.
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

from PySide6.QtCore import QSettings  # noqa: E402
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


def build(count: int) -> GraphDocument:
    """x (8 values, tracked) and a scalar c; then a chain alternating `h * c`, tanh, sigmoid, relu; mean at the end."""
    document = GraphDocument()

    def add(node_id: str, kind: str, index: int, *inputs: str, **attributes: object) -> None:
        column, row = divmod(index, COLUMN)
        document.apply(AddNode(Node(node_id, kind, node_id, attributes, (column * 240.0, row * 130.0))))
        for port, source in zip(document.nodes[node_id].input_ports(), inputs):
            document.apply(Connect(Edge(source, node_id, port)))

    add("x", "tensor", 0, shape=(8,), init="linspace", start=-1.0, end=1.0, requires_grad=True)
    add("c", "scalar", 1, value=0.9)
    previous = "x"
    for index in range(2, count - 1):
        name = f"h{index}"
        if index % 2 == 0:
            add(name, "mul", index, previous, "c")
        else:
            add(name, UNARY[index % len(UNARY)], index, previous)
        previous = name
    add("out", "mean", count - 1, previous)
    document.settings.backward_target = "out"
    return document


def frames_per_second(window: MainWindow, count: int) -> float:
    """Scrub x's first value through FRAMES frames; the rate at which they were computed and painted."""
    window.set_document(build(count))
    window.workspace.refresh()
    window.backward_tools.controller.run("out")
    live = window.workspace.scrub
    live.begin("x", 0)
    viewport = window.view.viewport()
    started = time.perf_counter()
    for frame in range(FRAMES):
        live.move_to(-1.0 + 0.01 * (frame + 1))
        live.apply_pending()
        viewport.repaint()
    elapsed = time.perf_counter() - started
    live.end()
    window.undo_stack.setClean()
    assert len(window.document.nodes) == count
    return FRAMES / elapsed


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    folder = tempfile.mkdtemp()
    window = MainWindow(AppSettings(QSettings(str(Path(folder) / "bench.ini"), QSettings.Format.IniFormat)))
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    print(f"scrub frames per second ({FRAMES} frames, median of {REPEATS}; target {TARGET_FPS:.0f}):")
    for count in SIZES:
        rates = [frames_per_second(window, count) for _ in range(REPEATS)]
        rate = statistics.median(rates)
        print(f"  {count:4d} nodes: {rate:6.1f} fps  ({1000 / rate:5.1f} ms a frame)"
              f"{'' if rate >= TARGET_FPS else '  below the display rate'}")
    window.close()


if __name__ == "__main__":
    main()
