"""Document edits: each edit and its inverse, refused edits, observer events (no display needed)."""

from __future__ import annotations

from typing import Any

import pytest

from gradstudio.model.document import Edge, EditError, GraphDocument, Node
from gradstudio.model.edits import (
    AddNode,
    Batch,
    Connect,
    Disconnect,
    MoveNode,
    RemoveNode,
    RenameNode,
    SetAttribute,
    SetRetainGrad,
    SetSetting,
)


class Recorder:
    """Collects (event, payload) pairs an observer receives."""

    def __init__(self, document: GraphDocument) -> None:
        self.events: list[tuple[str, Any]] = []
        self.unsubscribe = document.subscribe(lambda event, payload: self.events.append((event, payload)))

    def names(self) -> list[str]:
        """Just the event names, in order."""
        return [event for event, _ in self.events]


def add(document: GraphDocument, node_id: str, kind: str, **attributes: Any) -> Node:
    """Add a node whose id is also its variable name."""
    document.apply(AddNode(Node(node_id, kind, node_id, attributes)))
    return document.nodes[node_id]


def wire(document: GraphDocument, source: str, target: str, port: str) -> Edge:
    """Connect `source` into `port` of `target`."""
    edge = Edge(source, target, port)
    document.apply(Connect(edge))
    return edge


@pytest.fixture
def notes() -> GraphDocument:
    """The notes' chain: x = ones(3, rg); y = x + 2; yy = y * y; z = yy * 3; out = z.mean()."""
    document = GraphDocument()
    add(document, "x", "tensor", shape=(3,), requires_grad=True)
    add(document, "two", "scalar", value=2)
    add(document, "y", "add")
    wire(document, "x", "y", "a")
    wire(document, "two", "y", "b")
    add(document, "yy", "mul")
    wire(document, "y", "yy", "a")
    wire(document, "y", "yy", "b")
    add(document, "three", "scalar", value=3)
    add(document, "z", "mul")
    wire(document, "yy", "z", "a")
    wire(document, "three", "z", "b")
    add(document, "out", "mean")
    wire(document, "z", "out", "input")
    document.apply(SetSetting("backward_target", "out"))
    return document


def assert_round_trip(document: GraphDocument, edit: Any) -> Any:
    """Apply `edit`, check it changed something, undo it, check the document is restored; return the inverse."""
    before = document.snapshot()
    inverse = document.apply(edit)
    changed = document.snapshot()
    assert changed != before
    redo = document.apply(inverse)
    assert document.snapshot() == before
    document.apply(redo)
    assert document.snapshot() == changed
    return inverse


def assert_refused(document: GraphDocument, edit: Any, message: str) -> None:
    """The edit raises EditError containing `message`, leaves the document as it was and tells no observer."""
    before = document.snapshot()
    recorder = Recorder(document)
    with pytest.raises(EditError) as raised:
        document.apply(edit)
    assert message in str(raised.value)
    assert document.snapshot() == before
    assert recorder.events == []


# ----- adding and removing nodes -----------------------------------------------------------------------------


def test_add_node_completes_attributes_from_the_catalog_and_undoes() -> None:
    document = GraphDocument()
    inverse = assert_round_trip(document, AddNode(Node("s", "sum", "s", {"keepdim": True})))
    assert isinstance(inverse, RemoveNode)
    assert document.nodes["s"].attributes == {"dim": None, "keepdim": True}


def test_add_node_normalises_attribute_values() -> None:
    document = GraphDocument()
    add(document, "x", "tensor", shape=[2, 3], fill=1, values=[[1, 2, 3], [4, 5, 6]])
    attributes = document.nodes["x"].attributes
    assert attributes["shape"] == (2, 3)
    assert attributes["fill"] == 1.0 and isinstance(attributes["fill"], float)
    assert attributes["values"] == (1, 2, 3, 4, 5, 6)


