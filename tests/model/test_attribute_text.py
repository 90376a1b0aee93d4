"""Typed attribute text: converted to values, shown back the same way; what does not convert is left to the check."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gradstudio.model.attribute_text import format_value, parse_value
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import EditError
from gradstudio.model.leaves import INITIALISERS, uses_attribute
from gradstudio.model.op_spec import AttributeSpec
from gradstudio.model.validation import check_attribute

SHAPE = CATALOG["tensor"].attribute("shape")
DIM = CATALOG["sum"].attribute("dim")
FILL = CATALOG["tensor"].attribute("fill")
VALUE = CATALOG["scalar"].attribute("value")
VALUES = CATALOG["tensor"].attribute("values")
INDEX = CATALOG["index"].attribute("index")


@pytest.mark.parametrize(("spec", "text", "value"), [
    (SHAPE, "2, 3", (2, 3)), (SHAPE, "(2, 3)", (2, 3)), (SHAPE, "[4]", (4,)), (SHAPE, "3,", (3,)), (SHAPE, "", ()),
    (DIM, "-1", -1), (DIM, " ", None), (FILL, "0.5", 0.5), (FILL, "2", 2), (VALUE, "1e-3", 0.001),
    (VALUES, "1, 2.5, -3", (1, 2.5, -3)), (INDEX, " 0, 1:3", " 0, 1:3"),
])
def test_text_converts_to_the_value(spec: AttributeSpec, text: str, value: Any) -> None:
    assert parse_value(spec, text) == value


@pytest.mark.parametrize(("spec", "text", "message"), [
    (SHAPE, "2, a", "shape must be a list of integers, got '2, a'"),
    (DIM, "first", "dim must be an integer, got 'first'"),
    (FILL, "lots", "fill must be a number, got 'lots'"),
    (VALUES, "1, x", "values must be numbers, got (1, 'x')"),
])
def test_text_that_does_not_convert_is_refused_by_the_one_check(spec: AttributeSpec, text: str, message: str) -> None:
    with pytest.raises(EditError) as refused:
        check_attribute(spec, parse_value(spec, text))
    assert str(refused.value) == message


@pytest.mark.parametrize(("spec", "value"), [(SHAPE, (2, 3)), (SHAPE, ()), (DIM, None), (DIM, 0), (FILL, 0.1),
                                             (FILL, 1e-8), (VALUE, 2), (VALUES, (1.0, 2, 0.25))])
def test_format_and_parse_round_trip(spec: AttributeSpec, value: Any) -> None:
    assert parse_value(spec, format_value(spec, value)) == value


def test_non_finite_numbers_are_typed_as_python_spells_them() -> None:
    assert math.isinf(parse_value(FILL, "inf")) and format_value(FILL, float("inf")) == "inf"


@pytest.mark.parametrize("init", INITIALISERS)
def test_a_tensor_reads_only_the_attributes_of_its_initialiser(init: str) -> None:
    reads = {spec.name for spec in CATALOG["tensor"].attributes if uses_attribute(init, spec.name)}
    assert {"shape", "dtype", "init", "requires_grad"} <= reads
    assert ("seed" in reads) == (init in ("rand", "randn")) and ("fill" in reads) == (init == "full")
    assert ("values" in reads) == (init == "values") and ("end" in reads) == (init == "linspace")
