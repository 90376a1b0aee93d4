"""Where imported nodes, frames and notes go: a clean layered layout per piece of code, grad-mode blocks framed,
and for notes one row per code block (its prose as a note on the left, its frame on the right)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.layout import layered_positions

Size = tuple[float, float]
Rect = tuple[float, float, float, float]  # x, y, width, height
GAP = (70.0, 36.0)  # between columns and rows of nodes
PAD = 24.0  # inside a frame, around its nodes
TITLE = 40.0  # a frame's title band (the canvas draws it 28 high) and some air
ROW_GAP = 60.0  # between the rows of a lesson
NOTE_WIDTH = 320.0
NOTE_CHARACTER = 7.0  # average width of a note's character, in scene pixels (9.5 pt)
NOTE_LINE = 17.0
EMPTY_FRAME = (260.0, 110.0)


def estimated_size(node: Node) -> Size:
    """A node's drawn size where the canvas cannot say (a little more than the canvas draws, never less)."""
    return 180.0, 70.0 + 20.0 * max(len(node.input_ports()), 1)


@dataclass
class Segment:
    """A run of nodes laid out together; `frame` is the grad mode of the `with` block they came from, if any."""

    node_ids: list[str]
    grad_mode: str | None = None


@dataclass
class Placed:
    """Positions of nodes and the rectangles of the frames around segments, relative to the arrangement's origin."""

    positions: dict[str, tuple[float, float]]
    frames: list[tuple[Rect, str]]  # rect, grad mode
    bounds: Rect


def arrange_segments(document: GraphDocument, segments: Sequence[Segment], origin: tuple[float, float],
                     size_of: Callable[[Node], Size] = estimated_size) -> Placed:
    """Lay out each segment in layered columns, the segments left to right; framed ones get a frame around."""
    positions: dict[str, tuple[float, float]] = {}
    frames: list[tuple[Rect, str]] = []
    x, top = origin
    right, bottom = x, top
    for segment in segments:
        if not segment.node_ids:
            continue
        sizes = {node_id: size_of(document.nodes[node_id]) for node_id in segment.node_ids}
        laid = layered_positions(document, segment.node_ids, sizes, GAP)
        left = min(px for px, _ in laid.values())
        upper = min(py for _, py in laid.values())
        inset = (PAD, TITLE) if segment.grad_mode else (0.0, 0.0)
        for node_id, (px, py) in laid.items():
            positions[node_id] = (x + inset[0] + px - left, top + inset[1] + py - upper)
        width = max(positions[n][0] + sizes[n][0] for n in segment.node_ids) - x + inset[0]
        height = max(positions[n][1] + sizes[n][1] for n in segment.node_ids) - top + (PAD if inset[1] else 0.0)
        if segment.grad_mode:
            frames.append(((x, top, width, height), segment.grad_mode))
        x += width + GAP[0]
        right, bottom = max(right, x - GAP[0]), max(bottom, top + height)
    return Placed(positions, frames, (origin[0], origin[1], right - origin[0], bottom - origin[1]))


def note_size(text: str, width: float = NOTE_WIDTH) -> Size:
    """The size a note needs to show `text` wrapped at `width`."""
    per_line = max(8, int((width - 20) / NOTE_CHARACTER))
    lines = sum(max(1, -(-len(line) // per_line)) for line in text.splitlines()) if text else 1
    return width, max(60.0, 24.0 + NOTE_LINE * lines)


def union(rects: Sequence[Rect]) -> Rect:
    """The smallest rectangle holding all `rects`."""
    left = min(r[0] for r in rects)
    top = min(r[1] for r in rects)
    right = max(r[0] + r[2] for r in rects)
    bottom = max(r[1] + r[3] for r in rects)
    return left, top, right - left, bottom - top
