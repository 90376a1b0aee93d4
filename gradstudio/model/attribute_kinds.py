"""Attribute kinds as data: what each kind accepts, how it reads as typed text and as code, which control edits it.

One registry that validation, the inspector's typed text, its widgets and the code export all ask (nothing
else branches on a kind's name). Limits are data: a spec's own `minimum`/`maximum` (a count's 1..64), or
else the kind's (a shape's extents are at least -1, which means "infer"); for list kinds they bound each entry.
Adding a kind is one `_register(...)` call here; a new widget role also needs its field in the inspector.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gradstudio.model import code_literals as lit
from gradstudio.model.document import EditError
from gradstudio.model.limits import MAX_INT, LimitError, check_int, check_number, max_elements, short_repr

if TYPE_CHECKING:
    from gradstudio.model.op_spec import AttributeSpec


@dataclass(frozen=True)
class AttributeKind:
    """One kind of attribute: its check, its typed text and code forms, its control and its default limits."""

    name: str
    accept: Callable[[AttributeSpec, Any], Any]  # a non-None value normalised, or EditError saying why not
    read: Callable[[str], Any]  # typed text to a value; text that does not convert comes back for the check
    show: Callable[[Any], str]  # a non-None value as the text a field shows
    literal: Callable[[Any], str]  # a non-None value as the Python code the export writes in a template
    widget: str  # the control's role, mapped to a field class by the UI: check, spin, choice, text, table
    placeholder: str = ""
    minimum: float | None = None  # default limits (of each entry, for list kinds); a spec's own replace them
    maximum: float | None = None
    entries: str = ""  # what a list kind's entries are called in a refusal ("extents"); empty for scalars

    def check(self, spec: AttributeSpec, value: Any) -> Any:
        """`value` normalised for `spec`; EditError naming the problem (type, limits, the spec's own rule)."""
        if value is None:
            if spec.optional:
                return None
            raise EditError(f"{spec.name} needs a value")
        value = self.accept(spec, value)
        self._check_limits(spec, value)
        if spec.validate is not None:
            try:
                spec.validate(value)
            except EditError:
                raise
            except ValueError as error:  # LeafError and the like: the rule's own words
                raise EditError(str(error)) from None
        return value

    def limits(self, spec: AttributeSpec) -> tuple[float | None, float | None]:
        """The (minimum, maximum) that bound `spec`'s values: the spec's own where given, else the kind's."""
        minimum = spec.minimum if spec.minimum is not None else self.minimum
        maximum = spec.maximum if spec.maximum is not None else self.maximum
        return minimum, maximum

    def parse(self, spec: AttributeSpec, text: str) -> Any:
        """The value typed `text` stands for (text that does not convert is passed on, for `check` to refuse)."""
        return self.read(text)

    def format(self, spec: AttributeSpec, value: Any) -> str:
        """The text a field shows for `value` (empty for None)."""
        return "" if value is None else self.show(value)

    def code_literal(self, spec: AttributeSpec, value: Any) -> str:
        """`value` as the Python code the export puts where a template names the attribute."""
        return "None" if value is None else self.literal(value)

    def _check_limits(self, spec: AttributeSpec, value: Any) -> None:
        minimum, maximum = self.limits(spec)
        if minimum is None and maximum is None:
            return
        items = value if self.entries else (value,)
        if all((minimum is None or item >= minimum) and (maximum is None or item <= maximum) for item in items):
            return
        bounds = _bounds(minimum, maximum)
        if self.entries:
            raise EditError(f"{spec.name} {self.entries} must be {bounds}, got {list(value)}")
        raise EditError(f"{spec.name} must be {bounds}, got {value}")


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"between {minimum} and {maximum}"
    if minimum == -1:
        return "non-negative (or -1 to infer)"  # -1 is the extent PyTorch infers
    return f"at least {minimum}" if minimum is not None else f"at most {maximum}"


KINDS: dict[str, AttributeKind] = {}
MAX_TEXT = 1000  # an index expression or other typed text attribute
MAX_DIMS = 64  # entries of a shape or a dims list (numpy allows 64 dimensions)


def _register(kind: AttributeKind) -> None:
    KINDS[kind.name] = kind


def kind_of(spec: AttributeSpec) -> AttributeKind:
    """The registered kind of attribute `spec` (EditError for a kind nobody registered)."""
    try:
        return KINDS[spec.kind]
    except KeyError:
        raise EditError(f"unknown attribute kind {spec.kind!r}") from None


def widget_role(spec: AttributeSpec) -> str:
    """The role of the control that edits `spec`: the spec's own (a tensor's values: a table), else its kind's."""
    return spec.widget or kind_of(spec).widget


def placeholder(spec: AttributeSpec) -> str:
    """The hint an empty text field shows: what leaving it empty means (from the doc), else the kind's example."""
    if spec.optional:
        empty = re.search(r"\(empty: ([^)]*)\)", spec.doc)
        return f"empty: {empty.group(1) if empty else 'none'}"
    return kind_of(spec).placeholder


# ----- numbers as typed ---------------------------------------------------------------------------------------


def format_number(value: Any) -> str:
    """A number as typed: ints plain, floats in Python's shortest form (`0.1`, `1e-08`)."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    return repr(value)


def parse_number(text: str) -> Any:
    """`"2"` -> 2, `"2.5"` -> 2.5, `"inf"` -> inf; text that is not a number comes back as it was."""
    stripped = text.strip()
    for convert in (int, float):
        try:
            return convert(stripped)
        except ValueError:
            continue
    return text


# ----- index expressions ----------------------------------------------------------------------------------------


def _index_part(text: str) -> Any:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):  # a list of ints: advanced indexing
        entries = [entry.strip() for entry in text[1:-1].split(",") if entry.strip()]
        return [int(entry) for entry in entries]
    if text == "...":
        return Ellipsis
    if text == "None":
        return None
    if ":" in text:
        bounds = text.split(":")
        if len(bounds) > 3:
            raise EditError(f"bad slice {text!r}")
        numbers = [int(b) if b.strip() else None for b in bounds]
        return slice(*numbers)
    return int(text)


def _index_parts(text: str) -> list[str]:
    """The comma-separated parts of an index, keeping a bracketed list of ints as one part."""
    parts, depth, current = [], 0, ""
    for character in text:
        depth += {"[": 1, "]": -1}.get(character, 0)
        if depth < 0 or depth > 1:
            raise ValueError(text)
        if character == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += character
    if depth:
        raise ValueError(text)
    return parts + [current]


def parse_index(text: str) -> tuple:
    """`"0, 1:3, None, ..., [0, 2]"` as an index tuple: ints, slices, None, ... and lists of ints."""
    try:
        return tuple(_index_part(part) for part in _index_parts(text))
    except EditError:
        raise
    except ValueError:
        raise EditError(f"index {text!r} must be ints, slices (a:b:c), None, ... or lists of ints [0, 2] "
                        "separated by commas") from None


def _index_code(part: Any) -> str:
    if part is Ellipsis:
        return "..."
    if part is None:
        return "None"
    if isinstance(part, slice):
        bounds = [part.start, part.stop] + ([part.step] if part.step is not None else [])
        return ":".join("" if bound is None else str(bound) for bound in bounds)
    if isinstance(part, list):
        return "[" + ", ".join(str(entry) for entry in part) + "]"
    return str(part)


def _index_literal(text: str) -> str:
    """An index expression re-written from its parsed form (only ints, slices, None, ... and int lists reach the
    code)."""
    return ", ".join(_index_code(part) for part in parse_index(text))


# ----- checks -------------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


MAX_NESTING = 32  # the file reader's limit too


def _flatten(values: Any, depth: int = 0) -> list:
    if isinstance(values, (list, tuple)):
        if depth > MAX_NESTING:
            raise EditError(f"values nested more than {MAX_NESTING} deep")
        return [x for item in values for x in _flatten(item, depth + 1)]
    return [values]


def _within(check: Callable[[Any, str], Any], value: Any, what: str) -> Any:
    """`check(value, what)` from `limits`, its LimitError as the EditError the document raises."""
    try:
        return check(value, what)
    except LimitError as error:
        raise EditError(str(error)) from None


def _boolean(spec: AttributeSpec, value: Any) -> bool:
    if not isinstance(value, bool):
        raise EditError(f"{spec.name} must be true or false, got {short_repr(value)}")
    return value


def _integer(spec: AttributeSpec, value: Any) -> int:
    if not _is_int(value):
        raise EditError(f"{spec.name} must be an integer, got {short_repr(value)}")
    return _within(check_int, value, spec.name)


def _number(spec: AttributeSpec, value: Any) -> Any:
    if not _is_number(value):
        raise EditError(f"{spec.name} must be a number, got {short_repr(value)}")
    return _within(check_number, value, spec.name)


def _float(spec: AttributeSpec, value: Any) -> float:
    return float(_number(spec, value))


def _text(spec: AttributeSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise EditError(f"{spec.name} must be text, got {short_repr(value)}")
    if len(value) > MAX_TEXT:
        raise EditError(f"{spec.name} may have at most {MAX_TEXT} characters, got {len(value):,}")
    return value


def _index(spec: AttributeSpec, value: Any) -> str:
    parse_index(_text(spec, value))
    return value


def _choice(spec: AttributeSpec, value: Any) -> str:
    if not isinstance(value, str) or value not in spec.choices:
        raise EditError(f"{spec.name} must be one of {', '.join(spec.choices)}, got {short_repr(value)}")
    return value


def _integers(spec: AttributeSpec, value: Any) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not all(_is_int(v) for v in value):
        raise EditError(f"{spec.name} must be a list of integers, got {short_repr(value)}")
    if len(value) > MAX_DIMS:
        raise EditError(f"{spec.name} may have at most {MAX_DIMS} entries, got {len(value)}")
    if any(abs(v) > MAX_INT for v in value):
        raise EditError(f"{spec.name} entries must be within ±{MAX_INT}, got {short_repr(value)}")
    return tuple(value)


def _numbers(spec: AttributeSpec, value: Any) -> tuple:
    flat = _flatten(value)
    if not all(isinstance(v, (int, float, bool)) for v in flat):
        raise EditError(f"{spec.name} must be numbers, got {short_repr(value)}")
    if len(flat) > max_elements():
        raise EditError(f"{spec.name} has {len(flat):,} numbers; the limit for one tensor is {max_elements():,}")
    for item in flat:
        _within(check_number, item, spec.name)
    return tuple(flat)


# ----- typed text -----------------------------------------------------------------------------------------------


def _verbatim(text: str) -> str:
    return text


def _scalar(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """A reader of one value: empty text is None, text `convert` refuses comes back unchanged."""
    def read(text: str) -> Any:
        stripped = text.strip()
        if not stripped:
            return None
        try:
            return convert(stripped)
        except ValueError:
            return text

    return read


def _truth(text: str) -> bool:
    truth = {"true": True, "false": False}.get(text.lower())
    if truth is None:
        raise ValueError(text)
    return truth


def _number_text(text: str) -> Any:
    return parse_number(text)


def _list_parts(text: str) -> list[str]:
    text = text.strip()
    inner = text[1:-1] if text[:1] + text[-1:] in ("()", "[]") else text
    parts = [part.strip() for part in inner.split(",")]
    if parts and not parts[-1]:
        parts.pop()  # "3," is the one-element shape
    return parts


def _integer_list(text: str) -> Any:
    try:
        return tuple(int(part) for part in _list_parts(text))
    except ValueError:
        return text.strip()


def _number_list(text: str) -> tuple:
    return tuple(parse_number(part) for part in _list_parts(text))


def _list_text(values: Any) -> str:
    return ", ".join(format_number(v) for v in values)


def _numbers_literal(values: Any) -> str:
    return "(" + ", ".join(lit.number(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def _sizes_literal(values: Any) -> str:
    return lit.sizes(tuple(values))


# ----- the registry -------------------------------------------------------------------------------------------

_register(AttributeKind("bool", _boolean, _scalar(_truth), str, lit.number, "check"))
_register(AttributeKind("int", _integer, _scalar(int), str, lit.number, "spin"))
# a dimension may be optional (empty: all of them), so it is typed, not spun
_register(AttributeKind("dim", _integer, _scalar(int), str, lit.number, "text"))
_register(AttributeKind("float", _float, _scalar(_number_text), format_number, lit.number, "text"))
# a Python number kept as written (int or float): the 2 in x + 2
_register(AttributeKind("number", _number, _scalar(_number_text), format_number, lit.number, "text"))
_register(AttributeKind("str", _text, _verbatim, str, repr, "text"))
_register(AttributeKind("index", _index, _verbatim, str, _index_literal, "text", "e.g. 0, 1:3, ..., None, [0, 2]"))
_register(AttributeKind("choice", _choice, _verbatim, str, repr, "choice"))
_register(AttributeKind("shape", _integers, _integer_list, _list_text, _sizes_literal, "text",
                        "e.g. 2, 3 (empty: a 0-d tensor)", minimum=-1, entries="extents"))
_register(AttributeKind("dims", _integers, _integer_list, _list_text, _sizes_literal, "text", "e.g. 1, 0",
                        entries="entries"))
_register(AttributeKind("values", _numbers, _number_list, _list_text, _numbers_literal, "text"))
