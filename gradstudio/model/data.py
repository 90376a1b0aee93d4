"""Loading data into a tensor leaf from a CSV or `.npy` file, refused whole with a precise reason.

`read_data(path)` returns the file's numbers as an array, or raises `DataFileError`
naming the row and column and what was expected there (CSV) or what the `.npy`
holds that we cannot use. `load_data_edit(document, node_id, array)` is the one
edit that gives the node that shape, dtype and those values (`init="values"`), so
loading is undoable and a refused file changes nothing.
"""

from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np

from gradstudio.model.document import EditError, GraphDocument
from gradstudio.model.edits import Batch, Edit, SetAttribute
from gradstudio.model.limits import max_elements

MAX_DATA_BYTES = 200 * 1024 * 1024
DTYPES = {"f": "float32", "i": "int64", "u": "int64", "b": "bool"}


class DataFileError(ValueError):
    """A data file we refuse; the message says where and what was expected."""


def read_data(path: str | os.PathLike[str]) -> np.ndarray:
    """The numbers in a `.npy` file (no pickles) or a CSV file (an optional header row, then equal rows)."""
    try:
        if os.path.getsize(path) > MAX_DATA_BYTES:
            raise DataFileError(f"the file is larger than the {MAX_DATA_BYTES // (1024 * 1024)} MB limit for data")
        if str(path).lower().endswith(".npy"):
            return _read_npy(path)
        return _read_csv(path)
    except OSError as error:
        raise DataFileError(f"cannot read the file: {error.strerror or error}") from error


def _read_npy(path: str | os.PathLike[str]) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, EOFError) as error:
        raise DataFileError(f"not a usable .npy file: {error}") from None
    if not isinstance(array, np.ndarray):
        raise DataFileError("expected one array in the .npy file")
    if array.dtype.kind not in "fiub" or array.dtype.kind == "f" and array.dtype.itemsize > 8:
        raise DataFileError(f"expected numbers or booleans, got an array of dtype {array.dtype}")
    return _checked(array)


def _read_csv(path: str | os.PathLike[str]) -> np.ndarray:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        try:
            rows = [row for row in csv.reader(stream) if row and any(cell.strip() for cell in row)]
        except (csv.Error, UnicodeDecodeError) as error:
            raise DataFileError(f"not a readable CSV file: {error}") from None
    if rows and not all(_is_number(cell) for cell in rows[0]):
        rows = rows[1:]  # a header row of column names
    if not rows:
        raise DataFileError("the file holds no rows of numbers")
    width = len(rows[0])
    numbers = []
    for row_index, row in enumerate(rows, start=1):
        if len(row) != width:
            raise DataFileError(f"row {row_index}: expected {width} columns like the first row, got {len(row)}")
        for column, cell in enumerate(row, start=1):
            if not _is_number(cell):
                raise DataFileError(f"row {row_index}, column {column}: expected a number, got {cell.strip()!r}")
        numbers.append([float(cell) for cell in row])
    array = np.array(numbers, dtype=np.float64)
    return _checked((array.reshape(-1) if width == 1 else array).astype(np.float32))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _checked(array: np.ndarray) -> np.ndarray:
    if array.size > max_elements():
        raise DataFileError(f"{array.size} elements; the limit is {max_elements()}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        position = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise DataFileError(f"element {list(position)}: expected a finite number, got {array[position]}")
    return array


def dtype_of(array: np.ndarray) -> str:
    """The tensor dtype a loaded array becomes (float64 stays float64; other floats float32)."""
    if array.dtype == np.float64:
        return "float64"
    return DTYPES[array.dtype.kind]


def load_data_edit(document: GraphDocument, node_id: str, array: np.ndarray) -> Edit:
    """The edit that makes tensor leaf `node_id` hold `array` (shape, dtype, values; requires_grad kept)."""
    node = document.node(node_id)
    if node.kind != "tensor":
        raise EditError(f"{node.name} is not a tensor leaf; only tensor leaves hold data")
    values: Any = array.reshape(-1).tolist()
    return Batch([SetAttribute(node_id, "init", "values"), SetAttribute(node_id, "dtype", dtype_of(array)),
                  SetAttribute(node_id, "shape", tuple(int(n) for n in array.shape)),
                  SetAttribute(node_id, "values", values)])
