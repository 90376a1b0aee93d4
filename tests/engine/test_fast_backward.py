"""The lean paths of a backward without create_graph, the chunked Adam update and the inference-thread count
compute exactly what the general, recorded code computes (see bench/engine.py and bench/train.py for why
they exist)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import gradstudio.engine as torch
from gradstudio.engine import _adam, _fused_loader, grad_mode

CASES = {
    "mul": lambda a, b: a * b,
    "mul_broadcast": lambda a, b: a * b[:1],
    "mul_self": lambda a, b: a * a,
    "mul_scalar": lambda a, b: a * 0.9,
    "mul_float64": lambda a, b: a * b.double(),
    "exp": lambda a, b: torch.exp(a),
    "sin": lambda a, b: torch.sin(a),
    "sin_0d": lambda a, b: torch.sin(a[1, 2]),
    "sin_float64": lambda a, b: torch.sin(a.double()),
    "cos": lambda a, b: torch.cos(a),
    "tanh": lambda a, b: torch.tanh(a),
    "tanh_float64": lambda a, b: torch.tanh(a.double()),
    "tanh_0d": lambda a, b: torch.tanh(a[1, 3]),
    "mul_scalar_twice": lambda a, b: (a * 0.5) * (b * 0.5),
    "sigmoid": lambda a, b: torch.sigmoid(a),
    "relu": lambda a, b: torch.relu(a),
    "mean": lambda a, b: a.mean(),
    "mean_dim": lambda a, b: a[0].mean(0),
    "mean_keepdim": lambda a, b: a.mean(1, keepdim=True),
    "add": lambda a, b: a + b,
    "add_scalar": lambda a, b: a + 2,
    "add_alpha": lambda a, b: torch.add(a, b, alpha=0.5),
    "add_broadcast": lambda a, b: a + b[:1],
    "add_leading": lambda a, b: a + b[0],
    "mm": lambda a, b: a @ b.T,
    "linear": lambda a, b: torch.nn.functional.linear(a, b, b[1, :2]),
    "bce": lambda a, b: torch.nn.functional.binary_cross_entropy(torch.sigmoid(a[:, :3]),
                                                                 torch.sigmoid(b[:, :3]).detach()),
    "bce_sum": lambda a, b: torch.nn.functional.binary_cross_entropy(torch.sigmoid(a[:, :3]),
                                                                     torch.sigmoid(b[:, :3]).detach(),
                                                                     reduction="sum"),
    "sub": lambda a, b: a - b,
}


def _leaves() -> tuple[torch.Tensor, torch.Tensor]:
    data = np.array([[0.5, -1.5, 0.0, float("nan")], [2.0, -0.0, 3.0, -2.5]], dtype=np.float32)
    return torch.tensor(data, requires_grad=True), torch.tensor(data[::-1].copy() + 1, requires_grad=True)


def _gradients(op, recorded: bool) -> list[np.ndarray | None]:
    """Gradients of a weighted sum of `op`'s result: by backward(), or by grad(create_graph=True), which runs
    every rule recorded, through the engine's ops."""
    a, b = _leaves()
    out = op(a, b)
    loss = (out * torch.linspace(0.5, 1.5, out.numel()).reshape(out.shape).to(out.dtype)).sum()
    if recorded:
        grads = torch.autograd.grad(loss, [a, b], create_graph=True, allow_unused=True)
        return [None if grad is None else grad.detach().numpy() for grad in grads]
    loss.backward()
    return [None if leaf.grad is None else leaf.grad.numpy() for leaf in (a, b)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_unrecorded_backward_is_bit_identical_to_the_recorded_rule(name: str) -> None:
    fast, recorded = _gradients(CASES[name], False), _gradients(CASES[name], True)
    for got, expected in zip(fast, recorded):
        assert (got is None) == (expected is None)
        if got is not None:
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["mul", "exp", "sin", "tanh", "sigmoid", "relu"])
def test_lean_paths_still_check_saved_versions(name: str) -> None:
    a, b = _leaves()
    out = CASES[name](a * 1, b * 1)
    with torch.no_grad():
        for node in (out.grad_fn,):
            for saved in node._saved:
                tensor = saved._tensor
                if tensor is not None:
                    tensor.add_(1)
                else:
                    out.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_lean_paths_refuse_a_second_backward() -> None:
    a, _ = _leaves()
    out = torch.tanh(a).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        out.backward()


