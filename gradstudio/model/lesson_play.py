"""Playing a lesson: check a learner's predictions of hidden items against the workspace's truth, and keep score.

The truth is what the workspace computes: a value from evaluation, a gradient as `gradients.py` says the
node shows it after the last Backward (run once from the backward target when none has run). Each reveal
gives a `Verdict`: right or wrong within the author's tolerance, the truth, and the step that explains it:
the line of code with its inputs' numbers for a value, the chain-rule step (`chain_rule.py`) for a gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.chain_rule import ELEMENTWISE, JACOBIAN, SCALAR_OUTPUT, explain_step
from gradstudio.model.chain_rule import format_array as format_lines
from gradstudio.model.io.codegen import statement
from gradstudio.model.lesson import GRAD, VALUE, Hidden, hidden_items, is_lesson, parse_prediction
from gradstudio.model.workspace import GraphWorkspace

Key = tuple[str, str]  # (node id, "value" or "grad")
NONE_ANSWER = "None"  # what a learner types for "there is no gradient here" (x.grad is None)


@dataclass(frozen=True)
class Verdict:
    """One revealed item: the learner's answer as typed (blank: none), its numbers, whether it is right, and why."""

    node_id: str
    kind: str
    answer: str
    prediction: np.ndarray | None
    truth: np.ndarray | None
    correct: bool | None
    message: str
    explanation: str


@dataclass(frozen=True)
class Score:
    """Right answers, answers given, and hidden items in all."""

    right: int
    attempted: int
    total: int

    @property
    def text(self) -> str:
        """`Score: 2 of 3 right · 3 of 5 answered`."""
        return f"Score: {self.right} of {self.attempted} right · {self.attempted} of {self.total} answered"


