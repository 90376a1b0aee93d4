"""Attribute kinds as one registry: every catalog attribute checks, reads, shows and exports through its kind."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gradstudio.model.attribute_kinds import KINDS, kind_of, parse_index, placeholder, widget_role
from gradstudio.model.attribute_text import format_value, parse_value
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import EditError
from gradstudio.model.leaves import INITIALISERS, uses_attribute
from gradstudio.model.op_spec import AttributeSpec
from gradstudio.model.validation import check_attribute

ATTRIBUTES = [(op.kind, spec) for op in CATALOG.values() for spec in op.attributes]
IDS = [f"{kind}.{spec.name}" for kind, spec in ATTRIBUTES]
LIMITED = [(kind, spec) for kind, spec in ATTRIBUTES if kind_of(spec).limits(spec) != (None, None)]
ROLES = {"check", "spin", "choice", "text", "table"}

# one value per registered kind, off the defaults, so a new kind must say what it holds
SAMPLES: dict[str, tuple[AttributeSpec, Any]] = {
    "bool": (AttributeSpec("flag", "bool", False), True),
    "int": (AttributeSpec("count", "int", 0), -7),
    "dim": (AttributeSpec("dim", "dim", 0), -2),
    "float": (AttributeSpec("fill", "float", 0.0), 1e-08),
    "number": (AttributeSpec("value", "number", 0), 3),
    "str": (AttributeSpec("label", "str", ""), " a, b "),
    "index": (AttributeSpec("index", "index", "0"), "..., 1:3, None, ::2"),
    "choice": (AttributeSpec("mode", "choice", "a", choices=("a", "b c")), "b c"),
    "shape": (AttributeSpec("shape", "shape", ()), (2, -1, 0)),
    "dims": (AttributeSpec("dims", "dims", ()), (2, 0, 1)),
    "values": (AttributeSpec("values", "values", ()), (1, 2.5, -0.125, -3)),
}


class _Probe:
    """Gives back the key it is indexed with: the index a literal stands for."""

    def __getitem__(self, key: Any) -> Any:
        return key


def _sizes(*sizes: Any) -> tuple:
    """Sizes as PyTorch reads them: one tuple, or each size as its own argument."""
    return sizes[0] if len(sizes) == 1 and isinstance(sizes[0], tuple) else sizes


# how the export uses a kind's literal in a template: as call arguments, as a subscript, or as a value
CONTEXTS = {"shape": "sizes({})", "dims": "sizes({})", "index": "probe[{}]"}


def evaluate(spec: AttributeSpec, value: Any) -> Any:
    """What the exported code gets where the template names `spec`, evaluated in a namespace without builtins."""
    code = CONTEXTS.get(spec.kind, "{}").format(kind_of(spec).code_literal(spec, value))
    result = eval(code, {"__builtins__": {}, "float": float, "sizes": _sizes, "probe": _Probe()})
    return result if spec.kind != "index" or isinstance(result, tuple) else (result,)


def exported(spec: AttributeSpec, value: Any) -> Any:
    """The value as the exported code should reproduce it (an index by its parsed parts)."""
    return parse_index(value) if spec.kind == "index" else value


@pytest.mark.parametrize(("kind", "spec"), ATTRIBUTES, ids=IDS)
def test_every_catalog_attribute_has_a_registered_kind(kind: str, spec: AttributeSpec) -> None:
    assert spec.kind in KINDS and kind_of(spec) is KINDS[spec.kind]
    assert widget_role(spec) in ROLES


@pytest.mark.parametrize(("kind", "spec"), ATTRIBUTES, ids=IDS)
def test_the_default_passes_its_kinds_check(kind: str, spec: AttributeSpec) -> None:
    checked = kind_of(spec).check(spec, spec.default)
    assert checked == spec.default and type(checked) is type(spec.default)
    assert check_attribute(spec, spec.default) == spec.default


@pytest.mark.parametrize(("kind", "spec"), ATTRIBUTES, ids=IDS)
def test_the_default_round_trips_through_its_text(kind: str, spec: AttributeSpec) -> None:
    text = kind_of(spec).format(spec, spec.default)
    assert kind_of(spec).parse(spec, text) == spec.default
    assert format_value(spec, spec.default) == text and parse_value(spec, text) == spec.default


@pytest.mark.parametrize(("kind", "spec"), ATTRIBUTES, ids=IDS)
def test_the_defaults_code_literal_evaluates_to_it(kind: str, spec: AttributeSpec) -> None:
    assert evaluate(spec, spec.default) == exported(spec, spec.default)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_registered_kind_round_trips_a_value_through_text_and_code(name: str) -> None:
    spec, value = SAMPLES[name]
    kind = KINDS[name]
    assert kind.name == name and kind.widget in ROLES
    assert kind.check(spec, value) == value
    assert kind.parse(spec, kind.format(spec, value)) == value
    assert evaluate(spec, value) == exported(spec, value)


def test_every_registered_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_none_is_empty_text_and_none_in_code_and_needs_optional(name: str) -> None:
    spec, _ = SAMPLES[name]
    kind = KINDS[name]
    assert kind.format(spec, None) == "" and kind.code_literal(spec, None) == "None"
    with pytest.raises(EditError, match=f"^{spec.name} needs a value$"):
        kind.check(spec, None)
    optional = AttributeSpec(spec.name, name, None, optional=True)
    assert kind.check(optional, None) is None


def test_non_finite_numbers_export_as_python_spells_them() -> None:
    spec, _ = SAMPLES["float"]
    assert math.isinf(evaluate(spec, float("inf"))) and math.isnan(evaluate(spec, float("nan")))
    assert evaluate(spec, -float("inf")) == -math.inf


# ----- limits ---------------------------------------------------------------------------------------------------


def _outside(kind: str, spec: AttributeSpec) -> list[Any]:
    minimum, maximum = kind_of(spec).limits(spec)
    bad = ([minimum - 1] if minimum is not None else []) + ([maximum + 1] if maximum is not None else [])
    return [(v,) for v in bad] if kind_of(spec).entries else bad


def _inside(kind: str, spec: AttributeSpec) -> list[Any]:
    good = [bound for bound in kind_of(spec).limits(spec) if bound is not None]
    return [(v,) for v in good] if kind_of(spec).entries else good


@pytest.mark.parametrize(("kind", "spec"), LIMITED, ids=[f"{k}.{s.name}" for k, s in LIMITED])
def test_limits_refuse_values_outside_and_keep_their_bounds(kind: str, spec: AttributeSpec) -> None:
    for value in _outside(kind, spec):
        with pytest.raises(EditError, match=f"^{spec.name} .*must be"):
            check_attribute(spec, value)
    for value in _inside(kind, spec):
        if kind != "tensor":  # a leaf's shape has a rule of its own besides the limits (below)
            assert check_attribute(spec, value) == value


def test_limits_are_data_on_the_spec_not_names() -> None:
    assert {(kind, spec.name) for kind, spec in LIMITED if spec.minimum is not None} == {
        ("cat", "count"), ("stack", "count"), ("smooth_l1_loss", "beta"), ("huber_loss", "delta"), ("tensor", "shape")}
    assert check_attribute(AttributeSpec("count", "int", 2), 100) == 100  # no rule hides in a name
    assert check_attribute(AttributeSpec("index", "str", "0"), "a:b") == "a:b"


@pytest.mark.parametrize(("spec", "value", "message"), [
    (CATALOG["cat"].attribute("count"), 0, "count must be between 1 and 64, got 0"),
    (CATALOG["stack"].attribute("count"), 65, "count must be between 1 and 64, got 65"),
    (CATALOG["reshape"].attribute("shape"), (2, -2),
     "shape extents must be non-negative (or -1 to infer), got [2, -2]"),
    (CATALOG["tensor"].attribute("shape"), (-2,), "shape extents must be at least 0, got [-2]"),
    (CATALOG["tensor"].attribute("shape"), (-1,), "shape extents must be at least 0, got [-1]"),  # a leaf infers none
    (CATALOG["tensor"].attribute("shape"), (10**5, 10**5), "shape [100000, 100000] has more than 10,000,000 elements, "
                                                          "the limit for one tensor"),
    (AttributeSpec("steps", "int", 1, minimum=1), 0, "steps must be at least 1, got 0"),
    (AttributeSpec("rate", "float", 0.5, maximum=1), 1.5, "rate must be at most 1, got 1.5"),
    (AttributeSpec("order", "dims", (0,), minimum=0), (1, -1), "order entries must be at least 0, got [1, -1]"),
    (CATALOG["index"].attribute("index"), "a:b", "index 'a:b' must be ints, slices (a:b:c), None, ... or lists of "
                                                 "ints [0, 2] separated by commas"),
    (CATALOG["index"].attribute("index"), "[0, [1]]", "index '[0, [1]]' must be ints, slices (a:b:c), None, ... or "
                                                      "lists of ints [0, 2] separated by commas"),
    (CATALOG["index"].attribute("index"), 3, "index must be text, got 3"),
])
def test_refusals_name_the_limit(spec: AttributeSpec, value: Any, message: str) -> None:
    with pytest.raises(EditError) as refused:
        check_attribute(spec, value)
    assert str(refused.value) == message


@pytest.mark.parametrize("call", [
    lambda spec: check_attribute(spec, 1), lambda spec: parse_value(spec, "1"),
    lambda spec: format_value(spec, 1), lambda spec: kind_of(spec).code_literal(spec, 1),
    widget_role, placeholder,
])
def test_an_unknown_kind_is_refused(call: Any) -> None:
    with pytest.raises(EditError, match="^unknown attribute kind 'colour'$"):
        call(AttributeSpec("tint", "colour", 1))


# ----- visibility and the control ------------------------------------------------------------------------------


@pytest.mark.parametrize("init", INITIALISERS)
def test_a_tensor_attribute_applies_where_its_initialiser_reads_it(init: str) -> None:
    attributes = {**CATALOG["tensor"].default_attributes(), "init": init}
    for spec in CATALOG["tensor"].attributes:
        assert spec.applies(attributes) == uses_attribute(init, spec.name), spec.name


@pytest.mark.parametrize(("kind", "spec"), [(k, s) for k, s in ATTRIBUTES if k != "tensor"],
                         ids=[i for i in IDS if not i.startswith("tensor.")])
def test_other_attributes_always_apply(kind: str, spec: AttributeSpec) -> None:
    assert spec.applies(CATALOG[kind].default_attributes())


@pytest.mark.parametrize(("spec", "role", "hint"), [
    (CATALOG["tensor"].attribute("requires_grad"), "check", ""),
    (CATALOG["cat"].attribute("count"), "spin", ""),
    (CATALOG["tensor"].attribute("dtype"), "choice", ""),
    (CATALOG["tensor"].attribute("values"), "table", ""),
    (CATALOG["tensor"].attribute("shape"), "text", "e.g. 2, 3 (empty: a 0-d tensor)"),
    (CATALOG["permute"].attribute("dims"), "text", "e.g. 1, 0"),
    (CATALOG["index"].attribute("index"), "text", "e.g. 0, 1:3, ..., None, [0, 2]"),
    (CATALOG["sum"].attribute("dim"), "text", "empty: all"),
    (CATALOG["clamp"].attribute("max"), "text", "empty: none"),
    (CATALOG["unsqueeze"].attribute("dim"), "text", ""),
])
def test_each_attribute_names_its_control_and_hint(spec: AttributeSpec, role: str, hint: str) -> None:
    assert widget_role(spec) == role and placeholder(spec) == hint
