"""Attaching hooks to a node of the recorded graph: tensor hooks, node pre- and post-hooks, retained outputs, and
the handles that remove them. `Node` inherits this half; `_hooks.py` runs the hooks during backward."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradstudio.engine._tensor import Tensor


class RemovableHandle:
    """Returned by `register_hook`; `remove()` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class NodeHooks:
    """A node's hooks and retained outputs (a base of `Node`). The lists are class defaults, made on first use:
    most nodes never get one, and a node gets `_hooked` (which backward reads) only once one is made."""

    _pre_hooks: list[Callable] | None = None  # tensor hooks (`Tensor.register_hook`): grad -> grad
    _node_pre_hooks: list[Callable] | None = None  # `register_prehook`: grad_outputs tuple -> tuple
    _post_hooks: list[Callable] | None = None  # `register_hook`: (grad_inputs, grad_outputs) -> grad_inputs
    _retained_refs: list[weakref.ref] | None = None  # read and set as `_retained`
    _hooked = False  # set once a hook list or `_retained` is made: only then does backward look at them

    def _mark_hooked(self) -> None:
        """Backward must look at this node's hooks (or retained outputs): no lean step for it from now on."""
        self._hooked = True
        self._lean_step = None

    @property
    def _retained(self) -> list[weakref.ref] | None:
        """Weak references to outputs that keep their gradient (`retain_grad()`); setting it marks the node
        hooked, so a list set from anywhere (a view's history rewritten in place) is seen by backward."""
        return self._retained_refs

    @_retained.setter
    def _retained(self, refs: list[weakref.ref] | None) -> None:
        self._retained_refs = refs
        self._mark_hooked()

    def register_tensor_hook(self, hook: Callable, output_nr: int = 0) -> RemovableHandle:
        """Call `hook(grad)` before this node runs; a non-None return replaces the gradient (a tensor's hook).
        On a node with several outputs the hook is kept with the number of the output it watches."""
        if self._pre_hooks is None:
            self._pre_hooks = []
            self._mark_hooked()
        entry = hook if self._output_numbers is None else (output_nr, hook)
        self._pre_hooks.append(entry)
        return RemovableHandle(self._pre_hooks, entry)

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(grad_outputs)` before this node runs; a returned tuple replaces the gradients."""
        if self._node_pre_hooks is None:
            self._node_pre_hooks = []
            self._mark_hooked()
        self._node_pre_hooks.append(hook)
        return RemovableHandle(self._node_pre_hooks, hook)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(grad_inputs, grad_outputs)` after this node runs; a returned tuple replaces grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = []
            self._mark_hooked()
        self._post_hooks.append(hook)
        return RemovableHandle(self._post_hooks, hook)

    def retain_output(self, tensor: Tensor) -> None:
        """Give `tensor` (this node's output) the gradient flowing into this node, as `.grad` (`retain_grad()`)."""
        if self._retained is None:
            self._retained = []
        self._retained.append(weakref.ref(tensor))