def test_a_whole_mean_gradient_is_a_fresh_tensor_as_pytorchs() -> None:
    x = torch.ones(3, requires_grad=True)
    seen = []
    x.register_hook(lambda grad: seen.append(grad))
    x.mean().backward()
    assert not seen[0]._is_view() and seen[0]._data.flags.writeable
    assert seen[0].tolist() == pytest.approx([1 / 3] * 3)


def _adam_history(monkeypatch: pytest.MonkeyPatch, chunk: int, amsgrad: bool) -> list[np.ndarray]:
    monkeypatch.setattr(_adam, "CHUNK", chunk)
    rng = np.random.default_rng(5)
    param = torch.tensor(rng.standard_normal((301, 7)).astype(np.float32), requires_grad=True)
    optimizer = torch.optim.Adam([param], lr=0.01, amsgrad=amsgrad, weight_decay=0.1)
    history = []
    for _ in range(4):
        param.grad = torch.tensor(rng.standard_normal((301, 7)).astype(np.float32))
        optimizer.step()
        history.append(param.detach().numpy().copy())
    return history


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_in_pieces_is_bit_identical_to_adam_whole(monkeypatch: pytest.MonkeyPatch, amsgrad: bool) -> None:
    pieces = _adam_history(monkeypatch, 500, amsgrad)  # 2107 elements: four pieces of 432 and a last of 379
    whole = _adam_history(monkeypatch, 10**9, amsgrad)
    for got, expected in zip(pieces, whole):
        assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize(("size", "chunk"), [(200704, 65536), (2107, 500), (65536, 65536), (65537, 65536),
                                              (1000, 10), (17, 16)])
def test_adam_pieces_are_even_whole_cache_lines_or_a_chunk(monkeypatch: pytest.MonkeyPatch, size: int,
                                                           chunk: int) -> None:
    monkeypatch.setattr(_adam, "CHUNK", chunk)
    length = _adam.piece_length(size)
    pieces = -(-size // length)
    assert length <= chunk and (length % 16 == 0 or length == chunk) and pieces == -(-size // chunk)
    assert size - (pieces - 1) * length > 0  # no empty last piece


def test_inference_tensors_are_told_apart_per_thread() -> None:
    entered, release = threading.Event(), threading.Event()
    made = {}

    def worker() -> None:
        with torch.inference_mode():
            made["inside"] = torch.ones(2)
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    entered.wait(5)
    made["here"] = torch.ones(2)  # this thread is not in inference mode while the other one is
    release.set()
    thread.join()
    assert made["inside"].is_inference() and not made["here"].is_inference()
    assert grad_mode.INFERENCE_THREADS[0] == 0
    with torch.inference_mode():
        assert torch.ones(1).is_inference()
        with torch.inference_mode(False):
            assert not torch.ones(1).is_inference()
    assert grad_mode.INFERENCE_THREADS[0] == 0 and not torch.ones(1).is_inference()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_gradient_mask_is_bit_identical_to_where(dtype: type) -> None:
    from gradstudio.engine.ops.unary import _threshold_backward_data

    rng = np.random.default_rng(2)
    result = np.maximum(rng.standard_normal((6, 8)), 0).astype(dtype)
    assert _threshold_backward_data(np.ones((), dtype), np.zeros((), dtype)).tolist() == 0.0
    result[0, :4] = [np.nan, -0.0, 0.0, -np.nan]
    g = rng.standard_normal((8, 6)).astype(dtype).T  # not contiguous
    g[1, :4] = [np.nan, -0.0, -np.inf, -1.0]
    for grad, saved in ((g, result), (np.ascontiguousarray(g.T), result.T)):  # a transposed result too
        got = _threshold_backward_data(grad, saved)
        expected = np.where(~(saved <= 0), grad, np.zeros((), grad.dtype))
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes()


def test_a_first_gradient_no_one_else_holds_is_stored_without_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self):
        raise AssertionError("copied")

    x = torch.ones(3, requires_grad=True)
    loss = (x * 2).sum()
    monkeypatch.setattr(torch.Tensor, "_own_copy", refuse)
    loss.backward()
    monkeypatch.undo()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0, 5.0]


