"""Arguments of the creation functions checked as PyTorch's argument parser checks them, with its messages.

`sizes` reads a size given as varargs (`ones(2, 3)`), as one sequence (`ones((2, 3))`) or as `full`'s
single size argument; `refuse_data` explains why `torch.tensor(data)` cannot hold `data` (a string, None, a
dict, a ragged list). Both raise PyTorch's exception type and message; neither runs on the common path of
`tensor()` (numpy is asked first).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

_MAX_DIMS = 64


def type_name(value: Any) -> str:
    """The name PyTorch's messages give a Python object's type (`float`, `numpy.float64`, `Tensor`)."""
    kind = type(value)
    if kind.__name__ == "Tensor" and kind.__module__.startswith("gradstudio.engine"):
        return "Tensor"
    if kind.__name__ == "dtype" and kind.__module__.startswith("gradstudio.engine"):
        return "torch.dtype"
    if kind.__module__ == "builtins":
        return kind.__name__
    return f"{kind.__module__.split('.')[0]}.{kind.__name__}"


def _as_int(value: Any, allow_bool: bool) -> int | None:
    """`value` as a size entry (an int, a numpy integer, a 0-d integer tensor), or None when it is not one."""
    if isinstance(value, bool) and not allow_bool:
        return None
    if hasattr(value, "_data") and hasattr(value, "grad_fn"):
        data = value._data
        return int(data) if data.ndim == 0 and data.dtype.kind in "iu" else None
    if isinstance(value, (float, np.floating, str, bytes)):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _sequence(name: str, items: Any, keyword: bool, argument: str = "size") -> tuple[int, ...]:
    sizes = []
    for position, item in enumerate(items):
        extent = _as_int(item, allow_bool=position > 0)
        if extent is None:
            if keyword:
                raise TypeError(f"{name}(): argument '{argument}' must be tuple of ints, not {type_name(items)}")
            if position == 0:
                raise TypeError(f"{name}(): argument '{argument}' (position 1) must be tuple of ints, but found "
                                f"element of type {type_name(item)} at pos 0")
            raise TypeError(f"{name}(): argument '{argument}' failed to unpack the object at pos {position + 1} with "
                            f"error \"type must be tuple of ints,but got {type_name(item)}\"")
        sizes.append(extent)
    return tuple(sizes)


def sizes(name: str, args: tuple, *, varargs: bool = True, keyword: bool = False, argument: str = "size"
          ) -> tuple[int, ...]:
    """The sizes `name(*args)` asks for: varargs ints, or one sequence of ints (`varargs=False`: only that)."""
    if args and varargs and all(type(extent) is int for extent in args):  # the common case, decided early
        return args
    if len(args) == 1 and type(args[0]) is tuple and all(type(extent) is int for extent in args[0]):
        return args[0]
    if not args:
        if name in OVERLOADS:
            raise invalid_combination(name, args)
        raise TypeError(f'{name}() missing 1 required positional arguments: "{argument}"')
    first = args[0]
    if isinstance(first, (tuple, list)) and len(args) == 1:
        return _sequence(name, first, keyword, argument)
    if varargs and _as_int(first, allow_bool=False) is not None:
        return _sequence(name, args, keyword, argument)
    if len(args) > 1:
        if name in OVERLOADS:
            raise invalid_combination(name, args)
        raise TypeError(f"{name}() takes 1 positional argument but {len(args)} were given")
    where = "" if keyword else " (position 1)"
    raise TypeError(f"{name}(): argument '{argument}'{where} must be tuple of ints, not {type_name(first)}")


def check_dtype(name: str, dtype: Any) -> None:
    """PyTorch's TypeError for a `dtype=` that is not a dtype (a string, a numpy dtype)."""
    if dtype is not None and not hasattr(dtype, "numpy_dtype"):
        raise TypeError(f"{name}(): argument 'dtype' must be torch.dtype, not {type_name(dtype)}")


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or (hasattr(value, "__len__") and hasattr(value, "__getitem__")
                                                and not isinstance(value, dict) and not hasattr(value, "grad_fn"))


def _walk_sizes(data: Any) -> list[int]:
    """The shape read along first elements, as PyTorch's compute_sizes reads it."""
    shape = []
    while _is_sequence(data):
        shape.append(len(data))
        if len(shape) > _MAX_DIMS:
            raise ValueError(f"too many dimensions '{type_name(data)}'")
        if not len(data):
            break
        data = data[0]
    return shape


def _infer_kind(data: Any) -> str:
    """'f', 'i' or 'b' for what a value holds, raising PyTorch's error for what cannot be a tensor's element."""
    if isinstance(data, (bool, np.bool_)):
        return "b"
    if isinstance(data, (int, np.integer)):
        return "i"
    if isinstance(data, (float, np.floating)):
        return "f"
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type_name(data)}'")
    if hasattr(data, "grad_fn") or isinstance(data, np.ndarray):
        return np.asarray(getattr(data, "_data", data)).dtype.kind.replace("u", "i")
    if _is_sequence(data):
        kinds = {_infer_kind(item) for item in data}
        return "f" if "f" in kinds else "i" if "i" in kinds else "b" if kinds else "f"
    raise RuntimeError(f"Could not infer dtype of {type_name(data)}")


def _check_filled(data: Any, shape: list[int], dim: int, kind: str) -> None:
    if dim == len(shape):
        if not isinstance(data, (int, float, np.number, np.bool_)) and not hasattr(data, "grad_fn"):
            if kind == "f":
                raise TypeError(f"must be real number, not {type_name(data)}")
            raise TypeError(f"'{type_name(data)}' object cannot be interpreted as an integer")
        return
    if not _is_sequence(data):
        raise TypeError("not a sequence")
    if len(data) != shape[dim]:
        raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(data)})")
    for item in data:
        _check_filled(item, shape, dim + 1, kind)


