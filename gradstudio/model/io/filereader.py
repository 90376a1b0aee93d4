"""Turning the parsed JSON of a `.gsg` file into a document, checking every key on the way.

The document is rebuilt through the model's own edits (AddNode, Connect, ...),
so every rule the document enforces also holds for files; an EditError becomes
a GraphFileError carrying the place in the file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gradstudio.model.annotations import ANNOTATION_KINDS, FRAME_GRAD_MODES, AddAnnotation, Annotation
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import CANVAS_LIMIT, GRAD_MODES, Edge, EditError, GraphDocument, Node, check_name
from gradstudio.model.edits import AddNode, Connect, Edit, SetSetting
from gradstudio.model.io.datafiles import read_large
from gradstudio.model.io.fileschema import (
    CURRENT_VERSION,
    FORMAT,
    MAX_NESTING,
    GraphFileError,
    child,
    expect_bool,
    expect_finite,
    expect_list,
    expect_object,
    expect_str,
    nesting_depth,
    type_name,
)
from gradstudio.model.io.migrations import migrate
from gradstudio.model.leaves import element_count
from gradstudio.model.lesson import DEFAULT_ATOL, DEFAULT_RTOL, HIDDEN_KINDS, Hidden
from gradstudio.model.op_spec import OpSpec
from gradstudio.model.port_constants import check_port_constant
from gradstudio.model.rules import CYCLE_MESSAGE, ITEM_ID, find_cycle_edge
from gradstudio.model.train_settings import TrainSettingsError, from_record
from gradstudio.model.validation import check_node_attribute

NODE_ID = ITEM_ID  # the one id rule, the document's


def read_document(text: str, base: Path | None = None) -> GraphDocument:
    """The document a file's decoded text describes (sibling data files read from `base`); GraphFileError."""
    if not text.strip():  # JSON would say "Expecting value (line 1, column 1)" of a file with nothing in it
        raise GraphFileError("", "the file is empty" if not text else "the file is empty (only spaces and line breaks)")
    return _build(upgrade(parse_json(text)), base)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise GraphFileError("", f"the key {key!r} appears twice in one JSON object")
        result[key] = value
    return result


def parse_json(text: str) -> Any:
    """The JSON value of `text` as the file reader parses it (no repeated keys); GraphFileError if not JSON."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except GraphFileError:
        raise
    except json.JSONDecodeError as error:
        raise GraphFileError("", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise GraphFileError("", "not valid JSON for a graph: arrays or objects nested too deeply") from None
    except ValueError as error:
        raise GraphFileError("", f"not valid JSON: {error}") from None


def upgrade(data: Any, tag: str = FORMAT, what: str = "graph file") -> dict:
    """Check the format marker (`tag`) and version, and migrate older layouts to the current one."""
    if not isinstance(data, dict):
        raise GraphFileError("", f"expected a JSON object (a GradStudio {what}), got {type_name(data)}")
    if "format" not in data:
        raise GraphFileError("format", f"missing; a GradStudio {what} starts with \"format\": \"{tag}\"")
    if data["format"] != tag:
        raise GraphFileError("format", f"expected {tag!r}, got {data['format']!r}; not a GradStudio {what}")
    version = data.get("version")
    if "version" not in data:
        raise GraphFileError("version", "missing")
    if not isinstance(version, int) or isinstance(version, bool):
        raise GraphFileError("version", f"expected an integer, got {type_name(version)}")
    if version > CURRENT_VERSION:
        raise GraphFileError("version", f"format version {version} was written by a newer GradStudio; this one "
                                        f"reads versions 1 to {CURRENT_VERSION}")
    if version < 1:
        raise GraphFileError("version", f"expected a format version from 1 to {CURRENT_VERSION}, got {version}")
    return migrate(data, version)


def _build(data: dict, base: Path | None) -> GraphDocument:
    expect_object(data, "", ("format", "version", "nodes"), ("settings", "edges", "annotations"))
    document = GraphDocument()
    add_records(document, data, base)
    _apply_settings(document, data.get("settings", {}))
    return document


def add_records(document: GraphDocument, data: dict, base: Path | None = None) -> None:
    """Check and add the `nodes`, `edges` (optional) and `annotations` (optional) record lists of `data`."""
    for index, node in enumerate(expect_list(data["nodes"], "nodes")):
        _add_node(document, node, child("nodes", index), base)
    added: list[Edge] = []
    try:
        for index, edge in enumerate(expect_list(data.get("edges", []), "edges")):
            added.append(_add_edge(document, edge, child("edges", index)))
    finally:
        # one acyclicity check per load; an earlier cycle is the first problem even if a later edge failed too
        _check_acyclic(added)
    for index, item in enumerate(expect_list(data.get("annotations", []), "annotations")):
        _add_annotation(document, item, child("annotations", index))


def _apply(document: GraphDocument, edit: Edit, path: str) -> None:
    try:
        edit.apply(document)
    except EditError as error:
        raise GraphFileError(path, str(error)) from None


def _new_id(document: GraphDocument, raw: Any, path: str) -> str:
    item_id = expect_str(raw, path)
    if not NODE_ID.fullmatch(item_id):
        raise GraphFileError(path, "expected 1 to 64 letters, digits, '_', '-' or '.'")
    if item_id in document.nodes or item_id in document.annotations:
        raise GraphFileError(path, f"duplicate id {item_id!r}; every node and annotation needs its own")
    return item_id


def _add_node(document: GraphDocument, raw: Any, path: str, base: Path | None = None) -> None:
    node = expect_object(raw, path, ("id", "kind", "name"),
                         ("position", "retain_grad", "attributes", "port_constants", "hidden", "data"))
    node_id = _new_id(document, node["id"], child(path, "id"))
    kind = expect_str(node["kind"], child(path, "kind"))
    if kind not in CATALOG:
        raise GraphFileError(child(path, "kind"), f"unknown op kind {kind!r}")
    name = expect_str(node["name"], child(path, "name"))
    try:
        check_name(document, name, node_id)
    except EditError as error:
        raise GraphFileError(child(path, "name"), str(error)) from None
    attributes = _attributes(CATALOG[kind], node.get("attributes", {}), child(path, "attributes"))
    if "data" in node:
        if kind != "tensor" or attributes.get("init") != "values" or "values" in node.get("attributes", {}):
            raise GraphFileError(child(path, "data"), "only a tensor with init \"values\" and no listed values "
                                                      "takes its values from a data file")
        values = read_large(node["data"], child(path, "data"), base, tuple(attributes["shape"]), attributes["dtype"])
        attributes["values"] = check_node_attribute(kind, CATALOG[kind].attribute("values"), values)
    position = _position(node.get("position", [0.0, 0.0]), child(path, "position"))
    retain_grad = expect_bool(node.get("retain_grad", False), child(path, "retain_grad"))
    added = Node(node_id, kind, name, attributes, position, retain_grad)
    added.port_constants = _port_constants(added, node.get("port_constants", {}), child(path, "port_constants"))
    added.hidden = _hidden(node.get("hidden", {}), child(path, "hidden"))
    _apply(document, AddNode(added), path)


def _port_constants(node: Node, raw: Any, path: str) -> dict[str, Any]:
    """The constants typed on a node's input ports, each checked at its place in the file."""
    expect_object(raw, path, (), node.input_ports())
    constants = {}
    for port, value in raw.items():
        try:
            constants[port] = check_port_constant(node, port, value)
        except EditError as error:
            raise GraphFileError(child(path, port), str(error)) from None
    return constants


