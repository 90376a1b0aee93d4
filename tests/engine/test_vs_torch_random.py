"""Random numbers bit for bit against PyTorch's CPU generator: every draw, size path, dtype and seed."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

import gradstudio.engine as engine  # noqa: E402

SIZES = [*range(1, 101), 127, 1000, 4097]  # below 16, the blocks of 16 with and without a tail, larger


def drawn(module, seed, draw):
    """What `draw(module)` gives right after `module.manual_seed(seed)`, as plain arrays."""
    module.manual_seed(seed)
    result = draw(module)
    items = result if isinstance(result, (list, tuple)) else [result]
    return [np.ascontiguousarray(item.numpy()) for item in items]


def assert_bitwise(seed, draw):
    ours, theirs = drawn(engine, seed, draw), drawn(torch, seed, draw)
    assert len(ours) == len(theirs)
    for mine, real in zip(ours, theirs):
        assert mine.dtype == real.dtype and mine.shape == real.shape
        assert np.array_equal(mine.view(np.uint8), real.view(np.uint8)), f"{np.sum(mine != real)} values differ"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["rand", "randn"])
def test_every_size_path_is_bitwise(name, dtype):
    for n in SIZES:
        assert_bitwise(n, lambda t, n=n: getattr(t, name)(n, dtype=getattr(t, dtype)))


TABLE = [
    ("rand_2d", lambda t: t.rand(3, 5), 0),
    ("rand_size_tuple", lambda t: t.rand((4, 6), dtype=t.float64), 1),
    ("randn_3d", lambda t: t.randn(2, 3, 4), 2),
    ("randn_large", lambda t: t.randn(100_000), 3),
    ("randn_large_f64", lambda t: t.randn(3000, dtype=t.float64), 4),
    ("randint_high", lambda t: t.randint(10, (20,)), 5),
    ("randint_low_high", lambda t: t.randint(-5, 7, (3, 4)), 6),
    ("randint_64bit_range", lambda t: t.randint(0, 2**40, (9,)), 7),
    ("randint_dtype", lambda t: t.randint(0, 3, (5,), dtype=t.float32), 8),
    ("randperm_small", lambda t: t.randperm(1), 9),
    ("randperm", lambda t: t.randperm(10), 10),
    ("randperm_large", lambda t: t.randperm(2000), 11),
    ("normal_floats", lambda t: t.normal(2.0, 3.0, size=(5,)), 12),
    ("normal_floats_fill", lambda t: t.normal(-1.5, 0.3, size=(40,)), 13),
    ("normal_floats_f64", lambda t: t.normal(0.3, 1.7, (70,), dtype=t.float64), 14),
    ("normal_tensors", lambda t: t.normal(t.arange(20.0), t.ones(20) * 2), 15),
    ("normal_tensor_mean", lambda t: t.normal(t.arange(6.0), 0.5), 16),
    ("normal_tensor_std", lambda t: t.normal(1.0, t.ones(3, 20) * 2), 17),
    ("bernoulli_probs", lambda t: t.bernoulli(t.rand(50)), 18),
    ("bernoulli_probs_f64", lambda t: t.bernoulli(t.rand(50, dtype=t.float64)), 19),
    ("bernoulli_scalar_p", lambda t: t.bernoulli(t.ones(30), 0.3), 20),
    ("bernoulli_method", lambda t: t.rand(7).bernoulli(), 21),
    ("uniform_", lambda t: t.zeros(5, 7).uniform_(-2, 3), 22),
    ("uniform_f64", lambda t: t.zeros(1000, dtype=t.float64).uniform_(-3**-0.5, 3**-0.5), 23),
    ("uniform_narrow", lambda t: t.zeros(1000, dtype=t.float64).uniform_(2.5, 2.6), 24),
    ("normal_", lambda t: t.zeros(40).normal_(1, 2), 25),
    ("normal_small", lambda t: t.zeros(3).normal_(1, 2), 26),
    ("normal_non_contiguous", lambda t: t.zeros(30, 20).t().normal_(), 27),
    ("uniform_non_contiguous", lambda t: t.zeros(3, 4).t().uniform_(), 28),
    ("bernoulli_", lambda t: t.zeros(9).bernoulli_(0.4), 29),
    ("likes", lambda t: [t.rand_like(t.ones(3)), t.randn_like(t.ones(30, dtype=t.float64)),
                         t.randint_like(t.ones(4), 10), t.randint_like(t.ones(4), 3, 9)], 30),
    ("negative_seed", lambda t: t.randn(5), -7),
    ("large_seed", lambda t: t.rand(5), 2**63 + 12345),
]


@pytest.mark.parametrize(("draw", "seed"), [(draw, seed) for _, draw, seed in TABLE], ids=[row[0] for row in TABLE])
def test_table_is_bitwise(draw, seed):
    assert_bitwise(seed, draw)


def test_mixed_sequence_after_one_seed_is_bitwise():
    """The cached second normal of a pair carries over to the next draw, and every word is consumed in order."""
    def sequence(t):
        return [t.randn(3), t.rand(2), t.randn(1), t.randn(20), t.randn(1), t.randint(0, 9, (3,)),
                t.randn(2, dtype=t.float64), t.randperm(5), t.randn(17), t.rand(1, dtype=t.float64), t.randn(1)]
    for seed in (0, 1, 42, 2024):
        assert_bitwise(seed, sequence)


def test_manual_seed_resets_the_cached_normal():
    assert_bitwise(5, lambda t: [t.randn(1), t.manual_seed(5) and t.randn(1)])


def test_generator_objects():
    ours, theirs = engine.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed() == 67280421310721
    assert ours.manual_seed(7) is ours
    theirs.manual_seed(7)
    for draw in (lambda t, g: t.randn(30, generator=g), lambda t, g: t.rand(3, generator=g),
                 lambda t, g: t.randint(0, 5, (4,), generator=g), lambda t, g: t.randperm(6, generator=g)):
        assert np.array_equal(draw(engine, ours).numpy(), draw(torch, theirs).numpy())
    assert ours.initial_seed() == theirs.initial_seed() == 7


def test_generator_does_not_touch_the_default_one():
    assert_bitwise(3, lambda t: [t.randn(4, generator=t.Generator().manual_seed(1)), t.randn(4)])


def test_initial_seed_and_seed():
    engine.manual_seed(2**64 - 1)
    assert engine.initial_seed() == 2**64 - 1
    engine.manual_seed(-1)
    assert engine.initial_seed() == 2**64 - 1
    chosen = engine.seed()
    assert engine.initial_seed() == chosen


def test_state_layout_and_round_trip_with_pytorch():
    for module in (engine, torch):
        module.manual_seed(3)
        module.randn(3)  # leaves a cached normal
    ours, theirs = engine.get_rng_state(), torch.get_rng_state()
    assert ours.numpy().tobytes() == theirs.numpy().tobytes()
    engine.set_rng_state(torch.get_rng_state())
    assert np.array_equal(engine.randn(5).numpy(), torch.randn(5).numpy())
    state = engine.get_rng_state()
    first = engine.rand(10).numpy()
    engine.set_rng_state(state)
    assert np.array_equal(engine.rand(10).numpy(), first)


def test_refusals_match():
    for draw in (lambda t: t.rand(2, dtype=t.int64), lambda t: t.randn(2, dtype=t.int64),
                 lambda t: t.randint(3, 3, (2,))):
        with pytest.raises(RuntimeError) as real:
            draw(torch)
        with pytest.raises(RuntimeError) as ours:
            draw(engine)
        assert str(ours.value) == str(real.value)


def test_size_keyword():
    assert_bitwise(4, lambda t: [t.randn(size=(2, 3)), t.rand(size=[4]), t.randn(size=(20,))])
