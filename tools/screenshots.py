"""Screenshots of the main window (offscreen): each example per screen size and theme, the README's picture and tour.

Usage: `.venv/bin/python tools/screenshots.py [FOLDER] [--sizes 1366x768,1920x1080] [--examples NAME,...]
[--no-tour]` (default folder `shots/`). Each example is shot per screen size, in a window sized as the app
sizes itself on that screen, light and dark: `NAME-1366x768.png`, `NAME-1366x768-dark.png`, ... The README
images (skipped with `--no-tour`) go to `docs/images/`: `main_window.png` and the tour (`backward.png`,
`step_through.png`, `no_grad.png`, `autograd_graph.png`, `gradient_check.png`, `values_vector.png`,
`values_matrix.png`, `inspector_tensor.png`, `code_panel.png`, `broadcast.png`, `formula.png`, `versions.png`,
`lesson.png`).
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

from PySide6.QtCore import QPoint, QSettings, QSize  # noqa: E402
from PySide6.QtGui import QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QToolTip  # noqa: E402

from gradstudio.model.annotations import AddAnnotation, Annotation  # noqa: E402
from gradstudio.model.document import Edge, GraphDocument, Node  # noqa: E402
from gradstudio.model.edits import AddNode, Batch, Connect, SetSetting  # noqa: E402
from gradstudio.ui import themes  # noqa: E402
from gradstudio.ui.io.files import example_files  # noqa: E402
from gradstudio.ui.main_window import MainWindow, size_for_screen  # noqa: E402
from gradstudio.ui.settings import AppSettings  # noqa: E402

SIZE = (1400, 860)  # the README's pictures and tour
SCREENS = ((1366, 768), (1920, 1080))
IMAGES = ROOT / "docs" / "images"
README_IMAGE = IMAGES / "main_window.png"
README_EXAMPLE = "notes_forward_backward"
EXAMPLES = ROOT / "resources" / "examples"


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """Screen sizes written `1366x768,1920x1080`."""
    sizes = []
    for part in text.split(","):
        width, _, height = part.strip().lower().partition("x")
        if not (width.isdigit() and height.isdigit()):
            raise argparse.ArgumentTypeError(f"not a screen size WIDTHxHEIGHT: {part!r}")
        sizes.append((int(width), int(height)))
    return sizes


def window_size(screen: tuple[int, int]) -> QSize:
    """The size the app gives its window on a screen of this size."""
    return size_for_screen(QSize(*screen))


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
    window.workspace.refresh()
    window.minimap.refit()  # the app redraws the overview a moment after a change; a screenshot cannot wait
    app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path), "PNG")
    print(path)


def shoot_all(window: MainWindow, paths: list[Path]) -> None:
    """Save the window with everything on the canvas in view, pinned messages and gradient badges included."""
    app = QApplication.instance()
    window.workspace.refresh()
    app.processEvents()
    window.view.fit_rect(window.scene.itemsBoundingRect())
    window.minimap.refit()
    app.processEvents()
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(path), "PNG")
        print(path)


def open_notes(window: MainWindow) -> None:
    """The notes' forward/backward example, nothing selected."""
    window.files.open_path(str(EXAMPLES / f"{README_EXAMPLE}.gsg"), as_example=True)
    window.scene.clearSelection()
    window.workspace.refresh()


def tour_shot(window: MainWindow, folder: Path, name: str) -> None:
    """One picture of the feature tour, into the shots folder and docs/images."""
    shoot_all(window, [folder / name, IMAGES / name])


def feature_tour(window: MainWindow, folder: Path) -> None:
    """Backward, step-through, no-grad mode, the autograd graph and a gradient check, each in one picture.

    The palette, inspector and overview are hidden so that the canvas has the room.
    """
    tools = window.backward_tools
    for dock in (window.palette, window.inspector):
        dock.hide()
    window.minimap.hide()
    open_notes(window)
    window.actions.actionBackward.trigger()
    window.scene.select([window.document.name_owner("x")])
    window.values_panel.raise_()
    tour_shot(window, folder, "backward.png")
    window.scene.clearSelection()
    window.actions.actionZeroGrad.trigger()
    for _ in range(3):
        window.actions.actionStepBackward.trigger()
    tour_shot(window, folder, "step_through.png")
    window.actions.actionAutogradGraph.trigger()
    tour_shot(window, folder, "autograd_graph.png")
    window.actions.actionAutogradGraph.trigger()
    tools.stepper.finish()
    tools.step_panel.hide()
    window.actions.actionNoGrad.trigger()
    target = window.document.settings.backward_target
    window.backward.run(target)
    window.scene.select([target])
    window.values_panel.raise_()
    tour_shot(window, folder, "no_grad.png")
    window.undo_stack.setClean()
    open_notes(window)
    dialog = tools.check_gradient(window.document.name_owner("x"))
    QApplication.instance().processEvents()
    for path in (folder / "gradient_check.png", IMAGES / "gradient_check.png"):
        dialog.grab().save(str(path), "PNG")
        print(path)
    dialog.close()
    for dock in (window.palette, window.inspector):
        dock.show()


