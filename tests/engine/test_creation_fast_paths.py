"""The fast paths of `randn`/`rand`/`ones`/`zeros` (plain sizes, no dtype, generator or keyword but
requires_grad) and of `_normal_pairs`: the same bytes as PyTorch and as the general path, and PyTorch's errors
for anything else."""

import itertools
import math

import numpy as np
import pytest

import gradstudio.engine as engine
from gradstudio.engine import _arguments as engine_arguments
from gradstudio.engine import random as engine_random

try:
    import torch
except ImportError:  # the engine-only cases still run; the comparisons with PyTorch skip, saying so
    torch = None
needs_torch = pytest.mark.skipif(torch is None,
                                 reason="PyTorch not installed: differential tests against real PyTorch skipped")

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


@needs_torch
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
    ("requires_grad int", lambda t, f: f(2, requires_grad=1)),
    ("requires_grad numpy bool", lambda t, f: f(2, 2, requires_grad=np.bool_(True))),
    ("requires_grad string", lambda t, f: f((2, 2), requires_grad="x")),
    ("requires_grad none", lambda t, f: f(2, requires_grad=None)),
    ("only requires_grad", lambda t, f: f(requires_grad=True)),
    ("only dtype", lambda t, f: f(dtype=t.float32)),
    ("size keyword int", lambda t, f: f(size=2)),
    ("float with grad", lambda t, f: f(2.0, requires_grad=True)),
    ("float second with grad", lambda t, f: f(2, 2.0, requires_grad=True)),
    ("negative with grad", lambda t, f: f(-1, requires_grad=True)),
    ("tuple then int with grad", lambda t, f: f((2,), 3, requires_grad=True)),
    ("seven sizes and a bad dtype", lambda t, f: f(1, 1, 1, 1, 1, 1, 1, dtype="x")),
    ("seven sizes and bad grad", lambda t, f: f(1, 1, 1, 1, 1, 1, 1, requires_grad=1)),
]


def outcome(module, name, call):
    try:
        result = call(module, getattr(module, name))
    except Exception as error:  # noqa: BLE001 - the type and message are what is compared
        return type(error), str(error)
    return "made", tuple(result.shape), result.requires_grad


@needs_torch
@pytest.mark.parametrize("name", ["randn", "rand", "ones", "zeros"])
@pytest.mark.parametrize("label, call", BAD_CALLS, ids=[label for label, _ in BAD_CALLS])
def test_bad_arguments_raise_pytorchs_errors(name, label, call):
    ours, theirs = outcome(engine, name, call), outcome(torch, name, call)
    assert ours == theirs


@needs_torch
@pytest.mark.parametrize("name", ["randn", "rand", "ones", "zeros"])
def test_sizes_the_fast_path_leaves_to_the_general_one(name):
    """A 0-d size, list, numpy and __index__ sizes take the general path and still give PyTorch's tensor."""
    calls = [lambda t, f: f(()), lambda t, f: f([2, 3]), lambda t, f: f(np.int64(2), 3), lambda t, f: f(Index(), 1)]
    for call in calls:
        engine.manual_seed(5)
        torch.manual_seed(5)
        assert raw(call(engine, getattr(engine, name))) == raw(call(torch, getattr(torch, name)))


@pytest.mark.parametrize("name", ["ones", "zeros"])
def test_constant_fast_path_is_the_general_paths(name):
    for shape in SHAPES:
        for form in (shape, (shape,)):
            fast = raw(getattr(engine, name)(*form, requires_grad=True))
            assert fast == raw(getattr(engine, name)(*form, dtype=engine.float32)), shape
            assert fast == raw(getattr(engine, name)(size=shape)), shape
    made = getattr(engine, name)(2, 3, requires_grad=True)
    assert made.requires_grad is True and made.is_leaf and made.grad_fn is None
    assert getattr(engine, name)(2).requires_grad is False


@needs_torch
@pytest.mark.parametrize("name", ["ones", "zeros"])
def test_constant_fast_path_is_pytorchs(name):
    for shape in SHAPES:
        for form in (shape, (shape,)):
            fast = raw(getattr(engine, name)(*form, requires_grad=True))
            assert fast == raw(getattr(torch, name)(*form, requires_grad=True)), shape


VALID = {"generator": lambda t: None, "dtype": lambda t: t.float32, "requires_grad": lambda t: True,
         "device": lambda t: "cpu", "size": lambda t: (2,)}
BAD = {"dtype": lambda t: "float32", "generator": lambda t: "cpu", "requires_grad": lambda t: 1}


def keyword_calls():
    """Every order of every set of rand/randn keywords with one bad value, with and without a positional size."""
    for bad in BAD:
        others = [key for key in VALID if key != bad]
        for count in range(len(others) + 1):
            for chosen in itertools.combinations(others, count):
                for order in itertools.permutations((*chosen, bad)):
                    for positional in ((2,), ()):
                        yield positional, order, bad


