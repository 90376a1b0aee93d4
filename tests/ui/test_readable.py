"""Readable on open: the window fits the screen, examples open at a readable zoom, far-out nodes keep their text,
and right-aligned labels on node faces keep their first letter."""

from __future__ import annotations

from typing import Any

import pytest
from backward_helpers import item, open_example
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QFontMetricsF, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from gradstudio.ui.canvas import fonts, items
from gradstudio.ui.io.files import example_files
from gradstudio.ui.main_window import DEFAULT_SIZE, FRAME_ALLOWANCE, MainWindow

SMALL_SCREEN = QSize(1366, 768)


class RecordingPainter(QPainter):
    """A painter on an image that remembers every text drawn: (rect, flags, text, font)."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.texts: list[tuple[QRectF, int, str, Any]] = []

    def drawText(self, *args: Any) -> None:  # noqa: N802 - Qt's name
        rect, flags, text = args if len(args) == 3 else (args[0], 0, args[1])
        self.texts.append((QRectF(rect), int(flags.value if hasattr(flags, "value") else flags), text, self.font()))
        super().drawText(*args)


def painted_texts(node: items.NodeItem, zoom: float) -> list[tuple[QRectF, int, str, Any]]:
    """What `node` paints at `zoom` (the level of detail comes from the painter's transform)."""
    image = QImage(400, 400, QImage.Format.Format_ARGB32)
    painter = RecordingPainter(image)
    painter.scale(zoom, zoom)
    # the face itself, as the face cache renders it (painting the item draws the cached pixels)
    node.paint_face(painter, QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform()))
    painter.end()
    return painter.texts


def small_screen_window(window: MainWindow) -> MainWindow:
    """The window at its default size on a 1366x768 screen."""
    window.resize(DEFAULT_SIZE.boundedTo(SMALL_SCREEN - FRAME_ALLOWANCE))
    window.restoreState(window.saveState())
    QGuiApplication.processEvents()
    return window


def test_the_default_window_fits_the_screen_with_its_status_bar(qtbot: Any, settings: Any, dialogs: Any) -> None:
    window = MainWindow(settings)  # offscreen's screen is 800x800: smaller than the default size
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    available = window.screen().availableGeometry()
    assert window.height() <= available.height() - FRAME_ALLOWANCE.height()
    assert window.width() <= available.width() - FRAME_ALLOWANCE.width()
    status = window.statusBar()
    assert status.isVisible()
    assert status.mapTo(window, status.rect().bottomLeft()).y() < window.height()


@pytest.mark.parametrize("path", example_files(), ids=lambda path: path.stem)
def test_every_example_opens_readable_on_a_small_screen(window: MainWindow, path: Any) -> None:
    small_screen_window(window)
    open_example(window, path.stem)
    zoom = window.view.zoom()
    assert zoom >= 0.7
    assert fonts.NAME_FONT.pixelSize() * zoom >= 9 and fonts.MONO_FONT.pixelSize() * zoom >= 9
    assert window.view.viewport().width() >= 700 and window.view.viewport().height() >= 400


def test_far_out_nodes_keep_their_name_and_value_in_large_letters(window: MainWindow) -> None:
    open_example(window, "notes_forward_backward")
    node = item(window, "y_squared")
    texts = {text: font for _, _, text, font in painted_texts(node, 0.3)}  # below the full face's level of detail
    assert set(texts) == {"y_squared", "[9, 9, 9]"}
    for zoom in (0.2, 0.1):  # too small for the whole text at a readable size: it is elided
        name, value = [text for _, _, text, _ in painted_texts(node, zoom)]
        assert name.startswith("y_s") and value.startswith("[9")
    texts = {text: font for _, _, text, font in painted_texts(node, 0.3)}
    assert all(font.pixelSize() * 0.3 >= 9 for font in texts.values())

    open_example(window, "xor_mlp")
    w1 = item(window, "W1")  # its values are too long for the face
    for zoom in (0.45, 0.3):
        fonts = [font for _, _, text, font in painted_texts(w1, zoom) if text.startswith("[")]
        assert fonts and all(font.pixelSize() * zoom >= 8.9 for font in fonts)  # elided rather than shrunk away


@pytest.mark.parametrize("zoom", [0.55, 0.7, 1.0, 1.6])
def test_right_aligned_labels_have_room_for_their_first_letter(window: MainWindow, zoom: float) -> None:
    open_example(window, "notes_forward_backward")
    for name in ("x", "y", "out"):
        for rect, flags, text, font in painted_texts(item(window, name), zoom):
            if flags & Qt.AlignmentFlag.AlignRight.value and text:
                # the box must not be cut to the measured width: hinting at this zoom may draw the text wider
                assert rect.width() >= QFontMetricsF(font).horizontalAdvance(text) * 1.3, text


class FakeScreen:
    """A screen of a given available size."""

    def __init__(self, width: int, height: int) -> None:
        self.size = (width, height)

    def availableGeometry(self) -> Any:  # noqa: N802 - Qt's name
        from PySide6.QtCore import QRect

        return QRect(0, 0, *self.size)


@pytest.mark.parametrize(("screen", "expected"), [((1366, 768), (1280, 720)), ((1920, 1080), (1632, 918)),
                                                  ((1024, 600), (1008, 552))])
def test_the_default_size_fits_each_screen(monkeypatch: pytest.MonkeyPatch, screen: Any, expected: Any) -> None:
    from gradstudio.ui import main_window

    monkeypatch.setattr(main_window.QGuiApplication, "primaryScreen", lambda: FakeScreen(*screen))
    assert main_window.default_size() == QSize(*expected)