def _hidden(raw: Any, path: str) -> dict[str, Hidden]:
    """A node's hidden lesson items (`value`, `grad`), each with its tolerances and hint, checked in place."""
    expect_object(raw, path, (), HIDDEN_KINDS)
    hidden = {}
    for kind, settings in raw.items():
        where = child(path, kind)
        expect_object(settings, where, (), ("atol", "rtol", "hint"))
        atol = expect_finite(settings.get("atol", DEFAULT_ATOL), child(where, "atol"))
        rtol = expect_finite(settings.get("rtol", DEFAULT_RTOL), child(where, "rtol"))
        hint = expect_str(settings.get("hint", ""), child(where, "hint"))
        try:
            hidden[kind] = Hidden(atol, rtol, hint).checked()
        except EditError as error:
            raise GraphFileError(where, str(error)) from None
    return hidden


def _position(raw: Any, path: str, expected: str = "[x, y]") -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) != 2:
        found = f"an array of {len(raw)}" if isinstance(raw, list) else type_name(raw)
        raise GraphFileError(path, f"expected {expected}, got {found}")
    return _coordinate(raw[0], child(path, 0)), _coordinate(raw[1], child(path, 1))


def _coordinate(raw: Any, path: str) -> float:
    """A finite number inside the canvas (the limit AddNode and AddAnnotation enforce, named at its place)."""
    number = expect_finite(raw, path)
    if abs(number) > CANVAS_LIMIT:
        raise GraphFileError(path, f"expected a number within ±{CANVAS_LIMIT:.0e}, got {raw!r}")
    return number


def _attributes(spec: OpSpec, raw: Any, path: str) -> dict[str, Any]:
    names = [attribute.name for attribute in spec.attributes]
    expect_object(raw, path, (), tuple(names))
    attributes = {}
    for name, value in raw.items():
        where = child(path, name)
        if nesting_depth(value) > MAX_NESTING:
            raise GraphFileError(where, f"arrays nested more than {MAX_NESTING} deep")
        try:
            attributes[name] = check_node_attribute(spec.kind, spec.attribute(name), value)
        except (EditError, OverflowError) as error:
            raise GraphFileError(where, str(error)) from None
    if spec.kind == "tensor":
        _check_leaf(spec, attributes, raw, path)
    return attributes