def test_add_node_does_not_share_the_callers_node() -> None:
    document = GraphDocument()
    node = Node("x", "tensor", "x", {"shape": (2,)})
    document.apply(AddNode(node))
    node.attributes["shape"] = (5,)
    assert document.nodes["x"].attributes["shape"] == (2,)


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (Node("a", "frobnicate", "a"), "unknown op kind 'frobnicate'"),
        (Node("x", "exp", "other"), "a node with id 'x' already exists"),
        (Node("b", "exp", "x"), "the name 'x' is already used"),
        (Node("b", "exp", "1x"), "'1x' is not a valid variable name"),
        (Node("b", "exp", "my var"), "'my var' is not a valid variable name"),
        (Node("b", "exp", ""), "'' is not a valid variable name"),
        (Node("b", "exp", "torch"), "'torch' is not a valid variable name"),
        (Node("b", "exp", "lambda"), "'lambda' is not a valid variable name"),
        (Node("b", "sum", "b", {"axis": 0}), "sum nodes have no attribute 'axis'"),
        (Node("b", "sum", "b", {"keepdim": "yes"}), "keepdim must be true or false"),
        (Node("b", "tensor", "b", {"dtype": "float16"}), "dtype must be one of"),
    ],
)
def test_add_node_refusals(node: Node, message: str) -> None:
    document = GraphDocument()
    add(document, "x", "tensor")
    assert_refused(document, AddNode(node), message)


def test_remove_node_drops_its_edges_and_undo_restores_edges_target_and_place(notes: GraphDocument) -> None:
    before = notes.snapshot()
    order = list(notes.nodes)
    recorder = Recorder(notes)
    inverse = notes.apply(RemoveNode("y"))
    assert "y" not in notes.nodes
    assert all("y" not in (edge.source, edge.target) for edge in notes.edges.values())
    assert recorder.names() == ["edge_removed"] * 4 + ["node_removed"]
    notes.apply(inverse)
    assert notes.snapshot() == before
    assert list(notes.nodes) == order


def test_remove_node_clears_and_restores_the_backward_target(notes: GraphDocument) -> None:
    inverse = notes.apply(RemoveNode("out"))
    assert notes.settings.backward_target is None
    notes.apply(inverse)
    assert notes.settings.backward_target == "out"
    assert notes.edges[("out", "input")] == Edge("z", "out", "input")


def test_remove_unknown_node_is_refused(notes: GraphDocument) -> None:
    assert_refused(notes, RemoveNode("nope"), "no node with id 'nope'")


# ----- edges -------------------------------------------------------------------------------------------------


def test_connect_and_disconnect_are_inverses(notes: GraphDocument) -> None:
    add(notes, "e", "exp")
    inverse = assert_round_trip(notes, Connect(Edge("z", "e", "input")))
    assert inverse == Disconnect(Edge("z", "e", "input"))
    assert_round_trip(notes, Disconnect(Edge("x", "y", "a")))


def test_an_output_fans_out(notes: GraphDocument) -> None:
    add(notes, "e", "exp")
    wire(notes, "y", "e", "input")
    assert sorted(edge.target for edge in notes.edges_from("y")) == ["e", "yy", "yy"]


@pytest.mark.parametrize(
    ("edge", "message"),
    [
        (Edge("out", "y", "a"), "input 'a' of y is already connected"),
        (Edge("f", "free", "a"), "connecting these ports would make a cycle"),
        (Edge("free", "free", "b"), "connecting these ports would make a cycle"),
        (Edge("out", "free", "input"), "free has no input 'input'"),
        (Edge("out", "x", "a"), "x has no input 'a'"),
        (Edge("ghost", "free", "a"), "no node with id 'ghost'"),
        (Edge("x", "ghost", "a"), "no node with id 'ghost'"),
    ],
)
def test_connect_refusals(notes: GraphDocument, edge: Edge, message: str) -> None:
    add(notes, "free", "add")
    add(notes, "e", "exp")
    add(notes, "f", "exp")
    wire(notes, "free", "e", "input")
    wire(notes, "e", "f", "input")
    assert_refused(notes, Connect(edge), message)


def test_disconnecting_a_missing_edge_is_refused(notes: GraphDocument) -> None:
    assert_refused(notes, Disconnect(Edge("z", "y", "a")), "no such connection")
    assert_refused(notes, Disconnect(Edge("ghost", "y", "a")), "no such connection")


