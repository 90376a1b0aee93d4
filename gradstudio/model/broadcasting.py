"""Where an op broadcast an input, and how its gradient was summed back: the facts behind the edge markers.

An input of shape [3] added to a [6, 3] tensor is broadcast along a new leading
dimension; Backward then sums the incoming [6, 3] gradient over dim 0 to give
the input its own shape back. The catalog names the ports that broadcast
(`OpSpec.broadcasts`); this module compares shapes, Qt-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gradstudio.model.document import Edge, GraphDocument
from gradstudio.model.evaluation import NodeResult

Shape = tuple[int, ...]


@dataclass(frozen=True)
class BroadcastFact:
    """An input broadcast from `source` shape to `target` shape; the output dims its gradient is summed over."""

    source: Shape
    target: Shape
    summed: tuple[int, ...]  # output dims with no counterpart in the input: summed away
    kept: tuple[int, ...]  # output dims where the input had size one: summed, keeping size one

    @property
    def marker(self) -> str:
        """`[3] → [6, 3]`."""
        return f"{shape_text(self.source)} → {shape_text(self.target)}"

    @property
    def reduction(self) -> str:
        """How Backward gives the gradient the input's shape: `summed over dim 0`, `summed over dim 1, kept`."""
        parts = []
        if self.summed:
            parts.append(f"summed over {_dims(self.summed)}")
        if self.kept:
            parts.append(f"{'and' if self.summed else 'summed over'} {_dims(self.kept)}, kept")
        return ", ".join(parts)


def shape_text(shape: Shape) -> str:
    """`[6, 3]` (`[]` for a scalar)."""
    return "[" + ", ".join(str(size) for size in shape) + "]"


def _dims(dims: tuple[int, ...]) -> str:
    return ("dim " if len(dims) == 1 else "dims ") + ", ".join(str(dim) for dim in dims)


def broadcast(source: Shape, target: Shape) -> BroadcastFact | None:
    """The fact of broadcasting `source` to `target`; None when the shapes are equal or not broadcastable."""
    if source == target or len(source) > len(target):
        return None
    lead = len(target) - len(source)
    kept = []
    for dim, (have, want) in enumerate(zip(source, target[lead:]), start=lead):
        if have == want:
            continue
        if have != 1:
            return None
        kept.append(dim)
    if not lead and not kept:
        return None
    return BroadcastFact(source, target, tuple(range(lead)), tuple(kept))


def edge_broadcast(document: GraphDocument, results: Mapping[str, NodeResult], edge: Edge) -> BroadcastFact | None:
    """The broadcast the edge's input underwent in its target op, if the op broadcasts that port."""
    node = document.nodes.get(edge.target)
    if node is None or edge.port not in node.spec.broadcasts:
        return None
    source, output = results.get(edge.source), results.get(edge.target)
    if source is None or output is None or source.tensor is None or output.tensor is None:
        return None
    return broadcast(tuple(source.tensor.shape), tuple(output.tensor.shape))


def edge_marker(fact: BroadcastFact, backward_done: bool) -> str:
    """The text on a broadcast edge: the shape change, and after Backward how the gradient came back."""
    if backward_done and fact.reduction:
        return f"{fact.marker}\n{fact.reduction}"
    return fact.marker