def select_by_name(window: MainWindow, name: str) -> None:
    """Select one node by its variable name and let the panels follow."""
    window.scene.select([window.document.name_owner(name)])
    window.workspace.refresh()
    QApplication.instance().processEvents()


def panels_tour(window: MainWindow, folder: Path) -> None:
    """The values panel (a vector's bars, a matrix's heatmaps), the inspector editing a tensor, the code panel."""
    window.files.open_path(str(EXAMPLES / f"{README_EXAMPLE}.gsg"), as_example=True)
    window.backward.run(window.document.settings.backward_target)
    select_by_name(window, "y")
    window.values_panel.raise_()
    tour_shot(window, folder, "values_vector.png")
    window.files.open_path(str(EXAMPLES / "softmax_classifier.gsg"), as_example=True)
    window.backward.run(window.document.settings.backward_target)
    select_by_name(window, "W")
    tour_shot(window, folder, "values_matrix.png")
    select_by_name(window, "X")
    shape = window.inspector.fields["shape"].editor
    shape.setFocus()
    shape.setText("6, two")
    shape.editingFinished.emit()  # as Enter does: the model refuses it, the reason shows under the field
    tour_shot(window, folder, "inspector_tensor.png")
    window.files.open_path(str(EXAMPLES / "xor_mlp.gsg"), as_example=True)
    window.code_panel.raise_()
    tour_shot(window, folder, "code_panel.png")
    window.values_panel.raise_()
    window.undo_stack.setClean()


def with_tooltip(window: MainWindow, target: str, port: str, paths: list[Path]) -> None:
    """Hover the wire into `target`'s `port` (its formula tool tip shown) and save the window with the tip on it.

    A tool tip is a window of its own, so it is painted onto the window's picture just below the mouse, where
    a desktop shows it (offscreen's small screen would push it aside).
    """
    app = QApplication.instance()
    item = window.scene.edges[(window.document.name_owner(target), port)]
    hovered = window.view.mapFromScene(item.point_at(0.3))
    QToolTip.showText(window.view.viewport().mapToGlobal(hovered), window.scene.edge_tooltip(item.edge),
                      window.view.viewport())
    app.processEvents()
    picture = window.grab()
    tip = next(widget for widget in app.topLevelWidgets()
               if widget.isVisible() and widget.metaObject().className() == "QTipLabel")
    painter = QPainter(picture)
    painter.drawPixmap(window.view.viewport().mapTo(window, hovered) + QPoint(2, 16), tip.grab())
    painter.end()
    QToolTip.hideText()
    for path in paths:
        picture.save(str(path), "PNG")
        print(path)


def in_place_demo() -> GraphDocument:
    """a -> b = sigmoid(a); c = b * b saves b; m = b.mul_(2) changes b in place; loss = c.sum()."""
    document = GraphDocument()
    nodes = [("a", "tensor", (0, 0), {"requires_grad": True}), ("two", "scalar", (0, 380), {}),
             ("b", "sigmoid", (260, 0), {}), ("c", "mul", (560, 0), {}), ("m", "mul_", (560, 380), {}),
             ("loss", "sum", (860, 0), {})]
    edges = [("a", "b", "input"), ("b", "c", "a"), ("b", "c", "b"), ("b", "m", "input"), ("two", "m", "other"),
             ("c", "loss", "input")]
    Batch([AddNode(Node(name, kind, name, attributes, position)) for name, kind, position, attributes in nodes]
          + [Connect(Edge(*edge)) for edge in edges] + [SetSetting("backward_target", "loss")]).apply(document)
    return document


