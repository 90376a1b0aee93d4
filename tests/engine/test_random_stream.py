"""The generator reads the twister a block at a time (`Generator._word_list`) and writes randn's few values straight
into a float32 array (`random._PACK_FLOAT32`): the words, the state and the numbers stay exactly those of reading
numpy's MT19937 word by word, and of PyTorch, whatever mix of draws, seeds and saved states comes first."""

from __future__ import annotations

import random as python_random
import struct

import numpy as np
import pytest

import gradstudio.engine as engine
from gradstudio.engine import random as engine_random

try:
    import torch as real_torch
except ImportError:  # the engine-only cases still run; the comparisons with PyTorch skip, saying so
    real_torch = None
needs_torch = pytest.mark.skipif(real_torch is None,
                                 reason="PyTorch not installed: differential tests against real PyTorch skipped")


def reference_twister(seed: int) -> np.random.MT19937:
    twister = np.random.MT19937()
    twister.state = engine_random._seeded_state(seed)
    return twister


def numpy_position(generator: engine_random.Generator) -> int:
    return int(generator._bits.state["state"]["pos"])


@pytest.mark.parametrize("seed", [0, 5, 2024])
def test_words_read_through_the_block_are_the_twisters_in_order(seed):
    """Small reads (the block) and large ones (numpy) interleaved, across many block ends, give the twister's words
    in order, and the generator always knows numpy's position without asking it."""
    generator, reference = engine_random.Generator().manual_seed(seed), reference_twister(seed)
    chooser = python_random.Random(seed)
    for _ in range(400):
        count = chooser.choice([1, 2, 3, 4, 8, 12, 28, 32, 0, 5, 623, 624, 625, 700, 1500])
        if chooser.random() < 0.5 and count:
            got = generator._word_list(count)
        else:
            got = generator.words(count).tolist()
        assert got == reference.random_raw(count).tolist()
        assert generator._position == numpy_position(generator)


@pytest.mark.parametrize("seed", [1, 77])
def test_state_saved_anywhere_in_a_block_restores_the_same_stream(seed):
    generator = engine_random.Generator().manual_seed(seed)
    chooser = python_random.Random(seed)
    for _ in range(300):
        generator._word_list(chooser.choice([4, 8, 12, 32]))
        if chooser.random() < 0.2:
            generator.words(chooser.choice([3, 700]))
        state = generator.get_state()
        ahead = [generator._word_list(8), generator.words(5).tolist(), generator._word_list(640)]
        generator.set_state(state)
        assert generator._position == numpy_position(generator)
        assert [generator._word_list(8), generator.words(5).tolist(), generator._word_list(640)] == ahead
        generator.set_state(state)


def test_a_fresh_seed_forgets_the_block():
    generator = engine_random.Generator().manual_seed(3)
    first = generator._word_list(12)
    generator._word_list(100)
    generator.manual_seed(3)
    assert generator._word_list(12) == first
    generator._word_list(5)
    generator.manual_seed(3)
    assert generator.words(12).tolist() == first


# Doubles around float32's rounding boundaries: halfway cases both ways, subnormals, the extremes, signed zeros
EDGES = [0.0, -0.0, 1.0, -1.0, 1.0 + 2.0 ** -24, 1.0 + 3 * 2.0 ** -24, 1.0 + 2.0 ** -24 + 2.0 ** -52,
         1.0 + 2.0 ** -24 - 2.0 ** -53, 2.0 ** -126, 2.0 ** -149, 2.0 ** -150, 3 * 2.0 ** -151, 2.0 ** -151,
         1e-45, 1.4e-45, 3.4028234663852886e38, 3.4028235677973362e38, 3.4028235677973366e38, 1e300, float("inf"),
         -float("inf"), 0.1, 1 / 3, -8.5, 8.571, np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0)]


