"""`nn` against PyTorch: seeded initialisation bit for bit, reprs, state dicts, layers, losses and training."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same  # noqa: E402

import gradstudio.engine as engine  # noqa: E402


def both(scenario):
    return scenario(engine), scenario(torch)


def arrays(tensors):
    return [np.array(t.detach().numpy(), copy=True) for t in tensors]


@pytest.mark.parametrize(("fan_in", "fan_out", "bias", "seed"),
                         [(3, 2, True, 0), (1, 1, True, 1), (784, 256, True, 2), (5, 7, False, 3), (16, 16, True, 4)])
def test_seeded_linear_weights_are_bitwise(fan_in, fan_out, bias, seed):
    def scenario(t):
        t.manual_seed(seed)
        layer = t.nn.Linear(fan_in, fan_out, bias=bias)
        return arrays(layer.parameters()) + arrays([t.rand(3)])  # and the generator is left where PyTorch's is
    ours, theirs = both(scenario)
    assert len(ours) == len(theirs)
    for mine, real in zip(ours, theirs):
        assert mine.dtype == real.dtype and np.array_equal(mine, real)


def test_float64_linear_is_bitwise():
    def scenario(t):
        t.manual_seed(9)
        return arrays(t.nn.Linear(6, 4, dtype=t.float64).parameters())
    for mine, real in zip(*both(scenario)):
        assert mine.dtype == real.dtype == np.float64 and np.array_equal(mine, real)


INITS = {
    "kaiming_uniform_": lambda t, w: t.nn.init.kaiming_uniform_(w),
    "kaiming_uniform_relu": lambda t, w: t.nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu"),
    "kaiming_normal_": lambda t, w: t.nn.init.kaiming_normal_(w),
    "xavier_uniform_": lambda t, w: t.nn.init.xavier_uniform_(w),
    "xavier_uniform_gain": lambda t, w: t.nn.init.xavier_uniform_(w, gain=t.nn.init.calculate_gain("tanh")),
    "xavier_normal_": lambda t, w: t.nn.init.xavier_normal_(w),
    "uniform_": lambda t, w: t.nn.init.uniform_(w, -0.1, 0.2),
    "normal_": lambda t, w: t.nn.init.normal_(w, 0.5, 0.01),
    "zeros_": lambda t, w: t.nn.init.zeros_(w),
    "ones_": lambda t, w: t.nn.init.ones_(w),
    "constant_": lambda t, w: t.nn.init.constant_(w, 0.3),
}


@pytest.mark.parametrize("shape", [(4, 3), (20, 10)])
@pytest.mark.parametrize("name", list(INITS))
def test_init_functions_are_bitwise(name, shape):
    def scenario(t):
        t.manual_seed(5)
        weight = t.nn.Parameter(t.zeros(*shape))
        result = INITS[name](t, weight)
        return result is weight, weight.requires_grad, weight.is_leaf, arrays([weight])[0]
    ours, theirs = both(scenario)
    assert ours[:3] == theirs[:3]
    assert np.array_equal(ours[3], theirs[3])


def test_calculate_gain_and_fan_errors():
    for args in (("linear",), ("tanh",), ("relu",), ("leaky_relu",), ("leaky_relu", math.sqrt(5)), ("selu",)):
        assert engine.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    for module in (engine, torch):
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            module.nn.init.xavier_uniform_(module.zeros(3))


def test_reprs_match():
    def scenario(t):
        nn = t.nn
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3, bias=False), nn.LeakyReLU(0.2), nn.GELU(),
                              nn.Tanh(), nn.Sigmoid(), nn.Softmax(dim=1), nn.Sequential(nn.ReLU(inplace=True)))
        t.manual_seed(0)
        layer = nn.Linear(2, 2)
        losses = [nn.MSELoss(), nn.L1Loss(), nn.BCELoss(), nn.BCEWithLogitsLoss(), nn.CrossEntropyLoss(),
                  nn.Softmax(), nn.GELU(approximate="tanh"), nn.LeakyReLU(), nn.Identity(), nn.Flatten()]
        return [repr(model), repr(layer.weight), repr(layer.bias), repr(model[1:3]), str(layer)] + \
            [repr(loss) for loss in losses]
    ours, theirs = both(scenario)
    assert ours == theirs


def test_module_traversal_and_state_dict():
    def scenario(t):
        nn = t.nn
        t.manual_seed(1)
        shared = nn.Linear(2, 2)
        model = nn.Sequential(shared, nn.ReLU(), nn.Sequential(nn.Linear(2, 1), shared))
        state = model.state_dict()
        other = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Sequential(nn.Linear(2, 1), nn.Linear(2, 2)))
        loaded = other.load_state_dict(state)
        model.eval()
        return [
            [name for name, _ in model.named_parameters()], list(state), len(list(model.parameters())),
            [name for name, _ in model.named_modules()], [type(m).__name__ for m in model.children()],
            model.training, model[2].training, repr(loaded), state["0.weight"].requires_grad,
            [np.array_equal(a.detach().numpy(), b.detach().numpy())
             for a, b in zip(model.state_dict().values(), other.state_dict().values())],
        ]
    ours, theirs = both(scenario)
    assert ours == theirs


def test_load_state_dict_errors_match():
    def scenario(t):
        model = t.nn.Linear(2, 3)
        outcomes = []
        for state in ({"weight": t.zeros(3, 2)}, {"weight": t.zeros(3, 2), "bias": t.zeros(3), "extra": t.zeros(1)},
                      {"weight": t.zeros(2, 2), "bias": t.zeros(3)}):
            try:
                outcomes.append(repr(model.load_state_dict(state)))
            except RuntimeError as error:
                outcomes.append(str(error))
        outcomes.append(repr(model.load_state_dict({"weight": t.ones(3, 2)}, strict=False)))
        return outcomes
    ours, theirs = both(scenario)
    assert ours == theirs


def test_zero_grad_train_eval_and_parameter():
    def scenario(t):
        t.manual_seed(2)
        model = t.nn.Linear(3, 1)
        model(t.ones(2, 3)).sum().backward()
        grads = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        after = [p.grad for p in model.parameters()]
        model(t.ones(2, 3)).sum().backward()
        model.zero_grad(set_to_none=False)
        kept = [p.grad for p in model.parameters()]
        parameter = t.nn.Parameter(t.tensor([1.0, 2.0]))
        plain = t.nn.Parameter(t.tensor([1.0]), requires_grad=False)
        doubled = parameter * 2
        return [*grads, after, *kept, parameter, plain, doubled, type(doubled).__name__,
                isinstance(parameter, t.Tensor), model.train() is model, model.eval().training]
    assert_same(scenario, torch)


LAYER_CASES = {
    "relu": lambda t: t.nn.ReLU(), "sigmoid": lambda t: t.nn.Sigmoid(), "tanh": lambda t: t.nn.Tanh(),
    "softmax": lambda t: t.nn.Softmax(dim=1), "leaky": lambda t: t.nn.LeakyReLU(0.1),
    "gelu": lambda t: t.nn.GELU(), "gelu_tanh": lambda t: t.nn.GELU(approximate="tanh"),
}


@pytest.mark.parametrize("name", list(LAYER_CASES))
def test_activation_layers_values_gradients_and_graphs(name):
    def scenario(t):
        x = t.tensor([[-2.0, -0.5, 0.0, 0.3], [1.5, -1.0, 2.5, 0.7]], requires_grad=True)
        y = LAYER_CASES[name](t)(x)
        (y * t.tensor([1.0, -2.0, 0.5, 3.0])).sum().backward()
        return y, x.grad
    assert_same(scenario, torch)


LOSS_CASES = {
    "mse": (lambda t: t.nn.MSELoss(), lambda t: t.tensor([[0.5, -1.0], [2.0, 0.0]])),
    "mse_sum": (lambda t: t.nn.MSELoss(reduction="sum"), lambda t: t.tensor([[0.5, -1.0], [2.0, 0.0]])),
    "l1": (lambda t: t.nn.L1Loss(), lambda t: t.tensor([[0.5, -1.0], [2.0, 0.0]])),
    "l1_none": (lambda t: t.nn.L1Loss(reduction="none"), lambda t: t.tensor([[0.5, -1.0], [2.0, 0.0]])),
    "bce_logits": (lambda t: t.nn.BCEWithLogitsLoss(), lambda t: t.tensor([[1.0, 0.0], [0.0, 1.0]])),
    "cross_entropy": (lambda t: t.nn.CrossEntropyLoss(), lambda t: t.tensor([1, 0])),
}


@pytest.mark.parametrize("name", list(LOSS_CASES))
def test_loss_layers(name):
    make_loss, make_target = LOSS_CASES[name]

    def scenario(t):
        x = t.tensor([[0.2, -0.4], [1.1, 0.3]], requires_grad=True)
        loss = make_loss(t)(x, make_target(t))
        loss.sum().backward()
        return loss, x.grad
    assert_same(scenario, torch)


def test_bce_loss_layer():
    def scenario(t):
        p = t.tensor([0.2, 0.7, 0.9], requires_grad=True)
        loss = t.nn.BCELoss()(p, t.tensor([0.0, 1.0, 1.0]))
        loss.backward()
        return loss, p.grad
    assert_same(scenario, torch)


class _Net:
    """A small MLP subclassing each library's Module, as a tutorial writes it."""

    @staticmethod
    def build(t):
        class Net(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = t.nn.Linear(4, 16)
                self.act = t.nn.Tanh()
                self.out = t.nn.Linear(16, 3)

            def forward(self, x):
                return self.out(self.act(self.hidden(x)))
        return Net()


@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum", "adam"])
def test_mlp_trains_to_the_same_losses(optimizer):
    def scenario(t):
        t.manual_seed(42)
        net = _Net.build(t)
        x, y = t.randn(32, 4), t.randint(0, 3, (32,))
        opt = {"sgd": lambda: t.optim.SGD(net.parameters(), lr=0.1),
               "sgd_momentum": lambda: t.optim.SGD(net.parameters(), lr=0.05, momentum=0.9),
               "adam": lambda: t.optim.Adam(net.parameters(), lr=0.01)}[optimizer]()
        loss_fn = t.nn.CrossEntropyLoss()
        losses = []
        for _ in range(5):
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, [name for name, _ in net.named_parameters()], repr(net)
    (ours, names, text), (theirs, their_names, their_text) = both(scenario)
    assert names == their_names and text == their_text
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_regression_with_mse_and_sequential():
    def scenario(t):
        t.manual_seed(3)
        model = t.nn.Sequential(t.nn.Linear(1, 8), t.nn.ReLU(), t.nn.Linear(8, 1))
        x = t.linspace(-1, 1, 20).reshape(20, 1)
        y = x * 2 + 0.5
        opt = t.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for _ in range(5):
            opt.zero_grad()
            loss = t.nn.MSELoss()(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses
    ours, theirs = both(scenario)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["leaky_relu", "gelu", "l1_loss"])
def test_functional_additions(name):
    def scenario(t):
        F = t.nn.functional  # noqa: N806
        x = t.tensor([-1.5, -0.2, 0.0, 0.4, 2.0], requires_grad=True)
        y = {"leaky_relu": lambda: F.leaky_relu(x, 0.05), "gelu": lambda: F.gelu(x),
             "l1_loss": lambda: F.l1_loss(x, t.zeros(5))}[name]()
        y.sum().backward()
        return y, x.grad
    assert_same(scenario, torch)


def test_buffers_persistent_or_not():
    def scenario(t):
        module = t.nn.Module()
        module.register_buffer("running", t.ones(2))
        module.register_buffer("scratch", t.zeros(1), persistent=False)
        return list(module.state_dict()), [name for name, _ in module.named_buffers()], module.running
    assert_same(scenario, torch)
