"""The recorded graph: `Node` (a tensor's `grad_fn`), `AccumulateGrad`, saved tensors, hooks.

Every differentiable op has one `Node` subclass named as PyTorch names it
(`MulBackward0`, ...). Its `apply` turns the gradient of the op's output into
gradients of its inputs, written with engine ops so that the gradient is itself
differentiable when the backward pass runs with `create_graph=True`.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from gradstudio.engine._node_hooks import NodeHooks, RemovableHandle

if TYPE_CHECKING:
    from gradstudio.engine._tensor import Tensor

_new = object.__new__
next_sequence_nr = itertools.count().__next__  # every node's creation number, and the marks between them


def sequence_mark() -> int:
    """A number above every existing node's sequence number and below every later one's."""
    return next_sequence_nr()


FREED_BUFFERS_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)


class SavedTensor:
    """A tensor kept for backward, with the version it had when saved.

    An op's own output is kept as its data only (keeping the tensor would make a
    reference cycle through the node) and rebuilt on unpack, with the node that
    saved it as its `grad_fn`.
    """

    __slots__ = ("_tensor", "_data", "_counter", "_version")

    def __init__(self, tensor: Tensor, owner: Node | None = None) -> None:
        """Save `tensor`; `owner` is given when `tensor` is that node's own output."""
        self._counter = tensor._counter or tensor._version_counter  # the slot; its property makes a counter
        self._version = self._counter.value
        if owner is None:
            self._tensor, self._data = tensor, None
        else:
            self._tensor, self._data = None, tensor._data

    def unpack(self, owner: Node) -> Tensor:
        """The saved tensor, after checking that no in-place op changed it since (`owner` saved it)."""
        if self._counter.value != self._version:
            raise RuntimeError(self._modified_message(owner))
        if self._tensor is not None:
            return self._tensor
        from gradstudio.engine._tensor import Tensor

        return Tensor._from_node(self._data, owner, self._counter)

    def _modified_message(self, owner: Node) -> str:
        from gradstudio.engine._dtype import legacy_type_name

        data = self._tensor._data if self._tensor is not None else self._data
        source = owner if self._tensor is None else self._tensor.grad_fn
        shape = ", ".join(str(extent) for extent in data.shape)
        where = f", which is output 0 of {source.name().split('Backward')[0]}," if source is not None else ""
        return (
            "one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{legacy_type_name(data.dtype)} [{shape}]]{where} is at version {self._counter.value}; expected "
            f"version {self._version} instead. Hint: enable anomaly detection to find the operation that failed "
            "to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
        )


class SavedNumber(SavedTensor):
    """A Python number an op took as a 0-d tensor (`x * 3`), kept as the 0-d array only: the tensor PyTorch
    shows as `_saved_other` is made the first time something unpacks it, with a version counter of its own
    from then on (until then no one can change it, so it holds the shared, never-bumped `UNCHANGED`)."""

    __slots__ = ()

    def unpack(self, owner: Node) -> Tensor:
        """The number's tensor, made on first use."""
        if self._tensor is None:
            from gradstudio.engine._tensor import Tensor
            from gradstudio.engine._versions import VersionCounter

            tensor = self._tensor = Tensor._make(self._data)
            tensor._counter = self._counter = VersionCounter()
        return super().unpack(owner)


