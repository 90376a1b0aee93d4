"""The example graphs: rebuilt exactly by their generator, and computing what the same code computes on the
engine directly and on real PyTorch (no display needed)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import gradstudio.engine as engine
from gradstudio import resource_files as resources
from gradstudio.model.document import GraphDocument
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.io.fileformat import dumps, load
from gradstudio.model.leaves import make_leaf
from gradstudio.resource_files import resource_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
TORCH_MISSING = "PyTorch not installed: differential tests against real PyTorch skipped"


def generator() -> ModuleType:
    """tools/make_examples.py, imported from its path."""
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "tools" / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----- each example as plain PyTorch code: `t` is the torch module, `leaf(name)` the file's leaf tensor -----


def forward_backward(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    x = t.ones(3, requires_grad=True)
    two, three = 2, 3
    y = x + two
    y_squared = y * y
    z = y_squared * three
    out = z.mean()
    return dict(x=x, two=two, y=y, y_squared=y_squared, three=three, z=z, out=out)


def no_grad(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    x = t.ones(3, requires_grad=True)
    two = 2
    with t.no_grad():
        y = x * two
    return dict(x=x, two=two, y=y)


def requires_grad_false(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    x = t.ones(3, requires_grad=True)
    x.requires_grad_(False)
    two = 2
    y = x * two
    return dict(x=x, two=two, y=y)


def randn_mean(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    a = leaf("a")  # randn(2, 2, requires_grad=True) from the file's seed
    three = 3
    b = a * three
    c = b.mean()
    return dict(a=a, three=three, b=b, c=c)


def linear_regression(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    F = t.nn.functional
    X, w, b, y = leaf("X"), leaf("w"), leaf("b"), leaf("y")
    Xw = X @ w
    pred = Xw + b
    loss = F.mse_loss(pred, y)
    return dict(X=X, w=w, b=b, y=y, Xw=Xw, pred=pred, loss=loss)


def xor_mlp(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    F = t.nn.functional
    X, W1, b1, W2, b2, y = (leaf(name) for name in ("X", "W1", "b1", "W2", "b2", "y"))
    XW1 = X @ W1
    z1 = XW1 + b1
    h = t.tanh(z1)
    hW2 = h @ W2
    z2 = hW2 + b2
    p = t.sigmoid(z2)
    loss = F.binary_cross_entropy(p, y)
    return dict(X=X, W1=W1, b1=b1, W2=W2, b2=b2, y=y, XW1=XW1, z1=z1, h=h, hW2=hW2, z2=z2, p=p, loss=loss)


def softmax_classifier(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    F = t.nn.functional
    X, W, b, labels = leaf("X"), leaf("W"), leaf("b"), leaf("labels")
    XW = X @ W
    logits = XW + b
    loss = F.cross_entropy(logits, labels)
    return dict(X=X, W=W, b=b, labels=labels, XW=XW, logits=logits, loss=loss)


def moons_mlp(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    F = t.nn.functional
    X, W1, b1, W2, b2, labels = (leaf(name) for name in ("X", "W1", "b1", "W2", "b2", "labels"))
    z1 = F.linear(X, W1, b1)
    h = t.relu(z1)
    logits = F.linear(h, W2, b2)
    loss = F.cross_entropy(logits, labels)
    return dict(X=X, W1=W1, b1=b1, W2=W2, b2=b2, labels=labels, z1=z1, h=h, logits=logits, loss=loss)


def lesson_no_grad(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    x = t.ones(3, requires_grad=True)
    two = 2
    with t.no_grad():
        y = x * two
        total = y.sum()
    return dict(x=x, two=two, y=y, total=total)


def lesson_broadcasting(t: Any, leaf: Callable[[str], Any]) -> dict[str, Any]:
    X, b = leaf("X"), leaf("b")
    h = X + b
    loss = h.sum()
    return dict(X=X, b=b, h=h, loss=loss)


PROGRAMS: dict[str, Callable[..., dict[str, Any]]] = {
    "notes_forward_backward": forward_backward,
    "notes_no_grad": no_grad,
    "notes_requires_grad_false": requires_grad_false,
    "notes_randn_mean": randn_mean,
    "linear_regression": linear_regression,
    "xor_mlp": xor_mlp,
    "softmax_classifier": softmax_classifier,
    "moons_mlp": moons_mlp,
    "lesson_forward_chain": forward_backward,
    "lesson_no_grad": lesson_no_grad,
    "lesson_broadcasting": lesson_broadcasting,
}


def test_every_example_has_a_program_and_a_file():
    assert sorted(path.stem for path in EXAMPLES.glob("*.gsg")) == sorted(PROGRAMS) == sorted(generator().EXAMPLES)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder the generator wrote every example into."""
    folder = tmp_path_factory.mktemp("examples")
    generator().write_examples(folder)
    return folder


@pytest.mark.parametrize("name", PROGRAMS)
def test_committed_example_is_what_the_generator_writes(name, generated):
    assert (generated / f"{name}.gsg").read_bytes() == (EXAMPLES / f"{name}.gsg").read_bytes()


@pytest.mark.parametrize("name", PROGRAMS)
def test_example_round_trips_byte_for_byte(name):
    text = (EXAMPLES / f"{name}.gsg").read_text(encoding="utf-8")
    assert dumps(load(EXAMPLES / f"{name}.gsg")) == text