# ----- attributes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "value", "stored"),
    [
        ("tensor", "requires_grad", True, True),
        ("tensor", "seed", 7, 7),
        ("tensor", "fill", 2, 2.0),
        ("tensor", "shape", [2, 2], (2, 2)),
        ("tensor", "dtype", "float64", "float64"),
        ("tensor", "values", [[1.5, 2], [3, 4]], (1.5, 2, 3, 4)),
        ("scalar", "value", -1.25, -1.25),
        ("softmax", "dim", 0, 0),
        ("sum", "dim", 1, 1),
        ("permute", "dims", [0, 2, 1], (0, 2, 1)),
        ("reshape", "shape", [-1, 2], (-1, 2)),
        ("index", "index", "0, 1:3, None, ...", "0, 1:3, None, ..."),
        ("clamp", "min", None, None),
        ("clamp", "max", 5, 5),
        ("mse_loss", "reduction", "sum", "sum"),
    ],
)
def test_set_attribute_stores_the_normalised_value_and_undoes(kind: str, name: str, value: Any, stored: Any) -> None:
    document = GraphDocument()
    add(document, "n", kind)
    default = document.nodes["n"].attributes[name]
    recorder = Recorder(document)
    inverse = assert_round_trip(document, SetAttribute("n", name, value))
    assert inverse == SetAttribute("n", name, default)
    assert recorder.events[0] == ("attribute_changed", (document.nodes["n"], name))
    assert document.nodes["n"].attributes[name] == stored
    assert type(document.nodes["n"].attributes[name]) is type(stored)


@pytest.mark.parametrize(
    ("kind", "name", "value", "message"),
    [
        ("tensor", "requires_grad", 1, "requires_grad must be true or false, got 1"),
        ("tensor", "seed", 1.5, "seed must be an integer, got 1.5"),
        ("tensor", "seed", True, "seed must be an integer, got True"),
        ("softmax", "dim", "0", "dim must be an integer, got '0'"),
        ("softmax", "dim", None, "dim needs a value"),
        ("tensor", "fill", "x", "fill must be a number, got 'x'"),
        ("scalar", "value", False, "value must be a number, got False"),
        ("scalar", "value", None, "value needs a value"),
        ("index", "index", 3, "index must be text, got 3"),
        ("index", "index", "a:b", "index 'a:b' must be ints, slices (a:b:c), None, ... or lists of ints [0, 2] "
         "separated by commas"),
        ("index", "index", "1:2:3:4", "bad slice '1:2:3:4'"),
        ("tensor", "dtype", "float16", "dtype must be one of float32, float64, int64, bool, got 'float16'"),
        ("tensor", "init", "normal", "init must be one of"),
        ("tensor", "shape", "3", "shape must be a list of integers, got '3'"),
        ("tensor", "shape", [2.0], "shape must be a list of integers, got [2.0]"),
        ("tensor", "shape", [3, -2], "shape extents must be at least 0, got [3, -2]"),
        ("permute", "dims", [1.0, 0], "dims must be a list of integers"),
        ("tensor", "values", ["a"], "values must be numbers, got ['a']"),
        ("cat", "count", 0, "count must be between 1 and 64, got 0"),
        ("stack", "count", 65, "count must be between 1 and 64, got 65"),
        ("sum", "axis", 0, "sum nodes have no attribute 'axis'"),
        ("exp", "dim", 0, "exp nodes have no attribute 'dim'"),
    ],
)
def test_bad_attribute_values_are_refused(kind: str, name: str, value: Any, message: str) -> None:
    document = GraphDocument()
    add(document, "n", kind)
    assert_refused(document, SetAttribute("n", name, value), message)


def test_set_attribute_on_unknown_node_is_refused() -> None:
    assert_refused(GraphDocument(), SetAttribute("ghost", "dim", 0), "no node with id 'ghost'")


def test_lowering_a_variadic_count_drops_edges_and_undo_restores_them() -> None:
    document = GraphDocument()
    for name in ("a", "b", "c"):
        add(document, name, "tensor")
    add(document, "joined", "cat", count=3)
    assert document.nodes["joined"].input_ports() == ("tensor0", "tensor1", "tensor2")
    for index, name in enumerate(("a", "b", "c")):
        wire(document, name, "joined", f"tensor{index}")
    before = document.snapshot()
    recorder = Recorder(document)
    inverse = document.apply(SetAttribute("joined", "count", 1))
    assert document.nodes["joined"].input_ports() == ("tensor0",)
    assert set(document.inputs_of("joined")) == {"tensor0"}
    assert recorder.names() == ["edge_removed", "edge_removed", "attribute_changed"]
    assert {payload.port for event, payload in recorder.events if event == "edge_removed"} == {"tensor1", "tensor2"}
    document.apply(inverse)
    assert document.snapshot() == before
    assert set(document.inputs_of("joined")) == {"tensor0", "tensor1", "tensor2"}


