"""Step Backward: walk a backward pass one grad_fn at a time, in the engine's order, with the chain rule shown.

Each press of `actionStepBackward` moves one step: the canvas lights only what the
gradient has reached so far and rings the node whose grad_fn runs; the Backward
Steps panel shows the incoming gradient, the local derivative and their product.
A walk replays the last Backward (or runs one when there is none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from gradstudio.model.chain_rule import ELEMENTWISE, JACOBIAN, SCALAR_OUTPUT, ChainRuleStep, explain_step
from gradstudio.model.evaluation import BackwardResult

if TYPE_CHECKING:
    from gradstudio.ui.backward.controller import BackwardController
    from gradstudio.ui.main_window import MainWindow

IDLE = "Press Step Backward (Ctrl+Shift+B) to walk the backward pass one grad_fn at a time."


def format_array(values: Any) -> str:
    """Numbers as the node faces show them: `[6, 6, 6]`, `0.3333`, `[[0.75, 0.75], [0.75, 0.75]]`."""
    array = np.asarray(values)
    if array.ndim == 0:
        return f"{float(array):.4g}"
    return np.array2string(array, separator=", ", threshold=24, edgeitems=3, max_line_width=100,
                           formatter={"float_kind": lambda v: f"{v:.4g}", "int_kind": str})


class StepPanel(QDockWidget):
    """The `stepPanel` dock: which step, and its chain rule with the numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Backward Steps", parent)
        self.setObjectName("stepPanel")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        row = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("stepTitle")
        row.addWidget(self.title, 1)
        self.previous = QPushButton("◀ Previous")
        self.next = QPushButton("Next ▶")
        self.finish = QPushButton("Show All")
        for button in (self.previous, self.next, self.finish):
            row.addWidget(button)
        layout.addLayout(row)
        self.text = QTextBrowser()
        self.text.setObjectName("stepText")
        layout.addWidget(self.text)
        self.setWidget(body)
        self.show_idle()

    def show_idle(self, text: str = IDLE) -> None:
        """No walk in progress."""
        self.title.setText("")
        self.text.setHtml(f"<p style='color:gray'>{text}</p>")
        for button in (self.previous, self.next, self.finish):
            button.setEnabled(False)

    def show_step(self, index: int, count: int, html: str, title: str) -> None:
        """Show one step's explanation."""
        self.title.setText(f"<b>Step {index + 1} of {count}</b> · {title}")
        self.text.setHtml(html)
        self.previous.setEnabled(index > 0)
        self.next.setEnabled(True)
        self.finish.setEnabled(True)


class StepController(QObject):
    """Walks the steps of a BackwardResult and keeps canvas and panel in step."""

    def __init__(self, window: MainWindow, backward: BackwardController, panel: StepPanel) -> None:
        super().__init__(window)
        self.window = window
        self.backward = backward
        self.panel = panel
        self.result: BackwardResult | None = None
        self.index: int | None = None
        self.chain: ChainRuleStep | None = None
        self._moving = False
        backward.display_changed.connect(self._display_changed)
        panel.previous.clicked.connect(lambda: self.go(self.index - 1 if self.index else 0))
        panel.next.clicked.connect(self.step)
        panel.finish.clicked.connect(self.finish)

    def step(self) -> None:
        """One step further (the first press starts the walk)."""
        if self.index is not None and self.result is not None:
            self.go(self.index + 1)
            return
        last, target = self.window.evaluator.last_backward, self.backward.target_id()
        # replay the last pass only if it started where Backward would start now (the selection, else the target)
        result = last if last is not None and target in (None, last.target) else self.backward.run(target)
        dialog = self.backward.gradient_dialog
        if result is None and dialog is not None and dialog.isVisible():
            # a non-scalar: the walk starts once the gradient argument is given (after Backward ran with it)
            dialog.accepted.connect(lambda: self.start(self.window.evaluator.last_backward))
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
        self.chain = explain_step(step, self.window.evaluator.grad_fn_owners(self.result.target))
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
        node = self.window.document.nodes[owner]
        return f"node {node.name} ({node.spec.title})"

    def describe(self, chain: ChainRuleStep) -> str:
        """The step as HTML: incoming gradient, then local derivative and product per input."""
        name = self.backward.name_of
        out = name(self.result.target)
        here = name(chain.owner) if chain.owner else "?"
        incoming = f"∂{out}/∂{here}"
        lines = [f"<p>incoming gradient <b>{incoming}</b> = <code>{format_array(chain.grad_in)}</code></p>"]
        if chain.accumulates:
            grad = self.window.evaluator.leaf_grad(chain.owner) if chain.owner else None
            total = format_array(grad.numpy()) if grad is not None else "None"
            lines.append(f"<p>AccumulateGrad adds it into the leaf: <b>{here}.grad</b> += "
                         f"<code>{format_array(chain.grad_in)}</code> → {here}.grad = <code>{total}</code></p>")
        for term in chain.terms:
            lines.append(self._term_html(term, incoming, here, out, chain))
        return "".join(lines)

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


def build_step_panel(window: MainWindow) -> StepPanel:
    """The dock, added to the window's bottom area and hidden until a walk starts."""
    panel = StepPanel(window)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, panel)
    panel.hide()
    return panel
