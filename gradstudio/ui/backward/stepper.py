"""Step Backward: walk a backward pass one grad_fn at a time, in the engine's order, with the chain rule shown.

Each press of `actionStepBackward` moves one step: the canvas lights only what the
gradient has reached so far and rings the node whose grad_fn runs; the Backward
Steps panel shows the incoming gradient, the local derivative and their product.
A walk replays the last Backward (or runs one when there is none).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

from gradstudio.model.chain_rule import (
    ELEMENTWISE,
    JACOBIAN,
    SCALAR_OUTPUT,
    ChainRuleStep,
    contributions,
    explain_step,
    format_array,
)
from gradstudio.model.evaluation import BackwardResult
from gradstudio.ui.backward.controller import BackwardController
from gradstudio.ui.panels.step_panel import IDLE, StepPanel
from gradstudio.ui.workspace import Workspace

HIDDEN_STEPS = "Step Backward shows every gradient: reveal the lesson's hidden gradients first (Lesson panel)"


def _times(count: int) -> str:
    return "twice" if count == 2 else f"{count} times"


class StepController(QObject):
    """Walks the steps of a BackwardResult and keeps canvas and panel in step."""

    def __init__(self, backward: BackwardController, panel: StepPanel) -> None:
        super().__init__(panel)
        self.workspace: Workspace | None = None
        self.backward = backward
        self.panel = panel
        self.result: BackwardResult | None = None
        self.index: int | None = None
        self.chain: ChainRuleStep | None = None
        self._moving = False
        panel.previous.clicked.connect(lambda: self.go(self.index - 1 if self.index else 0))
        panel.next.clicked.connect(self.step)
        panel.finish.clicked.connect(self.finish)

    def bind(self, workspace: Workspace) -> None:
        """Walk passes of `workspace` from now on (a walk of the previous one ends)."""
        if self.workspace is not None:
            self.workspace.backward_changed.disconnect(self._display_changed)
        self.workspace = workspace
        workspace.backward_changed.connect(self._display_changed)
        self._display_changed(None)

    def step(self) -> None:
        """One step further (the first press starts the walk; not while a lesson hides a gradient it would show)."""
        if self.workspace.lesson.hides_gradients():
            self.workspace.message.emit(HIDDEN_STEPS)
            return
        if self.index is not None and self.result is not None:
            self.go(self.index + 1)
            return
        last, target = self.workspace.model.last_backward, self.workspace.backward_start()
        # replay the last pass only if it started where Backward would start now (the selection, else the target)
        result = last if last is not None and target in (None, last.target) else self.backward.run(target)
        dialog = self.backward.gradient_dialog
        if result is None and dialog is not None and dialog.isVisible():
            # a non-scalar: the walk starts once the gradient argument is given (after Backward ran with it)
            dialog.accepted.connect(lambda: self.start(self.workspace.model.last_backward))
            return
        self.start(result)

    def start(self, result: BackwardResult | None) -> None:
        """Begin walking `result` at its first step."""
        if result is None or not result.steps:
            return
        self.result = result
        self.backward.clear_pins()
        self.panel.show()
        self.panel.raise_()
        self.go(0)

    def go(self, index: int) -> None:
        """Show step `index` (past the last one: the whole pass)."""
        if self.result is None:
            return
        if index >= len(self.result.steps):
            self.finish()
            return
        self.index = max(index, 0)
        self._moving = True
        try:
            self.backward.show(self.result, self.index)
        finally:
            self._moving = False
        step = self.result.steps[self.index]
        self.chain = explain_step(step, self.workspace.model.evaluator.grad_fn_owners(self.result.target))
        self.panel.show_step(self.index, len(self.result.steps), self.describe(self.chain),
                             f"{self.chain.label} · {self._owner_text(self.chain.owner)}")

    def finish(self) -> None:
        """End the walk showing the whole pass."""
        result = self.result
        self.index, self.chain = None, None
        if result is not None:
            self.backward.show(result)
        self.panel.show_idle("Backward done: every grad_fn has run. " + IDLE)

    def _display_changed(self, view: Any) -> None:
        if self._moving or self.index is None:
            return
        self.index, self.chain, self.result = None, None, None
        self.panel.show_idle()

    # ----- the chain rule as text --------------------------------------------------------------------------------

    def _owner_text(self, owner: str | None) -> str:
        if owner is None:
            return "no node"
        node = self.workspace.document.nodes[owner]
        return f"node {node.name} ({node.spec.title})"

    def describe(self, chain: ChainRuleStep) -> str:
        """The step as HTML: incoming gradient, then local derivative and product per input."""
        name = self.backward.name_of
        out = name(self.result.target)
        here = name(chain.owner) if chain.owner else "?"
        incoming = f"∂{out}/∂{here}"
        lines = [self._seed_html(out)] if self.index == 0 else []
        sent = contributions(self.result.steps, self.index) if self.index is not None else []
        summed = " + ".join(f"<code>{format_array(part)}</code>" for part in sent) + " = " if len(sent) > 1 else ""
        lines.append(f"<p>incoming gradient <b>{incoming}</b> = {summed}<code>{format_array(chain.grad_in)}</code>"
                     + (f" ({here} is used {_times(len(sent))}: the gradients it gets back add up)" if summed else "")
                     + "</p>")
        if chain.accumulates:
            grad = self.workspace.model.grad(chain.owner) if chain.owner else None
            total = format_array(grad.numpy()) if grad is not None else "None"
            lines.append(f"<p>AccumulateGrad adds it into the leaf: <b>{here}.grad</b> += "
                         f"<code>{format_array(chain.grad_in)}</code> → {here}.grad = <code>{total}</code></p>")
        for term in chain.terms:
            lines.append(self._term_html(term, incoming, here, out, chain))
        lines += self._sums_html(chain, out)
        return "".join(lines)

    def _seed_html(self, out: str) -> str:
        """Where every pass starts: the output's gradient with respect to itself (1 for a scalar loss)."""
        seed = self.result.steps[0].grad_in
        if seed.numel() == 1 and float(seed.detach().numpy().reshape(())) == 1.0:
            return (f"<p>Backward starts at {out}: <b>∂{out}/∂{out} = 1</b> "
                    "(the gradient of a scalar with respect to itself)</p>")
        given = format_array(seed.detach().numpy())
        return f"<p>Backward starts at {out} with the gradient given: <b>∂{out}/∂{out}</b> = <code>{given}</code></p>"

    def _sums_html(self, chain: ChainRuleStep, out: str) -> list[str]:
        """Where two inputs of this step are the same tensor (`y * y`), their contributions add up."""
        by_destination: dict[str, list[Any]] = {}
        for term in chain.terms:
            if term.destination is not None:
                by_destination.setdefault(term.destination, []).append(term)
        lines = []
        for destination, terms in by_destination.items():
            if len(terms) > 1:
                parts = " + ".join(f"<code>{format_array(term.product)}</code>" for term in terms)
                total = format_array(sum(term.product for term in terms))
                source = self.backward.name_of(destination)
                lines.append(f"<p>{source} feeds {len(terms)} inputs here: its contributions add up, "
                             f"<b>∂{out}/∂{source}</b> = {parts} = <code>{total}</code></p>")
        return lines

    def _term_html(self, term: Any, incoming: str, here: str, out: str, chain: ChainRuleStep) -> str:
        source = self.backward.name_of(term.destination) if term.destination else "?"
        local = f"∂{here}/∂{source}"
        head = f"<p><b>input {term.index} → {source}</b>: "
        product = f"<b>∂{out}/∂{source}</b> = <code>{format_array(term.product)}</code>"
        grad_in = format_array(chain.grad_in)
        if term.kind == ELEMENTWISE:
            return (f"{head}local derivative {local} (elementwise) = <code>{format_array(term.local)}</code><br>"
                    f"chain rule: {incoming} ⊙ {local} = <code>{grad_in}</code> ⊙ "
                    f"<code>{format_array(term.local)}</code> → {product}</p>")
        if term.kind == SCALAR_OUTPUT:
            return (f"{head}local derivative {local} = <code>{format_array(term.local)}</code><br>"
                    f"chain rule: {incoming} × {local} = <code>{grad_in}</code> × "
                    f"<code>{format_array(term.local)}</code> → {product}</p>")
        if term.kind == JACOBIAN:
            return (f"{head}local derivative: the Jacobian {local} (a row per element of {here}) =<br>"
                    f"<pre>{format_array(term.local)}</pre>chain rule (vector-Jacobian product): "
                    f"{incoming}ᵀ · J → {product}</p>")
        return f"{head}the Jacobian is too large to show → {product}</p>"