def test_raising_a_variadic_count_adds_free_ports() -> None:
    document = GraphDocument()
    add(document, "a", "tensor")
    add(document, "s", "stack")
    wire(document, "a", "s", "tensor1")
    inverse = document.apply(SetAttribute("s", "count", 4))
    assert inverse == SetAttribute("s", "count", 2)
    wire(document, "a", "s", "tensor3")
    assert set(document.inputs_of("s")) == {"tensor1", "tensor3"}


# ----- names, positions, retain_grad, settings -----------------------------------------------------------------


def test_rename_and_its_refusals(notes: GraphDocument) -> None:
    recorder = Recorder(notes)
    assert assert_round_trip(notes, RenameNode("y", "shifted")) == RenameNode("y", "y")
    assert recorder.events[0] == ("node_renamed", notes.nodes["y"])
    assert_refused(notes, RenameNode("y", "x"), "the name 'x' is already used")
    assert_refused(notes, RenameNode("y", "2y"), "'2y' is not a valid variable name")
    assert_refused(notes, RenameNode("y", "F"), "'F' is not a valid variable name")
    assert_refused(notes, RenameNode("ghost", "g"), "no node with id 'ghost'")
    notes.apply(RenameNode("y", "y"))
    assert notes.nodes["y"].name == "y"


def test_move_node_stores_floats_and_undoes(notes: GraphDocument) -> None:
    recorder = Recorder(notes)
    inverse = assert_round_trip(notes, MoveNode("x", (10, -4)))
    assert inverse == MoveNode("x", (0.0, 0.0))
    assert notes.nodes["x"].position == (10.0, -4.0)
    assert all(isinstance(c, float) for c in notes.nodes["x"].position)
    assert recorder.events[0] == ("node_moved", notes.nodes["x"])


def test_retain_grad_round_trip(notes: GraphDocument) -> None:
    recorder = Recorder(notes)
    assert assert_round_trip(notes, SetRetainGrad("y", True)) == SetRetainGrad("y", False)
    assert notes.nodes["y"].retain_grad is True
    assert recorder.events[0] == ("attribute_changed", (notes.nodes["y"], "retain_grad"))
    assert_refused(notes, SetRetainGrad("ghost", True), "no node with id 'ghost'")


def test_settings_round_trip_and_refusals(notes: GraphDocument) -> None:
    recorder = Recorder(notes)
    assert assert_round_trip(notes, SetSetting("grad_mode", "no_grad")) == SetSetting("grad_mode", "normal")
    assert assert_round_trip(notes, SetSetting("backward_target", "z")) == SetSetting("backward_target", "out")
    assert ("settings_changed", "grad_mode") in recorder.events
    assert_refused(notes, SetSetting("grad_mode", "inference"), "grad mode must be one of normal, no_grad")
    assert_refused(notes, SetSetting("backward_target", "ghost"), "no node with id 'ghost'")
    assert_refused(notes, SetSetting("theme", "dark"), "unknown setting 'theme'")


# ----- batches and observers ---------------------------------------------------------------------------------


def test_batch_is_undone_as_one(notes: GraphDocument) -> None:
    batch = Batch([AddNode(Node("e", "exp", "e")), Connect(Edge("out", "e", "input")), MoveNode("e", (5, 5))])
    inverse = assert_round_trip(notes, batch)
    assert isinstance(inverse, Batch) and len(inverse.edits) == 3


def test_a_refused_edit_inside_a_batch_undoes_the_earlier_ones(notes: GraphDocument) -> None:
    before = notes.snapshot()
    batch = Batch([AddNode(Node("e", "exp", "e")), Connect(Edge("out", "e", "input")), Connect(Edge("e", "y", "a"))])
    with pytest.raises(EditError, match="input 'a' of y is already connected"):
        notes.apply(batch)
    assert notes.snapshot() == before


