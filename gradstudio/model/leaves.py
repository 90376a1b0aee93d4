"""Leaf tensors from a tensor node's attributes (shape, dtype, initialiser, requires_grad)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.limits import LimitError, check_element_count, short_repr

DTYPES = ("float32", "float64", "int64", "bool")
INITIALISERS = ("ones", "zeros", "full", "values", "rand", "randn", "arange", "linspace", "eye")
# the attributes each initialiser reads besides shape, dtype and requires_grad
INIT_ATTRIBUTES = {"full": ("fill",), "values": ("values",), "rand": ("seed",), "randn": ("seed",),
                   "arange": ("start",), "linspace": ("start", "end")}


class LeafError(ValueError):
    """A tensor node's attributes do not describe a tensor we can make."""


def element_count(shape: tuple[int, ...]) -> int:
    """How many elements a tensor of `shape` holds (validated: non-negative ints, within `limits.max_elements`)."""
    if any(not isinstance(extent, int) or isinstance(extent, bool) or extent < 0 for extent in shape):
        raise LeafError(f"shape must be a list of non-negative integers, got {short_repr(list(shape))}")
    try:
        return check_element_count(shape)
    except LimitError as error:
        raise LeafError(str(error)) from None


def uses_attribute(init: str, name: str) -> bool:
    """True if a tensor node with initialiser `init` reads attribute `name` (`fill` only matters for full)."""
    special = {read for reads in INIT_ATTRIBUTES.values() for read in reads}
    return name not in special or name in INIT_ATTRIBUTES.get(init, ())


def make_leaf(attributes: Mapping[str, Any]) -> engine.Tensor:
    """The leaf tensor a tensor node describes."""
    shape = tuple(attributes["shape"])
    count = element_count(shape)
    dtype = getattr(engine, attributes["dtype"]) if attributes["dtype"] != "bool" else engine.bool
    init = attributes["init"]
    if init in ("rand", "randn"):
        data = _drawn(init, shape, dtype, int(attributes["seed"])).astype(dtype.numpy_dtype)
    else:
        data = _initial_values(init, shape, count, attributes).astype(dtype.numpy_dtype)
    tensor = engine.from_numpy(data)
    if attributes["requires_grad"]:
        tensor.requires_grad_(True)
    return tensor


def _drawn(init: str, shape: tuple, dtype: engine.dtype, seed: int) -> np.ndarray:
    """PyTorch's numbers for `torch.manual_seed(seed); torch.rand/randn(shape)`: float leaves draw in their
    dtype, others draw float64 and are cast, as the exported code does."""
    generator = engine.Generator().manual_seed(seed)
    draw_dtype = dtype if dtype in (engine.float32, engine.float64) else engine.float64
    return getattr(engine, init)(tuple(shape), dtype=draw_dtype, generator=generator).numpy()


def _initial_values(init: str, shape: tuple, count: int, attributes: Mapping[str, Any]) -> np.ndarray:
    if init == "ones":
        return np.ones(shape)
    if init == "zeros":
        return np.zeros(shape)
    if init == "full":
        return np.full(shape, attributes["fill"])
    if init == "values":
        values = np.asarray(attributes["values"], dtype=np.float64).reshape(-1)
        if values.size != count:
            raise LeafError(f"shape {list(shape)} needs {count} values, got {values.size}")
        return values.reshape(shape)
    if init == "arange":
        return (attributes["start"] + np.arange(count)).reshape(shape)
    if init == "linspace":
        # the engine's linspace is PyTorch's (symmetric from both ends); numpy's differs in the last bit
        values = engine.linspace(attributes["start"], attributes["end"], count, dtype=engine.float64)
        return values.numpy().reshape(shape)
    if init == "eye":
        if len(shape) != 2:
            raise LeafError(f"eye needs a 2-d shape, got {list(shape)}")
        return np.eye(*shape)
    raise LeafError(f"unknown initialiser {init!r}; expected one of {', '.join(INITIALISERS)}")
