"""Inference tensors, views made without recording, and writes into expanded tensors, as PyTorch has them.

Each scenario runs on our engine and on real PyTorch where installed; the literal tests pin the same
facts without PyTorch.
"""

import pytest
from torch_diff import assert_same, attempt

import gradstudio.engine as engine

TORCH_MISSING = "PyTorch not installed: differential tests against real PyTorch skipped"

INFERENCE_SAVED = "Inference tensors cannot be saved for backward."
INFERENCE_IN_PLACE = "Inplace update to inference tensor outside InferenceMode is not allowed."


def inference_tensors(t):
    x = t.tensor([1.0, 2.0], requires_grad=True)
    with t.inference_mode():
        c = t.tensor([3.0, 4.0])
        doubled = x * 2
        inside = [c.is_inference(), doubled.is_inference(), doubled.requires_grad, t.is_grad_enabled(),
                  x[0].is_inference(), x[0].requires_grad]
    return [inside, x.is_inference(), c.is_inference(), c.detach().is_inference(), c[0].is_inference(),
            c.clone().is_inference(), (c + 1).is_inference(),
            attempt(lambda: x * c),  # saves c for backward
            (x + c).sum(),  # saves nothing: allowed
            attempt(lambda: c.requires_grad_()),
            attempt(lambda: c.add_(1)),
            attempt(lambda: c.view(2).mul_(2)),
            attempt(lambda: c._version)]  # not c itself: PyTorch writes the refused update before refusing it


def inference_mode_and_grad_mode(t):
    x = t.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    with t.no_grad():
        with t.inference_mode():
            with t.enable_grad():  # grad mode reported on, yet nothing is recorded
                seen.append((t.is_grad_enabled(), (x * 2).requires_grad, t.is_inference_mode_enabled()))
            with t.set_grad_enabled(True):
                seen.append((t.is_grad_enabled(), (x * 2).requires_grad))
            with t.inference_mode(False):  # leaves inference mode and turns grad mode on
                seen.append((t.is_grad_enabled(), (x * 2).requires_grad, t.is_inference_mode_enabled()))
            seen.append(t.is_grad_enabled())
        seen.append(t.is_grad_enabled())
    with t.inference_mode():
        c = t.ones(2)
        c.zero_()  # inside inference mode an inference tensor may change
        c.requires_grad_()
        seen.append((c.requires_grad, (c * 2).requires_grad))
    seen.append(t.is_grad_enabled())
    return seen, c


def views_made_without_recording(t):
    x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with t.no_grad():
        views = [x[:2], x.view(3), x.reshape(3), x.unsqueeze(0), x.t(), x.expand(2, 3), x[0], x[...]]
        seen = [[v.requires_grad, v.is_leaf, v.grad_fn] for v in views] + [x.detach().requires_grad]
    with t.inference_mode():
        seen.append(x[1:].requires_grad)
    v = views[0]
    y = v * 2
    y.sum().backward()  # recorded, but the gradient sent to the view is dropped: no .grad fills
    return (seen, y, v.grad, x.grad, v, attempt(lambda: v.mul_(2)), attempt(lambda: v.backward(t.ones(2))),
            attempt(lambda: t.autograd.grad(y.sum(), v)))


def writes_into_expanded(t):
    y = t.tensor([1.0, 2.0])
    e = y.expand(3, 2)
    e[0].mul_(2)
    first = y.clone()
    e[0] = 5.0
    e[0, 1] = 7.0
    second = y.clone()
    e[:, 0].zero_()  # every repeat gets the same value: allowed
    y.expand(3, 2).fill_(3.0)
    r = t.tensor([1.0, 2.0], requires_grad=True) * 1
    r.expand(3, 2)[0].add_(1)
    return [first, second, y.clone(), r,
            attempt(lambda: y.expand(3, 2).mul_(2)),
            attempt(lambda: y.expand(3, 2).copy_(t.ones(3, 2))),
            attempt(lambda: y.expand(3, 2).fill_(t.tensor(1.0))),
            attempt(lambda: y.expand(3, 2).add_(1))]


SCENARIOS = [inference_tensors, inference_mode_and_grad_mode, views_made_without_recording, writes_into_expanded]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_same_as_pytorch(scenario) -> None:
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    assert_same(scenario, torch)


def test_inference_tensor_cannot_be_saved_or_changed_outside_inference_mode() -> None:
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with engine.inference_mode():
        c = engine.tensor([3.0, 4.0])
    assert c.is_inference() and not x.is_inference() and not c.clone().is_inference()
    with pytest.raises(RuntimeError, match=f"^{INFERENCE_SAVED}"):
        x * c
    assert (x + c).sum().item() == 10.0
    with pytest.raises(RuntimeError, match=f"^{INFERENCE_IN_PLACE}"):
        c.add_(1)
    with pytest.raises(RuntimeError, match=f"^{INFERENCE_IN_PLACE}"):
        c[0] = 1.0
    assert c.tolist() == [3.0, 4.0]
    with pytest.raises(RuntimeError, match="^Setting requires_grad=True on inference tensor outside InferenceMode"):
        c.requires_grad_()


def test_enable_grad_inside_inference_mode_records_nothing() -> None:
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with engine.inference_mode(), engine.enable_grad():
        assert engine.is_grad_enabled()
        assert not (x * 2).requires_grad
    with engine.no_grad(), engine.inference_mode(False):
        assert engine.is_grad_enabled() and (x * 2).requires_grad
    assert engine.is_grad_enabled() and not engine.is_inference_mode_enabled()


def test_view_made_under_no_grad_still_requires_grad() -> None:
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with engine.no_grad():
        v = x[:2]
    assert v.requires_grad and v.is_leaf and v.grad_fn is None
    assert repr(v) == "tensor([1., 2.], requires_grad=True)"
    y = v * 2
    assert repr(y) == "tensor([2., 4.], grad_fn=<MulBackward0>)" and y.grad_fn.next_functions == ((None, 0), (None, 0))
    y.sum().backward()
    assert v.grad is None and x.grad is None
    with pytest.raises(RuntimeError, match="^element 0 of tensors does not require grad and does not have a grad_fn"):
        v.backward(engine.ones(2))


def test_write_into_a_part_of_an_expanded_tensor_reaches_the_base() -> None:
    y = engine.tensor([1.0, 2.0])
    y.expand(3, 2)[0].mul_(2)
    assert y.tolist() == [2.0, 4.0]
    y.expand(3, 2).zero_()
    assert y.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="^unsupported operation: more than one element of the written-to"):
        y.expand(3, 2).add_(1)
