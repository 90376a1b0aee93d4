"""Screenshots of the main window (offscreen): one PNG per example graph, plus the README's picture.

Usage: `.venv/bin/python tools/screenshots.py [FOLDER]` (default `shots/`). The README
image goes to `docs/images/main_window.png`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gradstudio.model.annotations import AddAnnotation, Annotation  # noqa: E402
from gradstudio.ui import themes  # noqa: E402
from gradstudio.ui.files import example_files  # noqa: E402
from gradstudio.ui.main_window import MainWindow  # noqa: E402
from gradstudio.ui.settings import AppSettings  # noqa: E402

SIZE = (1400, 860)
README_IMAGE = ROOT / "docs" / "images" / "main_window.png"
README_EXAMPLE = "notes_forward_backward"


def make_window(settings_dir: Path, theme: str = "light") -> MainWindow:
    """A fresh window with throw-away settings."""
    store = QSettings(str(settings_dir / f"{theme}.ini"), QSettings.Format.IniFormat)
    settings = AppSettings(store)
    settings.set_theme(theme)
    window = MainWindow(settings)
    QApplication.instance().setPalette(themes.application_palette(window.theme))
    window.resize(*SIZE)
    window.show()
    return window


def shoot(window: MainWindow, path: Path, select: str | None = None) -> None:
    """Fit the graph, optionally select a node by name, and save the window as a PNG."""
    app = QApplication.instance()
    app.processEvents()
    window.scene.clearSelection()
    window.view.fit_all()
    if select is not None:
        ids = [node.id for node in window.document.nodes.values() if node.name == select]
        window.scene.select(ids)
    window.scene.refresh_values()
    window.minimap.refit()  # the app redraws the overview a moment after a change; a screenshot cannot wait
    app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path), "PNG")
    print(path)


def annotate(window: MainWindow) -> None:
    """A frame around the graph and a note, as a teacher would add them."""
    rect = window.scene.itemsBoundingRect()
    document = window.document
    frame = Annotation(document.new_id(), "frame", "Forward pass: out = mean(3 (x + 2)²)",
                       (rect.x() - 30, rect.y() - 60), (rect.width() + 60, rect.height() + 90))
    note = Annotation(document.new_id(), "note", "Leaves on the left, the scalar loss on the right. "
                      "Backward will flow right to left.", (rect.x(), rect.bottom() + 60), (330, 70))
    for item in (frame, note):
        window.editor.apply(AddAnnotation(item), "annotate")


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="shots", help="where the PNGs go (default: shots/)")
    folder = Path(parser.parse_args(argv).folder)
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as scratch:
        for theme in ("light", "dark"):
            window = make_window(Path(scratch), theme)
            for example in example_files():
                window.files.open_path(str(example), as_example=True)
                suffix = "" if theme == "light" else "-dark"
                shoot(window, folder / f"{example.stem}{suffix}.png", select="out")
                if theme == "light" and example.stem == README_EXAMPLE:
                    annotate(window)
                    shoot(window, folder / f"{example.stem}-annotated.png", select="out")
                    shoot(window, README_IMAGE, select="out")
                window.undo_stack.setClean()
            window.close()
    app.setPalette(themes.application_palette(themes.LIGHT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