@needs_torch
@pytest.mark.parametrize("name", ["randn", "rand"])
def test_bad_keywords_in_any_order_raise_pytorchs_message(name):
    """PyTorch lists the keywords of a refused call in the order of its std::unordered_map, not the caller's."""
    for positional, order, bad in keyword_calls():
        results = []
        for module in (engine, torch):
            keywords = {key: (BAD if key == bad else VALID)[key](module) for key in order}
            results.append(outcome(module, name, lambda t, f, sizes=positional, given=keywords: f(*sizes, **given)))
        assert results[0] == results[1], (positional, order)


@pytest.mark.parametrize(("keys", "listed"), [
    # the orders PyTorch 2.13's messages give these keywords (recorded from it)
    (("layout", "dtype", "pin_memory"), ("pin_memory", "dtype", "layout")),
    (("device", "dtype", "generator"), ("generator", "dtype", "device")),
    (("dtype", "generator"), ("generator", "dtype")),
    (("generator", "dtype"), ("dtype", "generator")),
    (("requires_grad", "generator", "dtype", "device"), ("dtype", "generator", "device", "requires_grad")),
    (("size", "dtype", "shape"), ("shape", "dtype", "size")),
    (("weight", "bias", "stride", "padding", "dilation", "groups", "padding_mode"),
     ("padding_mode", "groups", "dilation", "stride", "padding", "bias", "weight")),
])
def test_keywords_are_listed_in_pytorchs_order(keys, listed):
    message = str(engine_arguments.invalid_combination("randn", (2,), dict.fromkeys(keys, 0)))
    assert message.startswith(f"randn() received an invalid combination of arguments - got (int, "
                              f"{', '.join(f'{key}=int' for key in listed)}), but expected one of:\n")


def test_keywords_alone_leave_pytorchs_trailing_separator():
    message = str(engine_arguments.invalid_combination("rand", (), {"size": (2,), "dtype": "x"}))
    assert "got (dtype=str, size=tuple, ), but" in message


@pytest.mark.parametrize("name", ["randn", "rand", "ones", "zeros"])
def test_requires_grad_is_a_bool_or_none(name):
    made = getattr(engine, name)(2, requires_grad=None)
    assert made.requires_grad is False and made.is_leaf
    for bad in (1, 0, "x", np.bool_(True)):
        with pytest.raises(TypeError, match="requires_grad"):
            getattr(engine, name)(2, 2, requires_grad=bad)


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


EDGE_WORDS = [0, 1, 2, 0x1FFFFF, 0x200000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]


def chosen_words():
    words = [edge for high in EDGE_WORDS for low in EDGE_WORDS for edge in (high, low)]
    words += np.random.default_rng(0).integers(0, 1 << 32, 40_000, dtype=np.uint64).tolist()
    return words[: len(words) // 4 * 4]


def test_normal_pairs_float_arithmetic_equals_the_integer_one():
    """The uniforms made in numpy for a block (`Generator._load`) give ATen's normals, edge words included."""
    words = chosen_words()
    generator = engine_random.Generator()
    generator._load(np.array(words, np.uint64))
    ours = generator._normal_pairs(len(words) // 2)
    assert list(map(float.hex, ours)) == list(map(float.hex, reference_pairs(words)))


def test_uniforms_across_a_block_end_are_the_blocks():
    """The Python-float uniforms of a draw that crosses a block's end are the doubles numpy makes for a block."""
    words = chosen_words()
    generator = engine_random.Generator()
    generator._load(np.array(words, np.uint64))
    in_python = engine_random._minus_uniforms(words)
    assert len(in_python) == len(words) - 1
    assert list(map(float.hex, in_python)) == list(map(float.hex, generator._minus_uniforms))


@pytest.mark.parametrize("seed", [0, 12])
def test_normal_draws_at_every_offset_of_a_block_are_atens(seed):
    """Draws starting anywhere in the block, those crossing its end included, read the twister's words."""
    for offset in [*range(0, 12), *range(600, 640), *range(1230, 1250)]:
        for count in (1, 2, 3, 4, 7, 15):
            generator = engine_random.Generator().manual_seed(seed)
            twister = np.random.MT19937()
            twister.state = engine_random._seeded_state(seed)
            generator.words(offset % 5)  # some words read through numpy, the rest through the block
            generator._word_list(offset - offset % 5)
            twister.random_raw(offset)
            words = twister.random_raw(4 * ((count + 1) // 2)).tolist()
            expected = reference_pairs(words)[:count]
            assert list(map(float.hex, generator._normal_pairs(count))) == list(map(float.hex, expected))
