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


def _cross_entropy_observed(logits: np.ndarray, targets: list[int], reduction: str) -> list:
    """Everything a cross_entropy shows: its graph (names, edges, saved values, attributes), its values, the
    input's gradient, and a double backward's gradient (create_graph records each node's rule as ops)."""
    x = engine.tensor(logits, requires_grad=True)
    loss = engine.nn.functional.cross_entropy(x, engine.tensor(targets), reduction=reduction)
    nll = loss.grad_fn
    log_softmax = nll.next_functions[0][0]
    seen = [loss.detach().numpy().tobytes(), nll.name(), log_softmax.name(), log_softmax.next_functions[0][0].name(),
            log_softmax.dim, nll.reduction, nll.coefficients.tobytes(), nll.coefficients.dtype]
    seen += [tensor.detach().numpy().tobytes() for node in (nll, log_softmax) for tensor in node.saved_tensors]
    seed = engine.ones_like(loss)
    (grad,) = engine.autograd.grad(loss, x, seed, create_graph=True)
    (grad * grad).sum().backward()
    return [*seen, grad.detach().numpy().tobytes(), x.grad.numpy().tobytes()]


@pytest.mark.parametrize("name", sorted(LOGITS))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_counted_rows_is_log_softmax_then_nll_loss_bit_for_bit(
        monkeypatch: pytest.MonkeyPatch, name: str, reduction: str) -> None:
    fused = _cross_entropy_observed(LOGITS[name], TARGETS, reduction)
    monkeypatch.setattr(_nll, "_counted_batch", lambda x, t, ignore_index: False)
    assert fused == _cross_entropy_observed(LOGITS[name], TARGETS, reduction)


def test_cross_entropy_of_counted_rows_skips_the_general_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the general path ran")

    logits = engine.tensor(LOGITS["float32"], requires_grad=True)
    monkeypatch.setattr(_nll, "nll_loss", refuse)
    monkeypatch.setattr(_nll, "log_softmax", refuse)
    engine.nn.functional.cross_entropy(logits, engine.tensor(TARGETS)).backward()
    assert logits.grad is not None
    for other in ({"weight": engine.ones(4)}, {"label_smoothing": 0.1}, {"ignore_index": 3}):
        with pytest.raises(AssertionError, match="the general path ran"):
            engine.nn.functional.cross_entropy(logits, engine.tensor(TARGETS), **other)


@pytest.mark.parametrize(("logits", "targets", "counted"), [
    (np.zeros((3, 4), np.float32), [0, 3, 1], True),
    (np.zeros((3, 4)), [0, 3, 1], True),
    (np.zeros((3, 4), np.float32), [0, 4, 1], False),  # out of range: the general path raises PyTorch's error
    (np.zeros((3, 4), np.float32), [0, 3], False),  # batch mismatch: the general path's message
    (np.zeros((4, 3), np.float32).T, [0, 3, 1], False),  # not C-contiguous
    (np.zeros((3, 4), np.int64), [0, 3, 1], False),  # integer logits: PyTorch's refusal
    (np.zeros(4, np.float32), [2], False),  # one sample without a batch
    (np.zeros((3, 4, 2), np.float32), [[0, 1]] * 3, False),  # spatial
])
def test_cross_entropy_is_fused_only_for_a_batch_of_counted_rows(logits: np.ndarray, targets: list,
                                                                 counted: bool) -> None:
    assert _nll._counted_batch(logits, np.array(targets, np.int64), -100) is counted
    assert _nll._counted_batch(logits, np.array(targets, np.int32), -100) is False  # PyTorch wants Long targets


def test_cross_entropy_of_a_training_batch_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    from torch_diff import assert_same

    rng = np.random.default_rng(13)
    logits = rng.standard_normal((64, 10)).astype(np.float32) * 4
    targets = rng.integers(0, 10, 64)

    def scenario(t: object) -> list:
        x = t.tensor(logits, requires_grad=True)
        losses = [t.nn.functional.cross_entropy(x, t.tensor(targets), reduction=reduction)
                  for reduction in ("mean", "sum", "none")]
        saved = losses[0].grad_fn.next_functions[0][0]._saved_result.detach().numpy().copy()  # before backward
        losses[0].backward()
        return [*losses, x.grad.numpy(), saved]  # the gradient's last printed digit may differ: values only

    assert_same(scenario, torch)


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


@pytest.mark.parametrize("function", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "dim"), [((64, 10), 1), ((3, 4, 5), 0), ((6,), 0), ((), 0)])
def test_softmax_backward_unrecorded_is_the_recorded_rule_bit_for_bit(monkeypatch: pytest.MonkeyPatch, function: str,
                                                                      dtype: type, shape: tuple, dim: int) -> None:
    rng = np.random.default_rng(14)
    logits = (rng.standard_normal(shape) * 5).astype(dtype)
    seed = rng.standard_normal(shape).astype(dtype)
    grads = []
    for create_graph in (True, False):  # create_graph records the rule as one op; without it, numbers only
        x = engine.tensor(logits, requires_grad=True)
        (grad,) = engine.autograd.grad(getattr(engine, function)(x, dim), x, engine.tensor(seed),
                                       create_graph=create_graph)
        grads.append(grad)
        monkeypatch.setattr(softmax_ops, f"{function}_backward_data", None)  # the unrecorded path must not call it
    recorded, unrecorded = grads
    assert recorded.grad_fn.name() == f"{function.title().replace('_', '')}BackwardDataBackward0"
    assert unrecorded.grad_fn is None and unrecorded.dtype == recorded.dtype
    assert unrecorded.numpy().tobytes() == recorded.detach().numpy().tobytes()
