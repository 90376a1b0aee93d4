"""The op catalog, entry by entry: metadata is complete and every kind computes what the engine computes."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import gradstudio.engine as engine
from gradstudio.model.attribute_kinds import KINDS
from gradstudio.model.catalog import CATALOG, CATEGORIES
from gradstudio.model.leaves import LeafError, make_leaf
from gradstudio.model.validation import check_attribute

# placeholders a template may use besides its ports and attributes; the code exporter fills them in
DERIVED_PLACEHOLDERS = {"leaf_call", "dim_args", "values", "tensors"}


def leaf(values: Any, requires_grad: bool = True, dtype: Any = None) -> Callable[[], Any]:
    """A factory of fresh leaf tensors holding `values` (fresh so node and reference grads stay apart)."""
    return lambda: engine.tensor(values, dtype=dtype, requires_grad=requires_grad)


def number(value: float) -> Callable[[], float]:
    """A factory of a Python number operand."""
    return lambda: value


@dataclass
class Case:
    """One way of computing a kind: input factories by port, attributes, and the direct engine call."""

    inputs: dict[str, Callable[[], Any]]
    reference: Callable[..., Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    label: str = ""


M23 = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
M34 = [[1.0, 2.0, -1.0, 0.5], [0.0, -0.5, 1.5, 2.0], [1.0, 1.0, -2.0, 0.25]]
V3 = [0.5, 2.0, -1.5]
POSITIVE = [[0.5, 1.0, 2.0], [3.0, 0.25, 4.0]]
T234 = np.linspace(-1.0, 1.0, 24).reshape(2, 3, 4).tolist()
F = engine.nn.functional

CASES: dict[str, list[Case]] = {
    "add": [Case({"a": leaf(M23), "b": leaf(V3)}, lambda a, b: engine.add(a, b), label="broadcast"),
            Case({"a": leaf(M23), "b": number(2)}, lambda a, b: engine.add(a, b), label="scalar")],
    "sub": [Case({"a": leaf(M23), "b": leaf(V3)}, lambda a, b: engine.sub(a, b))],
    "mul": [Case({"a": leaf(M23), "b": leaf(V3)}, lambda a, b: engine.mul(a, b)),
            Case({"a": leaf(M23), "b": number(3)}, lambda a, b: engine.mul(a, b), label="scalar")],
    "div": [Case({"a": leaf(M23), "b": leaf(POSITIVE)}, lambda a, b: engine.div(a, b))],
    "pow": [Case({"a": leaf(POSITIVE), "b": number(2)}, lambda a, b: engine.pow(a, b)),
            Case({"a": leaf(POSITIVE), "b": leaf(V3)}, lambda a, b: engine.pow(a, b), label="tensor exponent")],
    "matmul": [Case({"a": leaf(M23), "b": leaf(M34)}, lambda a, b: engine.matmul(a, b))],
    "neg": [Case({"input": leaf(M23)}, lambda x: engine.neg(x))],
    "abs": [Case({"input": leaf(M23)}, lambda x: engine.abs(x))],
    "exp": [Case({"input": leaf(M23)}, lambda x: engine.exp(x))],
    "log": [Case({"input": leaf(POSITIVE)}, lambda x: engine.log(x))],
    "sqrt": [Case({"input": leaf(POSITIVE)}, lambda x: engine.sqrt(x))],
    "sin": [Case({"input": leaf(M23)}, lambda x: engine.sin(x))],
    "cos": [Case({"input": leaf(M23)}, lambda x: engine.cos(x))],
    "clamp": [Case({"input": leaf(M23)}, lambda x: engine.clamp(x, min=0.0), label="default"),
              Case({"input": leaf(M23)}, lambda x: engine.clamp(x, min=-0.5, max=0.5), {"min": -0.5, "max": 0.5}),
              Case({"input": leaf(M23)}, lambda x: engine.clamp(x, max=1), {"min": None, "max": 1}, "max only")],
    "maximum": [Case({"a": leaf(M23), "b": leaf(V3)}, lambda a, b: engine.maximum(a, b))],
    "minimum": [Case({"a": leaf(M23), "b": leaf(V3)}, lambda a, b: engine.minimum(a, b))],
    "where": [Case({"condition": leaf([True, False, True], requires_grad=False), "a": leaf(M23), "b": leaf(V3)},
                   lambda c, a, b: engine.where(c, a, b))],
    "gt": [Case({"a": leaf(M23), "b": leaf(V3)}, lambda a, b: engine.gt(a, b))],
    "lt": [Case({"a": leaf(M23), "b": number(0.5)}, lambda a, b: engine.lt(a, b))],
    "relu": [Case({"input": leaf(M23)}, lambda x: engine.relu(x))],
    "sigmoid": [Case({"input": leaf(M23)}, lambda x: engine.sigmoid(x))],
    "tanh": [Case({"input": leaf(M23)}, lambda x: engine.tanh(x))],
    "softmax": [Case({"input": leaf(M23)}, lambda x: engine.softmax(x, -1)),
                Case({"input": leaf(M23)}, lambda x: engine.softmax(x, 0), {"dim": 0})],
    "log_softmax": [Case({"input": leaf(M23)}, lambda x: engine.log_softmax(x, 0), {"dim": 0})],
    "sum": [Case({"input": leaf(M23)}, lambda x: engine.sum(x)),
            Case({"input": leaf(M23)}, lambda x: engine.sum(x, 1, keepdim=True), {"dim": 1, "keepdim": True})],
    "mean": [Case({"input": leaf(M23)}, lambda x: engine.mean(x)),
             Case({"input": leaf(M23)}, lambda x: engine.mean(x, 0), {"dim": 0})],
    "max": [Case({"input": leaf(M23)}, lambda x: engine.max(x)),
            Case({"input": leaf(M23)}, lambda x: engine.max(x, 1, True).values, {"dim": 1, "keepdim": True})],
    "min": [Case({"input": leaf(M23)}, lambda x: engine.min(x)),
            Case({"input": leaf(M23)}, lambda x: engine.min(x, 0).values, {"dim": 0})],
    "prod": [Case({"input": leaf(M23)}, lambda x: engine.prod(x)),
             Case({"input": leaf(M23)}, lambda x: engine.prod(x, 1), {"dim": 1})],
    "var": [Case({"input": leaf(M23)}, lambda x: engine.var(x)),
            Case({"input": leaf(M23)}, lambda x: engine.var(x, 1, correction=0), {"dim": 1, "correction": 0})],
    "std": [Case({"input": leaf(M23)}, lambda x: engine.std(x)),
            Case({"input": leaf(M23)}, lambda x: engine.std(x, 0, keepdim=True), {"dim": 0, "keepdim": True})],
    "norm": [Case({"input": leaf(M23)}, lambda x: engine.norm(x)),
             Case({"input": leaf(M23)}, lambda x: engine.norm(x, p=1, dim=1, keepdim=True),
                  {"p": 1.0, "dim": 1, "keepdim": True})],
    "leaky_relu": [Case({"input": leaf(M23)}, lambda x: F.leaky_relu(x, 0.01)),
                   Case({"input": leaf(M23)}, lambda x: F.leaky_relu(x, 0.2), {"negative_slope": 0.2})],
    "gelu": [Case({"input": leaf(M23)}, lambda x: F.gelu(x)),
             Case({"input": leaf(M23)}, lambda x: F.gelu(x, approximate="tanh"), {"approximate": "tanh"})],
    "silu": [Case({"input": leaf(M23)}, lambda x: F.silu(x))],
    "elu": [Case({"input": leaf(M23)}, lambda x: F.elu(x, alpha=0.5), {"alpha": 0.5})],
    "softplus": [Case({"input": leaf(M23)}, lambda x: F.softplus(x)),
                 Case({"input": leaf(M23)}, lambda x: F.softplus(x, beta=2.0, threshold=1.0),
                      {"beta": 2.0, "threshold": 1.0})],
    "reshape": [Case({"input": leaf(M23)}, lambda x: engine.reshape(x, (-1,))),
                Case({"input": leaf(M23)}, lambda x: engine.reshape(x, (3, 2)), {"shape": (3, 2)})],
    "view": [Case({"input": leaf(M23)}, lambda x: x.view(-1, 2), {"shape": (-1, 2)})],
    "transpose": [Case({"input": leaf(T234)}, lambda x: engine.transpose(x, 0, 2), {"dim1": 2})],
    "T": [Case({"input": leaf(M23)}, lambda x: x.T)],
    "permute": [Case({"input": leaf(M23)}, lambda x: engine.permute(x, (1, 0))),
                Case({"input": leaf(T234)}, lambda x: engine.permute(x, (2, 0, 1)), {"dims": (2, 0, 1)})],
    "unsqueeze": [Case({"input": leaf(V3)}, lambda x: engine.unsqueeze(x, 0)),
                  Case({"input": leaf(M23)}, lambda x: engine.unsqueeze(x, -1), {"dim": -1})],
    "squeeze": [Case({"input": leaf([[[1.0], [2.0]]])}, lambda x: engine.squeeze(x)),
                Case({"input": leaf([[[1.0], [2.0]]])}, lambda x: engine.squeeze(x, 2), {"dim": 2})],
    "flatten": [Case({"input": leaf(T234)}, lambda x: engine.flatten(x)),
                Case({"input": leaf(T234)}, lambda x: engine.flatten(x, 1), {"start_dim": 1})],
    "expand": [Case({"input": leaf([V3])}, lambda x: x.expand(2, -1))],
    "index": [Case({"input": leaf(M23)}, lambda x: x[0]),
              Case({"input": leaf(T234)}, lambda x: x[1, 0:3:2, None, ...], {"index": "1, 0:3:2, None, ..."}),
              Case({"input": leaf(T234)}, lambda x: x[[1, 0, 1], 1:, [3, 0, 2]], {"index": "[1, 0, 1], 1:, [3, 0, 2]"},
                   "lists")],
    "gather": [Case({"input": leaf(M23), "index": leaf([[0, 2], [1, 1]], requires_grad=False, dtype=engine.int64)},
                    lambda x, i: engine.gather(x, 1, i), {"dim": 1}),
               Case({"input": leaf(M23), "index": leaf([[2], [0]], requires_grad=False, dtype=engine.int64)},
                    lambda x, i: engine.gather(x, -1, i), label="default")],
    "cat": [Case({"tensor0": leaf(M23), "tensor1": leaf(POSITIVE)}, lambda a, b: engine.cat([a, b])),
            Case({"tensor0": leaf(M23), "tensor1": leaf(POSITIVE), "tensor2": leaf(M23)},
                 lambda a, b, c: engine.cat([a, b, c], dim=1), {"count": 3, "dim": 1})],
    "stack": [Case({"tensor0": leaf(V3), "tensor1": leaf(V3)}, lambda a, b: engine.stack([a, b])),
              Case({"tensor0": leaf(V3), "tensor1": leaf(V3), "tensor2": leaf(V3)},
                   lambda a, b, c: engine.stack([a, b, c], dim=1), {"count": 3, "dim": 1})],
    "clone": [Case({"input": leaf(M23)}, lambda x: x.clone())],
    # in place: the changed tensor is a leaf that does not require grad (one that does may not change in place)
    "add_": [Case({"input": leaf(M23, requires_grad=False), "other": leaf(V3)}, lambda x, y: x.add_(y))],
    "sub_": [Case({"input": leaf(M23, requires_grad=False), "other": leaf(M23)}, lambda x, y: x.sub_(y))],
    "mul_": [Case({"input": leaf(M23, requires_grad=False), "other": leaf(V3)}, lambda x, y: x.mul_(y))],
    "div_": [Case({"input": leaf(M23, requires_grad=False), "other": leaf(POSITIVE)}, lambda x, y: x.div_(y))],
    "detach": [Case({"input": leaf(M23)}, lambda x: x.detach())],
    "mm": [Case({"a": leaf(M23), "b": leaf(M34)}, lambda a, b: engine.mm(a, b))],
    "linear": [Case({"input": leaf(M23), "weight": leaf(np.transpose(M34).tolist()), "bias": leaf([0.5, -1, 0, 2])},
                    lambda x, w, b: F.linear(x, w, b))],
    "mse_loss": [Case({"input": leaf(M23), "target": leaf(POSITIVE, requires_grad=False)},
                      lambda x, t: F.mse_loss(x, t)),
                 Case({"input": leaf(M23), "target": leaf(POSITIVE, requires_grad=False)},
                      lambda x, t: F.mse_loss(x, t, reduction="none"), {"reduction": "none"})],
    "cross_entropy": [Case({"input": leaf(M23), "target": leaf([2, 0], requires_grad=False, dtype=engine.int64)},
                           lambda x, t: F.cross_entropy(x, t)),
                      Case({"input": leaf(M23), "target": leaf([1, 1], requires_grad=False, dtype=engine.int64)},
                           lambda x, t: F.cross_entropy(x, t, reduction="sum"), {"reduction": "sum"})],
    "l1_loss": [Case({"input": leaf(M23), "target": leaf(POSITIVE, requires_grad=False)},
                     lambda x, t: F.l1_loss(x, t))],
    "smooth_l1_loss": [Case({"input": leaf(M23), "target": leaf(POSITIVE, requires_grad=False)},
                            lambda x, t: F.smooth_l1_loss(x, t, reduction="sum", beta=0.5),
                            {"reduction": "sum", "beta": 0.5})],
    "huber_loss": [Case({"input": leaf(M23), "target": leaf(POSITIVE, requires_grad=False)},
                        lambda x, t: F.huber_loss(x, t, delta=0.5), {"delta": 0.5})],
    "binary_cross_entropy": [Case({"input": leaf([0.25, 0.5, 0.9]), "target": leaf([0.0, 1.0, 1.0], False)},
                                  lambda p, t: F.binary_cross_entropy(p, t))],
}


def case_id(kind: str, case: Case, index: int) -> str:
    """A readable test id."""
    return f"{kind}-{case.label or index}"


ALL_CASES = [pytest.param(kind, case, id=case_id(kind, case, i)) for kind, cases in CASES.items()
             for i, case in enumerate(cases)]


def assert_same_tensor(got: Any, want: Any) -> None:
    """Same class, shape, dtype, values (bit for bit), requires_grad and grad_fn name."""
    assert isinstance(got, engine.Tensor) and isinstance(want, engine.Tensor)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    assert got.requires_grad == want.requires_grad
    assert (got.grad_fn and got.grad_fn.name()) == (want.grad_fn and want.grad_fn.name())


def test_every_non_leaf_kind_has_a_case() -> None:
    assert set(CASES) == set(CATALOG) - {"tensor", "scalar"}


@pytest.mark.parametrize(("kind", "case"), ALL_CASES)
def test_kind_computes_what_the_engine_computes(kind: str, case: Case) -> None:
    spec = CATALOG[kind]
    attributes = {**spec.default_attributes(), **case.attributes}
    ports = spec.input_ports(attributes)
    assert set(case.inputs) == set(ports)
    node_inputs = {port: make() for port, make in case.inputs.items()}
    reference_inputs = {port: make() for port, make in case.inputs.items()}
    got = spec.compute(node_inputs, attributes)
    want = case.reference(*(reference_inputs[port] for port in ports))
    assert_same_tensor(got, want)
    if want.requires_grad:
        # the node builds the same autograd graph: the same gradients reach its inputs
        got.backward(engine.ones_like(got))
        want.backward(engine.ones_like(want))
        for port in ports:
            # (a leaf changed in place is no leaf any more: it keeps no .grad)
            tensor = reference_inputs[port]
            if isinstance(tensor, engine.Tensor) and tensor.is_leaf and tensor.requires_grad:
                assert_same_tensor(node_inputs[port].grad, reference_inputs[port].grad)


def test_scalar_kind_gives_its_number() -> None:
    assert CATALOG["scalar"].compute({}, {"value": 2.5}) == 2.5
    assert CATALOG["scalar"].default_attributes() == {"value": 2.0}


LEAF_CASES = [
    ({"init": "ones", "shape": (2, 3)}, lambda: engine.ones(2, 3)),
    ({"init": "zeros", "shape": (4,), "requires_grad": True}, lambda: engine.zeros(4, requires_grad=True)),
    ({"init": "full", "shape": (2, 2), "fill": 1.5}, lambda: engine.full((2, 2), 1.5)),
    ({"init": "values", "shape": (2, 2), "values": (1, 2, 3, 4)}, lambda: engine.tensor([[1.0, 2.0], [3.0, 4.0]])),
    ({"init": "values", "shape": (), "values": (7,)}, lambda: engine.tensor(7.0)),
    ({"init": "arange", "shape": (2, 3), "start": 1.0}, lambda: engine.arange(1.0, 7.0).reshape(2, 3)),
    ({"init": "linspace", "shape": (5,), "start": -1.0, "end": 1.0}, lambda: engine.linspace(-1, 1, 5)),
    ({"init": "eye", "shape": (2, 3)}, lambda: engine.eye(2, 3)),
    ({"init": "ones", "shape": (3,), "dtype": "float64"}, lambda: engine.ones(3, dtype=engine.float64)),
    ({"init": "arange", "shape": (3,), "dtype": "int64"}, lambda: engine.arange(3)),
    ({"init": "values", "shape": (2,), "dtype": "bool", "values": (1, 0)}, lambda: engine.tensor([True, False])),
]


@pytest.mark.parametrize(("attributes", "reference"), LEAF_CASES, ids=lambda v: str(v) if isinstance(v, dict) else "")
def test_leaf_initialisers_match_the_engine_creation_functions(attributes: dict, reference: Callable) -> None:
    tensor = make_leaf({**CATALOG["tensor"].default_attributes(), **attributes})
    want = reference()
    assert_same_tensor(tensor, want)
    assert tensor.is_leaf


@pytest.mark.parametrize("init", ["rand", "randn"])
def test_random_leaves_are_reproducible_from_their_seed(init: str) -> None:
    attributes = {**CATALOG["tensor"].default_attributes(), "init": init, "shape": (2, 3), "seed": 4}
    first, again = make_leaf(attributes), make_leaf(attributes)
    other = make_leaf({**attributes, "seed": 5})
    assert first.shape == engine.Size([2, 3]) and first.dtype == engine.float32
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert not np.array_equal(first.numpy(), other.numpy())
    if init == "rand":
        assert ((first.numpy() >= 0) & (first.numpy() < 1)).all()


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"init": "values", "shape": (2, 2), "values": (1, 2, 3)}, "shape [2, 2] needs 4 values, got 3"),
        ({"init": "eye", "shape": (3,)}, "eye needs a 2-d shape, got [3]"),
        ({"shape": (100000, 100000)},
         "shape [100000, 100000] has more than 10,000,000 elements, the limit for one tensor"),
        ({"shape": (3, -1)}, "shape must be a list of non-negative integers, got [3, -1]"),
    ],
)
def test_impossible_leaves_name_the_problem(attributes: dict, message: str) -> None:
    with pytest.raises(LeafError) as raised:
        make_leaf({**CATALOG["tensor"].default_attributes(), **attributes})
    assert str(raised.value) == message


@pytest.mark.parametrize("kind", sorted(CATALOG))
def test_catalog_entry_is_complete(kind: str) -> None:
    spec = CATALOG[kind]
    assert spec.kind == kind
    assert spec.category in CATEGORIES
    assert spec.title.strip()
    assert spec.doc.strip() and "\n" not in spec.doc
    for attribute in spec.attributes:
        assert attribute.kind in KINDS
        assert check_attribute(attribute, attribute.default) == attribute.default
        if attribute.kind == "choice":
            assert attribute.default in attribute.choices


@pytest.mark.parametrize("kind", sorted(CATALOG))
def test_template_mentions_every_input_port(kind: str) -> None:
    spec = CATALOG[kind]
    fields = {name for _, name, _, _ in string.Formatter().parse(spec.template) if name}
    ports = {f"{spec.inputs[0]}s"} if spec.variadic else set(spec.inputs)
    assert ports <= fields
    assert fields <= ports | {attribute.name for attribute in spec.attributes} | DERIVED_PLACEHOLDERS


def test_titles_are_unique_and_every_category_is_used() -> None:
    titles = [spec.title for spec in CATALOG.values()]
    assert len(titles) == len(set(titles))
    assert {spec.category for spec in CATALOG.values()} == set(CATEGORIES)


def test_variadic_kinds_have_count_ports() -> None:
    for kind in ("cat", "stack"):
        spec = CATALOG[kind]
        assert spec.variadic
        assert spec.input_ports(spec.default_attributes()) == ("tensor0", "tensor1")
        assert spec.input_ports({"count": 4, "dim": 0}) == ("tensor0", "tensor1", "tensor2", "tensor3")
