"""Model benchmark: edit -> re-evaluate latency and 5,000-node file load/save (DESIGN.md, "Performance targets").

Run `python bench/model.py` (or `--quick`, `--profile`). Workloads:

- edit N: a chain-and-branch graph of N nodes (a (16,) leaf with requires_grad, a chain of elementwise ops
  with a scalar operand every few steps, side branches hanging off the chain that do not feed the target,
  and a mean at the end as the Backward target). One iteration changes the leaf's fill value (so every
  node downstream is dirty: the worst case), then evaluates and runs Backward, as the app does before
  repainting. Targets: 16 ms for 100 nodes, 100 ms for 1,000 nodes.
- load / save 5000: a 5,000-node chain-and-branch graph written with `gradstudio.model.io.fileformat.save`
  and read back with `load`. Target: each under 1 s (half of the 2 s open-and-draw budget for a
  5,000-node graph, leaving the rest to the canvas). Without `fileformat` the document construction
  through edits is measured instead, and the table says so.

- edit -> on screen, N: the same graph open in the main window (offscreen). One iteration applies an edit
  through the editor (an undo command, as a gesture does) and runs the event loop until the canvas has
  painted the new values: evaluation, `values_changed`, every panel's refresh and the viewport's paint.
  Two edits: the leaf's fill (every node dirty, the worst case) and the final mean's keepdim (one node
  dirty, the common case of a local edit). Target: 16 ms (one frame) at 1,000 nodes.

Each figure is the median of the repeats; the first iteration (warm-up) is not counted. With `--processor`
each is the process's processor time instead of the wall time: on a machine shared with other work the wall
time swings with the load (printed above the table), the processor time much less.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gradstudio.model.document import Edge, GraphDocument, Node  # noqa: E402
from gradstudio.model.edits import AddNode, Connect, SetAttribute  # noqa: E402
from gradstudio.model.evaluation import Evaluator  # noqa: E402

CHAIN_OPS = ("tanh", "mul", "sin", "add", "sigmoid", "sub")
BRANCH_OPS = ("exp", "cos", "relu")
BRANCH_EVERY = 4  # one side branch per this many chain nodes
CLOCKS = {"wall": time.perf_counter, "processor": time.process_time}
clock = CLOCKS["wall"]  # what median_seconds reads (main() sets it from --processor)


@dataclass
class Row:
    """One line of the result table."""

    name: str
    seconds: float
    target: float | None
    note: str = ""

    def verdict(self) -> str:
        """PASS, MISS, or '-' when there is no target."""
        if self.target is None:
            return "-"
        return "PASS" if self.seconds <= self.target else "MISS"


def chain_and_branch(nodes: int) -> GraphDocument:
    """A graph of exactly `nodes` nodes: leaf -> chain of ops (with scalars and side branches) -> mean."""
    document = GraphDocument()

    def add(kind: str, *inputs: str, **attributes: object) -> str:
        node_id = f"n{len(document.nodes)}"
        document.apply(AddNode(Node(node_id, kind, node_id, dict(attributes), (len(document.nodes) * 40.0, 0.0))))
        for port, source in zip(document.nodes[node_id].input_ports(), inputs):
            document.apply(Connect(Edge(source, node_id, port)))
        return node_id

    head = add("tensor", shape=(16,), init="linspace", start=-1.0, end=1.0, requires_grad=True)
    scalar = add("scalar", value=0.5)
    step = 0
    while len(document.nodes) < nodes - 1:
        if step % BRANCH_EVERY == BRANCH_EVERY - 1 and len(document.nodes) < nodes - 2:
            add(BRANCH_OPS[step % len(BRANCH_OPS)], head)
        else:
            kind = CHAIN_OPS[step % len(CHAIN_OPS)]
            head = add(kind, head, scalar) if kind in ("mul", "add", "sub") else add(kind, head)
        step += 1
    target = add("mean", head)
    document.settings.backward_target = target
    assert len(document.nodes) == nodes
    return document


def median_seconds(step: Callable[[], object], repeats: int) -> float:
    """Median wall time of `step` over `repeats` runs, after one warm-up run."""
    step()
    times = []
    for _ in range(repeats):
        start = clock()
        step()
        times.append(clock() - start)
    return statistics.median(times)


def edit_step(document: GraphDocument, evaluator: Evaluator) -> Callable[[], object]:
    """Change the leaf's value, then evaluate and run Backward (what one edit costs before repainting)."""
    fills = iter(range(10**9))

    def step() -> object:
        document.apply(SetAttribute("n0", "fill", float(next(fills) % 7) / 7))
        evaluator.evaluate()
        return evaluator.backward()

    document.apply(SetAttribute("n0", "init", "full"))
    return step


