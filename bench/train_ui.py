"""How long the UI event loop pauses while a training run works (target: under 30 ms).

Run `QT_QPA_PLATFORM=offscreen python bench/train_ui.py [--seconds S] [--example NAME]`: it opens the
example in the main window, records the gaps between the ticks of a 5 ms timer on the UI thread for S seconds
with no run (the shared machine's own floor), then starts a long run from the Train panel and records them
for S seconds more. It prints the longest gap and the 99th percentile of both.
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

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
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
    record_gaps(app, 1.0)  # the window's first paint is not the run's doing
    idle = record_gaps(app, args.seconds)  # the machine's own floor: the same window, no run
    assert panel.start()
    gaps = record_gaps(app, args.seconds, report=True)
    steps = len(panel.run.history)
    panel.stop()
    window.undo_stack.setClean()
    window.close()
    print(f"idle window, no run: {summary(idle)}")
    print(f"{args.example}: {steps} steps in {args.seconds:.1f} s while the UI ran; {summary(gaps)} "
          f"(target {TARGET_MS:.0f} ms: {'PASS' if max(gaps) < TARGET_MS else 'MISS'})")
    return 0


def record_gaps(app: QApplication, seconds: float, report: bool = False) -> list[float]:
    """Milliseconds between the ticks of a 5 ms timer on the UI thread, for `seconds`."""
    gaps: list[float] = []
    last = [time.perf_counter()]
    begin = last[0]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        if report and gaps[-1] > TARGET_MS:
            print(f"  gap {gaps[-1]:.0f} ms at {now - begin:.2f} s", file=sys.stderr)
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    timer.start()
    loop.exec()  # the app's own event loop, as `app.exec()` runs it: blocked in Qt between events
    timer.stop()
    return gaps


def summary(gaps: list[float]) -> str:
    """Tick count, median, 99th percentile and longest pause."""
    ordered = sorted(gaps)
    return (f"{len(ordered)} ticks; median {statistics.median(ordered):.1f} ms, "
            f"p99 {ordered[int(len(ordered) * 0.99)]:.1f} ms, longest pause {ordered[-1]:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
