"""Corner cases found while wiring the engine to the canvas: 0-d reductions, no degrees of freedom, bad inputs."""

import math

import pytest

import gradstudio.engine as torch

TORCH_MISSING = "PyTorch not installed: differential tests against real PyTorch skipped"


@pytest.mark.parametrize("reduce", [lambda x: x.sum(0), lambda x: x.mean(-1), lambda x: x.prod(0),
                                    lambda x: x.sum(0, keepdim=True), lambda x: torch.sum(x, 0)])
def test_reducing_dim_zero_of_a_scalar_is_the_identity(reduce):
    x = torch.tensor(3.0, requires_grad=True)
    y = reduce(x)
    y.backward()
    assert y.item() == 3.0 and y.shape == torch.Size([])
    assert x.grad.item() == 1.0


def test_scalar_reduction_dim_out_of_range_is_refused():
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        torch.tensor(3.0).sum(1)


@pytest.mark.parametrize("name", ["var", "std"])
def test_no_degrees_of_freedom_gives_nan_and_pytorchs_warning(name):
    x = torch.ones(1, requires_grad=True)
    with pytest.warns(UserWarning, match=rf"^{name}\(\): degrees of freedom is <= 0"):
        y = getattr(x, name)()
    y.backward()
    assert math.isnan(y.item()) and math.isnan(x.grad.item())


@pytest.mark.parametrize("function", ["sin", "exp", "sum", "relu", "reshape"])
def test_function_form_refuses_a_python_number(function):
    expected = rf"^{function}\(\): argument 'input' \(position 1\) must be Tensor, not float$"
    with pytest.raises(TypeError, match=expected):
        getattr(torch, function)(2.0)


def test_messages_match_pytorch():
    real = pytest.importorskip("torch", reason=TORCH_MISSING)
    for module in (torch, real):
        with pytest.raises(TypeError) as caught:
            module.sin(2.0)
        assert str(caught.value) == "sin(): argument 'input' (position 1) must be Tensor, not float"
    ours, theirs = torch.tensor(2.0, requires_grad=True), real.tensor(2.0, requires_grad=True)
    assert repr(ours.mean(0)) == repr(theirs.mean(0))


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min"])
def test_keepdim_without_dim_is_pytorchs_type_error(name):
    with pytest.raises(TypeError, match=rf"^{name}\(\) received an invalid combination of arguments - got \(keepdim"):
        getattr(torch.ones(2, 3), name)(keepdim=True)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min"])
def test_keepdim_without_dim_message_matches_pytorch(name):
    real = pytest.importorskip("torch", reason=TORCH_MISSING)
    messages = []
    for module in (torch, real):
        with pytest.raises(TypeError) as caught:
            getattr(module.ones(2, 3), name)(keepdim=True)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