class Node(NodeHooks):
    """A step of the recorded graph: the backward of one op application (its hooks: `NodeHooks`)."""

    # Defaults live on the class so that recording a node sets only what differs: most nodes never get
    # hooks, retained tensors or metadata, and those are created on first use.
    _edges: tuple[Node | None, ...] = ()  # per input: the node its gradient goes to, None if it needs none
    # output_nr per edge, set (as `_edge_outputs`) only when some edge leads into a node with several outputs
    # (else every edge is 0)
    _edge_numbers: tuple[int, ...] | None = None
    # set on a node with several outputs (split, unbind): id(output tensor) -> its output_nr; its backward then
    # receives a list with one gradient (or None) per output, and its tensor hooks are (output_nr, hook) pairs
    _output_numbers: dict[int, int] | None = None
    _saved: tuple[SavedTensor, ...] | None = ()
    _saved_names: tuple[str, ...] = ()  # what PyTorch calls each saved tensor: `_saved_self`, `_saved_result`...
    _metadata: dict[str, Any] | None = None
    _is_sink = False  # AccumulateGrad: the ready queue runs it first and backward accumulates instead of applying
    # PyTorch gives AccumulateGrad and the NotImplemented placeholder the top sequence number: once ready they
    # run before every other node (among themselves, in the order they became ready)
    _runs_first = False
    # `unrecorded(self, grad_data)`, on node types that have one: the gradients, as bare arrays (or tensors), that
    # `apply` gives with grad mode off, or None where this gradient needs `apply`. `run_from` calls it (only
    # while grad mode is off) to pass arrays between such nodes; see `ops/_core.unrecorded_first`
    unrecorded: Callable[[Any], tuple | None] | None = None
    # `run_from`'s one read per node for its lean step: the class's `unrecorded` as a plain function (a
    # staticmethod: no bound method made), None where the node needs the general step: a node type without a
    # rule or with a `release_saved` of its own, and (an instance's None, set by `_mark_hooked`) a hooked node
    _lean_step: Callable[[Node, Any], tuple | None] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        rule = cls.unrecorded
        cls._lean_step = staticmethod(rule) if rule is not None and cls.release_saved is Node.release_saved else None

    def __init__(self) -> None:
        self._sequence_nr = next_sequence_nr()

    @property
    def _edge_outputs(self) -> tuple[int, ...] | None:
        """`_edge_numbers`; set through here, so that a node whose gradients go to slots of several outputs
        takes no lean step (`run_from`'s lean step hands each gradient to its child as it is)."""
        return self._edge_numbers

    @_edge_outputs.setter
    def _edge_outputs(self, numbers: tuple[int, ...] | None) -> None:
        self._edge_numbers = numbers
        if numbers is not None:
            self._lean_step = None

    @property
    def metadata(self) -> dict[str, Any]:
        """Free-form storage attached to this node, as PyTorch's `grad_fn.metadata`."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def name(self) -> str:
        """PyTorch's name for this backward function, e.g. `MulBackward0`."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple[tuple[Node | None, int], ...]:
        """PyTorch's view of the edges: a `(node, output_nr)` pair per input (`(None, 0)` where no gradient goes)."""
        if self._edge_numbers is None:
            return tuple([(edge, 0) for edge in self._edges])
        return tuple(zip(self._edges, self._edge_numbers))

    @next_functions.setter
    def next_functions(self, pairs: tuple[tuple[Node | None, int], ...]) -> None:
        self._edges = tuple([edge for edge, _ in pairs])
        multi = any(edge is not None and edge._output_numbers is not None for edge in self._edges)
        self._edge_outputs = tuple([number for _, number in pairs]) if multi else None

    def _connect(self, inputs: tuple[Tensor, ...]) -> None:
        self._edges = tuple([gradient_edge(t) for t in inputs])
        self._edge_outputs = edge_outputs(inputs, self._edges)

    def save(self, *tensors: Tensor) -> None:
        """Keep input tensors for backward (version-checked on use)."""
        self._saved = tuple(SavedTensor(t) for t in tensors)

    def save_output(self, output: Tensor) -> None:
        """Keep this node's own output for backward."""
        self._saved = (*self._saved, SavedTensor(output, owner=self))

    @property
    def saved_tensors(self) -> tuple[Tensor, ...]:
        """The tensors saved in forward; raises once they were freed by backward."""
        if self._saved is None:
            raise RuntimeError(FREED_BUFFERS_MESSAGE)
        return tuple([saved.unpack(self) for saved in self._saved])

    def saved_arrays(self) -> tuple[Any, ...]:
        """The saved tensors' data, checked as `saved_tensors` checks them but not wrapped as tensors: for
        a backward that records nothing (grad mode off), which needs only numbers."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(FREED_BUFFERS_MESSAGE)
        if len(saved) == 2:  # a binary rule's pair (mul, div...), unrolled: no list, no loop, when both are unchanged
            first, second = saved
            if first._counter.value == first._version and second._counter.value == second._version:
                return (first._data if first._tensor is None else first._tensor._data,
                        second._data if second._tensor is None else second._tensor._data)
        arrays = []
        for kept in saved:
            if kept._counter.value != kept._version:
                raise RuntimeError(kept._modified_message(self))
            arrays.append(kept._data if kept._tensor is None else kept._tensor._data)
        return tuple(arrays)

    def saved_array(self) -> Any:
        """`saved_arrays()[0]` of a node that saves one tensor, without building the tuple (a lean backward
        path's one read); any problem is raised by `saved_arrays()`."""
        saved = self._saved
        if saved:
            kept = saved[0]
            if kept._counter.value == kept._version:
                return kept._data if kept._tensor is None else kept._tensor._data
        return self.saved_arrays()[0]

    def release_saved(self) -> None:
        """Free saved tensors; a later backward through this node raises PyTorch's error."""
        if self._saved:
            self._saved = None

    def _saved_named(self, key: str) -> Any:
        """PyTorch's `_saved_<key>`: a saved tensor (None where the gradient that reads it is not needed, so it
        was not kept) or a saved scalar; AttributeError where this node saves no such thing."""
        names = type(self)._saved_names
        if key in names:
            saved = self.saved_tensors[names.index(key)]
            return None if is_stub(saved) else saved
        if key in type(self).__dict__.get("_saved_scalars", ()):
            return getattr(self, key)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '_saved_{key}'")

    def apply(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        """Gradients for each input, given the gradient of the output."""
        raise NotImplementedError(f"the derivative for '{self.name()}' is not implemented.")

    def __call__(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        return self.apply(grad)


# Properties, not __getattr__: a class with __getattr__ slows every attribute access of every node in backward.
for _key in ("self", "other", "result", "exponent", "mat2"):
    setattr(Node, f"_saved_{_key}", property(lambda node, key=_key: node._saved_named(key)))


class AccumulateGrad(Node):
    """The sink for a leaf: adds the incoming gradient into `leaf.grad`."""

    _post_accumulate_hooks: list[Callable] | None = None
    _is_sink = True
    _runs_first = True

    def __init__(self, leaf: Tensor) -> None:
        self._sequence_nr = next_sequence_nr()  # Node.__init__, inlined: every first use of a leaf makes one
        self.variable = leaf

    def name(self) -> str:
        """PyTorch names this node by its C++ class (its repr still says `AccumulateGrad`)."""
        return "torch::autograd::AccumulateGrad"

    def apply(self, grad: Tensor) -> tuple[()]:
        return ()

    def _keep(self) -> None:
        """Let the leaf hold this node strongly from now on: what was attached to it (hooks, metadata) stays
        with the leaf after the graph that used it is freed."""
        self.variable._accumulator = self

    def register_tensor_hook(self, hook: Callable, output_nr: int = 0) -> RemovableHandle:
        self._keep()
        return super().register_tensor_hook(hook, output_nr)

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        self._keep()
        return super().register_prehook(hook)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        self._keep()
        return super().register_hook(hook)

    @property
    def metadata(self) -> dict[str, Any]:
        """Node.metadata; the leaf keeps the node once its metadata is read (see `_keep`)."""
        self._keep()
        return Node.metadata.fget(self)

    @property
    def _retained(self) -> list[weakref.ref] | None:
        return self._retained_refs

    @_retained.setter
    def _retained(self, refs: list[weakref.ref] | None) -> None:
        self._keep()
        self._retained_refs = refs
        self._mark_hooked()


def record_outputs(node: Node, outputs: Sequence[Tensor]) -> None:
    """Make `node` the one grad_fn of several outputs (split, unbind): it learns each output's number, and its
    backward gets one gradient slot per output."""
    node._output_numbers = {id(out): number for number, out in enumerate(outputs)}
    node.output_count = len(outputs)


def output_nr(tensor: Tensor) -> int:
    """Which output of its grad_fn `tensor` is (PyTorch's `tensor.output_nr`)."""
    node = tensor.grad_fn
    numbers = node._output_numbers if node is not None else None
    return 0 if numbers is None else numbers.get(id(tensor), 0)


def edge_outputs(inputs: Sequence[Tensor], edges: Sequence[Node | None]) -> tuple[int, ...] | None:
    """The output_nr of each edge, or None when no edge leads into a node with several outputs."""
    for edge in edges:
        if edge is not None and edge._output_numbers is not None:
            return tuple([output_nr(tensor) if edge is not None else 0 for tensor, edge in zip(inputs, edges)])
    return None


def is_stub(tensor: Tensor) -> bool:
    """Whether `tensor` is a shape stand-in (ops/_core.shape_stub): read-only, every stride 0."""
    data = tensor._data
    return not data.flags.writeable and not any(data.strides) and data.base is not None


def register_post_accumulate_grad_hook(tensor: Tensor, hook: Callable) -> RemovableHandle:
    """Call `hook(tensor)` after a leaf's `.grad` has been accumulated (PyTorch's message otherwise)."""
    if not tensor._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    node = gradient_edge(tensor)
    if node is None:
        return RemovableHandle([hook], hook)
    node._keep()
    if node._post_accumulate_hooks is None:
        node._post_accumulate_hooks = []
        node._lean_step = None  # (no lean step: see Node._lean_step)
    node._post_accumulate_hooks.append(hook)
    return RemovableHandle(node._post_accumulate_hooks, hook)


def gradient_edge(tensor: Tensor) -> Node | None:
    """Where a gradient for `tensor` goes: its grad_fn, its AccumulateGrad, or nowhere."""
    if not tensor._requires_grad:
        return None
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    node = tensor._accumulator
    if type(node) is _WEAK:  # (see below)
        node = node()
    if node is None:
        if not tensor._accumulates:  # a view made without recording: it requires grad, yet its gradient is dropped
            return None
        node = _new(AccumulateGrad)  # AccumulateGrad(tensor), inlined: every new leaf's first use makes one
        node._sequence_nr = next_sequence_nr()
        node.variable = tensor
        # held weakly, as PyTorch's leaf holds its grad accumulator: the graph keeps the node alive, and the
        # leaf and the node make no reference cycle for the cyclic collector to free; a node that gets hooks
        # or metadata is then held strongly (`AccumulateGrad._keep`), so they stay with the leaf
        tensor._accumulator = _WEAK(node)
    return node


_WEAK = weakref.ref