def refuse_data(data: Any, numpy_dtype: np.dtype | None) -> tuple[int, ...]:
    """Raise PyTorch's error for `tensor(data)` that numpy could not hold; the shape of an empty-rowed ragged
    list PyTorch accepts (`[[], [1]]` is a (2, 0) tensor)."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type_name(data)}'")
    shape = _walk_sizes(data)
    kind = _infer_kind(data) if numpy_dtype is None else numpy_dtype.kind
    if not shape:
        raise RuntimeError(f"Could not infer dtype of {type_name(data)}")
    if all(shape):  # PyTorch stores (and so checks) nothing when a dimension is empty
        _check_filled(data, shape, 0, kind if kind != "b" else "i")
    return tuple(shape)


_OUT, _GENERATOR = "Tensor out = None, ", "torch.Generator generator, "
_TAIL = ("torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
         "bool requires_grad = False)")
_SIZE, _HIGH, _LOW_HIGH = "tuple of ints size", "int high, tuple of ints size", "int low, int high, tuple of ints size"
# PyTorch's overloads of the functions whose misuse its parser reports as "an invalid combination of arguments"
OVERLOADS: dict[str, list[tuple[str, str]]] = {
    "rand": [(_SIZE, _GENERATOR + _OUT), (_SIZE, _OUT)],
    "randn": [(_SIZE, _GENERATOR + _OUT), (_SIZE, _OUT)],
    "randint": [(_HIGH, _GENERATOR + _OUT), (_HIGH, _OUT), (_LOW_HIGH, _GENERATOR + _OUT), (_LOW_HIGH, _OUT)],
    "eye": [("int n", _OUT), ("int n, int m", _OUT)],
    "arange": [("Number end", _OUT), ("Number start, Number end", ""),
               ("Number start, Number end, Number step = 1", _OUT)],
    "linspace": [(f"{start} start, {end} end, int steps", _OUT)
                 for start, end in (("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"),
                                    ("Number", "Number"))],
}


def invalid_combination(name: str, args: tuple, keywords: dict | None = None) -> TypeError:
    """PyTorch's TypeError when no overload of `name` accepts the arguments, listing the overloads. Its list of
    what was given ends in a stray ", " when no argument was positional, as PyTorch's does."""
    got = "".join(f"{type_name(value)}, " for value in args)
    got += "".join(f"{key}={type_name(keywords[key])}, " for key in _parser_order(keywords or {}))
    expected = "".join(f" * ({lead}, *, {extra}{_TAIL}\n" for lead, extra in OVERLOADS[name])
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got[:-2] if args else got}), "
                     f"but expected one of:\n{expected}")


_MASK64, _MURMUR = (1 << 64) - 1, 0xC6A4A7935BD1E995
_KEYWORD_BUCKETS = 13  # the buckets of a std::unordered_map's first allocation (up to 13 keys)


def _string_hash(text: str) -> int:
    """libstdc++'s std::hash of a string (its 64-bit Murmur variant, `_Hash_bytes` with seed 0xc70f6907)."""
    data = text.encode()
    whole = len(data) & ~7
    digest = (0xC70F6907 ^ (len(data) * _MURMUR)) & _MASK64
    for start in range(0, whole, 8):
        word = int.from_bytes(data[start:start + 8], "little") * _MURMUR & _MASK64
        digest = (digest ^ ((word ^ (word >> 47)) * _MURMUR & _MASK64)) * _MURMUR & _MASK64
    if len(data) & 7:
        digest = (digest ^ int.from_bytes(data[whole:], "little")) * _MURMUR & _MASK64
    digest = (digest ^ (digest >> 47)) * _MURMUR & _MASK64
    return digest ^ (digest >> 47)


def _parser_order(keywords: dict) -> list[str]:
    """The keywords in the order PyTorch's message lists them: it copies them, in the caller's order, into a
    std::unordered_map and walks that. A key whose bucket is empty goes to the front of the walk; one whose
    bucket is taken goes just before that bucket's first key."""
    walk: list[str] = []
    for key in keywords:
        bucket = _string_hash(key) % _KEYWORD_BUCKETS
        taken = (place for place, other in enumerate(walk) if _string_hash(other) % _KEYWORD_BUCKETS == bucket)
        walk.insert(next(taken, 0), key)
    return walk


def is_number(value: Any) -> bool:
    """Whether PyTorch's parser takes `value` as a Number (a Python or numpy number, or a 0-d tensor)."""
    if hasattr(value, "_data") and hasattr(value, "grad_fn"):
        return value._data.ndim == 0
    return isinstance(value, (int, float, np.number, np.bool_))


def check_number(name: str, argument: str, position: int, value: Any) -> None:
    """PyTorch's TypeError for a non-number where a Number goes."""
    if not is_number(value):
        raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be Number, not {type_name(value)}")


def check_int(name: str, argument: str, position: int, value: Any) -> None:
    """PyTorch's TypeError for a non-integer where an int goes."""
    if _as_int(value, allow_bool=False) is None:
        raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be int, not {type_name(value)}")


def check_tensor(name: str, value: Any) -> None:
    """PyTorch's TypeError for a non-tensor `input` of a `*_like` function."""
    if not (hasattr(value, "_data") and hasattr(value, "grad_fn")):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type_name(value)}")
