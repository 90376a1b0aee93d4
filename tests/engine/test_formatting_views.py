"""Printing a huge expanded view gathers only the shown elements, and reads as PyTorch's summary."""

from __future__ import annotations

import time
import tracemalloc

import pytest

import gradstudio.engine as engine


@pytest.fixture(scope="module")
def torch():
    """Real PyTorch, or a skip when it is not installed."""
    return pytest.importorskip(
        "torch", reason="PyTorch not installed: differential tests against real PyTorch skipped"
    )


@pytest.mark.parametrize("shape", [(100000, 100000), (1000, 1000, 1000, 1000), (7, 100000), (100000, 1)])
def test_repr_of_a_huge_expanded_view_matches_pytorch_without_materialising(torch, shape: tuple) -> None:
    ours = engine.ones(1).expand(*shape)
    tracemalloc.start()
    started = time.monotonic()
    try:
        text = repr(ours)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10  # a sanity bound: materialising the first shape needs 37 GiB
    assert peak < 50 * 2**20
    assert text == repr(torch.ones(1).expand(*shape))


def test_an_expanded_view_with_differing_values_prints_the_right_edges(torch) -> None:
    ours = engine.arange(12.0).reshape(3, 1, 4).expand(3, 50000, 4) * 1.5
    theirs = torch.arange(12.0).reshape(3, 1, 4).expand(3, 50000, 4) * 1.5
    assert repr(ours.expand(2, 3, 50000, 4)) == repr(theirs.expand(2, 3, 50000, 4))
    assert str(engine.arange(2000).expand(1000, 2000)) == str(torch.arange(2000).expand(1000, 2000))
