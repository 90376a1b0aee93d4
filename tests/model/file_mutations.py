"""Structure-aware mutations of `.gsg` files for the fuzzer: hostile values where the format puts values.

`mutated_case(rng)` returns the text of one damaged or adversarial file built from an example: values
replaced by what users, pastes and hand edits produce (huge ints, 401-digit numbers, deep nests, huge
shapes, long and NFKC-equal names, `"kind": []`), edges reversed, duplicated or made cyclic, keys deleted
or added, and the JSON text itself cut or corrupted. Plain `random.Random`, so a seed replays a case.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
SEEDS = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(EXAMPLES.glob("*.gsg"))]


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


HOSTILE: list[Any] = [
    None, True, 0, -1, 2**62, 2**64, 10**30, 10**400, -(10**400), 1e308, -1e308, 1e-320, 0.5, "", "x", "ﬁ",
    "ｐｒｉｎｔ", "ｔｏｒｃｈ", "print", "x" * 100, "é" * 64, "\u0000", "\ud800", [], {}, [[]], [1, 2], ["a"],
    [100_000, 100_000], [10_000, 10_000], [2**62, 2**62], [3, -1], [-2], [0, 10**30], _deep(40), _deep(5),
    [1.0] * 2000, {"kind": []}, {"a": 1}, "0, 1:3, ...", "1:2:3:4", ":" * 500, [1e308, 1e308], "nan",
]
SHAPES = [[100_000, 100_000], [3_000, 3_000], [10**7 + 1], [4_000, 4_000], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
          [2**40, 2**40], [0], [], [2, 3], [10**30, 0], [65] * 65]
ATTRIBUTES = ["shape", "fill", "values", "value", "seed", "start", "end", "dim", "dims", "index", "count",
              "init", "dtype", "requires_grad", "keepdim", "min", "max", "correction", "reduction", "dim0"]


def _places(value: Any, path: tuple = ()) -> list[tuple]:
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found.append((*path, key))
        found.extend(_places(item, (*path, key)))
    return found


def _parent(data: Any, path: tuple) -> tuple[Any, Any]:
    *parents, last = path
    parent = data
    for key in parents:
        parent = parent[key]
    return parent, last


def _hostile(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(HOSTILE))


def _mutate(data: dict, rng: random.Random) -> None:
    """One structure-aware change of `data` in place."""
    nodes = data.get("nodes") if isinstance(data.get("nodes"), list) else []
    edges = data.get("edges") if isinstance(data.get("edges"), list) else []
    records = [item for item in nodes if isinstance(item, dict)]
    node = rng.choice(records) if records else None
    how = rng.randrange(12)
    if how == 0 and node is not None:  # an attribute set to something hostile
        attributes = node.setdefault("attributes", {})
        if isinstance(attributes, dict):
            name = rng.choice(ATTRIBUTES)
            attributes[name] = copy.deepcopy(rng.choice(SHAPES)) if name == "shape" and rng.random() < 0.5 \
                else _hostile(rng)
    elif how == 1 and node is not None:  # a name: long, reserved, NFKC-equal to another, not text
        node["name"] = rng.choice(["ﬁ", "fi", "ｐｒｉｎｔ", "ｔｏｒｃｈ", "F", "x" * 65, "x" * 64, "é" * 64,
                                   "ｘ", "x", 3, [], "with", "a b"])
    elif how == 2 and node is not None:  # a kind: not text, unknown, or another op
        node["kind"] = rng.choice([[], {}, 3, None, "nope", "pow", "expand", "matmul", "cat", "tensor", "scalar"])
    elif how == 3 and node is not None:  # a position far away, not finite or malformed
        node["position"] = rng.choice([[1e7, -1e7], [1e8, 0], [1e308, 1e308], [0], [0, 0, 0], "0,0", [10**400, 0],
                                       [True, False], [-0.0, 5e-324]])
    elif how == 4 and edges:  # edges listed target-first, or shuffled
        if rng.random() < 0.5:
            edges.reverse()
        else:
            rng.shuffle(edges)
    elif how == 5 and edges:  # an edge duplicated, or turned round (a cycle or a bad port)
        edge = copy.deepcopy(rng.choice(edges))
        if isinstance(edge, dict) and rng.random() < 0.5:
            edge["source"], edge["target"] = edge.get("target"), edge.get("source")
        edges.insert(rng.randrange(len(edges) + 1), edge)
    elif how == 6 and node is not None and node.get("kind") == "scalar":  # Python numbers that explode
        node.setdefault("attributes", {})["value"] = rng.choice([10, 10**15, 10**308, 1e308, 2, -8, 0.5, 10**400])
    elif how == 7:  # any value anywhere replaced, deleted or given a sibling key
        spots = _places(data)
        if spots:
            parent, last = _parent(data, rng.choice(spots))
            choice = rng.random()
            if choice < 0.6:
                parent[last] = _hostile(rng)
            elif choice < 0.8:
                del parent[last]
            elif isinstance(parent, dict):
                parent[rng.choice(["extra", "kind", "id", "attributes"])] = _hostile(rng)
    elif how == 8:  # settings
        data["settings"] = rng.choice([{"grad_mode": "no_grad"}, {"backward_target": "missing"}, [],
                                       {"grad_mode": []}, {"backward_target": node.get("id")
                                                           if node is not None else None}])
    elif how == 9:  # the version
        data["version"] = rng.choice([0, 1, 2, 3, 2**70, "2", 1.5, None])
    elif how == 10 and node is not None:  # a big but allowed tensor feeding the graph
        node["kind"], node["attributes"] = "tensor", {"shape": rng.choice([[3_000, 3_000], [3_000, 1]]),
                                                      "init": rng.choice(["randn", "ones", "arange"]),
                                                      "requires_grad": True}
    elif how == 11:  # a note's text or kind
        data.setdefault("annotations", [])
        if isinstance(data["annotations"], list):
            data["annotations"].append({"id": f"a{rng.randrange(99)}", "kind": rng.choice(["note", "frame", []]),
                                        "text": rng.choice(["hi", 3, "x" * 200_000, None, ["t"]])})


def mutated_case(rng: random.Random) -> str:
    """The text of one mutated example file (sometimes with its JSON text damaged too)."""
    data = copy.deepcopy(rng.choice(SEEDS))
    for _ in range(rng.randint(1, 4)):
        _mutate(data, rng)
    text = json.dumps(data, ensure_ascii=rng.random() < 0.5)
    damage = rng.random()
    if damage < 0.05:
        text = text[: rng.randrange(len(text))]
    elif damage < 0.1:
        spot = rng.randrange(len(text))
        text = text[:spot] + rng.choice(["\x00", "}", "]", "\ufeff", "\\", '"', "1" * 5000]) + text[spot + 1:]
    return text