def explain_tour(window: MainWindow, folder: Path) -> None:
    """The broadcast marker and the formula tool tips after Backward; version badges and a pinned in-place error."""
    for dock in (window.palette, window.inspector):
        dock.hide()
    window.minimap.hide()
    window.files.open_path(str(EXAMPLES / "softmax_classifier.gsg"), as_example=True)
    window.actions.actionBackward.trigger()
    window.scene.clearSelection()
    window.workspace.refresh()
    window.view.fit_rect(window.scene.itemsBoundingRect())
    QApplication.instance().processEvents()
    with_tooltip(window, "logits", "b", [folder / "broadcast.png", IMAGES / "broadcast.png"])
    open_notes(window)
    window.actions.actionBackward.trigger()
    window.view.fit_rect(window.scene.itemsBoundingRect())
    QApplication.instance().processEvents()
    with_tooltip(window, "z", "a", [folder / "formula.png", IMAGES / "formula.png"])
    window.set_document(in_place_demo())
    window.workspace.refresh()
    QApplication.instance().processEvents()  # values first: new values take pins away
    window.actions.actionShowVersions.trigger()
    window.view.fit_rect(window.scene.itemsBoundingRect())
    window.actions.actionBackward.trigger()  # refused: pinned on b and on m (a refresh now would take them off)
    window.view.fit_rect(window.scene.itemsBoundingRect())
    QApplication.instance().processEvents()
    for path in (folder / "versions.png", IMAGES / "versions.png"):
        window.grab().save(str(path), "PNG")
        print(path)
    window.actions.actionShowVersions.trigger()
    window.undo_stack.setClean()
    for dock in (window.palette, window.inspector):
        dock.show()
def lesson_tour(window: MainWindow, folder: Path) -> None:
    """A learner half-way through the forward-chain lesson: one right answer, one wrong, one typed, the rest `?`."""
    window.palette.hide()
    window.files.open_path(str(EXAMPLES / "lesson_forward_chain.gsg"), as_example=True)
    window.backward.run(window.document.settings.backward_target)
    rows = window.lesson_panel.rows
    for (name, kind), typed in ((("y", "value"), "[3, 3, 3]"), (("x", "grad"), "[2, 2, 2]")):
        row = rows[(window.document.name_owner(name), kind)]
        row.prediction.setText(typed)
        row.reveal()
    rows[(window.document.name_owner("y"), "grad")].prediction.setText("[6, 6, 6]")
    select_by_name(window, "z")
    tour_shot(window, folder, "lesson.png")
    window.undo_stack.setClean()
    window.palette.show()


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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: the folder, the screen sizes, which examples, whether to make the README's pictures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="shots", help="where the PNGs go (default: shots/)")
    parser.add_argument("--sizes", type=parse_sizes, default=list(SCREENS),
                        help="screen sizes to shoot each example for (default: 1366x768,1920x1080)")
    parser.add_argument("--examples", type=lambda text: text.split(","), default=None,
                        help="example names, comma-separated (default: every example)")
    parser.add_argument("--no-tour", action="store_true", help="skip the README's pictures and feature tour")
    return parser.parse_args(argv)


def loss_name(window: MainWindow) -> str | None:
    """The name of the node Backward starts from (the one worth selecting in a picture), if the graph has one."""
    target = window.document.settings.backward_target
    return window.document.nodes[target].name if target in window.document.nodes else None


def shoot_examples(window: MainWindow, folder: Path, screens: list[tuple[int, int]], theme: str,
                   names: list[str] | None) -> None:
    """Each example once per screen size, in the window the app would open on that screen."""
    suffix = "" if theme == "light" else "-dark"
    examples = [path for path in example_files() if names is None or path.stem in names]
    for screen in screens:
        window.resize(window_size(screen))
        for example in examples:
            window.files.open_path(str(example), as_example=True)
            shoot(window, folder / f"{example.stem}-{screen[0]}x{screen[1]}{suffix}.png", select=loss_name(window))
            window.undo_stack.setClean()


def readme_shots(window: MainWindow, folder: Path) -> None:
    """The README's main picture (annotated) and its tours, in the light theme at the README's size."""
    window.resize(*SIZE)
    open_notes(window)
    annotate(window)
    shoot(window, folder / f"{README_EXAMPLE}-annotated.png", select="out")
    shoot(window, README_IMAGE, select="out")
    window.undo_stack.setClean()
    feature_tour(window, folder)
    panels_tour(window, folder)
    explain_tour(window, folder)
    lesson_tour(window, folder)


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots."""
    args = parse_args(argv)
    folder = Path(args.folder)
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as scratch:
        for theme in ("light", "dark"):
            window = make_window(Path(scratch), theme)
            shoot_examples(window, folder, args.sizes, theme, args.examples)
            if theme == "light" and not args.no_tour:
                readme_shots(window, folder)
            window.close()
    app.setPalette(themes.application_palette(themes.LIGHT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
