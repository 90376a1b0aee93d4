"""`out.backward()`'s path: backward from one non-leaf output into the leaves (`run_from`), with no `inputs=`,
observer or `create_graph`. The general engine, and the helpers both share, are in `_backward.py`.

While grad mode stays off, nodes with an unrecorded rule (`Node.unrecorded`) hand each other bare arrays, so a
chain of them makes no tensor between its steps; a gradient becomes a tensor wherever anything can see it.
"""

from __future__ import annotations

import heapq
import sys
from typing import Any

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._backward import (
    ANOMALY,
    _accumulate,
    _check_nan,
    _dependencies,
    _priority,
    _slot_outputs,
)
from gradstudio.engine._graph import AccumulateGrad, Node
from gradstudio.engine._hooks import run_post_hooks, run_prehooks
from gradstudio.engine._tensor import Tensor

_make = Tensor._make
_GRAD_OFF = grad_mode.GRAD_OFF
_STATE = grad_mode.STATE
_NDARRAY = np.ndarray
_push, _pop = heapq.heappush, heapq.heappop


def _summed(pending: Any, grad: Any) -> Any:
    """`pending + grad` with grad mode off. Gradients in `run_from` are tensors or, between unrecorded rules, bare
    arrays (numpy scalars for 0-d ones): two of one dtype and shape add in one numpy call, to an array."""
    # (arrays from unrecorded rules, the usual pair, told first; a Tensor subclass takes the tensor sum)
    first = (pending if type(pending) is _NDARRAY else pending._data if type(pending) is Tensor
             else None if isinstance(pending, Tensor) else pending)
    second = (grad if type(grad) is _NDARRAY else grad._data if type(grad) is Tensor
              else None if isinstance(grad, Tensor) else grad)
    if first is not None and second is not None and first.dtype is second.dtype and first.shape == second.shape:
        return first + second
    return _tensor(pending) + _tensor(grad)


def _tensor(grad: Any) -> Any:
    """A gradient as a tensor: a bare array from an unrecorded rule wrapped (None, and the list of slots a node
    with several outputs gets, stay as they are)."""
    return grad if grad is None or isinstance(grad, (Tensor, list)) else _make(grad)


def _stolen(node: AccumulateGrad, data: Any) -> tuple | None:
    """AccumulateGrad's steal (see `_backward._stealable`) for a bare array from an unrecorded rule, with no
    tensor made first: when the leaf has no `.grad` yet and nothing else holds the array (a plain, contiguous,
    writeable one of the leaf's dtype, owning its memory), the leaf's `.grad` wraps it. None, changing nothing,
    when the general step must run. The sink's `Node._lean_step`: `run_from` calls it for an unhooked sink."""
    leaf = node.variable
    if leaf._grad is not None or data.base is not None or not data.flags.carray:  # (C-contiguous, aligned, writeable)
        return None
    dtype = data.dtype
    if not (dtype is leaf._data.dtype or dtype == leaf._data.dtype) or sys.getrefcount(data) > 3:
        return None  # (the 3: run_from's `grad`, the parameter `data`, getrefcount's argument)
    leaf._grad = _make(data)
    return ()


AccumulateGrad._lean_step = staticmethod(_stolen)


def as_tensors(grads: tuple) -> tuple:
    """Every gradient of a tuple as a tensor (see `_tensor`)."""
    return tuple([_tensor(grad) for grad in grads])


