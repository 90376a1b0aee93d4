"""A training run: optimiser steps on a graph's parameter leaves through the engine, without Qt.

`TrainRun(workspace, settings)` checks the settings against the graph (a scalar
loss, float parameter leaves with requires_grad that the loss depends on) and
raises `TrainingError` with the reason if they do not fit. `run()` then updates
the workspace's own evaluated leaf tensors in place, so a view that repaints the
workspace meanwhile sees the parameters move. It records the loss of every step,
and between steps honours `pause()`, `resume()` and `stop()`; it is safe in a
worker thread (grad mode is thread-local; it never edits the document). The
result becomes one undoable edit: `training_edit(...)` sets each parameter leaf
to `init="values"` with the trained numbers and stores the settings and the loss
history, so undo restores the parameters exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.document import GraphDocument
from gradstudio.model.edits import Batch, Edit, SetAttribute, SetSetting
from gradstudio.model.grad_regions import mode_context, node_modes
from gradstudio.model.port_constants import unconnected_constants
from gradstudio.model.train_settings import TrainSettings, TrainSettingsError
from gradstudio.model.workspace import GraphWorkspace

__all__ = ["TrainingError", "TrainResult", "TrainRun", "default_parameters", "data_leaves", "training_edit",
           "make_optimiser", "make_scheduler"]

FLOAT_DTYPES = ("float32", "float64")


class TrainingError(ValueError):
    """A run the graph cannot do (no scalar loss, no parameters, a parameter that is not a float leaf...)."""


@dataclass
class TrainResult:
    """What a run did: how many steps, the loss of each, the trained parameter arrays, and why it ended."""

    steps: int
    history: list[float]
    parameters: dict[str, np.ndarray]
    stopped: bool = False
    error: str | None = None
    initial: dict[str, np.ndarray] = field(default_factory=dict)


def _ancestors(document: GraphDocument, node_id: str) -> set[str]:
    return document.ancestors(node_id) | {node_id}


def default_parameters(document: GraphDocument, loss: str | None) -> list[str]:
    """The tensor leaves with requires_grad that the loss depends on (all of them if no loss is chosen)."""
    upstream = _ancestors(document, loss) if loss in document.nodes else set(document.nodes)
    return [node_id for node_id, node in document.nodes.items()
            if node.kind == "tensor" and node.attributes.get("requires_grad") and node_id in upstream]


def data_leaves(document: GraphDocument, loss: str, parameters: list[str]) -> list[str]:
    """The leaves mini-batches slice: non-parameter tensor leaves of the loss sharing the most common first extent."""
    upstream = _ancestors(document, loss)
    candidates = [node_id for node_id, node in document.nodes.items()
                  if node.kind == "tensor" and node_id in upstream and node_id not in parameters
                  and len(node.attributes.get("shape", ())) >= 1]
    if not candidates:
        return []
    extents = [document.nodes[node_id].attributes["shape"][0] for node_id in candidates]
    common = max(set(extents), key=lambda extent: (extents.count(extent), extent))
    return [node_id for node_id, extent in zip(candidates, extents, strict=True) if extent == common]


def make_optimiser(settings: TrainSettings, params: list[engine.Tensor]) -> Any:
    """The engine optimiser the settings describe."""
    betas = (settings.beta1, settings.beta2)
    decay = settings.weight_decay
    if settings.optimiser == "sgd":
        return engine.optim.SGD(params, lr=settings.lr, momentum=settings.momentum, nesterov=settings.nesterov,
                                weight_decay=decay)
    if settings.optimiser == "adam":
        return engine.optim.Adam(params, lr=settings.lr, betas=betas, eps=settings.eps, weight_decay=decay)
    if settings.optimiser == "adamw":
        return engine.optim.AdamW(params, lr=settings.lr, betas=betas, eps=settings.eps, weight_decay=decay)
    return engine.optim.RMSprop(params, lr=settings.lr, alpha=settings.alpha, eps=settings.eps,
                                weight_decay=decay, momentum=settings.momentum)


def make_scheduler(settings: TrainSettings, optimiser: Any) -> Any:
    """The engine lr scheduler the settings describe (None for a constant rate)."""
    schedulers = engine.optim.lr_scheduler
    if settings.schedule == "step":
        return schedulers.StepLR(optimiser, step_size=settings.step_size, gamma=settings.gamma)
    if settings.schedule == "cosine":
        return schedulers.CosineAnnealingLR(optimiser, T_max=settings.steps, eta_min=settings.eta_min)
    return None


class TrainRun:
    """One training run over a workspace's graph; `run()` may be called from a worker thread."""

    def __init__(self, workspace: GraphWorkspace, settings: TrainSettings) -> None:
        try:
            self.settings = settings.checked()
        except TrainSettingsError as error:
            raise TrainingError(str(error)) from None
        self.workspace = workspace
        document = workspace.document
        loss = settings.loss
        if loss is None or loss not in document.nodes:
            raise TrainingError("choose the loss node to minimise")
        results = workspace.results()
        self.parameters = list(settings.parameters) if settings.parameters is not None else \
            default_parameters(document, loss)
        self._check(document, results, loss)
        self.loss = loss
        self._order = [node_id for node_id in document.topological_order() if node_id in _ancestors(document, loss)]
        self._values = {node_id: results[node_id].value for node_id in self._order}
        self._modes = node_modes(document)  # a node in a no_grad region passes no gradient back, as in PyTorch
        self._tensors = [self._values[node_id] for node_id in self.parameters]
        self.initial = {node_id: tensor.detach().numpy().copy()
                        for node_id, tensor in zip(self.parameters, self._tensors, strict=True)}
        self._data = data_leaves(document, loss, self.parameters) if settings.batch_size else []
        self.history: list[float] = []
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._free = threading.Event()  # cleared while a viewer holds the run for a moment (`hold`)
        self._free.set()

    def _check(self, document: GraphDocument, results: Any, loss: str) -> None:
        name = document.nodes[loss].name
        result = results[loss]
        if not result.ok:
            raise TrainingError(f"the loss {name} has no value: {result.error or 'an input has an error'}")
        if result.tensor is None or result.tensor.numel() != 1:
            raise TrainingError(f"the loss {name} must be a tensor with one element")
        if not self.parameters:
            raise TrainingError(f"the loss {name} depends on no tensor leaf with requires_grad; tick requires_grad "
                                "on the parameters to train")
        upstream = _ancestors(document, loss)
        for node_id in self.parameters:
            node = document.nodes.get(node_id)
            if node is None or node.kind != "tensor":
                raise TrainingError(f"parameter {node_id!r} is not a tensor leaf")
            if node.attributes["dtype"] not in FLOAT_DTYPES or not node.attributes["requires_grad"]:
                raise TrainingError(f"parameter {node.name} must be a float tensor with requires_grad")
            if node_id not in upstream:
                raise TrainingError(f"the loss {name} does not depend on parameter {node.name}")
            if not results[node_id].ok:
                raise TrainingError(f"parameter {node.name} has no value: {results[node_id].error}")

    # ----- control (any thread) ----------------------------------------------------------------------------------

    def pause(self) -> None:
        """Hold the run before its next step."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused run go on."""
        self._running.set()

    def stop(self) -> None:
        """End the run before its next step (a paused run ends too)."""
        self._stop.set()
        self._running.set()
        self._free.set()

    def hold(self) -> None:
        """Keep the run from starting its next step until `release()` (a viewer reads the values meanwhile)."""
        self._free.clear()

    def release(self) -> None:
        """End a `hold()`."""
        self._free.set()

    @property
    def paused(self) -> bool:
        """True while the run is held by `pause()`."""
        return not self._running.is_set() and not self._stop.is_set()

    # ----- the run -----------------------------------------------------------------------------------------------

    def run(self, progress: Callable[[int, float], None] | None = None) -> TrainResult:
        """Take up to `settings.steps` optimiser steps; `progress(step, loss)` after each. Never raises."""
        optimiser = make_optimiser(self.settings, self._tensors)
        scheduler = make_scheduler(self.settings, optimiser)
        batches = self._batches()
        error = None
        with engine.enable_grad():
            for step in range(1, self.settings.steps + 1):
                self._running.wait()
                self._free.wait()
                if self._stop.is_set():
                    break
                optimiser.zero_grad()
                try:
                    loss = self._forward(next(batches))
                    loss.backward()
                except Exception as problem:  # noqa: BLE001 - an engine error ends the run with its message
                    error = str(problem) or type(problem).__name__
                    break
                self.history.append(float(loss.item()))
                optimiser.step()
                if scheduler is not None:
                    scheduler.step()
                if progress is not None:
                    progress(step, self.history[-1])
                # no voluntary GIL hand-over here: a thread that drops and retakes the GIL more often than the
                # switch interval keeps a waiting UI thread from ever forcing the switch (CPython's take_gil sees
                # the switch count move and waits again), so the UI would starve for the whole run
        for tensor in self._tensors:
            tensor.grad = None
        trained = {node_id: tensor.detach().numpy().copy()
                   for node_id, tensor in zip(self.parameters, self._tensors, strict=True)}
        return TrainResult(len(self.history), list(self.history), trained, self._stop.is_set(), error, self.initial)

    def _batches(self) -> Any:
        """Endless index arrays over the data's first dimension (None: the full data), shuffled each epoch."""
        if not self._data:
            while True:
                yield None
        extent = self.workspace.document.nodes[self._data[0]].attributes["shape"][0]
        generator = np.random.default_rng(self.settings.seed)
        size = min(self.settings.batch_size or extent, extent)
        while True:
            order = generator.permutation(extent)
            for start in range(0, extent, size):
                yield order[start:start + size]

    def _forward(self, batch: np.ndarray | None) -> engine.Tensor:
        document = self.workspace.document
        values: dict[str, Any] = {}
        for node_id in self._order:
            node = document.nodes[node_id]
            if not node.input_ports():
                value = self._values[node_id]
                if batch is not None and node_id in self._data:
                    value = engine.from_numpy(value.detach().numpy()[batch])
                values[node_id] = value
                continue
            inputs = {**unconnected_constants(document, node),
                      **{port: values[edge.source] for port, edge in document.inputs_of(node_id).items()}}
            with mode_context(self._modes.get(node_id)):
                values[node_id] = node.spec.compute(inputs, node.attributes)
        loss = values[self.loss]
        return loss.sum() if loss.dim() else loss

    def restore(self) -> None:
        """Put the parameters' starting values back into the workspace's leaf tensors (a run that is dropped)."""
        with engine.no_grad():
            for node_id, tensor in zip(self.parameters, self._tensors, strict=True):
                tensor.detach().numpy()[...] = self.initial[node_id]


def training_edit(document: GraphDocument, settings: TrainSettings, result: TrainResult) -> Edit:
    """One edit: each parameter leaf set to its trained values, the settings and the run's loss history stored."""
    edits: list[Edit] = []
    for node_id, array in result.parameters.items():
        node = document.nodes[node_id]
        if node.attributes["init"] != "values":
            edits.append(SetAttribute(node_id, "init", "values"))
        edits.append(SetAttribute(node_id, "values", array.astype(np.float64).reshape(-1).tolist()))
    edits.append(SetSetting("training", settings))
    edits.append(SetSetting("loss_history", result.history))
    return Batch(edits)


def train(workspace: GraphWorkspace, settings: TrainSettings) -> TrainResult:
    """Run to the end in this thread and apply the result as one edit (the CLI's and the tests' way)."""
    run = TrainRun(workspace, settings)
    result = run.run()
    workspace.document.apply(training_edit(workspace.document, settings, result))
    return result
