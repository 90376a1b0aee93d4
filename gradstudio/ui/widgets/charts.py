"""Plots of tensor values with pyqtgraph: a bar chart for a vector, a heatmap with a colour bar for a matrix.

pyqtgraph takes about half a second to import, so it is imported on the first plot, never at start-up.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

BARS_LIMIT = 2000  # longer vectors are drawn as a line: thousands of bars are slow and unreadable
TICKS_LIMIT = 16  # up to this many positions every index is labelled (pyqtgraph's own ticks fall between cells)
POSITIVE, NEGATIVE = QColor(66, 133, 244), QColor(219, 68, 55)


def plottable(values: Any) -> np.ndarray:
    """Values as finite float64: NaN drawn as 0, infinities at the largest finite magnitude present."""
    data = np.asarray(values, dtype=np.float64)
    finite = data[np.isfinite(data)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    return np.nan_to_num(data, nan=0.0, posinf=max(high, 0.0), neginf=min(low, 0.0))


def nonfinite_caption(values: Any) -> str:
    """Says how NaN and infinite values are drawn (empty when every value is finite)."""
    data = np.asarray(values, dtype=np.float64)
    nans, infs = int(np.isnan(data).sum()), int(np.isinf(data).sum())
    parts = [f"{nans} NaN drawn as 0"] if nans else []
    parts += [f"{infs} ±inf drawn at the finite extremes"] if infs else []
    return ", ".join(parts)


def new_plot(parent: QWidget | None = None) -> Any:
    """An empty pyqtgraph plot in the widget palette's colours, without pyqtgraph's context menu."""
    import pyqtgraph as pg

    plot = pg.PlotWidget(parent)
    follow_palette(plot)
    plot.setMenuEnabled(False)
    plot.getPlotItem().hideButtons()
    plot.setMinimumSize(120, 100)
    plot.installEventFilter(PaletteFollower(plot))  # a live theme switch recolours the chart
    return plot


def follow_palette(plot: Any) -> None:
    """Paint `plot`'s background and axes in its widget palette's colours."""
    palette = plot.palette()
    plot.setBackground(palette.color(QPalette.ColorRole.Base))
    foreground = palette.color(QPalette.ColorRole.Text)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(foreground)
        axis.setTextPen(foreground)


class PaletteFollower(QObject):
    """Recolours the plot it filters whenever its palette changes (the application's theme switched)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            follow_palette(watched)
        return False


def show_bars(plot: Any, values: np.ndarray) -> None:
    """A vector as bars (blue up, red down) indexed from 0; a line when it is too long for bars."""
    import pyqtgraph as pg

    data = plottable(values).reshape(-1)
    index = np.arange(data.size)
    if data.size > BARS_LIMIT:
        plot.addItem(pg.PlotDataItem(index, data, pen=pg.mkPen(POSITIVE)))
    else:
        brushes = [pg.mkBrush(POSITIVE if v >= 0 else NEGATIVE) for v in data]
        plot.addItem(pg.BarGraphItem(x=index, height=data, width=0.8, brushes=brushes, pen=pg.mkPen(None)))
    plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(plot.palette().color(QPalette.ColorRole.Mid))))
    plot.getPlotItem().setLabel("bottom", "index")
    _index_ticks(plot.getPlotItem().getAxis("bottom"), data.size)
    plot.setXRange(-0.5, max(data.size - 0.5, 0.5), padding=0.02)
    low, high = min(float(data.min(initial=0.0)), 0.0), max(float(data.max(initial=0.0)), 0.0)
    plot.setYRange(low, high if high > low else low + 1.0, padding=0.08)


def heatmap_levels(matrix: np.ndarray) -> tuple[float, float, bool]:
    """Colour-scale limits and whether they are signed (symmetric about 0, so white is exactly zero)."""
    low, high = float(matrix.min(initial=0.0)), float(matrix.max(initial=0.0))
    if low < 0 < high:
        bound = max(-low, high)
        return -bound, bound, True
    if low == high:
        return low - 0.5, high + 0.5, low < 0
    return low, high, low < 0


def show_heatmap(plot: Any, values: np.ndarray) -> Any:
    """A matrix as an image (row 0 at the top) with a colour bar beside it; returns the colour bar."""
    import pyqtgraph as pg

    matrix = plottable(values)
    low, high, signed = heatmap_levels(matrix)
    colours = pg.colormap.get("CET-D1" if signed else "viridis")
    image = pg.ImageItem(matrix, axisOrder="row-major")
    rows, columns = matrix.shape
    image.setRect(QRectF(-0.5, -0.5, columns, rows))  # cell (i, j) centred on the point (j, i)
    plot.addItem(image)
    item = plot.getPlotItem()
    item.invertY(True)
    item.setAspectLocked(False)
    item.setLabel("left", "row")
    item.setLabel("bottom", "column")
    bar = pg.ColorBarItem(values=(low, high), colorMap=colours, interactive=False, width=14)
    bar.setImageItem(image, insert_in=item)
    _index_ticks(item.getAxis("left"), rows)
    _index_ticks(item.getAxis("bottom"), columns)
    plot.setXRange(-0.5, columns - 0.5, padding=0)
    plot.setYRange(-0.5, rows - 0.5, padding=0)
    return bar


def _index_ticks(axis: Any, count: int) -> None:
    """Label every integer position of a short axis; leave long ones to pyqtgraph."""
    axis.setTicks([[(i, str(i)) for i in range(count)]] if count <= TICKS_LIMIT else None)


REGION_COLOURS = ((66, 133, 244), (219, 68, 55), (15, 157, 88), (244, 180, 0), (171, 71, 188), (0, 172, 193))


def show_regions(plot: Any, regions: Any) -> None:
    """Decision regions as a pale image of classes under the data points, coloured by their labels."""
    import pyqtgraph as pg

    plot.clear()
    colours = np.array([REGION_COLOURS[i % len(REGION_COLOURS)] for i in range(max(regions.count, 1))])
    pale = (colours * 0.35 + 255 * 0.65).astype(np.ubyte)
    image = pg.ImageItem(pale[regions.classes].transpose(1, 0, 2))  # ImageItem indexes [x, y]
    xs, ys = regions.xs, regions.ys
    image.setRect(float(xs[0]), float(ys[0]), float(xs[-1] - xs[0]), float(ys[-1] - ys[0]))
    plot.addItem(image)
    labels = regions.labels if regions.labels is not None else np.zeros(len(regions.points), np.int64)
    brushes = [pg.mkBrush(*REGION_COLOURS[int(label) % len(REGION_COLOURS)]) for label in labels]
    plot.addItem(pg.ScatterPlotItem(regions.points[:, 0], regions.points[:, 1], brush=brushes, size=8,
                                    pen=pg.mkPen("w")))
