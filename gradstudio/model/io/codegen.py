"""The PyTorch code equivalent to a graph document, written from the catalog's templates.

Leaves come first (created outside any `torch.no_grad()` block, as a session would), then every op in
topological order under its variable name (a grad-mode region's nodes, its leaves too, inside its `with` block, kept
together as far as the dependencies allow), Python-number nodes and port constants inlined (`y = x + 2`),
`.retain_grad()` where asked, and the backward pass from the document's target with the gradients it leaves printed.
A node that cannot compute is written as a comment saying why, so the code always runs.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any

from gradstudio.model import code_literals as lit
from gradstudio.model.attribute_kinds import kind_of
from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.evaluation import Evaluator, NodeResult
from gradstudio.model.grad_regions import MODE_CALLS, node_regions
from gradstudio.model.gradients import grad_holders
from gradstudio.model.leaves import make_leaf
from gradstudio.model.port_constants import unconnected_constants

NO_GRAD_FN = "element 0 of tensors does not require grad and does not have a grad_fn"
NOT_SCALAR = "grad can be implicitly created only for scalar outputs"
INDENT = "    "


def generate_code(document: GraphDocument, results: Mapping[str, NodeResult] | None = None,
                  backward_target: str | None = None) -> str:
    """Python source computing what `document` computes with PyTorch; `results` from its evaluator, if at hand.

    The backward pass runs from `backward_target` (a node id: the Backward just run, say), else from the
    document's backward target.
    """
    if results is None:
        results = _evaluate(document)
    return _Writer(document, results, backward_target).code()


def statement(document: GraphDocument, node: Node) -> str | None:
    """The one line of code computing an op node (`y = x + 2`); None for a leaf or a node with an unwired input."""
    if not node.input_ports():
        return None
    writer = _Writer(document, {})
    operands = writer._operands(node)
    if operands is None:
        return None
    return _line(node, operands)


def _line(node: Node, operands: dict[str, str]) -> str:
    return f"{node.name} = {node.spec.template.format_map(_fields(node, operands))}"


def _evaluate(document: GraphDocument) -> dict[str, NodeResult]:
    evaluator = Evaluator(document)
    try:
        return evaluator.evaluate()
    finally:
        evaluator.close()


class _Writer:
    """Builds the lines of one document's code."""

    def __init__(self, document: GraphDocument, results: Mapping[str, NodeResult],
                 backward_target: str | None = None) -> None:
        self.document = document
        self.backward_target = backward_target
        self.results = results
        self.no_grad = document.settings.grad_mode == "no_grad"
        self.uses_functional = False

    def code(self) -> str:
        """The whole program as text."""
        order = self.document.topological_order()
        regions = node_regions(self.document)
        nodes = self.document.nodes
        leaves = [line for node_id in order if not nodes[node_id].input_ports() and node_id not in regions
                  for line in self._leaf(nodes[node_id])]
        body = [node_id for node_id in order if nodes[node_id].input_ports() or node_id in regions]
        groups = {node_id: regions[node_id].id if node_id in regions else None for node_id in body}
        ops: list[str] = []
        for region_id, run in _runs(grouped_order(self.document, body, groups), groups):
            lines = [line for node_id in run for line in self._node_lines(nodes[node_id])]
            region = self.document.annotations.get(region_id) if region_id else None
            ops += _block(f"with {MODE_CALLS[region.grad_mode]}:", lines) if region and lines else lines
        if self.no_grad and ops:
            ops = _block("with torch.no_grad():", ops)
        imports = ["import torch"] + (["import torch.nn.functional as F"] if self.uses_functional else [])
        blocks = [imports, leaves, ops, self._backward()]
        return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"

    def _node_lines(self, node: Node) -> list[str]:
        return self._op(node) if node.input_ports() else self._leaf(node)

    # ----- nodes ---------------------------------------------------------------------------------------------

    def _result(self, node: Node) -> NodeResult | None:
        return self.results.get(node.id)

    def _problem(self, node: Node) -> str | None:
        """Why the node has no value (its error, or the upstream node it waits for), if it has none."""
        result = self._result(node)
        if result is None or result.ok:
            return None
        if result.error is not None:
            return result.error
        blocker = self.document.nodes.get(result.blocked_by)
        return f"not run: {blocker.name if blocker else result.blocked_by} has no value"

    def _leaf(self, node: Node) -> list[str]:
        if node.kind == "scalar":
            consumed = bool(self.document.edges_from(node.id))
            return [] if consumed else [f"{node.name} = {lit.number(node.attributes['value'])}"]
        problem = self._problem(node)
        try:
            lines = leaf_lines(node)
        except ValueError as error:  # LeafError
            return _disabled(node.name, [], problem or str(error))
        return _disabled(node.name, lines, problem) if problem else lines

    def _op(self, node: Node) -> list[str]:
        problem = self._problem(node)
        operands = self._operands(node)
        if operands is None:
            return [f"# {node.name}: {problem or 'an input is not connected'}"]
        template = node.spec.template
        self.uses_functional |= template.startswith("F.")
        line = _line(node, operands)
        if problem:
            return _disabled(node.name, [line], problem)
        if node.retain_grad and self._has_grad_fn(node):
            return [line, f"{node.name}.retain_grad()"]
        return [line]

    def _operands(self, node: Node) -> dict[str, str] | None:
        """Each input port's source as code (a name, or an inlined number or constant); None if one is unwired."""
        operands = {port: lit.operand(value) for port, value in unconnected_constants(self.document, node).items()}
        for port, edge in self.document.inputs_of(node.id).items():
            source = self.document.nodes[edge.source]
            is_number = source.kind == "scalar"
            operands[port] = lit.operand(source.attributes["value"]) if is_number else source.name
        return operands if len(operands) == len(node.input_ports()) else None

    def _has_grad_fn(self, node: Node) -> bool:
        """True for a tracked non-leaf: the only kind of tensor `.retain_grad()` applies to."""
        result = self._result(node)
        return result is not None and result.tracked and not result.tensor.is_leaf

    # ----- backward ------------------------------------------------------------------------------------------

    def _backward(self) -> list[str]:
        target_id = self.backward_target or self.document.settings.backward_target
        target = self.document.nodes.get(target_id) if target_id else None
        if target is None:
            return []
        result = self._result(target)
        if result is None or not result.ok:
            return [f"# {target.name} has no value: nothing to run backward from"]
        if target.kind == "scalar":
            return [f"# {target.name} is a Python number: nothing to run backward from"]
        lines = [f"print({target.name})"]
        if not result.tracked:
            return [*lines, f"# {target.name}.backward() would raise RuntimeError: {NO_GRAD_FN}"]
        if result.tensor.numel() != 1:
            return [*lines, f"# {target.name}.backward() would raise RuntimeError: {NOT_SCALAR}",
                    f"# (give it the gradient, e.g. {target.name}.backward(torch.ones_like({target.name})))"]
        lines.append(f"{target.name}.backward()")
        return lines + [f"print({name}.grad)" for name in self._grad_holders(target)]

    def _grad_holders(self, target: Node) -> list[str]:
        """Names of the nodes upstream of `target` whose `.grad` backward fills (leaves and retained non-leaves)."""
        holders = grad_holders(self.document, self.results, target.id)
        return [self.document.nodes[node_id].name for node_id in holders]


