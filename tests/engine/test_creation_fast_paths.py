"""The fast paths of `randn`/`rand`/`ones`/`zeros` (plain sizes, no dtype, generator or keyword) and of
`_normal_pairs`: the same bytes as PyTorch and as the general path, and PyTorch's errors for anything else."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

import gradstudio.engine as engine  # noqa: E402
from gradstudio.engine import random as engine_random  # noqa: E402

SHAPES = [(n,) for n in range(1, 18)] + [(2, 2), (3, 5), (2, 1, 3), (4, 4), (0,), (2, 0, 3)]
SEEDS = [0, 1, 7, 2024, 67280421310721]


def raw(tensor):
    array = np.ascontiguousarray(tensor.detach().numpy())
    return array.dtype, array.shape, array.view(np.uint8).tobytes()


def sequence(module, name, seed, shape, form):
    """Three draws in a row after one seed (an odd count leaves a cached normal for the next draw)."""
    module.manual_seed(seed)
    draw = getattr(module, name)
    return [raw(draw(*shape) if form == "ints" else draw(shape)) for _ in range(3)]


@pytest.mark.parametrize("form", ["ints", "tuple"])
@pytest.mark.parametrize("name", ["randn", "rand"])
def test_fast_path_is_pytorchs_bytes(name, form):
    for seed in SEEDS:
        for shape in SHAPES:
            assert sequence(engine, name, seed, shape, form) == sequence(torch, name, seed, shape, form), (seed, shape)


def general(name, seed, shape, **options):
    """The draw through the general parsing: the same generator and dtype, given explicitly."""
    engine.manual_seed(seed)
    return [raw(getattr(engine, name)(*shape, **options)) for _ in range(3)]


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_fast_path_is_the_general_paths_bytes(name):
    for seed in SEEDS:
        for shape in SHAPES:
            fast = sequence(engine, name, seed, shape, "ints")
            assert fast == general(name, seed, shape, generator=engine.default_generator), (seed, shape)
            assert fast == general(name, seed, shape, dtype=engine.float32), (seed, shape)
            assert fast == general(name, seed, (), size=shape), (seed, shape)


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_fast_path_makes_the_same_leaf(name):
    engine.manual_seed(3)
    made = getattr(engine, name)(2, 3, requires_grad=True)
    assert made.requires_grad and made.is_leaf and made.grad_fn is None and made.dtype is engine.float32
    assert made.shape == (2, 3) and made._data.flags.c_contiguous
    assert not getattr(engine, name)(2).requires_grad


class Index:
    """An object with __index__: not a plain int, so it takes the general path."""

    def __index__(self):
        return 2


BAD_CALLS = [
    ("no size", lambda t, f: f()),
    ("negative", lambda t, f: f(-1)),
    ("negative second", lambda t, f: f(2, -1)),
    ("negative in tuple", lambda t, f: f((2, -3))),
    ("float", lambda t, f: f(2.0)),
    ("float second", lambda t, f: f(2, 2.0)),
    ("float in tuple", lambda t, f: f((2, 2.0))),
    ("bool", lambda t, f: f(True)),
    ("string", lambda t, f: f("2")),
    ("none", lambda t, f: f(None)),
    ("tuple then int", lambda t, f: f((2,), 3)),
    ("nested tuple", lambda t, f: f(((2,),))),
    ("size and varargs", lambda t, f: f(2, size=(2,))),
    ("unknown keyword", lambda t, f: f(2, shape=(2,))),
    ("bad generator", lambda t, f: f(2, generator="x")),
    ("integer dtype", lambda t, f: f(2, dtype=t.int64)),
    ("string dtype", lambda t, f: f(2, dtype="float32")),
]


def outcome(module, name, call):
    try:
        result = call(module, getattr(module, name))
    except Exception as error:  # noqa: BLE001 - the type and message are what is compared
        return type(error), str(error)
    return "made", tuple(result.shape)


@pytest.mark.parametrize("name", ["randn", "rand", "ones", "zeros"])
@pytest.mark.parametrize("label, call", BAD_CALLS, ids=[label for label, _ in BAD_CALLS])
def test_bad_arguments_raise_pytorchs_errors(name, label, call):
    ours, theirs = outcome(engine, name, call), outcome(torch, name, call)
    assert ours == theirs


@pytest.mark.parametrize("name", ["randn", "rand", "ones", "zeros"])
def test_sizes_the_fast_path_leaves_to_the_general_one(name):
    """A 0-d size, list, numpy and __index__ sizes take the general path and still give PyTorch's tensor."""
    calls = [lambda t, f: f(()), lambda t, f: f([2, 3]), lambda t, f: f(np.int64(2), 3), lambda t, f: f(Index(), 1)]
    for call in calls:
        engine.manual_seed(5)
        torch.manual_seed(5)
        assert raw(call(engine, getattr(engine, name))) == raw(call(torch, getattr(torch, name)))


@pytest.mark.parametrize("name", ["ones", "zeros"])
def test_constant_fast_path_is_pytorchs_and_the_general_paths(name):
    for shape in SHAPES:
        for form in (shape, (shape,)):
            fast = raw(getattr(engine, name)(*form, requires_grad=True))
            assert fast == raw(getattr(torch, name)(*form, requires_grad=True)), shape
            assert fast == raw(getattr(engine, name)(*form, dtype=engine.float32)), shape
            assert fast == raw(getattr(engine, name)(size=shape)), shape
    made = getattr(engine, name)(2, 3, requires_grad=True)
    assert made.requires_grad and made.is_leaf and made.grad_fn is None


def reference_pairs(words):
    """Box-Muller as ATen writes it, in integer arithmetic for the uniforms: what `_normal_pairs` must equal."""
    values = []
    for index in range(0, len(words), 4):
        high1, low1, high2, low2 = words[index:index + 4]
        u1 = (((high1 & 0x1FFFFF) << 32) | low1) * 2.0 ** -53
        u2 = (((high2 & 0x1FFFFF) << 32) | low2) * 2.0 ** -53
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        values += (radius * math.cos(theta), radius * math.sin(theta))
    return values


class Words:
    """A bit generator handing out chosen words."""

    def __init__(self, words):
        self.words = words

    def random_raw(self, count):
        taken, self.words = self.words[:count], self.words[count:]
        return np.array(taken, np.uint64)


def test_normal_pairs_float_arithmetic_equals_the_integer_one():
    edges = [0, 1, 2, 0x1FFFFF, 0x200000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
    words = [edge for high in edges for low in edges for edge in (high, low)]
    words += np.random.default_rng(0).integers(0, 1 << 32, 40_000, dtype=np.uint64).tolist()
    words = words[: len(words) // 4 * 4]
    generator = engine_random.Generator()
    generator._twister = Words(list(words))
    ours = generator._normal_pairs(len(words) // 2)
    assert list(map(float.hex, ours)) == list(map(float.hex, reference_pairs(words)))
