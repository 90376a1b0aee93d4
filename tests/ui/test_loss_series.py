"""The Train panel's loss curve converts only the steps added since its last look (issue 13)."""

from __future__ import annotations

import numpy as np

from gradstudio.ui.panels.train_panel import GrowingSeries


def test_a_growing_history_is_followed_step_by_step() -> None:
    series = GrowingSeries()
    history: list[float] = []
    for step in range(3000):  # past the first buffer's size
        history.append(1.0 / (step + 1))
        if step % 97 == 0 or step == 2999:
            values = series.follow(history)
            assert np.array_equal(values, np.asarray(history))
            assert np.array_equal(series.steps(len(values)), np.arange(1, len(history) + 1))


def test_another_or_shorter_history_starts_again() -> None:
    series = GrowingSeries()
    series.follow([3.0, 2.0, 1.0])
    assert series.follow([5.0]).tolist() == [5.0], "another list"
    same = [1.0, 2.0]
    series.follow(same)
    same.clear()
    same.append(9.0)
    assert series.follow(same).tolist() == [9.0], "the same list, emptied and refilled"