def test_a_gradient_someone_holds_is_copied_before_it_becomes_grad() -> None:
    x = torch.ones(3, requires_grad=True)
    seen, observed = [], []
    x.register_hook(lambda grad: seen.append(grad))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0] and seen[0].tolist() == [2.0, 2.0, 2.0]
    assert not np.shares_memory(x.grad._data, seen[0]._data)

    w = torch.ones(2, requires_grad=True)
    torch.autograd.backward((w * 2).sum(), observer=lambda node, grad, grads: observed.append(grad))
    torch.autograd.backward((w * 2).sum())
    assert w.grad.tolist() == [4.0, 4.0] and observed[-1].tolist() == [2.0, 2.0]

    leaf, given = torch.ones(2, requires_grad=True), torch.full((2,), 5.0)
    leaf.backward(given)
    leaf.backward(given)
    assert leaf.grad.tolist() == [10.0, 10.0] and given.tolist() == [5.0, 5.0]


def _small_adam_history(monkeypatch: pytest.MonkeyPatch, flat: bool, name: str, options: dict,
                        skip_grad_at: int | None = None, reload_at: int | None = None) -> list[list[np.ndarray]]:
    """Parameters after each of 6 steps of a small network's optimiser, with or without the flat update."""
    monkeypatch.setattr(_fused_loader, "SMALL", 16384 if flat else 0)
    rng = np.random.default_rng(9)
    params = [torch.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
              for shape in ((2, 4), (4,), (4, 1), (1,))]
    optimizer = getattr(torch.optim, name)(params, **options)
    history = []
    for step in range(6):
        for param in params:
            param.grad = torch.tensor(rng.standard_normal(tuple(param.shape)).astype(np.float32))
        if step == skip_grad_at:
            params[1].grad = None
        if step == reload_at:
            optimizer.load_state_dict(optimizer.state_dict())
        optimizer.step()
        history.append([param.detach().numpy().copy() for param in params])
    return history


@pytest.mark.parametrize(("name", "options"), [
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.3}),
])
@pytest.mark.parametrize(("skip_grad_at", "reload_at"), [(None, None), (2, None), (None, 3)])
def test_small_parameters_updated_together_are_bit_identical_to_one_by_one(
        monkeypatch: pytest.MonkeyPatch, name: str, options: dict, skip_grad_at: int | None,
        reload_at: int | None) -> None:
    together = _small_adam_history(monkeypatch, True, name, options, skip_grad_at, reload_at)
    one_by_one = _small_adam_history(monkeypatch, False, name, options, skip_grad_at, reload_at)
    for got, expected in zip(together, one_by_one):
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)


def test_flat_adam_state_is_each_parameters_own() -> None:
    params = [torch.ones(2, 3, requires_grad=True), torch.ones(3, requires_grad=True)]
    optimizer = torch.optim.Adam(params, lr=0.1)
    for param in params:
        param.grad = torch.ones_like(param)
    optimizer.step()
    state = optimizer.state_dict()["state"]
    assert [tuple(state[i]["exp_avg"].shape) for i in (0, 1)] == [(2, 3), (3,)]
    assert state[0]["step"].item() == 1.0 and state[1]["exp_avg"].tolist() == pytest.approx([0.1] * 3)


