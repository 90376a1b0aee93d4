"""PyTorch's autograd semantics, asserted with literal expected values and messages (no PyTorch needed).

The differential tests check the same behaviours against real PyTorch where it is installed;
these keep the suite meaningful where it is not. Every literal here is what PyTorch 2.13 prints.
"""

import re

import numpy as np
import pytest

import gradstudio.engine as torch


def _raises(message, action, error=RuntimeError):
    with pytest.raises(error) as caught:
        action()
    assert str(caught.value) == message


def test_leaves_and_grad_fn_names():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * 2).sum()
    assert x.is_leaf and not y.is_leaf and x.grad_fn is None
    assert repr(y) == "tensor(12., grad_fn=<SumBackward0>)"
    assert y.grad_fn.name() == "SumBackward0"
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0"
    assert [(None if n is None else n.name()) for n, _ in mul.next_functions] == [
        "torch::autograd::AccumulateGrad", None]
    assert repr(mul.next_functions[0][0]).startswith("<AccumulateGrad object at 0x")


@pytest.mark.parametrize(("build", "name"), [
    (lambda x: 2 - x, "RsubBackward1"), (lambda x: 2 / x, "MulBackward0"), (lambda x: 2 ** x, "PowBackward2"),
    (lambda x: x ** 2, "PowBackward0"), (lambda x: x.T, "PermuteBackward0"), (lambda x: x[0], "SelectBackward0"),
    (lambda x: x[1:], "SliceBackward0"), (lambda x: x[:], "SliceBackward0"),
    (lambda x: x[None], "UnsqueezeBackward0"), (lambda x: x[...], "AliasBackward0"),
    (lambda x: x[:, :], "AliasBackward0"), (lambda x: x.reshape(4), "ViewBackward0"),
    (lambda x: x.t().reshape(4), "UnsafeViewBackward0"), (lambda x: x.view(-1), "ViewBackward0"),
    (lambda x: x[0] @ x[1], "DotBackward0"), (lambda x: x @ x[0], "MvBackward0"), (lambda x: x @ x, "MmBackward0"),
    (lambda x: x.max(), "MaxBackward1"), (lambda x: x.max(0).values, "MaxBackward0"),
    (lambda x: x.min(1)[0], "MinBackward0"), (lambda x: x.sum(0), "SumBackward1"),
    (lambda x: x.mean(), "MeanBackward0"),
])
def test_recorded_names(build, name):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert build(x).grad_fn.name() == name


def test_t_of_a_matrix_is_a_permute_that_prints():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert repr(x.T) == "tensor([[1., 3.],\n        [2., 4.]], grad_fn=<PermuteBackward0>)"


def test_matmul_of_batches_folds_into_one_mm():
    a = torch.ones(2, 4, 3, requires_grad=True)
    b = torch.ones(3, 2, requires_grad=True)
    out = a @ b
    assert out.grad_fn.name() == "UnsafeViewBackward0"
    assert out.grad_fn.next_functions[0][0].name() == "MmBackward0"


def test_non_leaf_grad_warns_and_is_none():
    x = torch.tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match=re.escape("The .grad attribute of a Tensor that is not a leaf Tensor is "
                                                   "being accessed.")):
        assert y.grad is None


def test_retain_grad_and_accumulation():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    assert y.retains_grad and y.grad.tolist() == [6.0, 12.0, 18.0]
    assert x.grad.tolist() == [18.0, 36.0, 54.0]
    (x * 5).sum().backward()
    assert x.grad.tolist() == [23.0, 41.0, 59.0]


def test_backward_errors():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    _raises("grad can be implicitly created only for scalar outputs", lambda: (x * 2).backward())
    _raises("element 0 of tensors does not require grad and does not have a grad_fn",
            lambda: torch.tensor([1.0]).sum().backward())
    z = (x * x).sum()
    z.backward()
    _raises("Trying to backward through the graph a second time (or directly access saved tensors after they have "
            "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
            "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
            "if you need to access saved tensors after calling backward.", z.backward)


def test_gradient_argument_and_retain_graph():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(torch.tensor([1.0, 0.1, 0.01]), retain_graph=True)
    y.backward(torch.tensor([1.0, 0.1, 0.01]))
    assert np.allclose(x.grad.tolist(), [4.0, 0.8, 0.12])


def test_second_derivative_of_cube():
    x = torch.tensor(2.0, requires_grad=True)
    (dy,) = torch.autograd.grad(x ** 3, x, create_graph=True)
    assert repr(dy) == "tensor(12., grad_fn=<MulBackward0>)"
    (d2y,) = torch.autograd.grad(dy, x)
    assert d2y.item() == 12.0 and x.grad is None