def _check_leaf(spec: OpSpec, attributes: dict[str, Any], raw: dict, path: str) -> None:
    """Nested values must fit the tensor's shape (whose size check_node_attribute has bounded)."""
    shape = attributes.get("shape", spec.attribute("shape").default)
    count = element_count(tuple(shape))
    values = raw.get("values")
    if isinstance(values, list) and any(isinstance(item, list) for item in values):
        found = _rectangular_shape(values)
        if found is None:
            raise GraphFileError(child(path, "values"), f"rows of different lengths; shape {list(shape)} needs "
                                                        f"{count} values in equal rows")
        if found != tuple(shape):
            raise GraphFileError(child(path, "values"), f"nested as shape {list(found)}, but the tensor's shape "
                                                        f"{list(shape)} needs {count} values")


def _rectangular_shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a nested list, or None if its rows differ in length or depth."""
    if not isinstance(value, list):
        return ()
    inner = {_rectangular_shape(item) for item in value}
    if None in inner or len(inner) > 1:
        return None
    return (len(value), *(inner.pop() if inner else ()))


def _check_acyclic(edges: list[Edge]) -> None:
    cycle = find_cycle_edge(edges)
    if cycle is not None:
        raise GraphFileError(child("edges", cycle), CYCLE_MESSAGE)


def _add_edge(document: GraphDocument, raw: Any, path: str) -> Edge:
    edge = expect_object(raw, path, ("source", "target", "port"))
    ends = {}
    for end in ("source", "target"):
        node_id = expect_str(edge[end], child(path, end))
        if node_id not in document.nodes:
            raise GraphFileError(child(path, end), f"no node with id {node_id!r}")
        ends[end] = node_id
    port = expect_str(edge["port"], child(path, "port"))
    target = document.nodes[ends["target"]]
    ports = target.input_ports()
    if port not in ports:
        expected = f"its inputs are {', '.join(ports)}" if ports else "it has no inputs"
        raise GraphFileError(child(path, "port"), f"{target.kind} node {target.name!r} has no input {port!r}; "
                                                  f"{expected}")
    added = Edge(ends["source"], ends["target"], port)
    _apply(document, Connect(added, check_cycle=False), path)
    return added


def _add_annotation(document: GraphDocument, raw: Any, path: str) -> None:
    item = expect_object(raw, path, ("id", "kind"), ("text", "position", "size", "grad_mode"))
    item_id = _new_id(document, item["id"], child(path, "id"))
    kind = expect_str(item["kind"], child(path, "kind"))
    if kind not in ANNOTATION_KINDS:
        raise GraphFileError(child(path, "kind"), f"expected one of {', '.join(ANNOTATION_KINDS)}, got {kind!r}")
    text = expect_str(item.get("text", ""), child(path, "text"))
    position = _position(item.get("position", [0.0, 0.0]), child(path, "position"))
    size = _position(item.get("size", list(Annotation.size)), child(path, "size"), "[width, height]")
    _apply(document, AddAnnotation(Annotation(item_id, kind, text, position, size, _grad_mode(kind, item, path))),
           path)


def _grad_mode(kind: str, item: dict, path: str) -> str:
    """A frame's grad mode (default "none"); a note may not have one."""
    if "grad_mode" not in item:
        return "none"
    if kind != "frame":
        raise GraphFileError(child(path, "grad_mode"), "only frames have a grad mode")
    mode = expect_str(item["grad_mode"], child(path, "grad_mode"))
    if mode not in FRAME_GRAD_MODES:
        raise GraphFileError(child(path, "grad_mode"), f"expected one of {', '.join(FRAME_GRAD_MODES)}, got {mode!r}")
    return mode


def _apply_settings(document: GraphDocument, raw: Any) -> None:
    settings = expect_object(raw, "settings", (), ("grad_mode", "backward_target", "training", "loss_history"))
    mode = settings.get("grad_mode", "normal")
    if mode not in GRAD_MODES:
        raise GraphFileError("settings.grad_mode", f"expected one of {', '.join(GRAD_MODES)}, got {mode!r}")
    _apply(document, SetSetting("grad_mode", mode), "settings.grad_mode")
    target = settings.get("backward_target")
    if target is not None:
        if expect_str(target, "settings.backward_target") not in document.nodes:
            raise GraphFileError("settings.backward_target", f"no node with id {target!r}")
        _apply(document, SetSetting("backward_target", target), "settings.backward_target")
    _apply_training(document, settings)


def _apply_training(document: GraphDocument, settings: dict) -> None:
    """The training settings (their loss and parameters must be nodes of this graph) and the loss history."""
    raw = settings.get("training")
    if raw is not None:
        try:
            training = from_record(raw)
        except TrainSettingsError as error:
            raise GraphFileError(child("settings.training", error.key) if error.key else "settings.training",
                                 error.message) from None
        for key, node_id in [("loss", training.loss), *(("parameters", p) for p in training.parameters or ())]:
            if node_id is not None and node_id not in document.nodes:
                raise GraphFileError(child("settings.training", key), f"no node with id {node_id!r}")
        _apply(document, SetSetting("training", training), "settings.training")
    history = expect_list(settings.get("loss_history", []), "settings.loss_history")
    losses = []
    for index, value in enumerate(history):
        losses.append(math.nan if value is None else expect_finite(value, child("settings.loss_history", index)))
    if losses:
        _apply(document, SetSetting("loss_history", losses), "settings.loss_history")