def _partial_reload(lib) -> list[list[float]]:
    params = [lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)]
    optimizer = lib.optim.Adam(params, lr=0.1)
    for step in range(3):
        for index, param in enumerate(params):
            param.grad = lib.ones_like(param) * (index + step + 1)
        optimizer.step()
        if step == 0:
            saved = optimizer.state_dict()
            del saved["state"][1]  # one parameter keeps its state, the other starts afresh
            optimizer.load_state_dict(saved)
    return [param.tolist() for param in params]


def test_flat_adam_after_loading_a_partial_state_matches_pytorch() -> None:
    real_torch = pytest.importorskip("torch")
    for got, expected in zip(_partial_reload(torch), _partial_reload(real_torch)):
        assert got == pytest.approx(expected, rel=1e-6)


def _hooked_pass(use_method: bool, retain_graph: bool | None) -> tuple[list, list]:
    """A diamond with two leaves and every kind of hook; returns the events in order and the gradients."""
    events: list = []
    a = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    b = torch.tensor([1.5, 0.25, -3.0], requires_grad=True)
    a.register_hook(lambda grad: events.append(("a", grad.tolist())))
    a.register_post_accumulate_grad_hook(lambda leaf: events.append(("a acc", leaf.grad.tolist())))
    h = a * b
    h.retain_grad()
    h.register_hook(lambda grad: grad * 2)
    left, right = torch.tanh(h), torch.sin(h) * b
    left.grad_fn.register_prehook(lambda grads: events.append(("tanh pre", grads[0].tolist())))
    right.grad_fn.register_hook(lambda grads_in, grads_out: events.append(("mul post", len(grads_in))))
    out = (left + right).mean()
    if use_method:
        out.backward(retain_graph=retain_graph)
    else:
        torch.autograd.backward(out, retain_graph=retain_graph)
    return events, [a.grad.tolist(), b.grad.tolist(), h.grad.tolist()]


@pytest.mark.parametrize("retain_graph", [None, False, True])
def test_the_one_root_backward_runs_as_the_general_engine(retain_graph: bool | None) -> None:
    """`out.backward()` takes the engine's one-root path; autograd.backward the general one: same hooks in
    the same order, same gradients, same freeing of saved tensors."""
    assert _hooked_pass(True, retain_graph) == _hooked_pass(False, retain_graph)
    x = torch.ones(2, requires_grad=True)
    out = (x * x).sum()
    out.backward(retain_graph=retain_graph)
    if retain_graph:
        out.backward()
        assert x.grad.tolist() == [4.0, 4.0]
    else:
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            out.backward()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_one_root_seed_is_ones_of_the_outputs_shape_and_dtype(dtype) -> None:
    """A 0-d output is seeded with np.array(1), any other one-element output with np.ones: the gradient
    reaching the graph is the same either way, and equals autograd.backward's."""
    seen = []
    for reduce in (lambda t: t.sum(), lambda t: t.sum().reshape(1, 1)):
        for use_method in (True, False):
            x = torch.tensor([1.5, -2.0], dtype=dtype, requires_grad=True)
            out = reduce(x * 3)
            out.grad_fn.register_prehook(lambda grads: seen.append((grads[0].shape, grads[0].dtype,
                                                                     grads[0].tolist())))
            out.backward() if use_method else torch.autograd.backward(out)
            assert x.grad.tolist() == [3.0, 3.0] and x.grad.dtype == dtype
    assert seen[0] == seen[1] == ((), dtype, 1.0)
    assert seen[2] == seen[3] == ((1, 1), dtype, [[1.0]])


@pytest.mark.parametrize("changed", [0, 1])
def test_a_saved_pair_is_checked_one_by_one(changed: int) -> None:
    """mul's two saved tensors are read as a pair: a change to either one alone is still caught."""
    a, b = _leaves()
    first, second = a * 1, b * 1
    out = first * second
    with torch.no_grad():
        (first, second)[changed].add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
