"""Backward, Zero Grad and what they show: the lit path, gradient badges, pinned errors with their fixes.

Everything here is display state beside the model: a Backward press changes the
leaves' `.grad` (as in a PyTorch session) but is not an undoable edit, and any edit
that changes values clears the display.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

import gradstudio.engine as engine
from gradstudio.model import explain
from gradstudio.model.document import Batch, SetAttribute, SetRetainGrad
from gradstudio.model.evaluation import BackwardResult
from gradstudio.model.flow_view import FlowView, flow_view
from gradstudio.ui.canvas.banner import NoGradBanner
from gradstudio.ui.canvas.highlight import CanvasHighlight
from gradstudio.ui.canvas.pins import PinItem
from gradstudio.ui.dialogs.gradient_dialog import GradientDialog

if TYPE_CHECKING:
    from gradstudio.ui.main_window import MainWindow

# events that leave every value (and so the backward display) as it was
KEEPING = {"node_moved", "node_renamed"}
PINNED_Z = 5.0


def needs_gradient(value: Any) -> bool:
    """True when `value.backward()` needs a gradient argument: a tracked tensor of more than one element."""
    return isinstance(value, engine.Tensor) and value.requires_grad and value.numel() != 1


class BackwardController(QObject):
    """Runs Backward and Zero Grad on the open document and paints the result on the canvas."""

    display_changed = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.banner = NoGradBanner(window.view)
        self.highlight: CanvasHighlight | None = None
        self.result: BackwardResult | None = None
        self.view: FlowView | None = None
        self.pins: dict[str, PinItem] = {}
        self.passes: dict[str, int] = {}
        self.gradient_dialog: GradientDialog | None = None
        self._unsubscribe: Any = None

    # ----- the open document -------------------------------------------------------------------------------------

    def attach(self) -> None:
        """Follow the window's (new) document and scene."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        window = self.window
        self.result, self.view, self.pins, self.passes = None, None, {}, {}
        self.highlight = CanvasHighlight(window.scene.nodes, window.scene.edges, self.name_of)
        self._unsubscribe = window.document.subscribe(self._on_event)
        self.display_changed.emit(None)
        self.sync()

    def name_of(self, node_id: str) -> str:
        """A node's variable name ('?' if it is gone)."""
        node = self.window.document.nodes.get(node_id)
        return node.name if node is not None else "?"

    def _on_event(self, event: str, payload: Any) -> None:
        if event == "node_renamed" and self.result is not None:
            self.show(self.result, self.view.step if self.view is not None else None)  # badges name the node
        if event in KEEPING or event.startswith("annotation_"):
            return
        if (event, payload) == ("settings_changed", "backward_target"):
            return
        if event == "node_removed":
            self.pins.pop(payload.id, None)
        self.clear()

    def no_grad(self) -> bool:
        """True while the document runs under torch.no_grad()."""
        return self.window.document.settings.grad_mode == "no_grad"

    def sync(self) -> None:
        """Banner and action states follow the grad mode (undo changes it too)."""
        off = self.no_grad()
        self.banner.set_active(off)
        actions = getattr(self.window, "actions", None)
        if actions is None:
            return
        for action in (actions.actionBackward, actions.actionStepBackward):
            action.setEnabled(not off)
        tip = "Backward is unavailable under torch.no_grad()" if off else "Run backward from the selected scalar"
        actions.actionBackward.setToolTip(tip)

    def target_id(self) -> str | None:
        """The node Backward starts from: the single selected node, else the document's backward target."""
        selected = self.window.scene.selected_node_ids()
        return selected[0] if len(selected) == 1 else self.window.document.settings.backward_target

    # ----- Backward and Zero Grad --------------------------------------------------------------------------------

    def run(self, target: str | None = None, gradient: Any = None, ask: bool = True) -> BackwardResult | None:
        """`target.backward(gradient)`; asks for the gradient of a non-scalar; a refusal is pinned to the node."""
        window = self.window
        target = target or self.target_id()
        if target is None:
            window.show_message("Select a node (or choose a backward target) to run Backward from")
            return None
        self.clear_pins()
        if self._pin_cause(target):
            return None
        value = window.evaluator.value(target)
        if gradient is None and ask and needs_gradient(value):
            self.ask_gradient(target)
            return None
        had_grad = {node_id for node_id in window.document.nodes if window.evaluator.leaf_grad(node_id) is not None}
        try:
            result = window.evaluator.backward(target, gradient)
        except Exception as error:  # noqa: BLE001 - PyTorch's refusals (and any other) are pinned, never raised
            self.pin(target, str(error))
            window.show_message(f"{self.name_of(target)}.backward(): {error}")
            return None
        self.show(result)
        self._count_passes(result, had_grad)
        window.show_message(f"{self.name_of(target)}.backward(): {len(result.steps)} grad_fns run")
        return result

    def _pin_cause(self, target: str) -> bool:
        """When `target` has no value, pin the error of the node that stopped it (PyTorch's text); True if so."""
        results = self.window.evaluator.evaluate()
        result = results.get(target)
        if result is None or result.ok:
            return False
        cause = result.blocked_by or target
        error = results[cause].error if cause in results else None
        error = error or "has no value"
        self.pin(cause, error)
        prefix = "" if cause == target else f"{self.name_of(target)} has no value because "
        self.window.show_message(f"{self.name_of(target)}.backward(): {prefix}{self.name_of(cause)} cannot be "
                                 f"computed: {error}")
        return True

    def _count_passes(self, result: BackwardResult, had_grad: set[str]) -> None:
        """Remember how many passes each leaf's .grad sums; say so (with the Zero Grad fix) when it is two or more."""
        for node_id in result.node_grads:
            self.passes[node_id] = self.passes.get(node_id, 1) + 1 if node_id in had_grad else 1
        accumulated = [node_id for node_id in self.window.document.topological_order()
                       if node_id in had_grad and node_id in result.node_grads]
        if accumulated:
            first = accumulated[0]
            self.pin(first, explain.accumulated_message(self.name_of(first), self.passes[first]), "note")

    def ask_gradient(self, target: str) -> None:
        """Open the gradient-argument dialog; Backward runs when it is accepted, nothing happens on cancel."""
        value = self.window.evaluator.value(target)
        dialog = GradientDialog(self.name_of(target), value, self.window)
        dialog.accepted.connect(lambda: self.run(target, dialog.gradient(), ask=False))
        self.gradient_dialog = dialog
        dialog.open()

    def zero_grad(self) -> None:
        """Clear every `.grad` (as `optimizer.zero_grad()` with set_to_none) and the display."""
        self.window.evaluator.zero_grad()
        self.passes.clear()
        self.clear()
        self.window.scene.update()
        self.window.show_message("Zero Grad: every .grad is None again")

    # ----- display -----------------------------------------------------------------------------------------------

    def show(self, result: BackwardResult, step: int | None = None) -> None:
        """Paint `result` on the canvas (the whole pass, or up to a step of it)."""
        self.result = result
        self.view = flow_view(self.window.evaluator, result, step)
        self.highlight.show(self.view)
        self.display_changed.emit(self.view)

    def clear(self) -> None:
        """Take the backward display and the pins off the canvas."""
        self.clear_pins()
        if self.view is None and self.result is None:
            return
        self.result, self.view = None, None
        if self.highlight is not None:
            self.highlight.clear()
        self.display_changed.emit(None)

    # ----- pinned messages ---------------------------------------------------------------------------------------

    def pin(self, node_id: str, message: str, severity: str = "error") -> PinItem | None:
        """Pin `message`, explained, above the node, with its fix as a button."""
        item = self.window.scene.nodes.get(node_id)
        if item is None:
            return None
        self.unpin(node_id)
        explained = explain.explain(message, no_grad=self.no_grad())
        pin = PinItem(explained, severity, item, lambda: self.apply_fix(explained.fix, node_id),
                      lambda: self.unpin(node_id))
        item.setZValue(PINNED_Z)
        self.pins[node_id] = pin
        self.window.view.ensureVisible(pin.sceneBoundingRect(), 20, 20)
        return pin

    def unpin(self, node_id: str) -> None:
        """Remove the node's pin, if it has one."""
        pin = self.pins.pop(node_id, None)
        if pin is not None and pin.scene() is not None:
            pin.parentItem().setZValue(0.0)
            pin.scene().removeItem(pin)

    def clear_pins(self) -> None:
        """Remove every pin."""
        for node_id in list(self.pins):
            self.unpin(node_id)

    def apply_fix(self, fix: str | None, node_id: str) -> None:
        """Perform a fix id of the explanation table on `node_id`."""
        window = self.window
        if fix == explain.RETAIN_GRAD:
            self.clear_pins()
            window.editor.apply(SetRetainGrad(node_id, True), f"Retain grad of {self.name_of(node_id)}")
            window.show_message(f"{self.name_of(node_id)} keeps its .grad from the next Backward on")
        elif fix == explain.SUPPLY_GRADIENT:
            self.ask_gradient(node_id)
        elif fix == explain.ZERO_GRAD:
            self.zero_grad()
        elif fix == explain.TURN_OFF_NO_GRAD:
            window.editing.set_no_grad(False)
        elif fix == explain.REQUIRE_GRAD:
            self.require_grad_upstream(node_id)

    def require_grad_upstream(self, node_id: str) -> None:
        """Set requires_grad on the floating-point tensor leaves feeding `node_id` (one undo step)."""
        document = self.window.document
        ancestors = {node_id} | {other for other in document.nodes if document.reaches(other, node_id)}
        edits = [SetAttribute(other, "requires_grad", True) for other in document.topological_order()
                 if other in ancestors and document.nodes[other].kind == "tensor"
                 and not document.nodes[other].attributes["requires_grad"]
                 and document.nodes[other].attributes["dtype"].startswith("float")]
        if edits:
            self.clear_pins()
            self.window.editor.apply(Batch(edits), f"requires_grad upstream of {self.name_of(node_id)}")
        else:
            self.window.show_message(f"No floating-point tensor feeds {self.name_of(node_id)}")

    # ----- node commands -----------------------------------------------------------------------------------------

    def read_grad(self, node_id: str) -> Any:
        """Read `name.grad` as PyTorch would: the value, and its warning pinned for a non-leaf."""
        value = self.window.evaluator.value(node_id)
        name = self.name_of(node_id)
        if not isinstance(value, engine.Tensor):
            self.window.show_message(f"{name} is not a tensor: it has no .grad")
            return None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            grad = value.grad
        if caught:
            self.pin(node_id, str(caught[0].message), "warning")
        self.window.show_message(f"{name}.grad = {grad!r}")
        return grad

    def set_requires_grad(self, node_id: str, on: bool) -> None:
        """`x.requires_grad_(on)` on a tensor leaf, as an undoable edit."""
        self.window.editor.apply(SetAttribute(node_id, "requires_grad", bool(on)),
                                 f"requires_grad of {self.name_of(node_id)}")
