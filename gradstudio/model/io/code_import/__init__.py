"""PyTorch code into a graph: `.py` files, notebooks' code cells and the fenced blocks of Markdown notes.

The code is parsed with `ast` and never run. `plan_import(document, source)` translates it against a scratch
copy of `document` (names already there are wired into, as a later block of notes wires into an earlier one)
and returns an `ImportPlan`; `plan.edit(offset)` is the whole import as one reversible edit. Anything the graph
cannot show faithfully is refused with a `CodeImportError` (line, column, reason, nearest supported form), and a
refused import changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.document import AddNode, Batch, Connect, Edit, GraphDocument, Node, SetSetting
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
    estimated_size,
    note_size,
)
from gradstudio.model.io.code_import.errors import CodeImportError
from gradstudio.model.io.code_import.sources import CodeBlock, Source, read_source, source_from_text
from gradstudio.model.io.code_import.statements import GradBlock, Translator

__all__ = ["CodeImportError", "ImportPlan", "Source", "plan_import", "read_source", "source_from_text",
           "import_file_as_document", "looks_like_code"]

FRAME_GAP = 40.0  # between a lesson's note column and its frames
TITLE_CHARACTER = 9.0  # average width of a frame title's character (11 pt bold)


@dataclass
class ImportPlan:
    """An import worked out but not yet applied: its edits with positions relative to (0, 0)."""

    edits: list[Edit]
    node_ids: list[str]
    sizes: dict[str, Size]
    annotations: list[Annotation] = field(default_factory=list)
    backward_target: str | None = None
    warnings: list[str] = field(default_factory=list)

    def rects(self) -> list[Rect]:
        """Every imported node's and annotation's rectangle (relative to the plan's origin)."""
        positions = {edit.node.id: edit.node.position for edit in self.edits if isinstance(edit, AddNode)}
        rects = [(*positions[node_id], *self.sizes[node_id]) for node_id in self.node_ids]
        return rects + [(*item.position, *item.size) for item in self.annotations]

    def edit(self, offset: tuple[float, float] = (0.0, 0.0)) -> Batch:
        """The whole import as one edit, everything shifted by `offset`."""
        dx, dy = offset
        edits: list[Edit] = []
        for edit in self.edits:
            if isinstance(edit, AddNode):
                x, y = edit.node.position
                edit = AddNode(replace(edit.node, position=(x + dx, y + dy)))
            edits.append(edit)
        for item in self.annotations:
            edits.append(AddAnnotation(replace(item, position=(item.position[0] + dx, item.position[1] + dy))))
        if self.backward_target is not None:
            edits.append(SetSetting("backward_target", self.backward_target))
        return Batch(edits)

    @property
    def empty(self) -> bool:
        """True when the code made no node and changed nothing."""
        return not self.edits and self.backward_target is None


def looks_like_code(text: str) -> bool:
    """True if clipboard text reads as Python (or Markdown with fenced Python), not as prose or a fragment."""
    stripped = text.strip()
    if not stripped or stripped.startswith("{"):
        return False
    source = source_from_text(text)
    if source.notes:
        return bool(source.blocks)
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    return any(not isinstance(node, ast.Expr) or isinstance(node.value, ast.Call) for node in tree.body)


def plan_import(document: GraphDocument, source: Source | str,
                size_of: Callable[[Node], Size] = estimated_size) -> ImportPlan:
    """Translate `source` (a Source, or pasted text) against `document`; CodeImportError if it is refused."""
    if isinstance(source, str):
        source = source_from_text(source)
    translator = Translator(_scratch(document))
    translator.env.update({node.name: node.id for node in document.nodes.values()})
    runs = [_run_block(translator, block) for block in source.blocks]
    if source.notes and source.blocks:
        annotations, positions = _lesson(translator, source, runs, size_of)
    else:
        segments = [segment for run in runs for segment in run]
        placed = arrange_segments(translator.document, segments, (0.0, 0.0), size_of)
        positions = placed.positions
        annotations = [_annotation(translator, "frame", _block_title(mode), rect, mode)
                       for rect, mode in placed.frames]
    edits = [_placed(edit, positions) for edit in translator.edits]
    sizes = {node_id: size_of(translator.document.nodes[node_id]) for node_id in translator.created}
    target = translator.backward_target
    if target == document.settings.backward_target:
        target = None
    return ImportPlan(edits, list(translator.created), sizes, annotations, target, translator.warnings)


def import_file_as_document(path: str | Path) -> GraphDocument:
    """A new document holding what the file at `path` imports into (CodeImportError if refused)."""
    document = GraphDocument()
    plan = plan_import(document, read_source(path))
    document.apply(plan.edit())
    return document


# ----- translation -------------------------------------------------------------------------------------------


def _scratch(document: GraphDocument) -> GraphDocument:
    """A copy of `document`'s nodes, edges, annotations and settings to translate against."""
    scratch = GraphDocument()
    for node in document.nodes.values():
        AddNode(copy.deepcopy(node)).apply(scratch)
    for edge in document.edges.values():
        Connect(edge, check_cycle=False).apply(scratch)
    for item in document.annotations.values():
        scratch.annotations[item.id] = copy.deepcopy(item)
    scratch.settings = copy.deepcopy(document.settings)
    return scratch


def _run_block(translator: Translator, block: CodeBlock) -> list[Segment]:
    """Translate one block; its new nodes as segments (runs inside and outside `with` blocks)."""
    start, first_block = len(translator.created), len(translator.blocks)
    try:
        translator.run(block.code)
    except CodeImportError as error:
        where = block.label or (block.heading if block.first_line > 1 else "")
        raise error.moved(block.first_line - 1, where) from None
    return _segments(translator.created[start:], translator.blocks[first_block:])


def _segments(node_ids: list[str], blocks: list[GradBlock]) -> list[Segment]:
    owner = {node_id: index for index, block in enumerate(blocks) for node_id in block.node_ids}
    segments: list[Segment] = []
    current: int | None = -1
    for node_id in node_ids:
        block = owner.get(node_id)
        if not segments or block != current:
            segments.append(Segment([], blocks[block].grad_mode if block is not None else None))
            current = block
        segments[-1].node_ids.append(node_id)
    return segments


def _placed(edit: Edit, positions: dict[str, tuple[float, float]]) -> Edit:
    if isinstance(edit, AddNode) and edit.node.id in positions:
        return AddNode(replace(edit.node, position=positions[edit.node.id]))
    return edit


def _annotation(translator: Translator, kind: str, text: str, rect: Rect, grad_mode: str = "none") -> Annotation:
    item = Annotation(translator.document.new_id(), kind, text, (rect[0], rect[1]), (rect[2], rect[3]), grad_mode)
    translator.document.annotations[item.id] = item  # reserves the id
    return item


def _block_title(grad_mode: str) -> str:
    return f"with torch.{grad_mode}():"


# ----- lessons from notes ----------------------------------------------------------------------------------------


def _lesson(translator: Translator, source: Source, runs: list[list[Segment]],
            size_of: Callable[[Node], Size]) -> tuple[list[Annotation], dict[str, tuple[float, float]]]:
    """One row per code block: its prose as a note on the left, a frame titled with its heading on the right;
    the rows fill two columns when there are many, so the lesson fits a landscape screen."""
    rows: list[_Row] = []
    titles: dict[str, int] = {}
    for block, segments in zip(source.blocks, runs):
        rows.append(_lesson_row(translator, block, segments, _lesson_title(block, titles), size_of))
    if source.trailing_prose:
        width, height = note_size(source.trailing_prose, 2 * NOTE_WIDTH)
        note = _annotation(translator, "note", source.trailing_prose, (0.0, 0.0, width, height))
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
    annotations = [_annotation(translator, "frame", title, (frame_x, 0.0, width, height))]
    annotations += [_annotation(translator, "frame", _block_title(mode), rect, mode) for rect, mode in placed.frames]
    text = _note_text(block, has_nodes)
    note_height = 0.0
    if text:
        note_width, note_height = note_size(text)
        annotations.append(_annotation(translator, "note", text, (0.0, 0.0, note_width, note_height)))
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
