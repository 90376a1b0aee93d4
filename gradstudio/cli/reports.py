"""`gradstudio run`'s output: each node's value and .grad as PyTorch prints them (text), or as JSON data with
grad_fn names, shapes and errors (`--json`; big tensors summarised as PyTorch's repr summarises them)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gradstudio.model.workspace import GraphWorkspace

JSON_ELEMENTS = 1000  # larger tensors are summarised in --json as PyTorch's repr summarises them


def _repr(value: Any) -> str:
    """PyTorch's repr of a value (already a bounded summary for big tensors); huge Python ints bounded too."""
    from gradstudio.model.limits import short_repr

    return short_repr(value) if isinstance(value, int) and not isinstance(value, bool) else repr(value)


def _assignment(name: str, value: Any) -> str:
    """`name = repr(value)`, continuation lines indented so multi-line tensors stay aligned."""
    prefix = f"{name} = "
    return prefix + _repr(value).replace("\n", "\n" + " " * len(prefix))


def text_report(path: str, workspace: GraphWorkspace, target: str | None, backward_error: str | None) -> str:
    """Each node as `name = value` in PyTorch's repr, then each `.grad` after Backward."""
    document = workspace.document
    results = workspace.results()
    lines = [f"# {path} (grad mode: {document.settings.grad_mode})"]
    for node_id in document.topological_order():
        node, result = document.nodes[node_id], results[node_id]
        if result.error is not None:
            lines.append(f"{node.name} = <error: {result.error}>")
        elif result.blocked_by is not None:
            lines.append(f"{node.name} = <not computed: {document.nodes[result.blocked_by].name} failed>")
        else:
            lines.append(_assignment(node.name, result.value))
    if target is not None:
        lines.append(f"# {document.nodes[target].name}.backward()" + (" failed" if backward_error else ""))
        if backward_error is None:
            # every .grad PyTorch lets you read, upstream of the target or not (those print None)
            lines += [_assignment(f"{document.nodes[n].name}.grad", workspace.grad(n))
                      for n in workspace.grad_holders()]
    return "\n".join(lines) + "\n"


def _summarised(value: Any) -> bool:
    """True for a tensor too big to list in --json (its `summary` is PyTorch's repr instead)."""
    from gradstudio.engine import Tensor

    return isinstance(value, Tensor) and value.numel() > JSON_ELEMENTS


def _plain(value: Any) -> Any:
    """A value as JSON-safe data: tensors as nested lists (None when summarised), non-finite floats as strings."""
    from gradstudio.engine import Tensor
    from gradstudio.model.limits import short_repr

    if _summarised(value):
        return None
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1100:
        return short_repr(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _node_report(workspace: GraphWorkspace, node_id: str) -> dict[str, Any]:
    document = workspace.document
    node, result = document.nodes[node_id], workspace.result(node_id)
    value = result.value if result.ok else None
    tensor = result.tensor if result.ok else None
    grad = workspace.grad(node_id) if workspace.last_backward is not None else None
    return {
        "id": node_id,
        "name": node.name,
        "kind": node.kind,
        "value": _plain(value),
        "shape": list(tensor.shape) if tensor is not None else None,
        "dtype": str(tensor.dtype) if tensor is not None else None,
        "requires_grad": result.ok and result.tracked,
        "is_leaf": bool(tensor is not None and tensor.is_leaf),
        "grad_fn": tensor.grad_fn.name() if tensor is not None and tensor.grad_fn is not None else None,
        "grad": _plain(grad),
        "summary": repr(value) if _summarised(value) else None,
        "grad_summary": repr(grad) if _summarised(grad) else None,
        "error": result.error,
        "blocked_by": document.nodes[result.blocked_by].name if result.blocked_by else None,
    }


def json_report(path: str, workspace: GraphWorkspace, target: str | None, backward_error: str | None) -> dict[str, Any]:
    """The run as JSON data: settings, the Backward outcome and every node in evaluation order."""
    document = workspace.document
    backward = None
    if target is not None:
        backward = {"target": document.nodes[target].name, "error": backward_error}
    return {
        "file": path,
        "grad_mode": document.settings.grad_mode,
        "backward": backward,
        "nodes": [_node_report(workspace, node_id) for node_id in document.topological_order()],
    }
