"""Version counters and in-place changes: which node's saved tensor an in-place op overwrote, and the versions.

PyTorch's refusal ("one of the variables needed for gradient computation has been
modified by an inplace operation: [torch.FloatTensor [3]] ... is at version 1;
expected version 0 instead") names only a shape. This finds the node whose tensor
was saved and the in-place op nodes (`OpSpec.modifies`) that changed it, so both
can carry the error with both versions: "saved at version 0, now 1".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gradstudio.engine.autograd.graph import gradient_node, version
from gradstudio.model.document import GraphDocument
from gradstudio.model.evaluation import NodeResult

if TYPE_CHECKING:  # the explanation table loads with the first refusal explained, not with the canvas's badges
    from gradstudio.model.explain import Explanation

VERSIONS = re.compile(r"is at version (\d+); expected version (\d+)")
SAVED_BY = re.compile(r"which is output 0 of (\w+),")  # the changed tensor's grad_fn now: the last writer's


def tensor_version(result: NodeResult | None) -> int | None:
    """How many in-place changes the node's tensor has seen (`tensor._version`); None for no tensor."""
    tensor = result.tensor if result is not None else None
    return version(tensor) if tensor is not None else None


def changed_node(document: GraphDocument, node_id: str) -> str | None:
    """The node whose tensor an in-place op node changes (through a chain of in-place ops); None if unwired."""
    node = document.nodes[node_id]
    while node.spec.modifies is not None:
        edge = document.edges.get((node.id, node.spec.modifies))
        if edge is None:
            return None
        node = document.nodes[edge.source]
    return node.id


@dataclass(frozen=True)
class InPlaceConflict:
    """A tensor saved for backward at one version and changed in place since, by these op nodes."""

    saved: str
    writers: tuple[str, ...]
    saved_version: int
    now_version: int

    @property
    def versions(self) -> str:
        """`saved at version 0, now 1`."""
        return f"saved at version {self.saved_version}, now {self.now_version}"

    def explanations(self, message: str, name_of: Mapping[str, str]) -> dict[str, Explanation]:
        """PyTorch's message explained on the saved node and on each op that changed it, with both versions."""
        from gradstudio.model.explain import Explanation, explain

        saved, writers = name_of[self.saved], ", ".join(name_of[writer] for writer in self.writers)
        general = explain(message).explanation
        pinned = {self.saved: Explanation(message, f"{saved}: {self.versions}. {writers} changed it in place after "
                                                   f"it was saved for backward. {general} Change a clone() of "
                                                   f"{saved} instead, or change it after backward.")}
        for writer in self.writers:
            pinned[writer] = Explanation(message, f"{name_of[writer]} changed {saved} in place: {self.versions}. "
                                                  f"{general}")
        return pinned


def in_place_conflict(document: GraphDocument, results: Mapping[str, NodeResult],
                      message: str) -> InPlaceConflict | None:
    """The saved node and its in-place writers behind PyTorch's "modified by an inplace operation" error."""
    found = VERSIONS.search(message)
    if found is None:
        return None
    now, saved_at = int(found.group(1)), int(found.group(2))
    saved_by = SAVED_BY.search(message)
    writers: dict[str, list[str]] = {}
    for node_id in document.topological_order():
        if document.nodes[node_id].spec.modifies is not None and results.get(node_id, NodeResult()).ok:
            changed = changed_node(document, node_id)
            if changed is not None and tensor_version(results.get(changed)) == now:
                writers.setdefault(changed, []).append(node_id)
    for changed, ops in writers.items():
        current = gradient_node(results[changed].tensor)  # PyTorch names the tensor's grad_fn as it is now
        name = current.name() if current is not None else ""
        if saved_by is None or name.startswith(saved_by.group(1)):
            return InPlaceConflict(changed, tuple(ops), saved_at, now)
    return None
