"""The generator and `nn` without PyTorch installed: known PyTorch numbers, modules' bookkeeping."""

import numpy as np
import pytest

import gradstudio.engine as torch
from gradstudio.engine.random import Generator

# What PyTorch 2.13 gives after torch.manual_seed(0), recorded from it.
RAND_0 = [0.4962566, 0.7682218, 0.08847743, 0.13203049]
RANDN_SMALL_THEN_FILL = ([1.5409960746765137, -0.293428897857666, -2.1787893772125244],
                         [-0.35612836480140686, 0.4372227191925049, 0.4913049638271332])


def test_the_first_word_is_std_mt19937s():
    assert int(Generator().manual_seed(5489).words(1)[0]) == 3499211612  # std::mt19937's default first output


def test_known_pytorch_numbers_for_seed_zero():
    torch.manual_seed(0)
    assert torch.rand(4).numpy().tolist() == np.float32(RAND_0).tolist()
    torch.manual_seed(0)
    assert torch.randn(3).tolist() == RANDN_SMALL_THEN_FILL[0]
    assert torch.randn(16)[:3].tolist() == RANDN_SMALL_THEN_FILL[1]
    assert torch.randint(0, 10, (5,)).tolist() == [4, 1, 9, 9, 9]
    assert torch.randperm(6).tolist() == [0, 2, 1, 5, 4, 3]
    torch.manual_seed(0)
    assert torch.nn.Linear(2, 1).weight.tolist() == [[-0.005293981172144413, 0.37932288646698]]


def test_generators_are_independent_and_reproducible():
    first, second = Generator().manual_seed(3), Generator().manual_seed(3)
    a = torch.randn(20, generator=first)
    torch.manual_seed(99)
    assert np.array_equal(a.numpy(), torch.randn(20, generator=second).numpy())
    state = first.get_state()
    assert state.shape == (5056,)
    b = torch.rand(5, generator=first)
    first.set_state(state)
    assert np.array_equal(b.numpy(), torch.rand(5, generator=first).numpy())


def test_seed_range_is_pytorchs():
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        torch.manual_seed(2**64)
    assert torch.manual_seed(-(2**63)).initial_seed() == 2**63


def test_draws_keep_their_dtype_and_shape():
    assert torch.rand(2, 3, dtype=torch.float64).dtype is torch.float64
    assert torch.randn((4, 1)).shape == (4, 1)
    assert torch.randint(3, (2, 2)).dtype is torch.int64
    assert torch.bernoulli(torch.full((3,), 1.0)).tolist() == [1.0, 1.0, 1.0]
    assert torch.rand(0).numel() == 0 and torch.randn(0).numel() == 0
    x = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.uniform_()


def test_module_registers_parameters_and_submodules_by_assignment():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
            self.scale = torch.nn.Parameter(torch.ones(1))
            self.note = "plain attribute"

        def forward(self, x):
            return self.body(x) * self.scale

    net = Net()
    assert [name for name, _ in net.named_parameters()] == ["scale", "body.0.weight", "body.0.bias"]
    assert list(net.state_dict()) == ["scale", "body.0.weight", "body.0.bias"]
    assert net(torch.ones(4, 2)).shape == (4, 3)
    assert len(net.body) == 2 and isinstance(net.body[-1], torch.nn.ReLU)
    assert repr(torch.nn.Parameter(torch.tensor([1.0]))) == "Parameter containing:\ntensor([1.], requires_grad=True)"
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        net.missing  # noqa: B018
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        torch.nn.Module()(1)
