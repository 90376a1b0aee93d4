"""Opening a `.pt` file saved with `torch.save(tensor, path)`: only a tensor, never any other pickled object.

`torch.load(..., weights_only=True)` uses PyTorch's restricted unpickler, which builds tensors and plain
containers and refuses every other global, so nothing in the file runs. Anything but a tensor is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from gradstudio.model.document import GraphDocument
from gradstudio.model.io.fileformat import MAX_FILE_BYTES, load
from gradstudio.model.io.fileschema import GraphFileError

TORCH_SUFFIXES = (".pt", ".pth")


def load_tensor_file(path: str | os.PathLike[str]) -> GraphDocument:
    """A document with the tensor saved in `path`; GraphFileError for anything else (nothing of it runs)."""
    from gradstudio.model.from_torch import FromTorchError, from_torch, require_torch

    try:
        torch = require_torch()
    except ImportError as error:
        raise GraphFileError("", str(error)) from None
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            raise GraphFileError("", f"the file is larger than {MAX_FILE_BYTES // 2**20} MB")
        value = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as error:
        raise GraphFileError("", f"cannot read the file: {error.strerror or error}") from error
    except Exception as error:  # noqa: BLE001 - the restricted unpickler refuses with several error types
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GraphFileError("", f"not a file of one tensor saved with torch.save ({first})") from None
    if not isinstance(value, torch.Tensor):
        raise GraphFileError("", f"the file holds a {type(value).__name__}, not a tensor saved with torch.save")
    try:
        return from_torch(value, names={Path(path).stem.replace("-", "_"): value})
    except (FromTorchError, TypeError) as error:
        raise GraphFileError("", str(error)) from None


def load_any(path: str | os.PathLike[str]) -> GraphDocument:
    """A graph file (`.gsg`) or a tensor file (`.pt`), by its suffix."""
    if str(path).lower().endswith(TORCH_SUFFIXES):
        return load_tensor_file(path)
    return load(path)