def test_examples_are_found_as_resources():
    assert resource_path("examples", "xor_mlp.gsg") == EXAMPLES / "xor_mlp.gsg"
    with pytest.raises(FileNotFoundError, match="resource 'examples/none.gsg' not found"):
        resource_path("examples", "none.gsg")


def test_resources_are_found_in_a_pyinstaller_bundle(tmp_path, monkeypatch):
    (tmp_path / "resources" / "icons").mkdir(parents=True)
    (tmp_path / "resources" / "icons" / "app.svg").write_text("<svg/>")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(resources, "PACKAGE", tmp_path / "elsewhere" / "gradstudio")
    assert resource_path("icons", "app.svg") == tmp_path / "resources" / "icons" / "app.svg"


# ----- values and gradients -----------------------------------------------------------------------------


def leaves_for(document: GraphDocument, t: Any) -> Callable[[str], Any]:
    """`leaf(name)`: the file's leaf tensor `name`, made fresh as a tensor of module `t`."""
    by_name = {node.name: node for node in document.nodes.values()}

    def leaf(name: str) -> Any:
        attributes = by_name[name].attributes
        values = make_leaf({**attributes, "requires_grad": False}).tolist()
        dtype = t.bool if attributes["dtype"] == "bool" else getattr(t, attributes["dtype"])
        return t.tensor(values, dtype=dtype, requires_grad=attributes["requires_grad"])

    return leaf


def run_both(name: str, t: Any) -> tuple[GraphDocument, Evaluator, dict[str, Any], str | None, str | None]:
    """Evaluate the example and run its program on `t`, then Backward on both; errors are compared as text."""
    document = load(EXAMPLES / f"{name}.gsg")
    evaluator = Evaluator(document)
    evaluator.evaluate()
    variables = PROGRAMS[name](t, leaves_for(document, t))
    assert set(variables) == {node.name for node in document.nodes.values()}
    target = document.nodes[document.settings.backward_target].name
    return document, evaluator, variables, _error(lambda: evaluator.backward()), _error(variables[target].backward)


def _error(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except RuntimeError as error:
        return str(error)
    return None


def as_array(value: Any) -> np.ndarray:
    """A tensor of either library (or a number) as a numpy array."""
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    return np.asarray(value)


def assert_same(document: GraphDocument, evaluator: Evaluator, variables: dict[str, Any], exact: bool) -> None:
    """Every node's value, dtype, grad_fn and `.grad` match the program's variable of the same name."""
    for node_id, node in document.nodes.items():
        ours, theirs = evaluator.results[node_id].value, variables[node.name]
        assert evaluator.results[node_id].ok, (node.name, evaluator.results[node_id])
        compare = np.testing.assert_array_equal if exact else _close
        compare(as_array(ours), as_array(theirs), err_msg=node.name)
        if not hasattr(theirs, "grad_fn"):
            assert ours == theirs
            continue
        assert str(ours.dtype) == str(theirs.dtype), node.name
        assert ours.requires_grad == theirs.requires_grad, node.name
        assert (ours.grad_fn and ours.grad_fn.name()) == (theirs.grad_fn and theirs.grad_fn.name()), node.name
        ours_grad, theirs_grad = evaluator.leaf_grad(node_id), theirs.grad if theirs.is_leaf else None
        assert (ours_grad is None) == (theirs_grad is None), node.name
        if ours_grad is not None:
            compare(as_array(ours_grad), as_array(theirs_grad), err_msg=f"{node.name}.grad")


def _close(ours: np.ndarray, theirs: np.ndarray, err_msg: str) -> None:
    assert ours.shape == theirs.shape, err_msg
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=err_msg)


@pytest.mark.parametrize("name", PROGRAMS)
def test_example_matches_the_engine_run_directly(name):
    document, evaluator, variables, ours, theirs = run_both(name, engine)
    assert ours == theirs
    assert_same(document, evaluator, variables, exact=True)


@pytest.mark.parametrize("name", PROGRAMS)
def test_example_matches_real_pytorch(name):
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    document, evaluator, variables, ours, theirs = run_both(name, torch)
    assert ours == theirs
    assert_same(document, evaluator, variables, exact=False)


def test_the_notes_numbers():
    document, evaluator, variables, error, _ = run_both("notes_forward_backward", engine)
    assert error is None
    assert repr(evaluator.leaf_grad("n1")) == "tensor([6., 6., 6.])"
    assert repr(evaluator.value("n7")) == "tensor(27., grad_fn=<MeanBackward0>)"
    document, evaluator, variables, error, _ = run_both("notes_randn_mean", engine)
    assert repr(evaluator.leaf_grad("n1")) == "tensor([[0.7500, 0.7500],\n        [0.7500, 0.7500]])"


@pytest.mark.parametrize("name", ["notes_no_grad", "notes_requires_grad_false"])
def test_untracked_examples_refuse_backward_as_pytorch_does(name):
    document, evaluator, variables, error, _ = run_both(name, engine)
    assert error == "element 0 of tensors does not require grad and does not have a grad_fn"
    assert evaluator.value("n3").grad_fn is None


def test_the_classifier_targets_are_int64_class_indices():
    labels = load(EXAMPLES / "softmax_classifier.gsg").nodes["n4"]
    assert (labels.name, labels.attributes["dtype"], make_leaf(labels.attributes).tolist()) == (
        "labels", "int64", [0, 0, 1, 1, 2, 2])