class Lesson:
    """A learner's pass through one document's hidden items; `playing` False is the author's view (nothing masked)."""

    def __init__(self, workspace: GraphWorkspace, run_backward: Callable[[str], Any] | None = None) -> None:
        self.workspace = workspace
        self.playing = is_lesson(workspace.document)
        self.verdicts: dict[Key, Verdict] = {}
        self._run_backward = run_backward or workspace.backward

    @property
    def document(self) -> Any:
        """The lesson's document."""
        return self.workspace.document

    def items(self) -> list[Key]:
        """The hidden items, in evaluation order."""
        return hidden_items(self.document)

    def hidden(self, key: Key) -> Hidden:
        """The author's settings of one hidden item."""
        node_id, kind = key
        return self.document.nodes[node_id].hidden[kind]

    def masks(self, node_id: str, kind: str) -> bool:
        """True when a view must show `?` for this node's value or gradient: played, hidden, not yet revealed."""
        node = self.document.nodes.get(node_id)
        return (self.playing and node is not None and kind in node.hidden
                and (node_id, kind) not in self.verdicts)

    def hides_gradients(self) -> bool:
        """True while some hidden gradient is still masked: views showing every gradient (the chain-rule steps,
        the autograd graph's edges) must hold their numbers back."""
        return any(self.masks(node_id, kind) for node_id, kind in self.items() if kind == GRAD)

    def score(self) -> Score:
        """The score over the items hidden now."""
        items = set(self.items())
        given = [verdict for key, verdict in self.verdicts.items() if key in items and verdict.answer]
        return Score(sum(1 for verdict in given if verdict.correct), len(given), len(items))

    def restart(self) -> None:
        """Hide every item again and clear the score."""
        self.verdicts.clear()

    # ----- revealing ---------------------------------------------------------------------------------------------

    def reveal(self, node_id: str, kind: str, text: str = "") -> Verdict:
        """Check the typed `text` (blank: no answer; `None`: no gradient) against the truth and reveal the item.

        Text that is no number, tensor or `None` raises PredictionError and reveals nothing. An item revealed
        already keeps its verdict (an answer seen cannot be scored again).
        """
        key = (node_id, kind)
        if key in self.verdicts:
            return self.verdicts[key]
        hidden = self.hidden(key)
        answer = text.strip()
        prediction = parse_prediction(answer) if answer and answer != NONE_ANSWER else None
        truth, reason = self.truth(node_id, kind)
        correct, message = judge(answer, prediction, truth, hidden, reason, self._title(key))
        explanation = self.explain(node_id, kind) if truth is not None else reason
        verdict = Verdict(node_id, kind, answer, prediction, truth, correct, message, explanation)
        self.verdicts[key] = verdict
        return verdict

    def truth(self, node_id: str, kind: str) -> tuple[np.ndarray | None, str]:
        """The item's true numbers, or None and the reason there are none."""
        if kind == VALUE:
            result = self.workspace.result(node_id)
            if result is None or not result.ok:
                return None, "this node has no value (it cannot be computed)"
            return _numbers(result.value), ""
        shown = self.workspace.shown_gradient(node_id)
        target = self.document.settings.backward_target
        if shown.value is None and self.workspace.last_backward is None and target is not None:
            try:
                self._run_backward(target)
            except RuntimeError as error:
                return None, f"Backward cannot run: {error}"
            shown = self.workspace.shown_gradient(node_id)
        if shown.value is None:
            return None, shown.note or "no gradient reaches this node"
        return _numbers(shown.value), ""

    def _title(self, key: Key) -> str:
        name = self.document.nodes[key[0]].name
        return f"{name}.grad" if key[1] == GRAD else name

    # ----- explaining ----------------------------------------------------------------------------------------------

    def explain(self, node_id: str, kind: str) -> str:
        """The step that produces the item: the forward line with its inputs' numbers, or the chain rule."""
        return self._explain_value(node_id) if kind == VALUE else self._explain_grad(node_id)

    def _shown(self, node_id: str, kind: str, numbers: Any) -> str:
        """Numbers as text, or `?` while the learner has not revealed them."""
        return "?" if self.masks(node_id, kind) else format_array(numbers)

    def _explain_value(self, node_id: str) -> str:
        node = self.document.nodes[node_id]
        line = statement(self.document, node)
        value = format_array(_numbers(self.workspace.value(node_id)))
        if line is None:
            return f"{node.name} is a leaf: its value is made as its attributes say, {node.name} = {value}"
        inputs = []
        for edge in self.document.inputs_of(node_id).values():
            source = self.document.nodes[edge.source]
            if source.kind != "scalar":
                numbers = _numbers(self.workspace.value(source.id))
                inputs.append(f"{source.name} = {self._shown(source.id, VALUE, numbers)}")
        given = f" with {', '.join(inputs)}" if inputs else ""
        return f"{line}{given}, so {node.name} = {value}"

    def _explain_grad(self, node_id: str) -> str:
        last = self.workspace.last_backward
        if last is None:
            return ""
        out, here = self._name(last.target), self._name(node_id)
        if node_id == last.target:
            return f"Backward starts at {out}: ∂{out}/∂{out} = {format_array(_numbers(last.steps[0].grad_in))}"
        owner_of = self.workspace.evaluator.grad_fn_owners(last.target)
        parts, products = [], []
        for step in last.steps:
            chain = explain_step(step, owner_of)
            for term in chain.terms:
                if term.destination == node_id and chain.owner != node_id:
                    parts.append(self._term_text(chain.owner, chain.label, chain.grad_in, term, out, here))
                    products.append(term.product)
        if not parts:
            return f"no step of the last Backward sent a gradient to {here}"
        total = ""
        if len(parts) > 1:
            added = " + ".join(format_array(product) for product in products)
            total = (f"\n{here} is used {len(parts)} times: the contributions add up, ∂{out}/∂{here} = {added} = "
                     f"{format_array(sum(products))}")
        passes = self.workspace.passes.get(node_id, 1)
        summed = f"\n{here}.grad sums {passes} Backward passes." if passes > 1 else ""
        return "\n".join(parts) + total + summed

    def _term_text(self, owner: str | None, label: str, grad_in: np.ndarray, term: Any, out: str, here: str) -> str:
        via = self._name(owner) if owner is not None else "?"
        incoming = f"∂{out}/∂{via} = {self._shown(owner, GRAD, grad_in)}" if owner else f"∂{out}/∂{via}"
        local = f"∂{via}/∂{here}"
        product = format_array(term.product)
        if term.kind == ELEMENTWISE:
            return f"{label}: {incoming}, times {local} = {format_array(term.local)} elementwise → {product}"
        if term.kind == SCALAR_OUTPUT:
            return f"{label}: {incoming}, times {local} = {format_array(term.local)} → {product}"
        summed = summed_dims(grad_in.shape, term.product.shape)
        if summed is not None:
            dims = ", ".join(str(dim) for dim in summed)
            return (f"{label}: {incoming}; {here} was broadcast, so its gradient is summed over dim {dims} back to "
                    f"{here}'s shape {list(term.product.shape)} → {product}")
        if term.kind == JACOBIAN:
            return f"{label}: {incoming}, times the Jacobian {local} (a vector-Jacobian product) → {product}"
        return f"{label}: {incoming}, through a Jacobian too large to show → {product}"

    def _name(self, node_id: str) -> str:
        node = self.document.nodes.get(node_id)
        return node.name if node is not None else "?"


