"""float32 sums, means and linspace give PyTorch's bits, not just values within a tolerance.

PyTorch adds a float32 row as vectors with cascaded accumulators (engine/_summation.py);
numpy's pairwise order rounds differently, and `torch.linspace(-1, 1, 4).sum()` came out
0.0 instead of 5.96e-08. Sizes up to the engine's exact limit must agree bit for bit;
the share over random larger sizes is measured by bench/float32_agreement.py.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

import gradstudio.engine as engine  # noqa: E402
from gradstudio.engine._summation import EXACT_LIMIT  # noqa: E402

SIZES = list(range(1, 130)) + [255, 256, 257, 511, 512, 513, 640, 1000, 2047, 2048, 3000, EXACT_LIMIT]


def _bits(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float32).view(np.int32)


@pytest.mark.parametrize("size", SIZES)
def test_float32_sum_and_mean_match_pytorch_bit_for_bit(size):
    rng = np.random.default_rng(size)
    for scale in (1.0, 1000.0):
        x = (rng.standard_normal(size) * scale).astype(np.float32)
        for reduction in ("sum", "mean"):
            ours = getattr(engine.from_numpy(x), reduction)().numpy()
            theirs = getattr(torch.from_numpy(x), reduction)().numpy()
            assert _bits(ours) == _bits(theirs), f"{reduction} of {size}: {ours!r} vs {theirs!r}"


@pytest.mark.parametrize("shape", [(3, 5), (7, 8), (4, 33), (2, 3, 17), (5, 640)])
def test_float32_row_sums_match_pytorch_bit_for_bit(shape):
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    for keepdim in (False, True):
        ours = engine.from_numpy(x).sum(-1, keepdim=keepdim).numpy()
        theirs = torch.from_numpy(x).sum(-1, keepdim=keepdim).numpy()
        assert ours.shape == theirs.shape and np.array_equal(_bits(ours), _bits(theirs))
    assert np.array_equal(_bits(engine.from_numpy(x).mean(-1).numpy()), _bits(torch.from_numpy(x).mean(-1).numpy()))


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 4, 5, 7, 20, 33, 64, 100, 1000, 4097])
@pytest.mark.parametrize("ends", [(-1, 1), (0, 1), (-3.7, 2.2), (5, -2), (-100, 37.3)])
def test_float32_linspace_matches_pytorch_bit_for_bit(steps, ends):
    ours = engine.linspace(*ends, steps).numpy()
    theirs = torch.linspace(*ends, steps).numpy()
    assert np.array_equal(_bits(ours), _bits(theirs))


def test_the_fuzzers_linspace_sum_is_pytorchs():
    assert engine.linspace(-1, 1, 4).sum().item() == torch.linspace(-1, 1, 4).sum().item() != 0.0


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy"])
def test_printed_loss_values_are_pytorchs(loss):
    rng = np.random.default_rng(7)
    for rows in (1, 4, 16, 64):
        a = rng.uniform(0.05, 0.95, (rows, 10)).astype(np.float32)
        b = rng.uniform(0.05, 0.95, (rows, 10)).astype(np.float32)
        ours = getattr(engine.nn.functional, loss)(engine.from_numpy(a), engine.from_numpy(b))
        theirs = getattr(torch.nn.functional, loss)(torch.from_numpy(a), torch.from_numpy(b))
        assert f"{ours.item()}" == f"{theirs.item()}" and repr(ours) == repr(theirs)
