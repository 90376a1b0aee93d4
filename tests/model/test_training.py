"""Training runs on the model: the examples reach their results, a run is one edit that undo reverses exactly,
pause and stop work from another thread, bad settings are refused, and settings and history save with the graph."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from gradstudio.model.document import EditError
from gradstudio.model.edits import SetSetting
from gradstudio.model.io.fileformat import GraphFileError, dumps, load, loads, save
from gradstudio.model.train_settings import TrainSettings
from gradstudio.model.training import TrainingError, TrainRun, train, training_edit
from gradstudio.model.workspace import GraphWorkspace

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def _open(name: str) -> GraphWorkspace:
    return GraphWorkspace(load(EXAMPLES / f"{name}.gsg"))


def _node(workspace: GraphWorkspace, name: str) -> str:
    return next(node_id for node_id, node in workspace.document.nodes.items() if node.name == name)


def _array(workspace: GraphWorkspace, name: str) -> np.ndarray:
    return workspace.value(_node(workspace, name)).detach().numpy()


def test_linear_regression_recovers_the_least_squares_slope_and_intercept() -> None:
    workspace = _open("linear_regression")
    x, y = _array(workspace, "X").ravel(), _array(workspace, "y").ravel()
    slope, intercept = np.polyfit(x, y, 1)
    train(workspace, workspace.document.settings.training)
    assert _array(workspace, "w").item() == pytest.approx(slope, abs=1e-3)
    assert _array(workspace, "b").item() == pytest.approx(intercept, abs=1e-3)


def test_xor_mlp_trains_below_a_loss_of_0_01() -> None:
    workspace = _open("xor_mlp")
    result = train(workspace, workspace.document.settings.training)
    assert result.history[-1] < 0.01 and workspace.value(_node(workspace, "loss")).item() < 0.01
    assert np.array_equal(_array(workspace, "p").round(), _array(workspace, "y"))


@pytest.mark.parametrize(("name", "accuracy"), [("softmax_classifier", 1.0), ("moons_mlp", 0.9)])
def test_classifiers_separate_their_data(name: str, accuracy: float) -> None:
    workspace = _open(name)
    result = train(workspace, workspace.document.settings.training)
    assert result.history[-1] < result.history[0] / 5
    predicted = _array(workspace, "logits").argmax(axis=1)
    assert (predicted == _array(workspace, "labels")).mean() >= accuracy


def test_a_run_is_one_edit_and_undo_restores_the_parameters_exactly() -> None:
    workspace = _open("xor_mlp")
    before = {name: _array(workspace, name).copy() for name in ("W1", "b1", "W2", "b2")}
    snapshot = workspace.document.snapshot()
    settings = TrainSettings(loss=_node(workspace, "loss"), optimiser="sgd", lr=0.5, momentum=0.9, steps=50)
    run = TrainRun(workspace, settings)
    result = run.run()
    inverse = workspace.document.apply(training_edit(workspace.document, settings, result))
    trained = _array(workspace, "W1").copy()
    assert not np.array_equal(trained, before["W1"]) and workspace.document.settings.loss_history == tuple(
        result.history)
    np.testing.assert_array_equal(trained, result.parameters[_node(workspace, "W1")])
    workspace.document.apply(inverse)
    assert workspace.document.snapshot() == snapshot
    for name, array in before.items():
        np.testing.assert_array_equal(_array(workspace, name), array)


def test_pause_resume_and_stop_from_another_thread() -> None:
    workspace = _open("xor_mlp")
    run = TrainRun(workspace, TrainSettings(loss=_node(workspace, "loss"), steps=100_000))
    reached = threading.Event()
    results = []

    def progress(step: int, loss: float) -> None:
        if step == 5:
            run.pause()
            reached.set()

    worker = threading.Thread(target=lambda: results.append(run.run(progress)))
    worker.start()
    assert reached.wait(10)
    assert run.paused and len(run.history) == 5
    run.resume()
    run.stop()
    worker.join(10)
    assert not worker.is_alive()
    (result,) = results
    assert result.stopped and 5 <= result.steps < 100_000 and result.error is None


@pytest.mark.parametrize(("settings", "message"), [
    (TrainSettings(), "choose the loss node"),
    (TrainSettings(loss="n13", parameters=("n1",)), "parameter X must be a float tensor with requires_grad"),
    (TrainSettings(loss="n12"), "the loss p must be a tensor with one element"),
    (TrainSettings(loss="n13", optimiser="sgd", nesterov=True), "Nesterov momentum needs SGD with a momentum"),
])
def test_runs_the_graph_cannot_do_are_refused_with_a_reason(settings: TrainSettings, message: str) -> None:
    workspace = _open("xor_mlp")
    assert workspace.document.nodes["n13"].name == "loss"
    with pytest.raises(TrainingError, match=message):
        TrainRun(workspace, settings)


def test_settings_and_loss_history_save_and_load(tmp_path: Path) -> None:
    workspace = _open("softmax_classifier")
    settings = TrainSettings(loss=_node(workspace, "loss"), optimiser="rmsprop", lr=0.05, steps=20,
                             schedule="step", step_size=5, gamma=0.5, batch_size=4, seed=2)
    result = train(workspace, settings)
    path = tmp_path / "trained.gsg"
    save(workspace.document, path)
    reopened = GraphWorkspace(load(path))
    assert reopened.document.settings.training == settings
    assert reopened.document.settings.loss_history == tuple(result.history)
    np.testing.assert_array_equal(_array(reopened, "W"), _array(workspace, "W"))
    assert dumps(reopened.document) == path.read_text(encoding="utf-8")


def test_a_diverged_loss_is_saved_as_null() -> None:
    workspace = _open("linear_regression")
    workspace.document.apply(SetSetting("loss_history", [1.0, float("inf")]))
    text = dumps(workspace.document)
    assert '"loss_history": [1.0, null]' in text
    assert np.isnan(loads(text).settings.loss_history[1])


@pytest.mark.parametrize(("training", "message"), [
    ({"optimiser": "lbfgs"}, "settings.training.optimiser: expected one of sgd, adam, adamw, rmsprop, got 'lbfgs'"),
    ({"steps": "many"}, "settings.training.steps: expected an integer, got 'many'"),
    ({"loss": "n99"}, "settings.training.loss: no node with id 'n99'"),
    ({"speed": 1}, "settings.training.speed: unexpected key"),
])
def test_bad_training_settings_in_a_file_are_named(training: dict, message: str) -> None:
    data = json.loads(dumps(_open("linear_regression").document))
    data["settings"]["training"] = training
    with pytest.raises(GraphFileError, match=message.replace("(", r"\(")):
        loads(json.dumps(data))


def test_the_document_refuses_settings_that_are_not_train_settings() -> None:
    workspace = _open("linear_regression")
    with pytest.raises(EditError, match="expected TrainSettings"):
        workspace.document.apply(SetSetting("training", {"lr": 1}))


def test_a_held_run_waits_and_moved_leaves_recompute_what_they_feed() -> None:
    workspace = _open("xor_mlp")
    loss_id = _node(workspace, "loss")
    before = workspace.value(loss_id).item()
    run = TrainRun(workspace, TrainSettings(loss=loss_id, steps=100_000))
    run.hold()
    worker = threading.Thread(target=run.run)
    worker.start()
    worker.join(0.3)
    assert run.history == [] and worker.is_alive()
    run.release()
    while len(run.history) < 20:
        worker.join(0.01)
    run.hold()
    workspace.leaves_moved(run.parameters)
    assert workspace.value(loss_id).item() < before
    run.stop()
    worker.join(10)
    assert not worker.is_alive()