def judge(answer: str, prediction: np.ndarray | None, truth: np.ndarray | None, hidden: Hidden, reason: str,
          title: str) -> tuple[bool | None, str]:
    """Right or wrong (None: no answer given), and the sentence that says so; `None` answers a missing gradient."""
    if not answer:
        return None, f"{title} is None: {reason}" if truth is None else f"{title} = {format_array(truth)}"
    if truth is None:
        if answer == NONE_ANSWER:
            return True, f"Right: {title} is None: {reason}"
        return False, f"Not quite: {title} is None: {reason}"
    if prediction is None:
        return False, f"Not quite: {title} = {format_array(truth)}, not None"
    if prediction.shape != truth.shape and not (prediction.size == truth.size == 1):
        return False, (f"Wrong shape: {title} has shape {list(truth.shape)}, your answer {answer} has shape "
                       f"{list(prediction.shape)}. {title} = {format_array(truth)}")
    expected = truth.astype(np.float64).reshape(prediction.shape)
    if np.allclose(prediction, expected, rtol=hidden.rtol, atol=hidden.atol, equal_nan=True):
        return True, f"Right: {title} = {format_array(truth)}"
    return False, f"Not quite: {title} = {format_array(truth)}, you said {answer}"  # as typed: 12345, not 1.234e+04


def format_array(values: Any) -> str:
    """Numbers as the node faces show them, on one line (`[[1, 2], [3, 4]]`)."""
    return " ".join(format_lines(values).split())


def summed_dims(out_shape: tuple[int, ...], in_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The dims of `out_shape` a gradient is summed over to reach a broadcast input of `in_shape`, or None when
    `in_shape` is not a strict broadcast of `out_shape` (a reduction or a reshape, say)."""
    if tuple(in_shape) == tuple(out_shape) or len(in_shape) > len(out_shape):
        return None
    padded = (1,) * (len(out_shape) - len(in_shape)) + tuple(in_shape)
    if any(size not in (1, out) for size, out in zip(padded, out_shape)):
        return None
    dims = tuple(dim for dim, (size, out) in enumerate(zip(padded, out_shape)) if size == 1 and out != 1
                 or dim < len(out_shape) - len(in_shape))
    return dims or None


def _numbers(value: Any) -> np.ndarray:
    """A value (tensor or Python number) as a numpy array."""
    if isinstance(value, engine.Tensor):
        return np.asarray(value.detach().numpy())
    return np.asarray(value)