def bench_edit(nodes: int, target: float, repeats: int) -> Row:
    """The edit -> re-evaluate row for a graph of `nodes` nodes."""
    document = chain_and_branch(nodes)
    evaluator = Evaluator(document)
    evaluator.backward()
    seconds = median_seconds(edit_step(document, evaluator), repeats)
    return Row(f"edit -> evaluate + backward, {nodes:,} nodes", seconds, target)


def bench_file(nodes: int, repeats: int) -> list[Row]:
    """Load and save rows for a graph of `nodes` nodes (or document construction without fileformat)."""
    try:
        fileformat = importlib.import_module("gradstudio.model.io.fileformat")
    except ImportError:
        seconds = median_seconds(lambda: chain_and_branch(nodes), repeats)
        return [Row(f"build document, {nodes:,} nodes", seconds, 1.0, "fileformat not written yet")]
    document = chain_and_branch(nodes)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.gsg"
        save = median_seconds(lambda: fileformat.save(document, path), repeats)
        size = path.stat().st_size
        load = median_seconds(lambda: fileformat.load(path), repeats)
        loaded = fileformat.load(path)
    assert loaded.snapshot()[:3] == document.snapshot()[:3]
    note = f"{size / 1e6:.1f} MB"
    return [Row(f"load .gsg, {nodes:,} nodes", load, 1.0, note), Row(f"save .gsg, {nodes:,} nodes", save, 1.0, note)]


def bench_ui_edit(nodes: int, repeats: int) -> list[Row]:
    """Edit -> new values painted on the canvas, through the real window, for a leaf edit and a local one."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gradstudio.ui.main_window import MainWindow
    from gradstudio.ui.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    store = QSettings(str(Path(tempfile.gettempdir()) / "gradstudio-bench-model.ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppSettings(store))
    window.resize(1280, 820)
    window.show()
    document = chain_and_branch(nodes)
    window.set_document(document)
    workspace = window.workspace
    for _ in range(50):
        app.processEvents()
    workspace.flush()
    window.view.centerOn(window.scene.nodes[document.settings.backward_target])  # the edited nodes in view
    fills = iter(range(10**9))

    def edit_and_paint(edit: Callable[[], SetAttribute]) -> Callable[[], object]:
        def step() -> None:
            window.editor.apply(edit(), "bench")
            while workspace._refresh_pending:
                app.processEvents()
            # the repaint the refresh asked for; none when nothing on screen looks different (the faces compare
            # what they would show with what they show: the chain's far end settles to the same digits)
            app.sendPostedEvents()
            app.processEvents()
        return step

    window.editor.apply(SetAttribute("n0", "init", "full"), "bench")
    target = document.settings.backward_target
    evaluator = workspace.model.evaluator

    def forward_only() -> None:
        document.apply(SetAttribute("n0", "fill", float(next(fills) % 7) / 7))
        evaluator.evaluate()

    rows = [
        Row(f"edit -> evaluate (no UI), leaf, {nodes:,} nodes", median_seconds(forward_only, repeats), None,
            "the engine's share of the row below"),
        Row(f"edit -> on screen, leaf, {nodes:,} nodes", median_seconds(edit_and_paint(
            lambda: SetAttribute("n0", "fill", float(next(fills) % 7) / 7)), repeats), 0.016, "every node dirty"),
        Row(f"edit -> on screen, local, {nodes:,} nodes", median_seconds(edit_and_paint(
            lambda: SetAttribute(target, "keepdim", bool(next(fills) % 2))), repeats), 0.016, "one node dirty"),
    ]
    window.undo_stack.setClean()
    window.close()
    return rows


def table(rows: list[Row]) -> str:
    """The results as an aligned text table."""
    lines = [f"{'workload':<44} {'median':>10} {'target':>10}  result  note"]
    for row in rows:
        target = f"{row.target * 1e3:.0f} ms" if row.target is not None else "-"
        lines.append(f"{row.name:<44} {row.seconds * 1e3:>7.2f} ms {target:>10}  {row.verdict():<6}  {row.note}")
    return "\n".join(lines)


def profile(nodes: int, repeats: int) -> str:
    """cProfile of the edit step on a graph of `nodes` nodes, top functions by cumulative time."""
    document = chain_and_branch(nodes)
    evaluator = Evaluator(document)
    step = edit_step(document, evaluator)
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        step()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit status 1 if a target was missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--profile", type=int, metavar="NODES", help="profile the edit step at this size instead")
    parser.add_argument("--processor", action="store_true", help="measure processor time instead of wall time")
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS["processor" if args.processor else "wall"]
    repeats = 5 if args.quick else 21
    if args.profile:
        print(profile(args.profile, repeats))
        return 0
    rows = [bench_edit(100, 0.016, repeats), bench_edit(1000, 0.100, repeats)]
    rows += bench_ui_edit(1000, repeats)
    rows += bench_file(5000, 3 if args.quick else 5)
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(f"{'processor' if args.processor else 'wall'} time, medians; load average {load}")
    print(table(rows))
    return 0 if all(row.verdict() != "MISS" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
