"""Upgrading older `.gsg` layouts to the current one, one version step at a time.

Each migration takes the parsed JSON of version N (already known to be an
object with `"version": N`), checks the parts whose layout changed, and returns
the same graph in the layout of version N + 1. Everything whose layout did not
change is left for the current version's reader to check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradstudio.model.io.fileschema import (
    CURRENT_VERSION,
    GraphFileError,
    child,
    expect_bool,
    expect_finite,
    expect_list,
    expect_object,
    expect_str,
)

V1_NODE_KEYS = ("id", "kind", "name", "x", "y")


def _v1_node(node: Any, path: str) -> dict:
    """A version-1 node (`x`, `y` keys, no `retain_grad`) in the version-2 layout."""
    node = expect_object(node, path, V1_NODE_KEYS, ("attributes",))
    x = expect_finite(node["x"], child(path, "x"))
    y = expect_finite(node["y"], child(path, "y"))
    upgraded = {key: node[key] for key in ("id", "kind", "name")}
    upgraded.update(position=[x, y], retain_grad=False)
    if "attributes" in node:
        upgraded["attributes"] = node["attributes"]
    return upgraded


def _v1_edge(edge: Any, path: str) -> dict:
    """A version-1 edge (`[source, target, port]`) as a version-2 edge object."""
    if not isinstance(edge, list) or len(edge) != 3:
        raise GraphFileError(path, "expected [source id, target id, input port]")
    source, target, port = (expect_str(part, child(path, i)) for i, part in enumerate(edge))
    return {"source": source, "target": target, "port": port}


def v1_to_v2(data: dict) -> dict:
    """Version 1 kept settings as top-level `no_grad`/`backward`, positions as `x`/`y`, edges as triples."""
    expect_object(data, "", ("format", "version", "nodes"), ("edges", "no_grad", "backward"))
    no_grad = expect_bool(data.get("no_grad", False), "no_grad")
    target = data.get("backward")
    if target is not None:
        expect_str(target, "backward")
    nodes = expect_list(data["nodes"], "nodes")
    edges = expect_list(data.get("edges", []), "edges")
    return {
        "format": data["format"],
        "version": 2,
        "settings": {"grad_mode": "no_grad" if no_grad else "normal", "backward_target": target},
        "nodes": [_v1_node(node, child("nodes", i)) for i, node in enumerate(nodes)],
        "edges": [_v1_edge(edge, child("edges", i)) for i, edge in enumerate(edges)],
    }


def v2_to_v3(data: dict) -> dict:
    """Version 3 adds the training settings and the last run's loss history to `settings` (none in older files)."""
    upgraded = dict(data, version=3)
    settings = data.get("settings", {})
    if isinstance(settings, dict):
        upgraded["settings"] = {**settings, "training": None, "loss_history": []}
    return upgraded


def v3_to_v4(data: dict) -> dict:
    """Version 4 adds `port_constants` to node records (none in older files, where the key is refused)."""
    nodes = data.get("nodes")
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if isinstance(node, dict) and "port_constants" in node:
            raise GraphFileError(child(child("nodes", index), "port_constants"),
                                 "unexpected key; files of version 3 have no port constants")
    return dict(data, version=4)


def v4_to_v5(data: dict) -> dict:
    """Version 5 adds `grad_mode` to frame records and `hidden` (a lesson's hidden values and gradients) to node
    records. Older files have neither (the keys are refused there): frames load with grad mode "none", and
    nothing is hidden."""
    annotations = data.get("annotations")
    for index, item in enumerate(annotations if isinstance(annotations, list) else []):
        if isinstance(item, dict) and "grad_mode" in item:
            raise GraphFileError(child(child("annotations", index), "grad_mode"),
                                 "unexpected key; files of version 4 have no grad-mode frames")
    nodes = data.get("nodes")
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if isinstance(node, dict) and "hidden" in node:
            raise GraphFileError(child(child("nodes", index), "hidden"),
                                 "unexpected key; files of version 4 have no hidden lesson items")
    return dict(data, version=5)


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: v1_to_v2, 2: v2_to_v3, 3: v3_to_v4, 4: v4_to_v5}


def migrate(data: dict, version: int) -> dict:
    """`data`, written as format `version`, in the layout of CURRENT_VERSION."""
    while version < CURRENT_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data
