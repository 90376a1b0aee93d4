"""Lessons from notes: one document in which each code block is a frame titled with its heading, holding the
block's graph, with the prose around the block as a note beside it; rows fill two columns when there are many."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gradstudio.model.annotations import Annotation
from gradstudio.model.document import Node
from gradstudio.model.io.code_import.arrangement import (
    EMPTY_FRAME,
    NOTE_WIDTH,
    PAD,
    ROW_GAP,
    TITLE,
    Rect,
    Segment,
    Size,
    arrange_segments,
    note_size,
)
from gradstudio.model.io.code_import.sources import CodeBlock, Source
from gradstudio.model.io.code_import.statements import Translator

FRAME_GAP = 40.0  # between a lesson's note column and its frames
TITLE_CHARACTER = 9.0  # average width of a frame title's character (11 pt bold)


def new_annotation(translator: Translator, kind: str, text: str, rect: Rect, grad_mode: str = "none") -> Annotation:
    """A note or frame with a fresh id (reserved in the scratch document), not yet added to any document."""
    item = Annotation(translator.document.new_id(), kind, text, (rect[0], rect[1]), (rect[2], rect[3]), grad_mode)
    translator.document.annotations[item.id] = item  # reserves the id
    return item


def block_title(grad_mode: str) -> str:
    """The title of a grad-mode block's frame: the `with` line it came from."""
    return f"with torch.{grad_mode}():"


def lesson(translator: Translator, source: Source, runs: list[list[Segment]],
            size_of: Callable[[Node], Size]) -> tuple[list[Annotation], dict[str, tuple[float, float]]]:
    """One row per code block: its prose as a note on the left, a frame titled with its heading on the right;
    the rows fill two columns when there are many, so the lesson fits a landscape screen."""
    rows: list[_Row] = []
    titles: dict[str, int] = {}
    for block, segments in zip(source.blocks, runs):
        rows.append(_lesson_row(translator, block, segments, _lesson_title(block, titles), size_of))
    if source.trailing_prose:
        width, height = note_size(source.trailing_prose, 2 * NOTE_WIDTH)
        note = new_annotation(translator, "note", source.trailing_prose, (0.0, 0.0, width, height))
        rows.append(_Row({}, [note], width, height))
    annotations: list[Annotation] = []
    positions: dict[str, tuple[float, float]] = {}
    for row, (dx, dy) in zip(rows, _row_origins(rows)):
        positions.update({node_id: (x + dx, y + dy) for node_id, (x, y) in row.positions.items()})
        for item in row.annotations:
            item.position = (item.position[0] + dx, item.position[1] + dy)
            annotations.append(item)
    return annotations, positions


@dataclass
class _Row:
    """One block's nodes, frames and note, placed from (0, 0), and the room they take."""

    positions: dict[str, tuple[float, float]]
    annotations: list[Annotation]
    width: float
    height: float


def _lesson_row(translator: Translator, block: CodeBlock, segments: list[Segment], title: str,
                size_of: Callable[[Node], Size]) -> _Row:
    frame_x = NOTE_WIDTH + FRAME_GAP
    placed = arrange_segments(translator.document, segments, (frame_x + PAD, TITLE), size_of)
    has_nodes = any(segment.node_ids for segment in segments)
    width = max(placed.bounds[2] + 2 * PAD if has_nodes else EMPTY_FRAME[0], len(title) * TITLE_CHARACTER + 40)
    height = placed.bounds[3] + TITLE + PAD if has_nodes else EMPTY_FRAME[1]
    annotations = [new_annotation(translator, "frame", title, (frame_x, 0.0, width, height))]
    annotations += [new_annotation(translator, "frame", block_title(mode), rect, mode) for rect, mode in placed.frames]
    text = _note_text(block, has_nodes)
    note_height = 0.0
    if text:
        note_width, note_height = note_size(text)
        annotations.append(new_annotation(translator, "note", text, (0.0, 0.0, note_width, note_height)))
    return _Row(placed.positions, annotations, frame_x + width, max(height, note_height))


def _row_origins(rows: list[_Row]) -> list[tuple[float, float]]:
    """Where each row goes: top to bottom, in two columns of about equal height when there are four or more."""
    total = sum(row.height + ROW_GAP for row in rows)
    columns = 2 if len(rows) >= 4 else 1
    origins: list[tuple[float, float]] = []
    x = y = column_width = 0.0
    for index, row in enumerate(rows):
        if columns == 2 and y > 0 and y + row.height / 2 > total / 2 and x == 0.0 and index < len(rows):
            x, y = column_width + 2 * ROW_GAP, 0.0
        origins.append((x, y))
        y += row.height + ROW_GAP
        column_width = max(column_width, row.width) if x == 0.0 else column_width
    return origins


def _lesson_title(block: CodeBlock, seen: dict[str, int]) -> str:
    heading = block.heading or block.label or "Code"
    seen[heading] = seen.get(heading, 0) + 1
    return heading if seen[heading] == 1 else f"{heading} (part {seen[heading]})"


def _note_text(block: CodeBlock, has_nodes: bool) -> str:
    """The block's prose, and what a block without nodes does (its statements), so its empty frame is explained."""
    parts = [block.prose]
    if not has_nodes:
        statements = [line.split("#")[0].rstrip() for line in block.code.splitlines()]
        shown = [line for line in statements if line and not line.startswith("print(")]
        parts.append("This block runs: " + "; ".join(shown))
    parts.append(block.after)
    return "\n\n".join(part for part in parts if part)
