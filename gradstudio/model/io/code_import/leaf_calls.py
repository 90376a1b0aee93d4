"""Tensor-creating calls (`torch.ones(3, requires_grad=True)`, `torch.tensor([[1., 2.]])`, ...) as a tensor
node's attributes. The creation functions are the catalog's initialisers; their arguments are read as literals."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gradstudio.model.catalog import CATALOG
from gradstudio.model.io.code_import.errors import CodeImportError

INITIALISERS = tuple(init for init in CATALOG["tensor"].attribute("init").choices if init != "values")
CREATORS = (*INITIALISERS, "tensor")  # torch.tensor(data) makes an init="values" leaf
DTYPES = CATALOG["tensor"].attribute("dtype").choices
FLAGS = ("dtype", "requires_grad", "device")


def literal(node: ast.AST) -> Any:
    """The value of a literal expression (numbers, strings, tuples, lists, None, `torch.float64`), never run."""
    dtype = dtype_name(node)
    if dtype is not None:
        return dtype
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise refusal(node, "this argument must be a literal (a number, a tuple of numbers, True/False, a string "
                            "or torch.<dtype>)", "a literal such as 2, (2, 3), True or torch.float64") from None


def dtype_name(node: ast.AST) -> str | None:
    """`torch.float64` -> "float64" (None if `node` names no dtype the catalog knows)."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in DTYPES:
        return node.attr
    return None


def refusal(node: ast.AST, reason: str, nearest: str = "") -> CodeImportError:
    """A CodeImportError at `node`'s position (columns 1-based)."""
    return CodeImportError(reason, getattr(node, "lineno", 0), getattr(node, "col_offset", -1) + 1, nearest)


def leaf_attributes(function: str, call: ast.Call, next_seed: Callable[[], int]) -> dict[str, Any]:
    """The tensor node attributes `torch.<function>(...)` describes (CodeImportError if it describes none)."""
    keywords = {keyword.arg: keyword.value for keyword in call.keywords}
    if None in keywords:
        raise refusal(call, "**keyword unpacking is not supported", f"torch.{function}(3, requires_grad=True)")
    attributes = _READERS[function](call, keywords)
    for name, node in keywords.items():
        if name not in FLAGS:
            raise refusal(node, f"torch.{function} has no argument {name!r} GradStudio reads",
                          f"torch.{function}(..., dtype=torch.float64, requires_grad=True)")
    if "device" in keywords and literal(keywords["device"]) != "cpu":
        raise refusal(keywords["device"], "GradStudio computes on the CPU", "device='cpu' (or no device)")
    if "dtype" in keywords:
        attributes["dtype"] = literal(keywords["dtype"])
    if "requires_grad" in keywords:
        attributes["requires_grad"] = literal(keywords["requires_grad"])
    if function in ("rand", "randn"):
        attributes["seed"] = next_seed()
    attributes["init"] = "values" if function == "tensor" else function
    return attributes


def _sizes(call: ast.Call, keywords: dict[str, ast.AST], name: str = "size") -> tuple:
    if name in keywords:
        return tuple(_as_tuple(literal(keywords.pop(name))))
    values = [literal(argument) for argument in call.args]
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        return tuple(values[0])
    return tuple(values)


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _filled(call: ast.Call, keywords: dict[str, ast.AST]) -> dict[str, Any]:
    return {"shape": _sizes(call, keywords)}


def _full(call: ast.Call, keywords: dict[str, ast.AST]) -> dict[str, Any]:
    arguments = [literal(argument) for argument in call.args]
    size = keywords.pop("size", None)
    fill = keywords.pop("fill_value", None)
    shape = _as_tuple(literal(size) if size is not None else arguments.pop(0) if arguments else ())
    value = literal(fill) if fill is not None else arguments.pop(0) if arguments else None
    if value is None or arguments:
        raise refusal(call, "torch.full takes a size and a fill value", "torch.full((2, 3), 1.5)")
    return {"shape": tuple(shape), "fill": value}


def _eye(call: ast.Call, keywords: dict[str, ast.AST]) -> dict[str, Any]:
    sizes = [literal(argument) for argument in call.args]
    sizes += [literal(keywords.pop(name)) for name in ("n", "m") if name in keywords]
    if len(sizes) not in (1, 2):
        raise refusal(call, "torch.eye takes one or two sizes", "torch.eye(3)")
    return {"shape": (sizes[0], sizes[-1])}


def _arange(call: ast.Call, keywords: dict[str, ast.AST]) -> dict[str, Any]:
    values = [literal(argument) for argument in call.args]
    values += [literal(keywords.pop(name)) for name in ("start", "end", "step") if name in keywords]
    start, end, step = (0, *values, 1)[-3:] if len(values) == 1 else (*values, 1)[:3]
    if len(values) not in (1, 2, 3) or step != 1 or not all(isinstance(v, (int, float)) for v in (start, end)):
        raise refusal(call, "an arange leaf counts up in steps of 1", "torch.arange(6) or torch.arange(1., 7.)")
    return {"shape": (max(0, math.ceil(end - start)),), "start": start}


def _linspace(call: ast.Call, keywords: dict[str, ast.AST]) -> dict[str, Any]:
    values = [literal(argument) for argument in call.args]
    values += [literal(keywords.pop(name)) for name in ("start", "end", "steps") if name in keywords]
    if len(values) != 3:
        raise refusal(call, "torch.linspace takes a start, an end and a number of steps", "torch.linspace(0., 1., 5)")
    return {"shape": (values[2],), "start": values[0], "end": values[1]}


def _tensor(call: ast.Call, keywords: dict[str, ast.AST]) -> dict[str, Any]:
    if len(call.args) != 1:
        raise refusal(call, "torch.tensor takes one nested list of numbers", "torch.tensor([[1., 2.], [3., 4.]])")
    data = literal(call.args[0])
    try:
        array = np.asarray(data)
    except ValueError:
        array = np.asarray(0.0, dtype=object)
    if array.dtype.kind not in "biuf":
        raise refusal(call.args[0], "torch.tensor needs a rectangular nested list of numbers",
                      "torch.tensor([[1., 2.], [3., 4.]])")
    dtype = {"b": "bool", "i": "int64", "u": "int64"}.get(array.dtype.kind, "float32")
    values = tuple(array.reshape(-1).tolist())
    return {"shape": tuple(array.shape), "values": values, "dtype": dtype}


_READERS: dict[str, Callable[[ast.Call, dict[str, ast.AST]], dict[str, Any]]] = {
    "ones": _filled, "zeros": _filled, "rand": _filled, "randn": _filled, "full": _full, "eye": _eye,
    "arange": _arange, "linspace": _linspace, "tensor": _tensor,
}