def test_observers_hear_each_change_in_order_until_they_unsubscribe() -> None:
    document = GraphDocument()
    recorder = Recorder(document)
    a = add(document, "a", "tensor")
    add(document, "e", "exp")
    edge = wire(document, "a", "e", "input")
    document.apply(SetAttribute("a", "fill", 3.0))
    document.apply(RemoveNode("e"))
    assert recorder.events == [
        ("node_added", a),
        ("node_added", recorder.events[1][1]),
        ("edge_added", edge),
        ("attribute_changed", (a, "fill")),
        ("edge_removed", edge),
        ("node_removed", recorder.events[5][1]),
    ]
    assert recorder.events[1][1].id == "e" and recorder.events[5][1].id == "e"
    recorder.unsubscribe()
    document.apply(MoveNode("a", (1, 1)))
    assert len(recorder.events) == 6
    recorder.unsubscribe()


# ----- queries -----------------------------------------------------------------------------------------------


def test_new_id_and_new_name_avoid_what_is_taken() -> None:
    document = GraphDocument()
    first = document.new_id()
    document.apply(AddNode(Node(first, "tensor", document.new_name("x"))))
    assert document.new_id() != first
    assert document.new_name("x") == "x1"
    assert document.new_name("torch") == "torch1"
    assert document.new_name("2 d") == "v2_d"
    assert document.new_name("") == "v"


def test_topological_order_breaks_ties_by_insertion_order(notes: GraphDocument) -> None:
    order = notes.topological_order()
    assert order == ["x", "two", "y", "yy", "three", "z", "out"]
    add(notes, "early", "exp")
    wire(notes, "x", "early", "input")
    assert notes.topological_order() == ["x", "two", "y", "yy", "three", "z", "out", "early"]
    assert notes.descendants(["yy"]) == {"yy", "z", "out"}


def test_names_are_freed_and_taken_by_rename_and_remove(notes: GraphDocument) -> None:
    notes.apply(RenameNode("y", "shifted"))
    assert notes.name_owner("shifted") == "y" and notes.name_owner("y") is None
    add(notes, "other", "exp")
    notes.apply(RenameNode("other", "y"))
    assert_refused(notes, RenameNode("x", "shifted"), "the name 'shifted' is already used")
    notes.apply(RemoveNode("y"))
    notes.apply(RenameNode("x", "shifted"))
    assert notes.name_owner("shifted") == "x"


def test_graph_queries_follow_edits_and_direct_changes(notes: GraphDocument) -> None:
    graph = notes.graph()
    graph.remove_node("y")
    assert "y" in notes.graph(), "graph() hands out a copy"
    notes.apply(Disconnect(Edge("y", "yy", "a")))
    assert notes.reaches("x", "out"), "y still feeds yy through port b"
    notes.apply(Disconnect(Edge("y", "yy", "b")))
    assert not notes.reaches("x", "out")
    assert notes.descendants(["x"]) == {"x", "y"}
    # a benchmark or loader may fill the dicts directly; the queries must still see the real structure
    notes.edges[("yy", "a")] = Edge("y", "yy", "a")
    assert notes.reaches("x", "out")
    assert notes.descendants(["x"]) == {"x", "y", "yy", "z", "out"}
    add(notes, "tail", "add")
    wire(notes, "out", "tail", "a")
    assert notes.topological_order()[-1] == "tail"
    notes.apply(Disconnect(Edge("x", "y", "a")))
    assert_refused(notes, Connect(Edge("tail", "y", "a")), "connecting these ports would make a cycle")


@pytest.mark.parametrize("position", [(float("nan"), 0.0), (0.0, float("inf")), (2e7, 0.0), ("1", "2"), (1.0,), None])
def test_positions_must_be_two_finite_numbers(position: Any) -> None:
    document = GraphDocument()
    with pytest.raises(EditError, match="position must be two finite numbers"):
        document.apply(AddNode(Node("a", "tensor", "a", position=position)))
    document.apply(AddNode(Node("a", "tensor", "a")))
    with pytest.raises(EditError, match="position must be two finite numbers"):
        document.apply(MoveNode("a", position))
    assert document.nodes["a"].position == (0.0, 0.0)
