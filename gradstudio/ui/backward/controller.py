"""Backward, Zero Grad and what they show: the lit path, gradient badges, pinned errors with their fixes.

A Backward press changes the leaves' `.grad` (as in a PyTorch session) but is not an
undoable edit. The pass itself lives in the workspace; this controller runs it, asks
for the gradient argument of a non-scalar, and pins PyTorch's refusals (with their
fixes) to the node that caused them. Pins go when values change.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QGraphicsView

import gradstudio.engine as engine
from gradstudio.model.edits import Batch, SetAttribute, SetRetainGrad, SetSetting
from gradstudio.model.evaluation import BackwardResult
from gradstudio.model.grad_regions import untracked_by_region
from gradstudio.ui.workspace import Workspace

if TYPE_CHECKING:  # pins, their explanations, the gradient dialog and the in-place analysis load when first needed
    from gradstudio.model import explain
    from gradstudio.ui.canvas.pins import PinItem
    from gradstudio.ui.dialogs.gradient_dialog import GradientDialog

PINNED_Z = 5.0


def needs_gradient(value: Any) -> bool:
    """True when `value.backward()` needs a gradient argument: a tracked tensor of more than one element."""
    return isinstance(value, engine.Tensor) and value.requires_grad and value.numel() != 1


class BackwardController(QObject):
    """Runs Backward and Zero Grad on the bound workspace and pins what PyTorch refuses to the canvas."""

    def __init__(self, canvas: QGraphicsView) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.workspace: Workspace | None = None
        self.pins: dict[str, PinItem] = {}
        self.gradient_dialog: GradientDialog | None = None

    def bind(self, workspace: Workspace) -> None:
        """Work on `workspace` from now on (pins of the previous one went with its scene)."""
        if self.workspace is not None:
            self.workspace.values_changed.disconnect(self.clear_pins)
        self.workspace = workspace
        self.pins = {}
        workspace.values_changed.connect(self.clear_pins)

    @property
    def result(self) -> BackwardResult | None:
        """The pass on display."""
        return self.workspace.backward_result

    @property
    def view(self) -> Any:
        """The backward display (a `FlowView`) on the canvas, or None."""
        return self.workspace.flow

    def name_of(self, node_id: str) -> str:
        """A node's variable name ('?' if it is gone)."""
        return self.workspace.name_of(node_id)

    def say(self, text: str) -> None:
        """A line for the status bar."""
        self.workspace.message.emit(text)

    def target_id(self) -> str | None:
        """The node Backward starts from: the single selected node, else the document's backward target."""
        return self.workspace.backward_start()

    # ----- Backward and Zero Grad --------------------------------------------------------------------------------

    def run(self, target: str | None = None, gradient: Any = None, ask: bool = True) -> BackwardResult | None:
        """`target.backward(gradient)`; asks for the gradient of a non-scalar; a refusal is pinned to the node."""
        workspace = self.workspace
        if workspace.busy is not None:
            self.say(f"Backward: {workspace.busy}")
            return None
        workspace.flush()
        target = target or self.target_id()
        if target is None:
            self.say("Select a node (or choose a backward target) to run Backward from")
            return None
        self.clear_pins()
        if self._pin_cause(target):
            return None
        value = workspace.model.value(target)
        if gradient is None and ask and needs_gradient(value):
            self.ask_gradient(target)
            return None
        try:
            result = workspace.run_backward(target, gradient)
        except Exception as error:  # noqa: BLE001 - PyTorch's refusals (and any other) are pinned, never raised
            if not self._pin_in_place(str(error)):
                self.pin(target, str(error))
            self.say(f"{self.name_of(target)}.backward(): {error}")
            return None
        accumulated = workspace.model.accumulated()
        if accumulated:
            from gradstudio.model import explain

            first = accumulated[0]
            self.pin(first, explain.accumulated_message(self.name_of(first), workspace.model.passes[first]), "note")
        self.say(f"{self.name_of(target)}.backward(): {len(result.steps)} grad_fns run")
        return result

    def _pin_cause(self, target: str) -> bool:
        """When `target` has no value, pin the error of the node that stopped it (PyTorch's text); True if so."""
        results = self.workspace.results()
        result = results.get(target)
        if result is None or result.ok:
            return False
        cause = result.blocked_by or target
        error = results[cause].error if cause in results else None
        error = error or "has no value"
        self.pin(cause, error)
        prefix = "" if cause == target else f"{self.name_of(target)} has no value because "
        self.say(f"{self.name_of(target)}.backward(): {prefix}{self.name_of(cause)} cannot be "
                                 f"computed: {error}")
        return True

    def _pin_in_place(self, message: str) -> bool:
        """Pin a version refusal on the saved tensor's node and on each op that changed it in place; True if so."""
        from gradstudio.model.versions import in_place_conflict

        document = self.workspace.document
        conflict = in_place_conflict(document, self.workspace.results(), message)
        if conflict is None:
            return False
        names = {node_id: node.name for node_id, node in document.nodes.items()}
        for node_id, explained in conflict.explanations(message, names).items():
            self.pin(node_id, message, explained=explained)
        return True

    def ask_gradient(self, target: str) -> None:
        """Open the gradient-argument dialog; Backward runs when it is accepted, nothing happens on cancel."""
        from gradstudio.ui.dialogs.gradient_dialog import GradientDialog

        value = self.workspace.model.value(target)
        dialog = GradientDialog(self.name_of(target), value, self.canvas.window())
        dialog.accepted.connect(lambda: self.run(target, dialog.gradient(), ask=False))
        self.gradient_dialog = dialog
        dialog.open()

    def zero_grad(self) -> None:
        """Clear every `.grad` (as `optimizer.zero_grad()` with set_to_none) and the display."""
        if self.workspace.busy is not None:
            self.say(f"Zero Grad: {self.workspace.busy}")
            return
        self.clear_pins()
        self.workspace.zero_grad()
        self.say("Zero Grad: every .grad is None again")

    def show(self, result: BackwardResult, step: int | None = None) -> None:
        """Paint `result` on the canvas (the whole pass, or up to a step of it)."""
        self.workspace.show_backward(result, step)

    # ----- pinned messages ---------------------------------------------------------------------------------------

    def pin(self, node_id: str, message: str, severity: str = "error",
            explained: explain.Explanation | None = None) -> PinItem | None:
        """Pin `message`, explained (by the table unless `explained` is given), above the node, with its fix."""
        from gradstudio.model import explain
        from gradstudio.ui.canvas.pins import PinItem

        item = self.canvas.scene().nodes.get(node_id)
        if item is None:
            return None
        self.unpin(node_id)
        explained = explained or explain.explain(message, no_grad=self.workspace.no_grad(),
                                                 cut_by_region=untracked_by_region(self.workspace.document, node_id))
        pin = PinItem(explained, severity, item, lambda: self.apply_fix(explained.fix, node_id),
                      lambda: self.unpin(node_id))
        item.setZValue(PINNED_Z)
        self.pins[node_id] = pin
        self.canvas.ensureVisible(pin.sceneBoundingRect(), 20, 20)
        return pin

    def unpin(self, node_id: str) -> None:
        """Remove the node's pin, if it has one."""
        pin = self.pins.pop(node_id, None)
        # a pin goes with its node item: deleting the node (or opening another graph) may have taken it already
        if pin is not None and shiboken6.isValid(pin) and pin.scene() is not None:
            pin.parentItem().setZValue(0.0)
            pin.scene().removeItem(pin)

    def clear_pins(self) -> None:
        """Remove every pin."""
        for node_id in list(self.pins):
            self.unpin(node_id)

    def apply_fix(self, fix: str | None, node_id: str) -> None:
        """Perform a fix id of the explanation table on `node_id`."""
        from gradstudio.model import explain

        editor = self.workspace.editor
        if fix == explain.RETAIN_GRAD:
            self.clear_pins()
            editor.apply(SetRetainGrad(node_id, True), f"Retain grad of {self.name_of(node_id)}")
            self.say(f"{self.name_of(node_id)} keeps its .grad from the next Backward on")
        elif fix == explain.SUPPLY_GRADIENT:
            self.ask_gradient(node_id)
        elif fix == explain.ZERO_GRAD:
            self.zero_grad()
        elif fix == explain.TURN_OFF_NO_GRAD:
            self.set_no_grad(False)
        elif fix == explain.REQUIRE_GRAD:
            self.require_grad_upstream(node_id)

    def require_grad_upstream(self, node_id: str) -> None:
        """Set requires_grad on the floating-point tensor leaves feeding `node_id` (one undo step)."""
        document = self.workspace.document
        ancestors = {node_id} | {other for other in document.nodes if document.reaches(other, node_id)}
        edits = [SetAttribute(other, "requires_grad", True) for other in document.topological_order()
                 if other in ancestors and document.nodes[other].kind == "tensor"
                 and not document.nodes[other].attributes["requires_grad"]
                 and document.nodes[other].attributes["dtype"].startswith("float")]
        if edits:
            self.clear_pins()
            self.workspace.editor.apply(Batch(edits), f"requires_grad upstream of {self.name_of(node_id)}")
        else:
            self.say(f"No floating-point tensor feeds {self.name_of(node_id)}")

    # ----- node commands -----------------------------------------------------------------------------------------

    def read_grad(self, node_id: str) -> Any:
        """Read `name.grad` as PyTorch would: the value, and its warning pinned for a non-leaf."""
        value = self.workspace.model.value(node_id)
        name = self.name_of(node_id)
        if not isinstance(value, engine.Tensor):
            self.say(f"{name} is not a tensor: it has no .grad")
            return None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            grad = value.grad
        if caught:
            self.pin(node_id, str(caught[0].message), "warning")
        self.say(f"{name}.grad = {grad!r}")
        return grad

    def set_requires_grad(self, node_id: str, on: bool) -> None:
        """`x.requires_grad_(on)` on a tensor leaf, as an undoable edit."""
        self.workspace.editor.apply(SetAttribute(node_id, "requires_grad", bool(on)),
                                    f"requires_grad of {self.name_of(node_id)}")

    def set_no_grad(self, on: bool) -> None:
        """Evaluate the whole graph under `torch.no_grad()` (or not), as an undoable setting."""
        mode = "no_grad" if on else "normal"
        if self.workspace.document.settings.grad_mode != mode:
            self.workspace.editor.apply(SetSetting("grad_mode", mode), "No grad" if on else "Grad mode")