def run_from(root: Node, grad: Any, retain_graph: bool | None) -> None:
    """`execute` for the common call, `out.backward()` on one non-leaf output: accumulate into the leaves,
    no `inputs=`, no observer, no `create_graph`. The same order, hooks and checks as `execute`, without
    the bookkeeping those options need; a node that becomes ready and runs next gets its gradient handed
    over directly, not through the gradient buffers.

    While grad mode stays off (no hook or rule turned it on), a node with an unrecorded rule (`Node.unrecorded`)
    runs that: it takes and gives bare arrays, so a chain of such nodes makes no tensor between its steps. A
    gradient becomes a tensor where anything else sees it: a hook, a rule's recorded path, a leaf's `.grad`.
    `grad` (the seed) may be a bare array too."""
    dependencies = _dependencies([root], {root: 0})
    buffers: dict[Node, Any] = {}
    tiebreak = 0  # order among equal priorities: first come, first served
    ready: list[tuple[float, int, Node]] = []
    release = not retain_graph
    state = _STATE
    # read now (a thread's first read of the state sets up its numpy error state: see grad_mode._GradState), but
    # turned off only before the first general step: the lean steps run numpy alone and cannot see it
    grad_was_enabled = state.enabled
    switched = False
    lean = not ANOMALY.enabled  # no general step has run yet: a node's `_lean_step` may take its array as it is
    off = True  # grad mode is off in this thread (once switched): re-read only after code that could turn it on
    node: Node | None = root
    try:
        while True:
            if lean and type(grad) is _NDARRAY and (rule := node._lean_step) is not None \
                    and (grads := rule(node, grad)) is not None:  # the lean step: a plain node's (or sink's) rule
                if release and node._saved:  # node.release_saved(), inlined (see Node._lean_step)
                    node._saved = None
            elif grad is None:  # no gradient reached it: its children still count the edge
                grads: Any = (None,) * len(node._edges)
            else:
                if not switched:  # state.set_enabled(False), inlined: from here on something may see grad mode
                    switched = True
                    if grad_was_enabled:
                        state.enabled = False
                        _GRAD_OFF.append(None)
                if node._hooked or node._is_sink:
                    if (type(grad) is _NDARRAY and not node._hooked and node._post_accumulate_hooks is None
                            and _stolen(node, grad) is not None):  # (not hooked: it is the sink)
                        grads = ()
                    else:
                        if type(grad) is not Tensor:
                            grad = _tensor(grad)
                        if node._hooked:
                            grad = run_prehooks(node, grad)
                            off = lean = False
                        if node._is_sink:  # the sink's steps inline: a helper's frame would hold `grad` once more
                            grads = ()
                            _accumulate(node.variable, grad, False, True)
                            if node._post_accumulate_hooks:
                                off = lean = False
                                for hook in list(node._post_accumulate_hooks):
                                    hook(node.variable)
                            if node._hooked and node._post_hooks:
                                run_post_hooks(node, (), grad)
                        else:
                            grads = node.apply(grad)
                            if node._post_hooks:
                                grads = run_post_hooks(node, grads, grad)
                            if release:  # as PyTorch's engine: right after the node ran, before its outputs move on
                                node.release_saved()
                            if ANOMALY.enabled and ANOMALY.check_nan:
                                _check_nan(node, grads)
                else:  # a plain node: its rule alone
                    rule = node.unrecorded
                    grads = None
                    if rule is not None:
                        if not off:
                            off = not state.enabled
                        if off:
                            kind = type(grad)
                            if kind is Tensor:
                                grads = rule(grad._data)
                            elif kind is not list and not isinstance(grad, Tensor):
                                grads = rule(grad)
                    if grads is None:  # no rule for it, or not for this gradient: the recorded rule, on a tensor
                        grads = node.apply(grad if type(grad) is Tensor else _tensor(grad))
                        off = lean = False
                    if release:  # as PyTorch's engine: right after the node ran, before its outputs move on
                        node.release_saved()
                    if ANOMALY.enabled and ANOMALY.check_nan:
                        _check_nan(node, grads)
                if node._edge_numbers is not None:  # (never on a lean step's node: see Node._edge_outputs)
                    grads = _slot_outputs(buffers, node, as_tensors(grads))
            grad = None
            follow = None  # the one child that became ready while the queue is empty: it runs next, unqueued
            edges = node._edges
            index = -1  # a counter, not zip or enumerate: cheaper for the one or two edges most nodes have
            for child in edges:
                index += 1
                if child is None:
                    continue
                child_grad = grads[index]  # every node returns one gradient per edge
                remaining = dependencies[child] - 1
                if remaining:  # more gradients for it to come
                    dependencies[child] = remaining
                    if child_grad is not None:
                        pending = buffers.get(child)
                        buffers[child] = child_grad if pending is None else _summed(pending, child_grad)
                    continue
                pending = buffers.pop(child, None) if buffers else None  # (no edge leads to it again)
                if pending is not None:
                    child_grad = pending if child_grad is None else _summed(pending, child_grad)
                if follow is None and not ready:
                    follow, grad = child, child_grad
                    continue
                if follow is not None:
                    if grad is not None:
                        buffers[follow] = grad
                    tiebreak += 1
                    _push(ready, (_priority(follow), tiebreak, follow))
                    follow = grad = None
                if child_grad is not None:
                    buffers[child] = child_grad
                tiebreak += 1
                _push(ready, (_priority(child), tiebreak, child))
            child_grad = pending = grads = None  # hold no gradient past its node: AccumulateGrad counts holders
            if follow is not None:
                node = follow
            elif ready:
                node = _pop(ready)[2]
                grad = buffers.pop(node, None)
            else:
                break
    finally:  # (a hook may have set grad mode without restoring it)
        if switched:
            if grad_was_enabled:
                if not state.enabled:  # state.set_enabled(True), inlined
                    _GRAD_OFF.pop()
                    state.enabled = True
            elif state.enabled:
                state.set_enabled(False)