def test_packing_rounds_as_numpys_float32_cast():
    chooser = np.random.default_rng(0)
    values = EDGES + [-value for value in EDGES] + chooser.standard_normal(4000).tolist()
    values += (chooser.standard_normal(4000) * 1e-38).tolist() + np.frombuffer(chooser.bytes(8 * 4000)).tolist()
    values = [value for value in values if value == value]  # NaNs: no draw makes them
    for start in range(0, len(values), 15):
        chunk = values[start:start + 15]
        packed = np.empty(len(chunk), np.float32)
        engine_random._PACK_FLOAT32[len(chunk)](packed, 0, *chunk)
        expected = np.array(chunk, np.float64).astype(np.float32)
        assert packed.view(np.uint32).tolist() == expected.view(np.uint32).tolist(), chunk


def test_pack_formats_are_native_float32():
    assert [struct.Struct(f"{count}f").size for count in range(16)] == [4 * count for count in range(16)]


def test_standard_normal_is_the_general_draw_in_its_shape():
    for shape in [(1,), (3,), (2, 2), (5, 3), (15,), (16,), (4, 4), (17,), (0,), (2, 0, 3), (1, 1, 1, 7)]:
        ours, general = engine_random.Generator().manual_seed(9), engine_random.Generator().manual_seed(9)
        for _ in range(3):
            drawn = ours.standard_normal(shape)
            expected = general.normal(int(np.prod(shape)), np.float32).reshape(shape)
            assert drawn.dtype == np.float32 and drawn.shape == shape and drawn.flags.c_contiguous
            assert drawn.flags.writeable
            assert drawn.tobytes() == expected.tobytes()


def state_bytes(module) -> bytes:
    return module.get_rng_state().numpy().tobytes()


DRAWS = [
    ("randn", lambda t, n: t.randn(n)),
    ("randn 2d grad", lambda t, n: t.randn(2, n, requires_grad=True)),
    ("rand", lambda t, n: t.rand(n)),
    ("rand f64", lambda t, n: t.rand(n, dtype=t.float64)),
    ("randint", lambda t, n: t.randint(0, 7, (n,))),
    ("randint 64 bit", lambda t, n: t.randint(0, 2 ** 40, (n,))),
    ("randperm", lambda t, n: t.randperm(n)),
    ("normal_", lambda t, n: t.zeros(n).normal_(1.0, 2.0)),
    ("normal_ f64", lambda t, n: t.zeros(n, dtype=t.float64).normal_()),
    ("uniform_", lambda t, n: t.zeros(n).uniform_(-1, 1)),
    ("bernoulli_", lambda t, n: t.zeros(n).bernoulli_(0.3)),
    ("randn f64", lambda t, n: t.randn(n, dtype=t.float64)),
]


@needs_torch
@pytest.mark.parametrize("seed", [0, 3, 2024, 67280421310721])
def test_any_mix_of_draws_is_pytorchs_numbers_and_state(seed):
    """A long seeded mix of every draw (most of them small, so the block ends are crossed many times in every
    phase), with states saved and restored: each result and the state after each one are PyTorch's bytes."""
    chooser = python_random.Random(seed)
    steps = [(chooser.choice(DRAWS), chooser.choice([1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 40, 700]))
             for _ in range(250)]
    saved = {}
    for module in (engine, real_torch):
        module.manual_seed(seed)
    for index, ((label, draw), count) in enumerate(steps):
        ours, theirs = draw(engine, count), draw(real_torch, count)
        assert ours.detach().numpy().tobytes() == theirs.detach().numpy().tobytes(), (index, label, count)
        assert state_bytes(engine) == state_bytes(real_torch), (index, label, count)
        if index % 37 == 5:
            saved = {"engine": engine.get_rng_state(), "torch": real_torch.get_rng_state()}
        if index % 37 == 20 and saved:
            engine.set_rng_state(saved["engine"])
            real_torch.set_rng_state(saved["torch"])


@needs_torch
def test_a_state_from_pytorch_mid_block_continues_as_pytorch():
    real_torch.manual_seed(11)
    engine.manual_seed(11)
    for count in (3, 5, 1, 9):
        real_torch.randn(count)
        engine.randn(count)
    engine.set_rng_state(real_torch.get_rng_state())
    for _ in range(200):
        assert engine.randn(2, 2).numpy().tobytes() == real_torch.randn(2, 2).numpy().tobytes()
        assert state_bytes(engine) == state_bytes(real_torch)
