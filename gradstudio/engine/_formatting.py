"""Render numpy arrays as the text PyTorch prints for the equivalent tensor.

Only PyTorch's default print options are reproduced: precision 4, threshold
1000, edgeitems 3, linewidth 80 and automatic choice of scientific notation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80

_PREFIX = "tensor("

_TORCH_DTYPE_NAMES: dict[str, str] = {
    "float16": "float16",
    "float32": "float32",
    "float64": "float64",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "bool": "bool",
}

# Dtypes PyTorch leaves implicit on a non-empty tensor (float32 being the default dtype).
_IMPLICIT_DTYPES = frozenset({"float32", "int64", "bool"})


def format_size(shape: tuple[int, ...]) -> str:
    """The text PyTorch prints for a ``torch.Size`` with the given dimensions."""
    return f"torch.Size({[int(dim) for dim in shape]})"


def format_tensor(
    values: np.ndarray,
    *,
    grad_fn_name: str | None = None,
    requires_grad: bool = False,
) -> str:
    """The exact text PyTorch prints for a tensor holding `values`."""
    array = np.asarray(values)
    dtype_name = _torch_dtype_name(array.dtype)
    indent = len(_PREFIX)
    suffixes: list[str] = []
    if array.size == 0:
        # No elements to infer anything from: the shape (unless 1-d) and any
        # non-default dtype, int64 and bool included, are spelled out.
        if array.ndim != 1:
            suffixes.append(f"size={_shape_tuple_text(array.shape)}")
        if dtype_name != "float32":
            suffixes.append(f"dtype=torch.{dtype_name}")
        body = "[]"
    else:
        if dtype_name not in _IMPLICIT_DTYPES:
            suffixes.append(f"dtype=torch.{dtype_name}")
        body = _body_text(array, indent)
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _append_suffixes(_PREFIX + body, suffixes, indent)


def _torch_dtype_name(dtype: np.dtype) -> str:
    """PyTorch's name for the dtype matching a numpy dtype."""
    try:
        return _TORCH_DTYPE_NAMES[np.dtype(dtype).name]
    except KeyError:
        raise TypeError(f"cannot format arrays of dtype {dtype}") from None


def _shape_tuple_text(shape: tuple[int, ...]) -> str:
    """A shape written as a plain Python tuple, e.g. ``(0, 3)``."""
    return str(tuple(int(dim) for dim in shape))


class _ElementStyle:
    """One width and number style shared by every element of a tensor."""

    def __init__(self, shown: np.ndarray) -> None:
        """Choose the style from the elements that will actually be printed."""
        self.is_float = shown.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = shown.reshape(-1)
        if not self.is_float:
            self.width = max([1, *(len(str(item)) for item in flat.tolist())])
            return
        candidates = flat[np.isfinite(flat) & (flat != 0)]
        if candidates.size == 0:
            # Only zeros and non-finite values: they print like whole numbers.
            return
        magnitudes = np.abs(candidates).astype(np.float64)
        smallest = float(magnitudes.min())
        largest = float(magnitudes.max())
        self.int_mode = bool(np.all(candidates == np.ceil(candidates)))
        self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        # Only non-zero finite values decide the width; zeros, nan and inf
        # are padded to it (or overflow it) when printed.
        self.width = max(len(self._number_text(item)) for item in candidates.tolist())

    def _number_text(self, item: float) -> str:
        """A float written in this style, before padding."""
        if self.sci_mode:
            return f"{item:.{PRECISION}e}"
        if self.int_mode:
            text = f"{item:.0f}"
            return text + "." if math.isfinite(item) else text
        return f"{item:.{PRECISION}f}"

    def render(self, item: float | int | bool) -> str:
        """One element, right-aligned to the shared width."""
        text = self._number_text(item) if self.is_float else str(item)
        return text.rjust(self.width)


def _edge_positions(length: int, summarize: bool) -> tuple[list[int], list[int]]:
    """Indices printed before and after the ``...`` marker along one axis."""
    if summarize and length > 2 * EDGEITEMS:
        return list(range(EDGEITEMS)), list(range(length - EDGEITEMS, length))
    return list(range(length)), []


def _shown_elements(array: np.ndarray, summarize: bool) -> np.ndarray:
    """The sub-array of elements that appear in the printed text, gathered alone.

    One open-mesh index reads only the shown elements (at most 6 per axis when summarised), so a huge
    expanded view (zero strides) is never made contiguous just to be printed.
    """
    if not summarize:
        return array
    positions = [head + tail for head, tail in (_edge_positions(length, summarize) for length in array.shape)]
    return array[np.ix_(*positions)]


def _body_text(array: np.ndarray, indent: int) -> str:
    """The bracketed data of a non-empty tensor, as printed after the prefix."""
    summarize = array.size > THRESHOLD
    style = _ElementStyle(_shown_elements(array, summarize))
    return _nested_text(array, indent, summarize, style)


def _nested_text(array: np.ndarray, indent: int, summarize: bool, style: _ElementStyle) -> str:
    """The text of one (sub-)tensor whose opening bracket sits at column `indent`."""
    if array.ndim == 0:
        return style.render(array.item())
    if array.ndim == 1:
        return _row_text(array, indent, summarize, style)
    head, tail = _edge_positions(array.shape[0], summarize)
    pieces = [_nested_text(array[i], indent + 1, summarize, style) for i in head]
    if tail:
        pieces.append("...")
        pieces.extend(_nested_text(array[i], indent + 1, summarize, style) for i in tail)
    # Sub-tensors of rank k are separated by k - 1 blank lines.
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(pieces) + "]"


def _row_text(row: np.ndarray, indent: int, summarize: bool, style: _ElementStyle) -> str:
    """A 1-d row, wrapped so each line holds as many elements as fit the line width."""
    head, tail = _edge_positions(row.shape[0], summarize)
    cells = [style.render(item) for item in row[head].tolist()]
    if tail:
        cells.append(" ...")
        cells.extend(style.render(item) for item in row[tail].tolist())
    per_line = max(1, (LINEWIDTH - indent) // (style.width + 2))
    lines = [", ".join(cells[start : start + per_line]) for start in range(0, len(cells), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _append_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Close the tensor text, putting each suffix on the last line or a new one."""
    # PyTorch's estimate of the last line's length runs two characters long;
    # reproduce it, since it decides where suffixes wrap.
    line_length = len(text) - text.rfind("\n") + 1
    parts = [text]
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_with_spec(tensor: Any, format_spec: str) -> str:
    """`format(tensor, spec)` as PyTorch: a 0-d tensor formats its Python value, any other tensor only with
    an empty spec (its str)."""
    if tensor._data.ndim == 0 and type(tensor).__name__ == "Tensor":
        return tensor.item().__format__(format_spec)
    return object.__format__(tensor, format_spec)
