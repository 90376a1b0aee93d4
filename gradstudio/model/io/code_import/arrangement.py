"""Where imported nodes, frames and notes go: a clean layered layout per piece of code, grad-mode blocks framed,
and for notes one row per code block (its prose as a note on the left, its frame on the right)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gradstudio.model.document import GraphDocument, Node

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
    """A run of nodes laid out together, inside the `with` blocks `frames` (outermost first: number, grad mode)."""

    node_ids: list[str]
    frames: tuple[tuple[int, str], ...] = ()


@dataclass
class Placed:
    """Positions of nodes and the rectangles of the frames around segments, relative to the arrangement's origin."""

    positions: dict[str, tuple[float, float]]
    frames: list[tuple[Rect, str]]  # rect, grad mode (outer frames before the frames inside them)
    bounds: Rect


def arrange_segments(document: GraphDocument, segments: Sequence[Segment], origin: tuple[float, float],
                     size_of: Callable[[Node], Size] = estimated_size) -> Placed:
    """Lay out each segment in layered columns, the segments left to right, each `with` block framed: a frame's
    title band above the nodes of every level inside it, PAD of room around each level."""
    segments = [segment for segment in segments if segment.node_ids]
    deepest: dict[tuple[int, str], int] = {}  # frame -> how many frames deep its deepest nodes lie
    for segment in segments:
        for frame in segment.frames:
            deepest[frame] = max(deepest.get(frame, 0), len(segment.frames))
    positions: dict[str, tuple[float, float]] = {}
    from gradstudio.model.layout import layered_positions  # noqa: PLC0415 - networkx loads on first use

    boxes: dict[tuple[int, str], list[float]] = {}  # frame -> [left, right, bottom] of its nodes
    x, top = origin
    previous: tuple[tuple[int, str], ...] = ()
    for index, segment in enumerate(segments):
        x += _room(segment.frames, _shared(previous, segment.frames), deepest)
        sizes = {node_id: size_of(document.nodes[node_id]) for node_id in segment.node_ids}
        laid = layered_positions(document, segment.node_ids, sizes, GAP)
        left = min(px for px, _ in laid.values())
        upper = min(py for _, py in laid.values())
        inset = TITLE * len(segment.frames)
        for node_id, (px, py) in laid.items():
            positions[node_id] = (x + px - left, top + inset + py - upper)
        segment_right = max(positions[n][0] + sizes[n][0] for n in segment.node_ids)
        segment_bottom = max(positions[n][1] + sizes[n][1] for n in segment.node_ids)
        for frame in segment.frames:
            box = boxes.setdefault(frame, [x, segment_right, segment_bottom])
            box[1], box[2] = max(box[1], segment_right), max(box[2], segment_bottom)
        following = segments[index + 1].frames if index + 1 < len(segments) else ()
        x = segment_right + GAP[0] + _room(segment.frames, _shared(segment.frames, following), deepest)
        previous = segment.frames
    frames: list[tuple[Rect, str]] = []
    for (number, mode), (left, right, bottom) in boxes.items():
        depth = next(s.frames.index((number, mode)) for s in segments if (number, mode) in s.frames)
        room = PAD * (deepest[(number, mode)] - depth)
        frames.append(((left - room, top + TITLE * depth, right - left + 2 * room, bottom + room - top - TITLE * depth),
                       mode))
    rects = [(*positions[n], *size_of(document.nodes[n])) for s in segments for n in s.node_ids]
    rects += [rect for rect, _ in frames]
    if not rects:
        return Placed(positions, frames, (origin[0], origin[1], 0.0, 0.0))
    whole = union(rects)
    return Placed(positions, frames, (origin[0], origin[1], whole[0] + whole[2] - origin[0],
                                      whole[1] + whole[3] - origin[1]))


def _room(frames: tuple[tuple[int, str], ...], shared: int, deepest: dict[tuple[int, str], int]) -> float:
    """Room for the frames opened (or closed) beside a segment: the outermost one's padding of every level."""
    if shared >= len(frames):
        return 0.0
    return PAD * (deepest[frames[shared]] - shared)


def _shared(first: tuple, second: tuple) -> int:
    """How many outer frames two segments share."""
    count = 0
    for a, b in zip(first, second):
        if a != b:
            break
        count += 1
    return count


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
