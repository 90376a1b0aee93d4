"""Property tests of `.gsg` files: damaged files fail only with GraphFileError; random documents round-trip."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from gsg_samples import base_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import Edge, EditError, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, SetSetting
from gradstudio.model.io.fileformat import GraphFileError, dumps, load, loads, save
from gradstudio.model.op_spec import AttributeSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
SEEDS = [json.dumps(base_data(), indent=2)] + [path.read_text(encoding="utf-8")
                                               for path in sorted(EXAMPLES.glob("*.gsg"))]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


def loads_cleanly(source: str | bytes) -> None:
    """Loading either succeeds (and then round-trips) or raises GraphFileError; nothing else."""
    try:
        document = loads(source)
    except GraphFileError as error:
        assert str(error) and "\n" not in str(error)
        return
    text = dumps(document)
    assert dumps(loads(text)) == text


def places(value: Any, path: tuple = ()) -> list[tuple]:
    """The path of every value inside `value` (not the root)."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found.append((*path, key))
        found.extend(places(item, (*path, key)))
    return found


def mutate(data: Any, path: tuple, how: str, replacement: Any) -> Any:
    """`data` with the value at `path` deleted, replaced, wrapped, stringified, or given an extra key."""
    *parents, last = path
    parent = data
    for key in parents:
        parent = parent[key]
    if how == "delete":
        del parent[last]
    elif how == "replace":
        parent[last] = replacement
    elif how == "wrap":
        parent[last] = [parent[last]]
    elif how == "stringify":
        parent[last] = json.dumps(parent[last])
    elif isinstance(parent[last], dict):
        parent[last]["extra"] = replacement
    return data


@FUZZ
@given(st.sampled_from(SEEDS), st.data())
def test_mutated_json_loads_or_raises_graph_file_error(seed, data):
    document = json.loads(seed)
    for _ in range(data.draw(st.integers(1, 3))):
        spots = places(document)
        if not spots:
            break
        how = data.draw(st.sampled_from(["delete", "replace", "wrap", "stringify", "extra"]))
        document = mutate(document, data.draw(st.sampled_from(spots)), how, data.draw(json_values))
    loads_cleanly(json.dumps(document))


@FUZZ
@given(st.sampled_from(SEEDS), st.data())
def test_damaged_text_loads_or_raises_graph_file_error(seed, data):
    index = data.draw(st.integers(0, len(seed)))
    how = data.draw(st.sampled_from(["truncate", "flip", "insert", "cut"]))
    if how == "truncate":
        text = seed[:index]
    elif how == "flip":
        text = seed[:index] + data.draw(st.characters()) + seed[index + 1:]
    elif how == "insert":
        text = seed[:index] + data.draw(st.text(max_size=5)) + seed[index:]
    else:
        text = seed[:index] + seed[index + data.draw(st.integers(1, 40)):]
    loads_cleanly(text)


@FUZZ
@given(st.sampled_from(SEEDS), st.data())
def test_damaged_bytes_load_or_raise_graph_file_error(seed, data):
    raw = bytearray(seed.encode("utf-8"))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    loads_cleanly(bytes(raw))


# ----- random documents ---------------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)
numbers = st.integers(-10, 10) | st.floats(allow_nan=False)
small_shapes = st.lists(st.integers(0, 3), max_size=3)


def attribute_values(spec: AttributeSpec) -> st.SearchStrategy:
    """Valid values for one attribute."""
    kinds = {
        "int": st.integers(1, 4) if spec.name == "count" else st.integers(-5, 5),
        "float": numbers.map(float),
        "number": numbers,
        "bool": st.booleans(),
        "str": st.text(max_size=8),
        "index": st.sampled_from(["0", "1:3", "..., 0", "None, -1", "::2"]),
        "choice": st.sampled_from(spec.choices or (spec.default,)),
        "shape": small_shapes,
        "dim": st.integers(-3, 3),
        "dims": st.lists(st.integers(-3, 3), max_size=3),
        "values": st.lists(st.integers(-9, 9) | finite | st.booleans(), max_size=12),
    }
    strategy = kinds[spec.kind]
    if spec.kind == "float" and (spec.minimum is not None or spec.maximum is not None):  # limits are data on the spec
        strategy = st.floats(spec.minimum, spec.maximum, allow_nan=False, allow_infinity=False)
    return st.none() | strategy if spec.optional else strategy


@st.composite
def node_attributes(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """Some attributes of a `kind` node set to random valid values (the rest stay at their defaults)."""
    chosen = draw(st.lists(st.sampled_from(CATALOG[kind].attributes), unique=True)) if CATALOG[kind].attributes else []
    return {spec.name: draw(attribute_values(spec)) for spec in chosen}


@st.composite
def documents(draw: st.DrawFn) -> GraphDocument:
    """A random valid document built with the model's edits: nodes, edges, annotations and settings."""
    document = GraphDocument()
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(sorted(CATALOG)))
        node = Node(document.new_id(), kind, document.new_name(kind), draw(node_attributes(kind)),
                    (draw(finite), draw(finite)), draw(st.booleans()))
        AddNode(node).apply(document)
    ids = list(document.nodes)
    for _ in range(draw(st.integers(0, 12)) if ids else 0):
        target = draw(st.sampled_from(ids))
        ports = document.nodes[target].input_ports()
        if ports:
            try:
                Connect(Edge(draw(st.sampled_from(ids)), target, draw(st.sampled_from(ports)))).apply(document)
            except EditError:
                pass  # occupied input or a cycle: the document refused it, as it should
    for _ in range(draw(st.integers(0, 2))):
        item = Annotation(document.new_id(), draw(st.sampled_from(["note", "frame"])), draw(st.text(max_size=20)),
                          (draw(finite), draw(finite)), (draw(st.floats(40, 1e4)), draw(st.floats(40, 1e4))))
        AddAnnotation(item).apply(document)
    SetSetting("grad_mode", draw(st.sampled_from(["normal", "no_grad"]))).apply(document)
    SetSetting("backward_target", draw(st.none() | st.sampled_from(ids)) if ids else None).apply(document)
    return document


@ROUND_TRIP
@given(documents())
def test_random_documents_round_trip_byte_for_byte(document):
    text = dumps(document)
    again = loads(text)
    assert again.snapshot() == document.snapshot()
    assert dumps(again) == text


@settings(max_examples=20, deadline=None)
@given(documents())
def test_random_documents_survive_save_and_load(document):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "graph.gsg"
        save(document, path)
        first = path.read_bytes()
        save(load(path), path)
        assert path.read_bytes() == first
    assert loads(first).snapshot() == document.snapshot()
