"""The explanation table: PyTorch's exact messages (raised by the engine) get a plain line and the right fix."""

from __future__ import annotations

import warnings

import pytest

import gradstudio.engine as engine
from gradstudio.model import explain
from gradstudio.model.explain import (
    FIX_LABELS,
    NON_LEAF_GRAD,
    NOT_REQUIRING_GRAD,
    NOT_SCALAR,
    RETAIN_GRAD,
    RULES,
    accumulated_message,
)


def raised(action: object) -> str:
    """The message of the error `action()` raises."""
    with pytest.raises(Exception) as caught:  # noqa: B017 - the message is what is under test
        action()
    return str(caught.value)


def non_leaf_grad_warning() -> str:
    """What PyTorch (here: the engine) warns when reading `.grad` of a non-leaf."""
    y = engine.ones(3, requires_grad=True) * 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    return str(caught[0].message)


def test_backward_without_tracking_suggests_requires_grad_or_leaving_no_grad() -> None:
    message = raised(lambda: (engine.ones(3) * 2).sum().backward())
    assert message == NOT_REQUIRING_GRAD
    normal = explain.explain(message)
    assert normal.fix == explain.REQUIRE_GRAD and "requires grad" in normal.explanation
    under_no_grad = explain.explain(message, no_grad=True)
    assert under_no_grad.fix == explain.TURN_OFF_NO_GRAD and "no_grad" in under_no_grad.explanation
    assert under_no_grad.fix_label == "Turn off No Grad" and under_no_grad.message == message


def test_non_scalar_backward_suggests_supplying_the_gradient() -> None:
    message = raised(lambda: (engine.ones(3, requires_grad=True) * 2).backward())
    assert message == NOT_SCALAR
    explained = explain.explain(message)
    assert explained.fix == explain.SUPPLY_GRADIENT and "same shape" in explained.explanation


def test_reading_a_non_leaf_grad_suggests_retain_grad() -> None:
    message = non_leaf_grad_warning()
    assert message.startswith(NON_LEAF_GRAD)
    explained = explain.explain(message)
    assert explained.fix == RETAIN_GRAD and explained.fix_label == "Retain Grad"
    assert "leaves" in explained.explanation


def test_accumulated_grad_suggests_zero_grad() -> None:
    explained = explain.explain(accumulated_message("x", 2))
    assert explained.message == "x.grad accumulated: it now holds the sum of 2 backward passes"
    assert explained.fix == explain.ZERO_GRAD


@pytest.mark.parametrize(
    ("action", "words"),
    [
        (lambda: engine.ones(3) + engine.ones(4), "broadcast"),
        (lambda: engine.ones(2, 3) @ engine.ones(2, 3), "columns"),
        (lambda: engine.ones(3, requires_grad=True).add_(1), "in place"),
        (lambda: engine.ones(3, dtype=engine.int64, requires_grad=True), "float32"),
    ],
)
def test_common_engine_errors_are_explained_without_a_fix(action: object, words: str) -> None:
    explained = explain.explain(raised(action))
    assert words in explained.explanation and explained.fix is None


def test_unknown_messages_get_a_generic_line() -> None:
    explained = explain.explain("something new")
    assert explained.fix is None and explained.fix_label is None and explained.explanation


def test_every_fix_in_the_table_has_a_label() -> None:
    assert {rule.fix for rule in RULES if rule.fix} | {explain.TURN_OFF_NO_GRAD} == set(FIX_LABELS)
