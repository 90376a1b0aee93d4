"""Adam's arithmetic, shared by every way `optim.Adam` runs it: one parameter whole, a large one in
cache-sized pieces, or a group's small parameters together in one flat array (a multi-tensor update, as
PyTorch's foreach Adam), so that a tiny network pays for thirteen numpy calls per step, not per parameter.

A large parameter takes numba's compiled loop instead (`fused`, `_fused.py`) when numba is installed: the same
operations in one pass. Every path performs the same float operations on every element, so they agree bit
for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine import _aligned, _fused_loader
from gradstudio.engine._tensor import Tensor

CHUNK = 65536  # elements per piece of a large parameter's update (256 KB of float32, two pieces fit in L2)


def fused(param: np.ndarray, grad: np.ndarray, moments: list[np.ndarray | None], factors: tuple) -> bool:
    """Adam's update of a large parameter in one compiled pass, as `update` computes it; False (nothing done)
    when `_fused_loader.fusable` says no or numba is not there."""
    exp_avg, exp_avg_sq, max_exp_avg_sq = moments
    state = [exp_avg, exp_avg_sq] + ([] if max_exp_avg_sq is None else [max_exp_avg_sq])
    if not _fused_loader.fusable(param, grad, state):
        return False
    loops = _fused_loader.fused_loops()
    if loops is None:
        return False
    flat = [array.reshape(-1) for array in state]  # views: every one is C-contiguous
    amsgrad = max_exp_avg_sq is not None
    loops.adam(param.reshape(-1), np.ascontiguousarray(grad).reshape(-1),  # a strided gradient copied
               flat[0], flat[1], flat[2] if amsgrad else flat[1], amsgrad, *factors)
    return True


def update(grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray, max_exp_avg_sq: np.ndarray | None,
           scratch: np.ndarray, other: np.ndarray, factors: tuple) -> np.ndarray:
    """Adam's moments updated in place and the step to add to the parameter (in `other`), every intermediate
    in two scratch arrays, in PyTorch's order of rounding."""
    one_minus_beta1, one_minus_beta2, beta2, bias_correction2_sqrt, eps, step_size = factors
    np.subtract(grad, exp_avg, out=scratch)
    scratch *= one_minus_beta1
    exp_avg += scratch
    np.square(grad, out=scratch)  # grad * grad, exactly, at twice multiply's speed when grad is not aligned
    scratch *= one_minus_beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch
    second_moment = exp_avg_sq
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, second_moment, out=max_exp_avg_sq)
        second_moment = max_exp_avg_sq
    np.sqrt(second_moment, out=scratch)
    scratch /= bias_correction2_sqrt
    scratch += eps
    np.multiply(exp_avg, step_size, out=other)
    other /= scratch
    return other


def update_in_pieces(param: np.ndarray, grad: np.ndarray, moments: list[np.ndarray | None],
                     scratch: np.ndarray, other: np.ndarray, factors: tuple) -> None:
    """`update` over C-contiguous arrays, at most CHUNK elements at a time (the passes then stay in cache)."""
    flat = [array.reshape(-1) for array in (param, grad)] + [None if m is None else m.reshape(-1) for m in moments]
    length = piece_length(param.size)
    for start in range(0, param.size, length):
        piece = [None if array is None else array[start:start + length] for array in flat]
        count = len(piece[0])
        piece[0] += update(*piece[1:], scratch[:count], other[:count], factors)


def piece_length(size: int) -> int:
    """At most CHUNK elements, as few pieces as that takes, of even length (whole 16-element runs, so each piece
    starts on a cache line of an aligned float32 buffer): a short last piece (784 x 256 in 65536s leaves 4096)
    costs the thirteen numpy calls of a whole one."""
    pieces = -(-size // CHUNK)
    even = -(-size // pieces)
    return min(CHUNK, -(-even // 16) * 16)


class FlatMoments:
    """Adam's state for a group's small parameters, in flat arrays the per-parameter state tensors view.

    Made only while those parameters have no state yet; a parameter's state tensor that is no longer a view
    made here (a `load_state_dict`) sends the group back to the per-parameter update. The step counts are views
    of one array too, so a step counts them all in one numpy call.
    """

    def __init__(self, params: list[Tensor], amsgrad: bool) -> None:
        self.params = params
        sizes = [param._data.size for param in params]
        self.bounds = list(zip(np.cumsum([0, *sizes[:-1]]).tolist(), np.cumsum(sizes).tolist()))
        dtype, total = params[0]._data.dtype, sum(sizes)
        zeros = np.zeros(total, dtype)
        self.exp_avg, self.exp_avg_sq = _aligned.zeros_like(zeros), _aligned.zeros_like(zeros)
        self.max_exp_avg_sq = _aligned.zeros_like(zeros) if amsgrad else None
        self.grad, self.scratch, self.other = (_aligned.empty(total, dtype) for _ in range(3))
        self.steps = np.zeros(len(params), np.float32)
        # per parameter: its part of the step to add, and (state key, array its state tensor must hold)
        self.updates = [self.other[start:stop].reshape(param._data.shape)
                        for param, (start, stop) in zip(params, self.bounds)]
        self.states: list[dict[str, Any]] = []
        self.views: list[tuple[dict[str, Any], str, np.ndarray]] = []  # (state, key, what its tensor must hold)

    def create_states(self, states: list[dict[str, Any]]) -> None:
        """Fill each parameter's empty state as `Adam._state_for` would, its moments views of the flat arrays."""
        keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        for index, (param, state, (start, stop)) in enumerate(zip(self.params, states, self.bounds)):
            views = [("step", self.steps[index:index + 1].reshape(()))]
            views += [(key, array[start:stop].reshape(param._data.shape)) for key, array in zip(keys, self._moments())]
            for key, view in views:
                state[key] = Tensor._make(view)
                self.views.append((state, key, view))
            self.states.append(state)

    def serves(self, params: list[Tensor], states: list[dict[str, Any]], amsgrad: bool) -> bool:
        """Whether these parameters, with these states, can take the flat update now: the same parameters and
        state dicts, state tensors still viewing the flat arrays, and one step count (else per-parameter
        updates)."""
        if len(params) != len(self.params) or amsgrad != (self.max_exp_avg_sq is not None):
            return False
        dtype = self.grad.dtype
        for a, b, state, own in zip(params, self.params, states, self.states):
            if a is not b or state is not own or a._data.dtype != dtype:
                return False
        for state, key, view in self.views:
            tensor = state.get(key)
            if tensor is None or tensor._data is not view:
                return False
        steps = self.steps.tolist()
        return steps.count(steps[0]) == len(steps)

    def count_step(self) -> float:
        """Add one to every parameter's step count; the new count."""
        self.steps += 1
        return float(self.steps[0])

    def step(self, grads: list[np.ndarray], factors: tuple) -> None:
        """One update of every parameter from their gradients (in parameter order)."""
        # not concatenate(axis=None): it drops and retakes the GIL on every call, and a training worker that does
        # that each step keeps a waiting UI thread from ever forcing a switch (the window froze for whole runs)
        grad = np.concatenate([g.reshape(-1) for g in grads], out=self.grad)
        update(grad, self.exp_avg, self.exp_avg_sq, self.max_exp_avg_sq, self.scratch, self.other, factors)
        for param, part in zip(self.params, self.updates):
            param._data += part

    def _moments(self) -> list[np.ndarray]:
        return [self.exp_avg, self.exp_avg_sq] + ([] if self.max_exp_avg_sq is None else [self.max_exp_avg_sq])
