"""Lessons: hiding values and gradients, reading predictions, checking them within tolerance, the file."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest
from gsg_samples import base_data, changed

from gradstudio import resource_files
from gradstudio.model.document import EditError
from gradstudio.model.io.fileformat import CURRENT_VERSION, GraphFileError, dumps, load, loads
from gradstudio.model.lesson import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    Hidden,
    PredictionError,
    SetHidden,
    hidden_items,
    parse_prediction,
)
from gradstudio.model.lesson_play import Lesson, summed_dims
from gradstudio.model.workspace import GraphWorkspace

torch = pytest.importorskip("torch", reason="real PyTorch is the oracle of the lesson's truths")


def lesson_file(name: str):
    return load(resource_files.resource_path("examples") / f"lesson_{name}.gsg")


def ids_of(document) -> dict[str, str]:
    return {node.name: node.id for node in document.nodes.values()}


def text_of(tensor) -> str:
    """Numbers as a learner types them: `[6.0, 6.0, 6.0]`."""
    return json.dumps(tensor.detach().tolist())


def notes_in_torch():
    x = torch.ones(3, requires_grad=True)
    y = x + 2
    y.retain_grad()
    z = y * y * 3
    out = z.mean()
    out.backward()
    return dict(x=x, y=y, z=z, out=out)


# ----- reading predictions ------------------------------------------------------------------------------------


ACCEPTED = {
    "6": 6.0,
    "-0.5": -0.5,
    " 1/3 ": 1 / 3,
    "2e-3": 0.002,
    "[6, 6, 6]": [6.0, 6.0, 6.0],
    "[6., 6., 6.,]": [6.0, 6.0, 6.0],
    "[[0.75, 0.75], [0.75, 0.75]]": [[0.75, 0.75], [0.75, 0.75]],
    "tensor([4.5000, 4.5000, 4.5000], grad_fn=<MulBackward0>)": [4.5, 4.5, 4.5],
    "[True, False]": [1.0, 0.0],
    "[]": [],
}


@pytest.mark.parametrize(("text", "expected"), ACCEPTED.items(), ids=list(ACCEPTED))
def test_predictions_are_read_as_numbers(text, expected):
    np.testing.assert_array_equal(parse_prediction(text), np.asarray(expected, dtype=np.float64))


REFUSED = {
    "": "type your prediction first",
    "__import__('os').system('true')": "cannot read",
    "x + 2": "cannot read 'x + 2'",
    "[1, 2": "a [ is not closed by a ]",
    "[1, [2, 3]]": "rows of different lengths",
    "[[1, 2], [3]]": "rows of different lengths",
    "[1 2]": "expected a comma or ], got '2'",
    "1, 2": "unexpected ',' after the answer",
    "]": "expected a number, got ']'",
    "1/0": "1/0 divides by zero",
    "1e999": "1e999 is too large for a number",
    "[" * 7 + "1" + "]" * 7: "lists may nest at most 6 deep",
    "[" + "1, " * 1200 + "]": "at most 1000 numbers",
    "1" * 6000: "at most 5000 characters",
}


@pytest.mark.parametrize(("text", "message"), REFUSED.items(), ids=list(range(len(REFUSED))))
def test_bad_predictions_are_refused_with_a_reason(text, message):
    with pytest.raises(PredictionError, match=re.escape(message)):
        parse_prediction(text)


# ----- authoring ----------------------------------------------------------------------------------------------


def test_hiding_is_an_edit_that_undoes():
    document = loads(json.dumps(base_data()))
    before = document.snapshot()
    inverse = SetHidden("n3", "value", Hidden(hint="x + 2")).apply(document)
    assert document.nodes["n3"].hidden == {"value": Hidden(DEFAULT_ATOL, DEFAULT_RTOL, "x + 2")}
    SetHidden("n1", "grad", Hidden(atol=0.5)).apply(document)
    assert hidden_items(document) == [("n1", "grad"), ("n3", "value")]
    inverse.apply(document)
    assert document.nodes["n3"].hidden == {}
    SetHidden("n1", "grad", None).apply(document)
    assert document.snapshot() == before


REFUSED_EDITS = {
    "unknown kind": (SetHidden("n3", "shape", Hidden()), "a node can hide its value or its grad, not 'shape'"),
    "negative tolerance": (SetHidden("n3", "value", Hidden(atol=-1)), "the atol tolerance must lie between 0"),
    "nan tolerance": (SetHidden("n3", "grad", Hidden(rtol=float("nan"))), "must be a finite number"),
    "long hint": (SetHidden("n3", "value", Hidden(hint="h" * 501)), "at most 500 characters"),
    "no node": (SetHidden("n9", "value", Hidden()), "no node with id 'n9'"),
}


@pytest.mark.parametrize(("edit", "message"), REFUSED_EDITS.values(), ids=list(REFUSED_EDITS))
def test_bad_hiding_is_refused_and_changes_nothing(edit, message):
    document = loads(json.dumps(base_data()))
    SetHidden("n3", "grad", Hidden()).apply(document)
    before = document.snapshot()
    with pytest.raises(EditError, match=message):
        edit.apply(document)
    assert document.snapshot() == before


# ----- playing ------------------------------------------------------------------------------------------------


def test_forward_chain_truths_are_pytorchs_and_answers_are_scored():
    document = lesson_file("forward_chain")
    names = ids_of(document)
    lesson = Lesson(GraphWorkspace(document))
    oracle = notes_in_torch()
    assert lesson.playing and lesson.score().total == 5
    right = lesson.reveal(names["y"], "value", text_of(oracle["y"]))
    assert right.correct is True and right.message.startswith("Right: y = [3, 3, 3]")
    assert right.explanation == "y = x + 2 with x = [1, 1, 1], so y = [3, 3, 3]"
    wrong = lesson.reveal(names["x"], "grad", "[2, 2, 2]")
    np.testing.assert_allclose(wrong.truth, oracle["x"].grad.numpy())
    assert wrong.correct is False and "you said [2, 2, 2]" in wrong.message
    grad_y = lesson.reveal(names["y"], "grad", text_of(oracle["y"].grad))
    assert grad_y.correct is True
    assert "y is used 2 times: the contributions add up, ∂out/∂y = [3, 3, 3] + [3, 3, 3] = [6, 6, 6]" \
        in grad_y.explanation
    skipped = lesson.reveal(names["out"], "value")
    assert skipped.correct is None and float(skipped.truth) == pytest.approx(oracle["out"].item())
    score = lesson.score()
    assert (score.right, score.attempted, score.total) == (2, 3, 5)
    assert score.text == "Score: 2 of 3 right · 3 of 5 answered"


def test_a_revealed_item_cannot_be_answered_again():
    document = lesson_file("forward_chain")
    lesson = Lesson(GraphWorkspace(document))
    y = ids_of(document)["y"]
    first = lesson.reveal(y, "value")
    assert lesson.reveal(y, "value", "[3, 3, 3]") is first and lesson.score().right == 0


def test_revealing_runs_backward_once_when_none_has_run():
    document = lesson_file("forward_chain")
    workspace = GraphWorkspace(document)
    lesson = Lesson(workspace)
    assert workspace.last_backward is None
    lesson.reveal(ids_of(document)["x"], "grad", "[6, 6, 6]")
    lesson.reveal(ids_of(document)["y"], "grad", "[6, 6, 6]")
    assert workspace.passes[ids_of(document)["x"]] == 1  # not accumulated by the second reveal


@pytest.mark.parametrize(("offset", "right"), [(0.0, True), (0.9 * (DEFAULT_ATOL + DEFAULT_RTOL * 6), True),
                                               (1.1 * (DEFAULT_ATOL + DEFAULT_RTOL * 6), False), (-1.0, False)])
def test_the_default_tolerance_is_absolute_plus_relative(offset, right):
    document = lesson_file("forward_chain")
    lesson = Lesson(GraphWorkspace(document))
    truth = notes_in_torch()["x"].grad + offset
    assert lesson.reveal(ids_of(document)["x"], "grad", text_of(truth)).correct is right


def test_the_author_sets_the_tolerance():
    document = lesson_file("forward_chain")
    x = ids_of(document)["x"]
    SetHidden(x, "grad", Hidden(atol=0.5, rtol=0.0)).apply(document)
    lesson = Lesson(GraphWorkspace(document))
    assert lesson.reveal(x, "grad", "[6.4, 5.6, 6]").correct is True
    lesson.restart()
    assert lesson.reveal(x, "grad", "[6.6, 6, 6]").correct is False


def test_a_wrong_shape_is_wrong_and_says_so():
    document = lesson_file("forward_chain")
    verdict = Lesson(GraphWorkspace(document)).reveal(ids_of(document)["z"], "value", "27")
    assert verdict.correct is False
    assert verdict.message.startswith("Wrong shape: z has shape [3], your answer 27 has shape []")


def test_a_wrong_answer_is_echoed_as_typed():
    document = lesson_file("forward_chain")
    verdict = Lesson(GraphWorkspace(document)).reveal(ids_of(document)["out"], "value", "12345")
    assert verdict.correct is False and verdict.message.endswith("you said 12345")


def test_a_refused_prediction_reveals_nothing():
    document = lesson_file("forward_chain")
    lesson = Lesson(GraphWorkspace(document))
    with pytest.raises(PredictionError):
        lesson.reveal(ids_of(document)["y"], "value", "[3, 3")
    assert lesson.masks(ids_of(document)["y"], "value") and lesson.verdicts == {}


def test_hidden_items_are_masked_until_revealed_and_never_for_the_author():
    document = lesson_file("forward_chain")
    names = ids_of(document)
    lesson = Lesson(GraphWorkspace(document))
    assert lesson.masks(names["y"], "value") and lesson.masks(names["x"], "grad")
    assert not lesson.masks(names["x"], "value") and not lesson.masks(names["y_squared"], "value")
    lesson.reveal(names["y"], "value")
    assert not lesson.masks(names["y"], "value")
    lesson.playing = False
    assert not lesson.masks(names["x"], "grad")


def test_an_explanation_does_not_give_away_another_hidden_item():
    document = lesson_file("forward_chain")
    names = ids_of(document)
    lesson = Lesson(GraphWorkspace(document))
    assert "∂out/∂y = ?" in lesson.reveal(names["x"], "grad").explanation  # y.grad is still hidden
    lesson.reveal(names["y"], "grad")
    assert "∂out/∂y = [6, 6, 6]" in lesson.explain(names["x"], "grad")


def test_no_grad_lesson_takes_none_for_a_gradient_that_never_arrives():
    document = lesson_file("no_grad")
    names = ids_of(document)
    lesson = Lesson(GraphWorkspace(document))
    verdict = lesson.reveal(names["x"], "grad", "None")
    assert verdict.correct is True and verdict.truth is None
    assert "does not require grad" in verdict.message
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        y = x * 2
    assert lesson.reveal(names["y"], "value", text_of(y)).correct is True
    assert lesson.reveal(names["total"], "value", "None").correct is False


def test_broadcasting_lesson_explains_the_sum_over_dim_0():
    document = lesson_file("broadcasting")
    names = ids_of(document)
    lesson = Lesson(GraphWorkspace(document))
    X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = X + b
    h.sum().backward()
    assert lesson.reveal(names["h"], "value", text_of(h)).correct is True
    verdict = lesson.reveal(names["b"], "grad", text_of(b.grad))
    assert verdict.correct is True
    assert "b was broadcast, so its gradient is summed over dim 0 back to b's shape [3] → [2, 2, 2]" \
        in verdict.explanation


@pytest.mark.parametrize(("out", "given", "dims"), [((2, 3), (3,), (0,)), ((2, 3), (2, 1), (1,)),
                                                    ((4, 2, 3), (2, 1), (0, 2)), ((2, 3), (2, 3), None),
                                                    ((2, 3), (), (0, 1)), ((6,), (2, 3), None), ((3,), (2,), None)])
def test_summed_dims_matches_pytorchs_broadcast_reduction(out, given, dims):
    assert summed_dims(out, given) == dims
    if dims is not None:
        leaf = torch.zeros(given, requires_grad=True)
        (leaf + torch.ones(out)).sum().backward()  # the gradient PyTorch sums back
        assert torch.ones(out).sum(dim=dims).reshape(given).equal(leaf.grad)


# ----- the file -----------------------------------------------------------------------------------------------


def test_hidden_items_round_trip_through_the_file():
    document = lesson_file("broadcasting")
    SetHidden(ids_of(document)["h"], "grad", Hidden(atol=0.25, rtol=0.0, hint="ünïcode ∂")).apply(document)
    text = dumps(document)
    again = loads(text)
    assert {n.id: n.hidden for n in again.nodes.values()} == {n.id: n.hidden for n in document.nodes.values()}
    assert dumps(again) == text
    record = json.loads(text)["nodes"][2]
    assert record["hidden"]["grad"] == {"atol": 0.25, "rtol": 0.0, "hint": "ünïcode ∂"}
    assert list(record)[-1] == "hidden"


def test_a_graph_that_hides_nothing_has_no_hidden_key():
    assert "hidden" not in dumps(loads(json.dumps(base_data())))


def test_version_4_files_migrate_and_may_not_hide():
    data = json.loads(dumps(loads(json.dumps(base_data()))))
    data["version"] = 4
    document = loads(json.dumps(data))
    assert json.loads(dumps(document))["version"] == CURRENT_VERSION == 5
    assert all(node.hidden == {} for node in document.nodes.values())
    data["nodes"][2]["hidden"] = {"value": {}}
    with pytest.raises(GraphFileError) as raised:
        loads(json.dumps(data))
    assert str(raised.value) == "nodes[2].hidden: unexpected key; files of version 4 have no hidden lesson items"


def _v5(*steps: tuple):
    def mutate(data: dict) -> dict:
        data = changed(*steps)(data)
        data["version"] = 5
        return data
    return mutate


BAD_HIDDEN = {
    "not an object": (_v5((("nodes", 2, "hidden"), [])), "nodes[2].hidden: expected an object, got an array"),
    "unknown kind": (_v5((("nodes", 2, "hidden"), {"shape": {}})),
                     "nodes[2].hidden.shape: unexpected key; expected only value, grad"),
    "unknown setting": (_v5((("nodes", 2, "hidden"), {"grad": {"tol": 1}})),
                        "nodes[2].hidden.grad.tol: unexpected key; expected only atol, rtol, hint"),
    "tolerance as text": (_v5((("nodes", 2, "hidden"), {"grad": {"rtol": "1%"}})),
                          "nodes[2].hidden.grad.rtol: expected a number, got a string"),
    "negative tolerance": (_v5((("nodes", 2, "hidden"), {"value": {"atol": -1}})),
                           "nodes[2].hidden.value: the atol tolerance must lie between 0 and 1e+06, got -1.0"),
    "hint as number": (_v5((("nodes", 2, "hidden"), {"value": {"hint": 3}})),
                       "nodes[2].hidden.value.hint: expected a string, got a number"),
}


@pytest.mark.parametrize(("mutation", "message"), BAD_HIDDEN.values(), ids=list(BAD_HIDDEN))
def test_bad_hidden_records_are_refused_at_their_place(mutation, message):
    with pytest.raises(GraphFileError) as raised:
        loads(json.dumps(mutation(copy.deepcopy(base_data()))))
    assert str(raised.value) == message


def test_defaults_fill_missing_settings():
    document = loads(json.dumps(_v5((("nodes", 2, "hidden"), {"value": {}}))(base_data())))
    assert document.nodes["n3"].hidden == {"value": Hidden()}
