"""The fast paths of the losses and the optimisers' aligned buffers, pinned bit for bit to the general code."""

from __future__ import annotations

import numpy as np
import pytest

import gradstudio.engine as engine
from gradstudio.engine import _aligned
from gradstudio.engine.nn import _nll
from gradstudio.engine.ops import softmax as softmax_ops

LOGITS = {
    "float32": np.random.default_rng(5).standard_normal((7, 4)).astype(np.float32) * 3,
    "float64": np.random.default_rng(6).standard_normal((7, 4)),
    "extremes": np.array([[np.nan, 1, 2, 3], [np.inf, 0, 0, 0], [-np.inf, 1, 1, 1], [1e30, -1e30, 0, 2],
                          [0, 0, 0, 0], [-0.0, 5, 5, 5], [88, 89, -104, 1]], np.float32),
}
TARGETS = [0, 3, 3, 1, 2, 0, 3]


def _loss_and_grad(logits: np.ndarray, reduction: str, ignore_index: int) -> tuple[np.ndarray, np.ndarray]:
    x = engine.tensor(logits, requires_grad=True)
    loss = engine.nn.functional.cross_entropy(x, engine.tensor(TARGETS), reduction=reduction,
                                              ignore_index=ignore_index)
    loss.sum().backward() if reduction == "none" else loss.backward()
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", sorted(LOGITS))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 2, 7])
def test_nll_of_rows_that_all_count_is_the_general_path_bit_for_bit(monkeypatch: pytest.MonkeyPatch, name: str,
                                                                   reduction: str, ignore_index: int) -> None:
    logits = LOGITS[name]
    fast = _loss_and_grad(logits, reduction, ignore_index)
    monkeypatch.setattr(_nll, "_every_target_counts", lambda x, t, ignore: False)
    general = _loss_and_grad(logits, reduction, ignore_index)
    for got, expected in zip(fast, general):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize(("targets", "ignore_index", "counts"), [
    ([0, 3, 1], -100, True), ([0, 1, 1], 2, True), ([3, 2, 3], 1, True), ([0, 3, 1], 2, True),
    ([0, 2, 1], 2, False), ([0, 4, 1], -100, False), ([-1, 0, 1], -100, False), ([], -100, False),
    ([0, 3, 1], 4, True), ([0, 3, 1], -1, True),
])
def test_the_fast_path_is_taken_only_when_every_row_counts(targets: list[int], ignore_index: int,
                                                          counts: bool) -> None:
    x = np.zeros((len(targets), 4), np.float32)
    assert _nll._every_target_counts(x, np.array(targets, np.int64), ignore_index) is counts
    transposed = np.zeros((4, len(targets)), np.float32).T  # not C-contiguous: the general path
    assert _nll._every_target_counts(transposed, np.array(targets, np.int64), ignore_index) is False


def test_aligned_buffers_start_on_a_cache_line_and_keep_shape_dtype_and_layout() -> None:
    for shape, dtype in (((784, 256), np.float32), ((3,), np.float64), ((0, 5), np.float32), (7, np.float16)):
        array = _aligned.empty(shape, dtype)
        assert array.ctypes.data % _aligned.ALIGNMENT == 0 or array.size == 0
        assert array.shape == ((shape,) if isinstance(shape, int) else shape) and array.dtype == dtype
        assert array.flags.c_contiguous and array.flags.writeable
    source = np.arange(12, dtype=np.float32).reshape(3, 4)
    zeros = _aligned.zeros_like(source)
    assert zeros.ctypes.data % _aligned.ALIGNMENT == 0 and not zeros.any() and zeros.shape == (3, 4)
    transposed = _aligned.zeros_like(source.T)  # not C-contiguous: numpy's own zeros_like, in its layout
    assert transposed.flags.f_contiguous and transposed.shape == (4, 3)


def test_a_flat_adam_groups_step_counts_are_each_parameters_own_tensor() -> None:
    params = [engine.ones(3, requires_grad=True), engine.ones(2, 2, requires_grad=True)]
    optimizer = engine.optim.Adam(params, lr=0.1)
    for step in range(3):
        for param in params:
            param.grad = engine.ones_like(param)
        if step == 2:
            params[1].grad = None  # the group leaves the flat update: each count goes on by itself
        optimizer.step()
    steps = [optimizer.state[param]["step"] for param in params]
    assert [repr(step) for step in steps] == ["tensor(3.)", "tensor(2.)"]
    assert [step.dtype for step in steps] == [engine.float32] * 2 and steps[0].shape == ()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(7, 4), (3, 4, 2, 5), (4,)])
def test_nll_backward_unrecorded_is_the_recorded_rule_bit_for_bit(reduction: str, shape: tuple) -> None:
    rng = np.random.default_rng(11)
    logits = rng.standard_normal(shape).astype(np.float32)
    targets = rng.integers(0, 4, (shape[0], *shape[2:]) if len(shape) > 1 else ()).astype(np.int64)
    seed = rng.standard_normal(targets.shape).astype(np.float32) if reduction == "none" else np.float32(0.7)
    grads = []
    for create_graph in (False, True):  # create_graph records NllLossBackward0's rule as ops
        x = engine.tensor(logits, requires_grad=True)
        loss = engine.nn.functional.nll_loss(engine.log_softmax(x, 0 if len(shape) == 1 else 1),
                                             engine.tensor(targets), reduction=reduction)
        (grad,) = engine.autograd.grad(loss, x, engine.tensor(seed), create_graph=create_graph)
        grads.append(grad.detach().numpy())
    assert grads[0].dtype == grads[1].dtype and grads[0].tobytes() == grads[1].tobytes()


def _softmaxes_and_grads(logits: np.ndarray) -> list[tuple[str, bytes, bytes]]:
    results = []
    weights = engine.tensor(np.linspace(-1, 2, logits.size).reshape(logits.shape).astype(logits.dtype))
    for function in (engine.softmax, engine.log_softmax):
        x = engine.tensor(logits, requires_grad=True)
        out = function(x, 1)
        (out * weights).sum().backward()
        results.append((out.grad_fn.name(), out.detach().numpy().tobytes(), x.grad.numpy().tobytes()))
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 10), (8, 1), (40, 32), (9, 3)])
def test_softmax_of_narrow_rows_is_the_row_by_row_maximum_bit_for_bit(monkeypatch: pytest.MonkeyPatch, dtype: type,
                                                                      shape: tuple) -> None:
    logits = (np.random.default_rng(12).standard_normal(shape) * 30).astype(dtype)
    logits[0, 0] = logits[1, -1] = -0.0  # ties of 0.0 and -0.0 at a row's maximum
    logits[0, -1] = logits[1, 0] = 0.0
    logits[0, 1:-1] = logits[1, 1:-1] = -5
    if shape[0] > 2:
        logits[2, 0] = np.nan
        logits[3, :] = [np.inf] + [-np.inf] * (shape[1] - 1)
    fast = _softmaxes_and_grads(logits)
    monkeypatch.setattr(softmax_ops, "_NARROW", 0)
    assert fast == _softmaxes_and_grads(logits)
