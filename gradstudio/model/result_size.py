"""The size of a node's result, predicted from its inputs' shapes before the engine allocates it.

Evaluation asks `check_result_size` before computing a node, so a broadcast, a matrix product or an
expand past the element limit (`limits.max_elements`) becomes the node's error instead of an allocation
of gigabytes. Only shapes are read here; what cannot be predicted is checked after computing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.limits import check_element_count

MATRIX_PRODUCTS = ("matmul", "mm")


def predicted_shape(kind: str, inputs: Mapping[str, Any], attributes: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The shape a node of `kind` will produce from `inputs`, where shapes alone tell; None when they do not."""
    shapes = [tuple(value.shape) for value in inputs.values() if isinstance(value, engine.Tensor)]
    if not shapes:
        return None
    try:
        if kind in MATRIX_PRODUCTS and len(shapes) == 2:
            a, b = shapes
            if len(a) < 2 or len(b) < 2:
                return None  # a vector operand: the result is no larger than the other operand
            return (*np.broadcast_shapes(a[:-2], b[:-2]), a[-2], b[-1])
        if kind == "linear" and len(shapes) >= 2 and len(shapes[1]) == 2:
            return (*shapes[0][:-1], shapes[1][0])
        if kind == "expand":
            wanted = tuple(attributes.get("shape", ()))
            source = shapes[0]
            offset = len(wanted) - len(source)
            return tuple(source[i - offset] if extent == -1 and i >= offset else abs(extent)
                         for i, extent in enumerate(wanted))
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None  # shapes that do not fit: the engine's own error says why


def check_result_size(kind: str, inputs: Mapping[str, Any], attributes: Mapping[str, Any]) -> None:
    """LimitError when the node's predicted result would hold more elements than one tensor may."""
    shape = predicted_shape(kind, inputs, attributes)
    if shape is not None:
        check_element_count(shape, "the result's shape")
