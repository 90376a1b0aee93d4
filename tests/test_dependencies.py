"""Guards on the dependency pins (see pyproject.toml and QT-NOTES)."""

import subprocess
import sys
import textwrap
from importlib.metadata import version

NONE_PROBE = textwrap.dedent("""
    import os, sys
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QGraphicsRectItem
    app = QApplication.instance() or QApplication([])
    item = QGraphicsRectItem(0, 0, 10, 10)
    item.update()
    before = sys.getrefcount(None)
    for _ in range(1000):
        item.update()
        item.setVisible(True)
    print(sys.getrefcount(None) - before)
    sys.stdout.flush()
    os._exit(0)
""")


def test_pyside_is_below_the_aborting_release():
    major, minor = (int(part) for part in version("PySide6-Essentials").split(".")[:2])
    assert (major, minor) < (6, 12), "PySide6 6.12.0 aborts on Python 3.11; keep the <6.12 pin"


def test_pyside_returns_none_with_a_reference():
    """A leaky build drops a None reference per call and aborts the app after a few thousand calls."""
    probe = subprocess.run([sys.executable, "-c", NONE_PROBE], capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    assert int(probe.stdout.strip()) >= -10, "this PySide6 build leaks None references"
