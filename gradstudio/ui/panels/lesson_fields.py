"""The inspector's lesson rows: tick "Hide value" / "Hide gradient" on a node, then set each hidden item's
tolerance and hint. Each change is one `SetHidden` edit (undoable); the rows only show to the lesson's author."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QFormLayout

from gradstudio.model.document import EditError, Node
from gradstudio.model.edits import Edit
from gradstudio.model.lesson import HIDDEN_KINDS, KIND_TITLES, MAX_HINT, Hidden, SetHidden
from gradstudio.ui.widgets.attribute_fields import CheckField, Field, TextField

SETTINGS = ("hide", "atol", "rtol", "hint")
HIDE_TIP = ("Hide the node's {title} from a learner playing the lesson: they predict it, then press Reveal "
            "(saved in the file)")
ATOL_TIP = "Absolute tolerance of the {title}: right when |answer - truth| <= atol + rtol * |truth|"
RTOL_TIP = "Relative tolerance of the {title} (0.01 is 1 %)"
HINT_TIP = f"A hint the learner sees beside the hidden {{title}} (at most {MAX_HINT} characters)"

AddRow = Callable[[QFormLayout, str, str, Field, str], None]


def key(setting: str, kind: str) -> str:
    """The inspector's field key of one lesson setting: `hide_value`, `atol_grad`, ..."""
    return f"{setting}_{kind}"


def is_lesson_key(field_key: str) -> bool:
    """True for a field this module made."""
    setting, _, kind = field_key.rpartition("_")
    return setting in SETTINGS and kind in HIDDEN_KINDS


def add_lesson_rows(form: QFormLayout, node: Node, add: AddRow) -> None:
    """A Hide checkbox per item, and the tolerance and hint rows of each item the node hides."""
    for kind in HIDDEN_KINDS:
        title = KIND_TITLES[kind]
        tip = HIDE_TIP.format(title=title)
        add(form, key("hide", kind), "lesson" if kind == HIDDEN_KINDS[0] else "", CheckField(f"Hide {title}", tip),
            tip)
        if kind in node.hidden:
            for setting, label, template in (("atol", "atol", ATOL_TIP), ("rtol", "rtol", RTOL_TIP),
                                             ("hint", "hint", HINT_TIP)):
                tip = template.format(title=title)
                add(form, key(setting, kind), f"  {title} {label}", TextField(None, tip, "none"), tip)


def lesson_value(node: Node, field_key: str) -> Any:
    """What a lesson field shows for `node` now."""
    setting, _, kind = field_key.rpartition("_")
    hidden = node.hidden.get(kind)
    if setting == "hide":
        return hidden is not None
    if hidden is None:
        return ""
    return f"{getattr(hidden, setting):g}" if setting != "hint" else hidden.hint


def lesson_edit(node: Node, field_key: str, value: Any) -> tuple[Edit, str]:
    """The edit a lesson field asks for, and its undo text (EditError for a tolerance that is no number)."""
    setting, _, kind = field_key.rpartition("_")
    title = KIND_TITLES[kind]
    if setting == "hide":
        hidden = Hidden() if value else None
        return SetHidden(node.id, kind, hidden), f"{'Hide' if value else 'Show'} {node.name}'s {title}"
    current = node.hidden.get(kind, Hidden())
    if setting == "hint":
        return SetHidden(node.id, kind, replace(current, hint=str(value))), f"Set the hint of {node.name}'s {title}"
    try:
        number = float(str(value).strip().removesuffix("%")) / (100 if str(value).strip().endswith("%") else 1)
    except ValueError:
        raise EditError(f"{setting} must be a number, such as 0.001 or 1%") from None
    if not math.isfinite(number):
        raise EditError(f"{setting} must be a finite number")
    return (SetHidden(node.id, kind, replace(current, **{setting: number})),
            f"Set the {setting} of {node.name}'s {title}")
