"""How long the UI event loop pauses while a training run works (target: under 30 ms).

Run `QT_QPA_PLATFORM=offscreen python bench/train_ui.py [--seconds S] [--example NAME]`: it opens the
example in the main window, starts a long run from the Train panel, and for S seconds records the gaps
between the ticks of a 5 ms timer on the UI thread. It prints the longest gap and the 99th percentile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gradstudio.model.io.fileformat import load  # noqa: E402
from gradstudio.ui.main_window import MainWindow  # noqa: E402

TARGET_MS = 30.0


def main() -> int:
    """Print the longest event-loop pause during a run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--example", default="moons_mlp")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    root = Path(__file__).resolve().parents[1]
    window.set_document(load(root / "resources" / "examples" / f"{args.example}.gsg"))
    window.show()
    panel = window.train_panel
    panel.show()
    panel.form.steps.setValue(1_000_000)
    settle = time.perf_counter() + 1.0  # the window's first paint is not the run's doing
    while time.perf_counter() < settle:
        app.processEvents()
    gaps: list[float] = []
    last = [time.perf_counter()]

    begin = time.perf_counter()

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        if gaps[-1] > 30:
            print(f"  gap {gaps[-1]:.0f} ms at {now - begin:.2f} s", file=sys.stderr)
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    assert panel.start()
    begin = time.perf_counter()
    timer.start()
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    steps = len(panel.run.history)
    panel.stop()
    window.undo_stack.setClean()
    window.close()
    gaps.sort()
    p99 = gaps[int(len(gaps) * 0.99)]
    print(f"{args.example}: {steps} steps in {args.seconds:.1f} s while the UI ran; {len(gaps)} ticks; "
          f"median {statistics.median(gaps):.1f} ms, p99 {p99:.1f} ms, longest pause {gaps[-1]:.1f} ms "
          f"(target {TARGET_MS:.0f} ms: {'PASS' if gaps[-1] < TARGET_MS else 'MISS'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
