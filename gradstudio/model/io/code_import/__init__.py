"""PyTorch code into a graph: `.py` files, notebooks' code cells and the fenced blocks of Markdown notes.

The code is parsed with `ast` and never run. `plan_import(document, source)` translates it against a scratch
copy of `document` (names already there are wired into, as a later block of notes wires into an earlier one)
and returns an `ImportPlan`; `plan.edit(offset)` is the whole import as one reversible edit. Anything the graph
cannot show faithfully is refused with a `CodeImportError` (line, column, reason, nearest supported form), and a
refused import changes nothing.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.edits import AddNode, Batch, Connect, Edit, SetSetting
from gradstudio.model.io.code_import.arrangement import Rect, Segment, Size, arrange_segments, estimated_size
from gradstudio.model.io.code_import.errors import CodeImportError
from gradstudio.model.io.code_import.lessons import block_title, lesson, new_annotation
from gradstudio.model.io.code_import.sources import CodeBlock, Source, read_source, source_from_text
from gradstudio.model.io.code_import.statements import GradBlock, Translator

__all__ = ["CodeImportError", "ImportPlan", "Source", "plan_import", "read_source", "source_from_text",
           "import_file_as_document", "looks_like_code"]


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


# a line only code starts so: an import, a with/for/def, an assignment, or a call of a dotted name
CODE_LINE = re.compile(r"\s*(import \w|from \w+ import|with \w|for \w|def \w|[A-Za-z_][\w.]*\s*[-+*/@]?=[^=]"
                       r"|[A-Za-z_]\w*(\.\w+)+\()")


def looks_like_code(text: str) -> bool:
    """True if clipboard text reads as Python (or Markdown with fenced Python), not as prose or a fragment."""
    stripped = text.strip()
    if not stripped or stripped.startswith("{"):
        return False
    source = source_from_text(text)
    if source.notes:
        return bool(source.blocks)
    try:
        tree = ast.parse(text)
    except SyntaxError:  # broken code (then refused with the line and column) or prose
        return any(CODE_LINE.match(line) for line in text.splitlines())
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
        annotations, positions = lesson(translator, source, runs, size_of)
    else:
        segments = [segment for run in runs for segment in run]
        placed = arrange_segments(translator.document, segments, (0.0, 0.0), size_of)
        positions = placed.positions
        annotations = [new_annotation(translator, "frame", block_title(mode), rect, mode)
                       for rect, mode in placed.frames]
    edits = [_placed(edit, positions) for edit in translator.edits]
    sizes = {node_id: size_of(translator.document.nodes[node_id]) for node_id in translator.created}
    target = translator.backward_target
    if target == document.settings.backward_target:
        target = None
    return ImportPlan(edits, list(translator.created), sizes, annotations, target, translator.warnings)


def import_file_as_document(path: str | Path) -> tuple[GraphDocument, list[str]]:
    """A new document holding what the file at `path` imports into, and the import's warnings (CodeImportError
    if refused)."""
    document = GraphDocument()
    plan = plan_import(document, read_source(path))
    document.apply(plan.edit())
    return document, plan.warnings


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
    return _segments(translator.created[start:], translator.blocks[first_block:], first_block)


def _segments(node_ids: list[str], blocks: list[GradBlock], first: int) -> list[Segment]:
    """Runs of nodes inside the same `with` blocks (`first`: the index of `blocks[0]` among all blocks)."""
    owner: dict[str, int] = {}
    for index, block in enumerate(blocks):  # inner blocks come later: the last owner is the innermost
        owner.update(dict.fromkeys(block.node_ids, index))
    segments: list[Segment] = []
    for node_id in node_ids:
        frames = _chain(blocks, owner.get(node_id), first)
        if not segments or segments[-1].frames != frames:
            segments.append(Segment([], frames))
        segments[-1].node_ids.append(node_id)
    return segments


def _chain(blocks: list[GradBlock], index: int | None, first: int) -> tuple[tuple[int, str], ...]:
    """The blocks around block `index`, outermost first, as (number, grad mode)."""
    chain: list[tuple[int, str]] = []
    while index is not None:
        chain.insert(0, (first + index, blocks[index].grad_mode))
        parent = blocks[index].parent
        index = None if parent is None else parent - first
    return tuple(chain)


def _placed(edit: Edit, positions: dict[str, tuple[float, float]]) -> Edit:
    if isinstance(edit, AddNode) and edit.node.id in positions:
        return AddNode(replace(edit.node, position=positions[edit.node.id]))
    return edit
