"""TEMPORARY SHIM (untracked): the GraphWorkspace API the UI codes against, until the model branch lands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gradstudio.engine as engine
from gradstudio.model.document import GraphDocument
from gradstudio.model.evaluation import BackwardResult, Evaluator, NodeResult


@dataclass(frozen=True)
class ShownGradient:
    value: Any
    kind: str
    title: str
    note: str = ""


class GraphWorkspace:
    def __init__(self, document: GraphDocument | None = None) -> None:
        self.document = document if document is not None else GraphDocument()
        self.evaluator = Evaluator(self.document)
        self._listeners: list = []
        self._passes: dict[str, int] = {}
        self._shown: BackwardResult | None = None
        self._unsubscribe = self.document.subscribe(self._on_change)

    def close(self) -> None:
        self._unsubscribe()
        self.evaluator.close()

    def subscribe(self, listener: Callable[[str, Any], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, event: str, payload: Any = None) -> None:
        for listener in list(self._listeners):
            listener(event, payload)

    def _on_change(self, event: str, payload: Any) -> None:
        if self._shown is not None and self.evaluator.last_backward is None:
            self._shown = None
            self._notify("backward_changed", None)

    def results(self) -> Mapping[str, NodeResult]:
        return self.evaluator.evaluate()

    def result(self, node_id: str) -> NodeResult | None:
        return self.results().get(node_id)

    def value(self, node_id: str) -> Any:
        return self.evaluator.value(node_id)

    @property
    def last_backward(self) -> BackwardResult | None:
        return self.evaluator.last_backward

    @property
    def passes(self) -> Mapping[str, int]:
        return self._passes

    def backward(self, target: str | None = None, gradient: Any = None) -> BackwardResult:
        had = {n for n in self.document.nodes if self.evaluator.leaf_grad(n) is not None}
        result = self.evaluator.backward(target, gradient)
        for node_id in result.node_grads:
            self._passes[node_id] = self._passes.get(node_id, 1) + 1 if node_id in had else 1
        self._shown = result
        self._notify("backward_changed", result)
        self._notify("grads_changed")
        return result

    def accumulated(self) -> list[str]:
        last = self.last_backward
        return [n for n in self.document.topological_order() if last and n in last.node_grads
                and self._passes.get(n, 0) >= 2]

    def zero_grad(self) -> None:
        self.evaluator.zero_grad()
        self._passes.clear()
        self._shown = None
        self._notify("backward_changed", None)
        self._notify("grads_changed")

    def grad(self, node_id: str) -> Any:
        return self.evaluator.leaf_grad(node_id)

    def shown_gradient(self, node_id: str) -> ShownGradient:
        from gradstudio.ui.panels.values_panel import gradient_of
        g = gradient_of(self.evaluator, self.document.nodes[node_id])
        return ShownGradient(g.value, g.kind, g.title, g.note)

    def tracked(self, node_id: str) -> bool:
        r = self.result(node_id)
        return r is not None and isinstance(r.value, engine.Tensor) and r.value.requires_grad
