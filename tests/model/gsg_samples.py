"""A small valid `.gsg` file as JSON data, and mutations of it, shared by the file-format tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def base_data() -> dict[str, Any]:
    """A small valid file as JSON data: y = x + 2, out = y.mean()."""
    return {
        "format": "gradstudio-graph",
        "version": 2,
        "settings": {"grad_mode": "normal", "backward_target": "n4"},
        "nodes": [
            {"id": "n1", "kind": "tensor", "name": "x", "position": [0.0, 0.0], "retain_grad": False,
             "attributes": {"shape": [2, 2], "init": "values", "values": [[1, 2], [3, 4]], "requires_grad": True}},
            {"id": "n2", "kind": "scalar", "name": "two", "attributes": {"value": 2}},
            {"id": "n3", "kind": "add", "name": "y"},
            {"id": "n4", "kind": "mean", "name": "out"},
        ],
        "edges": [
            {"source": "n1", "target": "n3", "port": "a"},
            {"source": "n2", "target": "n3", "port": "b"},
            {"source": "n3", "target": "n4", "port": "input"},
        ],
    }


def changed(*steps: tuple) -> Callable[[dict], dict]:
    """A mutation of `base_data()`: each step is (key path, new value), or (key path,) to delete."""

    def mutate(data: dict) -> dict:
        for step in steps:
            *parents, last = step[0]
            place = data
            for key in parents:
                place = place[key]
            if len(step) == 1:
                del place[last]
            else:
                place[last] = step[1]
        return data

    return mutate