def _block(header: str, lines: list[str]) -> list[str]:
    """`lines` indented under `header` (a `with` statement); a block of nothing but comments gets a `pass`."""
    runs = any(line and not line.lstrip().startswith("#") for line in lines)
    return [header, *(INDENT + line if line else line for line in lines), *([] if runs else [INDENT + "pass"])]


def _runs(order: list[str], groups: Mapping[str, str | None]) -> list[tuple[str | None, list[str]]]:
    """`order` cut into maximal runs of nodes of one group."""
    runs: list[tuple[str | None, list[str]]] = []
    for node_id in order:
        if runs and runs[-1][0] == groups[node_id]:
            runs[-1][1].append(node_id)
        else:
            runs.append((groups[node_id], [node_id]))
    return runs


def grouped_order(document: GraphDocument, body: list[str], groups: Mapping[str, str | None]) -> list[str]:
    """`body` (in topological order) reordered so that nodes of one group follow each other wherever the edges
    allow: a topological sort that stays in the current group while it can, else takes the earliest ready node."""
    if not any(groups.values()):
        return body
    rank = {node_id: index for index, node_id in enumerate(body)}
    graph = document.graph()
    waiting = {node_id: sum(1 for p in graph.predecessors(node_id) if p in rank) for node_id in body}
    ready: list[int] = []
    ready_in: dict[str | None, list[int]] = {}

    def release(node_id: str) -> None:
        heapq.heappush(ready, rank[node_id])
        heapq.heappush(ready_in.setdefault(groups[node_id], []), rank[node_id])

    for node_id in body:
        if not waiting[node_id]:
            release(node_id)
    done: set[int] = set()
    result: list[str] = []
    current: str | None = None
    while len(result) < len(body):
        same = ready_in.get(current, [])
        while same and same[0] in done:
            heapq.heappop(same)
        heap = same if same else ready
        while heap[0] in done:
            heapq.heappop(heap)
        index = heapq.heappop(heap)
        done.add(index)
        node_id = body[index]
        result.append(node_id)
        current = groups[node_id]
        for successor in graph.successors(node_id):
            if successor in rank:
                waiting[successor] -= 1
                if not waiting[successor]:
                    release(successor)
    return result


