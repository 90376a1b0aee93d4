"""Older `.gsg` layouts are migrated, and the documented format is the one we read and write."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from gsg_samples import changed

from gradstudio.model.document import Edge
from gradstudio.model.io.fileformat import CURRENT_VERSION, GraphFileError, dumps, loads

DOCS = Path(__file__).resolve().parents[2] / "docs" / "file-format.md"

V1 = {
    "format": "gradstudio-graph",
    "version": 1,
    "no_grad": True,
    "backward": "n3",
    "nodes": [
        {"id": "n1", "kind": "tensor", "name": "x", "x": 10, "y": 20.5, "attributes": {"requires_grad": True}},
        {"id": "n2", "kind": "scalar", "name": "two", "x": 0, "y": 100, "attributes": {"value": 2}},
        {"id": "n3", "kind": "mul", "name": "y", "x": 200, "y": 0},
    ],
    "edges": [["n1", "n3", "a"], ["n2", "n3", "b"]],
}


def test_version_1_is_migrated():
    document = loads(json.dumps(V1))
    assert document.nodes["n1"].position == (10.0, 20.5)
    assert document.nodes["n3"].retain_grad is False
    assert document.edges[("n3", "b")] == Edge("n2", "n3", "b")
    assert (document.settings.grad_mode, document.settings.backward_target) == ("no_grad", "n3")
    migrated = json.loads(dumps(document))
    assert migrated["version"] == CURRENT_VERSION
    assert migrated["edges"][0] == {"source": "n1", "target": "n3", "port": "a"}
    assert migrated["nodes"][0]["position"] == [10.0, 20.5]


def test_version_1_defaults():
    data = {key: value for key, value in copy.deepcopy(V1).items() if key not in ("no_grad", "backward", "edges")}
    document = loads(json.dumps(data))
    assert (document.settings.grad_mode, document.settings.backward_target, document.edges) == ("normal", None, {})


V1_BAD = {
    "edge not a triple": ((("edges", 0), ["n1", "n3"]), "edges[0]: expected [source id, target id, input port]"),
    "edge part not text": ((("edges", 1), ["n2", "n3", 1]), "edges[1][2]: expected a string, got a number"),
    "missing x": ((("nodes", 1, "x"),), "nodes[1].x: missing"),
    "v2 key in v1": ((("nodes", 1, "position"), [0, 0]),
                     "nodes[1].position: unexpected key; expected only id, kind, name, x, y, attributes"),
    "no_grad as text": ((("no_grad",), "yes"), "no_grad: expected true or false, got a string"),
    "v2 settings in v1": ((("settings",), {}),
                          "settings: unexpected key; expected only format, version, nodes, edges, no_grad, backward"),
    "dangling edge": ((("edges", 0), ["n9", "n3", "a"]), "edges[0].source: no node with id 'n9'"),
}


@pytest.mark.parametrize(("step", "message"), V1_BAD.values(), ids=V1_BAD.keys())
def test_bad_version_1_files(step, message):
    data = copy.deepcopy(V1)
    changed(step)(data)
    with pytest.raises(GraphFileError) as raised:
        loads(json.dumps(data))
    assert str(raised.value) == message


# ----- the documentation -------------------------------------------------------------------------------


def _json_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)


def test_the_documented_example_is_what_we_write():
    current = _json_blocks()[0]
    assert dumps(loads(current)) == current


def test_the_documented_version_1_example_migrates():
    old = _json_blocks()[1]
    assert json.loads(old)["version"] == 1
    document = loads(old)
    assert document.edges[("n2", "input")] == Edge("n1", "n2", "input")
    assert document.settings.backward_target == "n2"


def test_version_2_gains_empty_training_settings():
    data = json.loads(dumps(loads(json.dumps(V1))))
    data["version"] = 2
    data["settings"] = {"grad_mode": "no_grad", "backward_target": "n3"}
    document = loads(json.dumps(data))
    assert (document.settings.training, document.settings.loss_history) == (None, ())
    assert json.loads(dumps(document))["settings"] == {"grad_mode": "no_grad", "backward_target": "n3",
                                                       "training": None, "loss_history": []}
