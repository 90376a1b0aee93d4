"""Decision regions of the 2-D classifier examples: computed for class scores and probabilities, after training
they agree with the labels at the data points, and nodes that are no classifier of 2-D data have none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradstudio.model.io.fileformat import load
from gradstudio.model.regions import decision_regions
from gradstudio.model.training import train
from gradstudio.model.workspace import GraphWorkspace

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def _open(name: str) -> tuple[GraphWorkspace, dict[str, str]]:
    workspace = GraphWorkspace(load(EXAMPLES / f"{name}.gsg"))
    return workspace, {node.name: node_id for node_id, node in workspace.document.nodes.items()}


@pytest.mark.parametrize(("name", "node", "count"), [("softmax_classifier", "logits", 3), ("xor_mlp", "p", 2),
                                                     ("moons_mlp", "logits", 2)])
def test_trained_regions_agree_with_the_labels(name: str, node: str, count: int) -> None:
    workspace, ids = _open(name)
    train(workspace, workspace.document.settings.training)
    regions = decision_regions(workspace, ids[node])
    assert regions is not None and regions.count == count and regions.classes.shape == (80, 80)
    cells = [(np.abs(regions.ys - y).argmin(), np.abs(regions.xs - x).argmin()) for x, y in regions.points]
    predicted = np.array([regions.classes[row, column] for row, column in cells])
    assert (predicted == regions.labels).mean() >= 0.9
    assert set(np.unique(regions.classes)) <= set(range(count))


@pytest.mark.parametrize(("name", "node"), [("xor_mlp", "loss"), ("linear_regression", "pred"),
                                            ("xor_mlp", "W1"), ("notes_forward_backward", "out")])
def test_other_nodes_have_no_regions(name: str, node: str) -> None:
    workspace, ids = _open(name)
    assert decision_regions(workspace, ids[node]) is None