def _disabled(name: str, lines: list[str], problem: str) -> list[str]:
    """A node's lines kept as comments, under the reason they cannot run."""
    reason = problem.splitlines()[0] if problem else "unknown error"
    return [f"# {name} cannot be computed: {reason}", *(f"# {line}" for line in lines)]


# ----- ops -------------------------------------------------------------------------------------------------


def _fields(node: Node, operands: dict[str, str]) -> dict[str, str]:
    """Everything a template may name: inputs, attributes, and the composite `dim_args`, `values`, `tensors`."""
    attributes = node.attributes
    fields = dict(operands)
    for spec in node.spec.attributes:
        fields[spec.name] = kind_of(spec).code_literal(spec, attributes[spec.name])
    fields["dim_args"] = _dim_args(node.kind, attributes)
    fields["values"] = ".values" if node.kind in ("max", "min") and attributes.get("dim") is not None else ""
    if node.spec.variadic:
        fields["tensors"] = ", ".join(operands[port] for port in node.input_ports())
    return fields


def _dim_args(kind: str, attributes: Mapping[str, Any]) -> str:
    """The arguments of a reduction as the catalog's call passes them (max/min ignore keepdim without dim)."""
    dim = attributes.get("dim")
    parts = [] if dim is None else [str(dim)]
    if attributes.get("keepdim") and (dim is not None or kind not in ("max", "min")):
        parts.append("keepdim=True")
    if attributes.get("correction", 1) != 1:
        parts.append(f"correction={attributes['correction']}")
    return ", ".join(parts)


# ----- leaves ----------------------------------------------------------------------------------------------


def leaf_lines(node: Node) -> list[str]:
    """The lines creating a tensor node's leaf (LeafError if its attributes describe no tensor)."""
    a, name = node.attributes, node.name
    shape, init = tuple(a["shape"]), a["init"]
    tensor = make_leaf({**a, "requires_grad": False})
    if init in ("ones", "zeros", "eye"):
        return [f"{name} = torch.{init}({_join(lit.sizes(shape), *_flags(a))})"]
    if init == "full":
        return [f"{name} = torch.full({_join(lit.size_tuple(shape), lit.number(a['fill']), *_flags(a))})"]
    if init in ("arange", "linspace"):
        return [f"{name} = {_generated(a, _range_args(a, tensor.numel()), len(shape) != 1)}"]
    if init in ("rand", "randn"):  # the leaf holds PyTorch's numbers for its seed
        return [f"torch.manual_seed({a['seed']})", f"{name} = {_generated(a, [lit.sizes(shape)], False)}"]
    prefix = f"{name} = torch.tensor("
    data = tensor.numpy()
    explicit = _join(lit.nested(data, len(prefix)), *_value_flags(a, data))
    return (prefix + explicit + ")").splitlines()


def _flags(a: Mapping[str, Any]) -> list[str]:
    flags = [] if a["dtype"] == "float32" else [f"dtype=torch.{a['dtype']}"]
    return flags + (["requires_grad=True"] if a["requires_grad"] else [])


def _value_flags(a: Mapping[str, Any], data: Any) -> list[str]:
    """torch.tensor infers float32, int64 or bool from the literals; name the dtype only when that differs."""
    inferred = a["dtype"] in ("float32", "int64", "bool") and data.size > 0
    flags = [] if inferred or a["dtype"] == "float32" else [f"dtype=torch.{a['dtype']}"]
    return flags + (["requires_grad=True"] if a["requires_grad"] else [])


def _range_args(a: Mapping[str, Any], count: int) -> list[str]:
    """arange(start, end) giving exactly `count` values (end nudged if rounding would add one); linspace's."""
    start = float(a["start"])
    if a["init"] == "linspace":
        return [lit.number(start), lit.number(float(a["end"])), str(count)]
    end = start + count
    return [lit.number(start), lit.number(end if end - start == count else end - 0.5)]


def _generated(a: Mapping[str, Any], args: list[str], reshape: bool) -> str:
    """A generating call in the leaf's dtype: other dtypes are cast from float64 (as the leaf is made), then
    reshaped if needed; requires_grad_() after such a chain keeps the result a leaf."""
    floating = a["dtype"].startswith("float")
    dtype = [] if a["dtype"] == "float32" else [f"dtype=torch.{a['dtype'] if floating else 'float64'}"]
    chain = (f".reshape({lit.sizes(tuple(a['shape']))})" if reshape else "") + \
        ("" if floating else f".to(torch.{a['dtype']})")
    grad = a["requires_grad"]
    if not chain:
        return f"torch.{a['init']}({_join(*args, *dtype, 'requires_grad=True' if grad else '')})"
    return f"torch.{a['init']}({_join(*args, *dtype)}){chain}" + (".requires_grad_()" if grad else "")


def _join(*parts: str) -> str:
    return ", ".join(part for part in parts if part)
