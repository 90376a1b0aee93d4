"""Decision regions of a 2-D classifier: which class each point of the plane gets, computed without Qt.

A node qualifies when it is computed, row by row, from a data leaf of shape
(N, 2) (a tensor leaf without requires_grad) and its value has N rows: class
scores (N, C) pick the largest, one column (or a vector) is split at 0.5 when it
lies in [0, 1] (probabilities) and at 0 otherwise. The graph is run again under
`no_grad` with a grid over the data's range in place of the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.port_constants import unconnected_constants
from gradstudio.model.workspace import GraphWorkspace

RESOLUTION = 80
MARGIN = 0.25  # of the data's extent, added on each side


@dataclass
class Regions:
    """The class of each grid cell (rows: y, columns: x), the grid's axes, and the data with its labels."""

    xs: np.ndarray
    ys: np.ndarray
    classes: np.ndarray
    points: np.ndarray
    labels: np.ndarray | None
    count: int


def _leaf(workspace: GraphWorkspace, node_id: str) -> np.ndarray | None:
    node = workspace.document.nodes[node_id]
    value = workspace.value(node_id)
    if node.kind != "tensor" or node.attributes.get("requires_grad") or not isinstance(value, engine.Tensor):
        return None
    return value.detach().numpy()


def decision_regions(workspace: GraphWorkspace, node_id: str, resolution: int = RESOLUTION) -> Regions | None:
    """The regions `node_id` draws over the plane of its 2-D data, or None when it is no such classifier."""
    document = workspace.document
    value = workspace.value(node_id)
    if not isinstance(value, engine.Tensor) or value.dim() not in (1, 2) or not document.nodes[node_id].input_ports():
        return None
    rows = value.shape[0]
    upstream = document.ancestors(node_id)
    data = [leaf for leaf in upstream if (array := _leaf(workspace, leaf)) is not None
            and array.shape == (rows, 2) and array.dtype.kind == "f"]
    if len(data) != 1:
        return None
    points = _leaf(workspace, data[0])
    grid, xs, ys = _grid(points, resolution)
    try:
        scores = _run(workspace, node_id, upstream, data[0], grid)
    except Exception:  # noqa: BLE001 - a graph that cannot take other rows simply has no regions
        return None
    if scores.shape[0] != grid.shape[0]:
        return None
    classes, count = _classes(scores)
    return Regions(xs, ys, classes.reshape(len(ys), len(xs)), points, _labels(workspace, upstream, rows, data[0]),
                   count)


def _grid(points: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((high - low) * MARGIN, 0.5)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(points.dtype), xs, ys


def _run(workspace: GraphWorkspace, target: str, upstream: set[str], data: str, grid: np.ndarray) -> np.ndarray:
    """The target's value with the grid in place of the data leaf (leaves the target does not need kept)."""
    document = workspace.document
    values = {}
    with engine.no_grad():
        for node_id in document.topological_order():
            if node_id not in upstream and node_id != target:
                continue
            node = document.nodes[node_id]
            if node_id == data:
                values[node_id] = engine.from_numpy(grid)
            elif not node.input_ports():
                values[node_id] = workspace.value(node_id)
            else:
                inputs = {**unconnected_constants(document, node),
                          **{port: values[edge.source] for port, edge in document.inputs_of(node_id).items()}}
                values[node_id] = node.spec.compute(inputs, node.attributes)
    return values[target].detach().numpy()


def _classes(scores: np.ndarray) -> tuple[np.ndarray, int]:
    if scores.ndim == 2 and scores.shape[1] >= 2:
        return scores.argmax(axis=1), scores.shape[1]
    flat = scores.reshape(-1)
    threshold = 0.5 if flat.min() >= 0 and flat.max() <= 1 else 0.0
    return (flat > threshold).astype(np.int64), 2


def _labels(workspace: GraphWorkspace, upstream: set[str], rows: int, data: str) -> np.ndarray | None:
    """The data's labels: a leaf the classifier does not read, with one value per row (class indices or 0/1)."""
    for node_id in workspace.document.nodes:
        if node_id == data or node_id in upstream:
            continue
        array = _leaf(workspace, node_id)
        if array is not None and array.shape in ((rows,), (rows, 1)):
            return array.reshape(-1).astype(np.int64)
    return None
