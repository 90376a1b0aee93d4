"""A live theme switch repaints node faces, the overview and charts; exported images leave out pins' buttons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backward_helpers import item, node_id, open_example
from panel_helpers import click_node
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPalette

from gradstudio.ui import themes
from gradstudio.ui.io.export import PNG_SCALE, export_png, graph_rect
from gradstudio.ui.main_window import MainWindow


def body_point(window: MainWindow, name: str) -> QPointF:
    """A scene point on the body of node `name`, clear of text."""
    node = item(window, name)
    return node.mapToScene(QPointF(170, node.height() - 3))


def test_a_theme_switch_repaints_faces_overview_and_charts(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    window.actions.actionThemeLight.trigger()
    click_node(qtbot, window, "y")
    qtbot.waitUntil(lambda: window.values_panel.value_view.plot is not None, timeout=2000)
    plot = window.values_panel.value_view.plot
    window.view.zoom_at(2.5, window.view.viewport().rect().center())
    window.minimap.refit()
    window.actions.actionThemeDark.trigger()
    qtbot.wait(20)
    dark = themes.resolve("dark")
    spot = window.view.mapFromScene(body_point(window, "x"))
    if window.view.viewport().rect().contains(spot):
        assert window.view.viewport().grab().toImage().pixelColor(spot) == dark.node_body
    overview = window.minimap._picture.toImage()
    corner = overview.pixelColor(2, overview.height() - 3)
    assert abs(corner.red() - dark.background.red()) < 20  # the overview's (translucent) dark background
    assert plot.backgroundBrush().color() == plot.palette().color(QPalette.ColorRole.Base)
    assert plot.backgroundBrush().color().lightness() < 100


def test_exported_images_leave_out_the_pins_buttons(window: MainWindow, tmp_path: Path, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    window.actions.actionNoGrad.trigger()
    window.backward.run(node_id(window, "out"))
    pin = window.backward.pins[node_id(window, "out")]
    accent = pin.color
    path = tmp_path / "graph.png"
    assert export_png(window.scene, path)
    image = QImage(str(path))
    source = graph_rect(window.scene)

    def exported(point: QPointF) -> QColor:
        offset = (point - source.topLeft()) * PNG_SCALE
        return image.pixelColor(round(offset.x()), round(offset.y()))

    fix = pin.mapToScene(pin.fix_rect().topLeft() + QPointF(3, 3))
    assert exported(fix) != accent
    cross = pin.close_rect()
    inked = [exported(pin.mapToScene(cross.topLeft() + QPointF(x, y))) for x in range(16) for y in range(16)]
    assert all(color.red() > 200 and color.green() > 200 for color in inked)  # no × drawn: paper only
    on_screen = window.view.viewport().grab().toImage()
    spot = window.view.mapFromScene(fix)
    if window.view.viewport().rect().contains(spot):
        assert on_screen.pixelColor(spot) == accent


def test_a_long_grad_fn_name_is_elided_at_its_end_not_clipped_at_its_start(window: MainWindow) -> None:
    from PySide6.QtGui import QFontMetricsF

    from gradstudio.ui.canvas.fonts import SMALL_FONT
    from gradstudio.ui.canvas.node_face import AUTOGRAD_SHARE, fitted_autograd
    from gradstudio.ui.canvas.node_geometry import WIDTH

    long_name = fitted_autograd("BinaryCrossEntropyWithLogitsBackward0")
    assert long_name.startswith("Binary") and long_name.endswith("…")
    assert QFontMetricsF(SMALL_FONT).horizontalAdvance(long_name) <= AUTOGRAD_SHARE * (WIDTH - 16)
    assert fitted_autograd("MulBackward0") == "MulBackward0"
