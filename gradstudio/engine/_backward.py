"""The backward pass: walk the recorded graph from the roots and hand each node its gradient.

Nodes run in PyTorch's order: a node is ready once every gradient flowing into it
has arrived; among ready nodes AccumulateGrad runs first, then the most recently
created node. An optional observer sees every step (the UI's step-through and
backward-path highlighting use it).
"""

from __future__ import annotations

import heapq
import itertools
import math
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import Node, gradient_edge, output_nr
from gradstudio.engine._hooks import run_post_hooks, run_prehooks
from gradstudio.engine._tensor import Tensor

_make = Tensor._make
_GRAD_OFF = grad_mode.GRAD_OFF

# observer(node, incoming_gradient, outgoing_gradients): called once per executed node
BackwardObserver = Callable[[Node, Tensor, tuple], None]


class _Anomaly:
    """Anomaly mode's switches (`autograd.detect_anomaly`). Instance attributes, not class defaults: every
    recorded op and every node run reads `enabled`, and an instance's own attribute is the quick read."""

    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True


ANOMALY = _Anomaly()


def _dependencies(stack: list[Node], counts: dict[Node, int]) -> dict[Node, int]:
    """For every node reachable from the roots in `stack` (a list the walk empties), how many edges lead into it;
    `counts` holds the roots' zeros."""
    while stack:
        node = stack.pop()
        while node is not None:  # down a chain without the stack: its first new child is visited next
            following = None
            for child in node._edges:
                if child is None:
                    continue
                if child in counts:
                    counts[child] += 1
                else:  # first visit
                    counts[child] = 1
                    if following is None:
                        following = child
                    else:
                        stack.append(child)
            node = following
    return counts


