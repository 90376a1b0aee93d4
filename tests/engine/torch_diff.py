"""Differential-testing helpers: run one scenario with our engine and with real PyTorch, compare what they show.

A scenario is a function `scenario(t)` written once against the torch API; it returns
whatever it wants checked (tensors, numbers, lists, messages). `observe` turns that into
plain data the same way for both modules, and `assert_same` compares the two: reprs,
dtypes and shapes exactly, values with a float tolerance, grad_fn graphs by name.
This module never imports torch, so the torch-free suite can use it too.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import gradstudio.engine as engine

RTOL, ATOL = 1e-5, 1e-6


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "grad_fn") and hasattr(value, "requires_grad") and hasattr(value, "detach")


def _is_node(value: Any) -> bool:
    return hasattr(value, "next_functions") and hasattr(value, "name")


def graph(node: Any) -> Any:
    """A grad_fn and all behind it as nested `(class, name(), ((child, index), ...))`, `None` for no edge."""
    if node is None:
        return None
    return type(node).__name__, node.name(), tuple((graph(child), index) for child, index in node.next_functions)


def observe(value: Any) -> Any:
    """Plain, module-independent data describing `value`."""
    if _is_tensor(value):
        return {
            "repr": repr(value),
            "dtype": repr(value.dtype),
            "shape": repr(value.shape),
            "requires_grad": value.requires_grad,
            "is_leaf": value.is_leaf,
            "graph": graph(value.grad_fn),
            "values": np.array(value.detach().numpy(), copy=True),
        }
    if _is_node(value):
        return {"graph": graph(value)}
    if isinstance(value, np.ndarray):
        return {"ndarray": value.copy()}
    if type(value) in (list, tuple):
        return type(value).__name__, [observe(item) for item in value]
    if isinstance(value, dict):
        return {key: observe(item) for key, item in value.items()}
    if isinstance(value, tuple):  # Size, return_types, ...: the printed form and the items
        return {"repr": repr(value), "items": [observe(item) for item in value]}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return {"type": type(value).__name__, "repr": repr(value)}


def _mismatch(path: str, ours: Any, theirs: Any) -> str:
    return f"at {path or 'top'}:\n  engine: {ours!r}\n  torch:  {theirs!r}"


def compare(ours: Any, theirs: Any, path: str = "") -> None:
    """Assert two observations agree (floats and arrays within tolerance, everything else exactly)."""
    if isinstance(ours, float) and isinstance(theirs, float):
        assert math.isclose(ours, theirs, rel_tol=RTOL, abs_tol=ATOL) or (math.isnan(ours) and math.isnan(theirs)), \
            _mismatch(path, ours, theirs)
        return
    if isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, _mismatch(path, ours, theirs)
        if ours.dtype.kind == "f":
            assert np.allclose(ours, theirs, rtol=RTOL, atol=ATOL, equal_nan=True), _mismatch(path, ours, theirs)
        else:
            assert np.array_equal(ours, theirs), _mismatch(path, ours, theirs)
        return
    assert type(ours) is type(theirs), _mismatch(path, ours, theirs)
    if isinstance(ours, dict):
        assert ours.keys() == theirs.keys(), _mismatch(path, ours, theirs)
        for key in ours:
            compare(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs), _mismatch(path, ours, theirs)
        for index, (a, b) in enumerate(zip(ours, theirs)):
            compare(a, b, f"{path}[{index}]")
    else:
        assert ours == theirs, _mismatch(path, ours, theirs)


def printed(tensor: Any) -> tuple[str, Any]:
    """A tensor as printed (so its grad_fn's name) and its values, without comparing the graph behind it.

    Used for gradients built with `create_graph=True`, whose backward-of-backward graphs are engine-specific.
    """
    return repr(tensor), tensor.detach()


def attempt(action: Callable[[], Any]) -> Any:
    """The action's result, or `("raised", type name, message)` when it raises."""
    try:
        return action()
    except Exception as error:  # noqa: BLE001 - the error is the observation
        return "raised", type(error).__name__, str(error)


def warned(action: Callable[[], Any]) -> tuple[Any, list[tuple[str, str]]]:
    """The action's outcome (see `attempt`) plus every warning it emitted as `(category, message)`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = attempt(action)
    return result, [(w.category.__name__, str(w.message)) for w in caught]


def assert_same(scenario: Callable[[Any], Any], torch: Any) -> None:
    """Run `scenario` with our engine and with `torch`; they must show the same things."""
    ours = observe(scenario(engine))
    theirs = observe(scenario(torch))
    compare(ours, theirs)
