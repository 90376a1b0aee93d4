"""Loading checks acyclicity once per file, not once per edge (target-first files loaded in quadratic time)."""

from __future__ import annotations

import json
import time

import pytest

from gradstudio.model import document as document_module
from gradstudio.model.document import GraphDocument
from gradstudio.model.io import filereader
from gradstudio.model.io.fileformat import loads
from gradstudio.model.io.fileschema import GraphFileError


def chain_file(count: int, reverse: bool) -> str:
    """A chain x -> neg -> neg -> ... of `count` nodes, its edges listed target-first when `reverse`."""
    nodes = [{"id": "n0", "kind": "tensor", "name": "x"}]
    nodes += [{"id": f"n{i}", "kind": "neg", "name": f"v{i}"} for i in range(1, count)]
    edges = [{"source": f"n{i - 1}", "target": f"n{i}", "port": "input"} for i in range(1, count)]
    if reverse:
        edges.reverse()
    return json.dumps({"format": "gradstudio-graph", "version": 2, "nodes": nodes, "edges": edges})


def test_a_target_first_chain_of_10000_nodes_runs_one_cycle_check(monkeypatch: pytest.MonkeyPatch) -> None:
    searches, checks = [], []
    reaches, find = GraphDocument.reaches, filereader.find_cycle_edge
    monkeypatch.setattr(GraphDocument, "reaches", lambda self, a, b: searches.append(a) or reaches(self, a, b))
    monkeypatch.setattr(filereader, "find_cycle_edge", lambda edges: checks.append(len(edges)) or find(edges))
    start = time.perf_counter()
    document = loads(chain_file(10_000, reverse=True))
    elapsed = time.perf_counter() - start
    assert len(document.edges) == 9_999
    assert searches == []  # no per-edge path search while loading
    assert checks == [9_999]  # one check of the whole edge list
    assert elapsed < 10  # 26 s before; about 1 s here on a loaded machine


def test_a_cycle_is_still_named_at_the_edge_that_closes_it() -> None:
    data = json.loads(chain_file(5, reverse=False))
    data["edges"].append({"source": "n4", "target": "n0", "port": "input"})  # tensors have no inputs
    data["edges"].insert(2, {"source": "n4", "target": "n1", "port": "input"})  # n1's input is taken: not a cycle
    with pytest.raises(GraphFileError, match=r"^edges\[2\]: input 'input' of v1 is already connected"):
        loads(json.dumps(data))
    data = json.loads(chain_file(5, reverse=False))
    data["nodes"][1]["kind"] = "add"
    data["edges"][0]["port"] = "a"
    data["edges"].append({"source": "n4", "target": "n1", "port": "b"})  # closes n1 -> ... -> n4 -> n1
    data["edges"].append({"source": "n0", "target": "n1", "port": "nope"})  # a later problem
    with pytest.raises(GraphFileError, match=r"^edges\[4\]: connecting these ports would make a cycle$"):
        loads(json.dumps(data))


def test_find_cycle_edge_names_the_first_closing_edge() -> None:
    edge = document_module.Edge
    edges = [edge("a", "b", "x"), edge("b", "c", "x"), edge("c", "d", "x"), edge("d", "b", "y"), edge("c", "a", "y")]
    assert document_module.find_cycle_edge(edges) == 3
    assert document_module.find_cycle_edge(edges[:3]) is None