def test_backward_with_create_graph_warns_and_records_a_copy():
    x = torch.tensor(2.0, requires_grad=True)
    with pytest.warns(UserWarning, match="Using backward\\(\\) with create_graph=True will create a reference cycle"):
        (x ** 3).backward(create_graph=True)
    assert repr(x.grad) == "tensor(12., grad_fn=<CopyBackwards>)"


def test_hooks():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    assert x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_in_place_errors_and_versions():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    _raises("a leaf Variable that requires grad is being used in an in-place operation.", lambda: x.add_(1))
    _raises("a view of a leaf Variable that requires grad is being used in an in-place operation.",
            lambda: x.__setitem__(0, 5.0))
    b = x.exp()
    b.mul_(2)
    assert b._version == 1
    _raises("one of the variables needed for gradient computation has been modified by an inplace operation: "
            "[torch.FloatTensor [3]], which is output 0 of Exp, is at version 1; expected version 0 "
            "instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
            "with torch.autograd.set_detect_anomaly(True, check_nan=False).", lambda: b.sum().backward())


def test_manual_sgd_under_no_grad():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    for _ in range(3):
        loss = ((w * torch.tensor([1.0, 2.0]) - 1) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()
    assert w.is_leaf and w.requires_grad and w._version == 3
    assert repr(w) == "tensor([1.0000, 0.4800], requires_grad=True)"


def test_requires_grad_and_conversion_errors():
    y = torch.tensor([1.0], requires_grad=True) * 2
    _raises("you can only change requires_grad flags of leaf variables. If you want to use a computed variable in "
            "a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
            lambda: setattr(y, "requires_grad", False))
    _raises("only Tensors of floating point dtype can require gradients", lambda: torch.tensor([1]).requires_grad_())
    _raises("Only Tensors of floating point and complex dtype can require gradients",
            lambda: torch.tensor([1], requires_grad=True))
    _raises("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.", y.numpy)
    _raises("a Tensor with 2 elements cannot be converted to Scalar", torch.tensor([1.0, 2.0]).item)


def test_grad_modes():
    x = torch.tensor([1.0], requires_grad=True)
    with torch.no_grad():
        assert not (x * 2).requires_grad
        with torch.enable_grad():
            assert (x * 2).requires_grad
    assert torch.no_grad()(lambda: torch.is_grad_enabled())() is False
    assert torch.no_grad(lambda: torch.is_grad_enabled())() is False
    torch.set_grad_enabled(False)
    assert not torch.is_grad_enabled()
    torch.set_grad_enabled(True)
    with torch.set_grad_enabled(False):
        assert not torch.is_grad_enabled()
    with torch.inference_mode():
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()


def test_autograd_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    unused = torch.tensor([1.0], requires_grad=True)
    (g,) = torch.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, 4.0] and x.grad is None
    _raises("The differentiated Tensor at index 1 appears to not have been used in the graph. Set allow_unused=True "
            "if this is the desired behavior.", lambda: torch.autograd.grad((x * 2).sum(), [x, unused]))
    assert torch.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None


def test_gradcheck_and_anomaly():
    a = torch.tensor([0.3, 1.2], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: (t * t).exp(), (a,)) is True
    with pytest.warns(UserWarning):  # anomaly mode announces itself and reports the forward traceback
        with torch.autograd.detect_anomaly():
            x = torch.tensor([-1.0], requires_grad=True)
            _raises("Function 'SqrtBackward0' returned nan values in its 0th output.", x.sqrt().sum().backward)


def test_tensor_api():
    x = torch.tensor([[1, 2, 3], [4, 5, 6]])
    assert repr(x.shape) == "torch.Size([2, 3])" and x.size(1) == 3 and x.dim() == x.ndim == 2
    assert x.numel() == 6 and repr(x.dtype) == "torch.int64" and repr(x.float().dtype) == "torch.float32"
    assert repr(x / 2) == "tensor([[0.5000, 1.0000, 1.5000],\n        [2.0000, 2.5000, 3.0000]])"
    assert repr(x * 2.5) == "tensor([[ 2.5000,  5.0000,  7.5000],\n        [10.0000, 12.5000, 15.0000]])"
    assert repr(2 ** torch.tensor([1, 2])) == "tensor([2, 4])"
    assert repr(torch.tensor([1.0]) + torch.tensor(1.0, dtype=torch.float64)) == "tensor([2.])"
    assert repr(torch.linspace(2, 3, 1)) == "tensor([2.])"
    _raises("Dimension out of range (expected to be in range of [-2, 1], but got 2)", lambda: x.size(2), IndexError)
