"""Large tensor data beside a `.gsg` file: a sibling `.npy` referenced by a relative path.

A tensor leaf whose explicit values exceed `LARGE` elements is saved as
`NAME.data/ID.npy` next to `NAME.gsg`, and its node record says `"data":
"NAME.data/ID.npy"` instead of listing the values. Reading accepts only a
relative path inside the graph file's folder and a plain `.npy` (no pickles)
holding exactly the node's number of elements.
"""

from __future__ import annotations

import io
import os
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from gradstudio.model.io.fileschema import GraphFileError, expect_str

LARGE = 10_000
NUMPY_DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "bool": np.bool_}


def is_large(record: dict[str, Any]) -> bool:
    """True when a node record is a tensor leaf whose explicit values go to a sibling `.npy` file."""
    attributes = record.get("attributes", {})
    return (record.get("kind") == "tensor" and attributes.get("init") == "values"
            and flat_length(attributes.get("values", ())) > LARGE)


def flat_length(values: list) -> int:
    """How many numbers a file's values hold, flat or nested in rows."""
    if values and isinstance(values[0], list):
        return sum(flat_length(row) for row in values)
    return len(values)


def write_large(data: dict[str, Any], path: str | os.PathLike[str], write: Any) -> None:
    """Move each large leaf's values out of the file `data` into `NAME.data/ID.npy` beside `path`.

    Works from the records alone (not the document), so a snapshot can be written on another thread."""
    target = Path(os.path.realpath(path))
    folder = f"{target.stem}.data"
    for record in data["nodes"]:
        if not is_large(record):
            continue
        attributes = record["attributes"]
        array = np.asarray(attributes["values"], dtype=NUMPY_DTYPES[attributes["dtype"]])
        buffer = io.BytesIO()
        np.save(buffer, array.reshape(tuple(attributes["shape"])), allow_pickle=False)
        (target.parent / folder).mkdir(exist_ok=True)
        write(target.parent / folder / f"{record['id']}.npy", buffer.getvalue())
        del attributes["values"]
        record["data"] = f"{folder}/{record['id']}.npy"


def read_large(raw: Any, path: str, base: Path | None, shape: tuple[int, ...], dtype: str) -> list:
    """The values of the `.npy` a node record's `data` names (GraphFileError at `path` if it is unusable)."""
    relative = expect_str(raw, path)
    if base is None:
        raise GraphFileError(path, "data files are read only when a saved graph file is opened")
    parts = PurePosixPath(relative)
    if parts.is_absolute() or ".." in parts.parts or "\\" in relative or not relative.endswith(".npy"):
        raise GraphFileError(path, f"expected a relative path to a .npy file inside the graph's folder, got "
                                   f"{relative!r}")
    try:
        array = np.load(base / parts, allow_pickle=False)
    except OSError as error:
        raise GraphFileError(path, f"cannot read the data file {relative}: {error.strerror or error}") from None
    except ValueError as error:
        raise GraphFileError(path, f"the data file {relative} is not a plain .npy array: {error}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiub":
        raise GraphFileError(path, f"the data file {relative} holds no array of numbers")
    count = int(np.prod(shape))
    if array.size != count:
        raise GraphFileError(path, f"the data file {relative} holds {array.size} values; shape {list(shape)} needs "
                                   f"{count}")
    return array.astype(NUMPY_DTYPES[dtype]).reshape(-1).tolist()
