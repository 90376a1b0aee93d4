"""Custom differentiable ops: `torch.autograd.Function` with `forward`/`backward` static methods and a `ctx`."""

from __future__ import annotations

from typing import Any

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import FREED_BUFFERS_MESSAGE, Node, SavedTensor, gradient_edge
from gradstudio.engine._tensor import Tensor


class FunctionCtx:
    """What `forward` and `backward` share: saved tensors, `needs_input_grad`, and any attribute set on it."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._to_save: tuple[Tensor | None, ...] = ()
        self._saved: tuple[SavedTensor | None, ...] | None = ()
        self._non_differentiable: set[int] = set()
        self.materialize_grads = True
        self._node: Node | None = None

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for `backward` (an in-place change before backward raises, as in PyTorch)."""
        for tensor in tensors:
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {tensors.index(tensor)} "
                                f"is of type {type(tensor).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """The tensors given to `save_for_backward`, checked against in-place changes since."""
        if self._saved is None:
            raise RuntimeError(FREED_BUFFERS_MESSAGE)
        return tuple(None if saved is None else saved.unpack(self._node) for saved in self._saved)

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Outputs that get no gradient (they do not require grad)."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether `backward` receives zeros (True, the default) or None for outputs that got no gradient."""
        self.materialize_grads = value


class BackwardCFunction(Node):
    """The node of one output of a custom Function; each Function gets a subclass named `<Function>Backward`."""

    def apply(self, g: Tensor) -> tuple:
        ctx = self.ctx
        grads = [None] * self.output_count
        grads[self.output_index] = g
        if ctx.materialize_grads:
            from gradstudio.engine.creation import zeros

            grads = [zeros(shape, dtype=g.dtype) if grad is None else grad
                     for grad, shape in zip(grads, self.output_shapes)]
        results = self.function.backward(ctx, *grads)
        if not isinstance(results, tuple):
            results = (results,)
        if len(results) < self.arg_count:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected "
                               f"{self.arg_count}, got {len(results)})")
        return tuple(results[index] for index in self.tensor_positions)

    def release_saved(self) -> None:
        """Free the ctx's saved tensors once backward has run (without retain_graph)."""
        self.ctx._saved = None


def _node_class(function: type) -> type[Node]:
    """The node class of a Function, named `<Function>Backward` as PyTorch names it (made once per Function)."""
    made = function.__dict__.get("_backward_cls")
    if made is None:
        made = type(f"{function.__name__}Backward", (BackwardCFunction,), {})
        function._backward_cls = made
    return made


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`, then call `YourFunction.apply`."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        """The computation (run without recording)."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """Gradients for each argument of `forward`, given the gradients of its outputs."""
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run `forward` and, when an input requires grad, record the node whose backward is `backward`."""
        tensor_positions = tuple(i for i, arg in enumerate(args) if isinstance(arg, Tensor))
        recording = grad_mode.STATE.enabled and any(args[i]._requires_grad for i in tensor_positions)
        ctx = FunctionCtx(tuple(isinstance(arg, Tensor) and arg._requires_grad and recording for arg in args))
        with grad_mode.no_grad():
            result = cls.forward(ctx, *args)
        single = not isinstance(result, tuple)
        outputs = (result,) if single else result
        outputs = tuple(Tensor._make(out._data) if isinstance(out, Tensor) and any(out is a for a in args) else out
                        for out in outputs)
        tensors = [out for out in outputs if isinstance(out, Tensor)]
        if recording:
            ctx._saved = tuple(None if t is None else SavedTensor(t) for t in ctx._to_save)
            edges = tuple(gradient_edge(args[i]) for i in tensor_positions)
            shapes = [tuple(t._data.shape) for t in tensors]
            for index, out in enumerate(tensors):
                if id(out) in ctx._non_differentiable or out._data.dtype.kind != "f":
                    continue
                node = _node_class(cls)()
                node._edges = edges
                node.ctx, node.function, node.output_index = ctx, cls, index
                node.output_count, node.output_shapes = len(tensors), shapes
                node.arg_count, node.tensor_positions = len(args), tensor_positions
                ctx._node = ctx._node or node
                out._requires_grad, out.grad_fn = True, node
        return outputs[0] if single else outputs