def _needed(roots: Sequence[Node], targets: set[Node]) -> set[Node]:
    """Nodes from which some target can be reached: the only ones autograd.grad must run."""
    needed: set[Node] = set()
    visited: set[Node] = set()
    order: list[Node] = []
    stack = [(root, False) for root in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        stack.extend((child, False) for child in node._edges if child is not None)
    for node in order:
        if node in targets or any(child in needed for child in node._edges):
            needed.add(node)
    return needed


def _priority(node: Node) -> float:
    """Ready-queue order: AccumulateGrad and the not-implemented placeholder first (PyTorch gives them the top
    sequence number), then the most recently created node."""
    return -math.inf if node._runs_first else -node._sequence_nr


def _check_nan(node: Node, grads: tuple) -> None:
    for index, grad in enumerate(grads):
        if grad is not None and np.isnan(grad._data if isinstance(grad, Tensor) else grad).any():
            stack = node.metadata.get("traceback_")
            if stack:
                warnings.warn(
                    f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{stack}",
                    UserWarning,
                    stacklevel=4,
                )
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {index}th output.")


def record_forward_traceback(node: Node) -> None:
    """In anomaly mode, remember where a node was created, for the error report."""
    if ANOMALY.enabled:
        node.metadata["traceback_"] = "".join(traceback.format_stack()[:-3])


def _accumulate(leaf: Tensor, grad: Tensor, create_graph: bool, may_steal: bool = False) -> None:
    if leaf._grad is None:
        if create_graph:  # PyTorch stores a recorded copy, so the first .grad shows grad_fn=<CopyBackwards>
            from gradstudio.engine.ops.inplace import copied

            leaf._grad = copied(grad)
        elif may_steal and _stealable(grad, leaf):
            leaf._grad = grad  # no one else holds it (see _stealable): stored as it is, as PyTorch steals
        else:
            leaf._grad = grad._own_copy()
    elif create_graph or grad_mode.STATE.enabled and leaf._grad._requires_grad:
        leaf._grad = leaf._grad + grad
    else:
        leaf._grad._data += grad._data
        leaf._grad._version_counter.value += 1


# References to a gradient while AccumulateGrad runs, when nothing outside the backward pass holds it:
# execute()'s local, _accumulate's and _stealable's parameters, and getrefcount's own argument.
_PRIVATE_REFERENCES = 4


def _stealable(grad: Tensor, leaf: Tensor) -> bool:
    """Whether a leaf's first gradient may be stored as it is instead of copied, as PyTorch's AccumulateGrad
    steals a gradient no one else holds: a plain, contiguous, writeable array of the leaf's dtype, owning its
    memory, that no other tensor, view, hook or observer can reach (checked by reference counts)."""
    data = grad._data
    if type(grad) is not Tensor or grad.grad_fn is not None or grad._requires_grad or data.base is not None:
        return False
    flags = data.flags  # read once: each `.flags` builds an object
    if not (flags.c_contiguous and flags.writeable):
        return False
    del flags  # it holds the array, which the count below must not see
    dtype = data.dtype
    return ((dtype is leaf._data.dtype or dtype == leaf._data.dtype) and sys.getrefcount(grad) <= _PRIVATE_REFERENCES
            and sys.getrefcount(data) <= 3)  # grad's slot, the local `data`, getrefcount's argument


def _add_to_output(buffers: dict, node: Node, number: int, grad: Tensor) -> None:
    """Add `grad` into the slot of output `number` of a node with several outputs."""
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * node.output_count
    slots[number] = grad if slots[number] is None else slots[number] + grad


def _slot_outputs(buffers: dict, node: Node, grads: tuple) -> tuple:
    """`node`'s gradients, one per edge (None past the last one it returned), with every gradient bound for one
    of several outputs of a child (split, unbind) added into that child's slot instead, as `execute` does."""
    edges, numbers = node._edges, node._edge_numbers
    grads = tuple(grads[:len(edges)]) + (None,) * (len(edges) - len(grads))
    if numbers is None:
        return grads
    kept = list(grads)
    for index, child in enumerate(edges):
        if kept[index] is not None and child is not None and child._output_numbers is not None:
            _add_to_output(buffers, child, numbers[index], kept[index])
            kept[index] = None
    return tuple(kept)


def _capture(node: Node, grad: Any, where: Any, results: list, inputs: Sequence[Tensor] | None,
             create_graph: bool) -> None:
    """Keep the gradient of a requested input (and, for backward(inputs=[non-leaf]), accumulate it into it)."""
    pairs = where.items() if isinstance(where, dict) else ((None, where),)
    for number, index in pairs:
        value = grad if number is None else grad[number]
        results[index] = value
        # backward(inputs=[non-leaf]) fills its .grad, unless retain_grad() already did
        if inputs is not None and not node._is_sink and value is not None and not inputs[index]._retains_grad:
            _accumulate(inputs[index], value, create_graph)


def execute(
    roots: Sequence[Tensor],
    root_grads: Sequence[Tensor],
    *,
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
    accumulate: bool = True,
    observer: BackwardObserver | None = None,
) -> list[Tensor | None]:
    """Run backward from `roots`; accumulate into leaves, or capture gradients of `inputs`."""
    buffers: dict[Node, Tensor] = {}
    root_nodes: list[Node] = []
    for tensor, grad in zip(roots, root_grads):
        node = gradient_edge(tensor)
        if node is None:
            continue
        if node._output_numbers is not None:
            _add_to_output(buffers, node, output_nr(tensor), grad)
        else:
            buffers[node] = buffers[node] + grad if node in buffers else grad
        if node not in root_nodes:
            root_nodes.append(node)
    dependencies = _dependencies(list(root_nodes), dict.fromkeys(root_nodes, 0))
    captures: dict[Node, Any] = {}  # node -> index in inputs; for a node with several outputs {output_nr: index}
    results: list[Tensor | None] = []
    if inputs is not None:
        for index, tensor in enumerate(inputs):
            node = gradient_edge(tensor)
            if node is not None and node._output_numbers is not None:
                captures.setdefault(node, {})[output_nr(tensor)] = index
            elif node is not None:
                captures[node] = index
            results.append(None)
    runnable = _needed(root_nodes, set(captures)) if inputs is not None else None

    tiebreak = itertools.count()
    ready: list[tuple[float, int, Node]] = []
    push, pop = heapq.heappush, heapq.heappop
    for node in root_nodes:
        if dependencies[node] == 0:
            push(ready, (_priority(node), next(tiebreak), node))
    release = not retain_graph
    state = grad_mode.STATE
    grad_was_enabled = state.enabled
    state.set_enabled(bool(create_graph))
    follow: Node | None = None  # the one node that became ready while the queue was empty: next, unqueued
    try:
        while True:
            if follow is not None:
                node, follow = follow, None
            elif ready:
                node = pop(ready)[2]
            else:
                break
            grad = buffers.pop(node, None)
            grads: tuple = ()
            if grad is not None and (runnable is None or node in runnable):
                if node._hooked:
                    grad = run_prehooks(node, grad)
                if captures and node in captures:
                    _capture(node, grad, captures[node], results, inputs if accumulate else None, create_graph)
                if node._is_sink:
                    if accumulate and (inputs is None or node in captures):
                        _accumulate(node.variable, grad, create_graph, may_steal=observer is None)
                        if node._post_accumulate_hooks:
                            for hook in list(node._post_accumulate_hooks):
                                hook(node.variable)
                    if node._hooked and node._post_hooks:
                        run_post_hooks(node, (), grad)
                elif runnable is None or any(child in runnable for child in node._edges):
                    grads = node.apply(grad)
                    if node._hooked and node._post_hooks:
                        grads = run_post_hooks(node, grads, grad)
                    if release:  # as PyTorch's engine: right after the node ran, before its outputs move on
                        node.release_saved()
                    if ANOMALY.enabled and ANOMALY.check_nan:
                        _check_nan(node, grads)
                if observer is not None:
                    observer(node, grad, grads)
            count = len(grads)
            numbers = node._edge_numbers
            for index, child in enumerate(node._edges):
                if child is None:
                    continue
                if index < count:
                    child_grad = grads[index]
                    if numbers is not None and child_grad is not None and child._output_numbers is not None:
                        _add_to_output(buffers, child, numbers[index], child_grad)
                    elif child_grad is not None:
                        pending = buffers.get(child)
                        buffers[child] = child_grad if pending is None else pending + child_grad
                remaining = dependencies[child] - 1
                dependencies[child] = remaining
                if remaining == 0:
                    if follow is None and not ready:  # it alone is ready: the queue would hand it out next
                        follow = child
                    else:
                        if follow is not None:
                            push(ready, (_priority(follow), next(tiebreak), follow))
                            follow = None
                        push(ready, (_priority(child), next(tiebreak), child))
            child_grad = pending = grads = None  # hold no gradient past its node: AccumulateGrad counts holders
    finally:
        state.set_enabled(grad_was_enabled)
    return results
