"""Where imported code comes from: a `.py` file, a notebook's code cells, or the fenced blocks of Markdown notes.

Every source becomes a list of `CodeBlock`s (the code, where it starts, the heading it sits under and the prose
before it) plus the prose after the last block. Notebooks are read as JSON and never run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from gradstudio.model.io.code_import.errors import CodeImportError
from gradstudio.model.io.code_suffixes import NOTEBOOK_SUFFIXES, NOTES_SUFFIXES, SUFFIXES

MAX_SOURCE_BYTES = 2_000_000
FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
PYTHON_TAGS = ("python", "py", "python3", "ipython", "pycon")


@dataclass
class CodeBlock:
    """One piece of code: its text, the 1-based line of the source its first line is, and its context."""

    code: str
    first_line: int = 1
    heading: str = ""
    prose: str = ""  # from the heading above the block on
    after: str = ""  # what follows the block, up to the next heading
    label: str = ""  # "cell 3": where it is, for messages about a notebook


@dataclass
class Source:
    """A source's code blocks in order, the prose after the last one, and whether it is notes (frames per block)."""

    blocks: list[CodeBlock]
    trailing_prose: str = ""
    notes: bool = False


def read_source(path: str | Path) -> Source:
    """The code blocks of the file at `path` (CodeImportError if it is not a source we read, or unreadable)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise CodeImportError(f"{path.name}: import reads {', '.join(SUFFIXES)} files")
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            raise CodeImportError(f"{path.name} is larger than {MAX_SOURCE_BYTES // 1_000_000} MB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CodeImportError(f"cannot read {path.name}: {error}") from None
    if suffix in NOTEBOOK_SUFFIXES:
        return notebook_source(text, path.name)
    if suffix in NOTES_SUFFIXES:
        return notes_source(text)
    return Source([CodeBlock(text)])


def source_from_text(text: str) -> Source:
    """Pasted text: Markdown with fenced blocks is read as notes, anything else as one piece of Python."""
    if any(FENCE.match(line) for line in text.splitlines()):
        return notes_source(text)
    return Source([CodeBlock(text)])


def notes_source(text: str) -> Source:
    """The fenced Python blocks of Markdown, each with the heading above it and the prose since the last block."""
    blocks: list[CodeBlock] = []
    segments: list[list[str]] = []
    prose: list[str] = []
    heading = ""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        if fence is None:
            if match := HEADING.match(line):
                heading = _plain(match.group(2))
            prose.append(line)
            index += 1
            continue
        end = next((i for i in range(index + 1, len(lines)) if lines[i].strip().startswith(fence.group(1))),
                   len(lines))
        if fence.group(2).lower() in PYTHON_TAGS:
            code = "\n".join(lines[index + 1:end]) + "\n"
            blocks.append(CodeBlock(code, index + 2, heading))
            segments.append(prose)
            prose = []
        else:
            prose += lines[index:end + 1]
        index = end + 1
    return _with_prose(blocks, segments, prose)


def notebook_source(text: str, name: str = "notebook") -> Source:
    """A notebook's code cells as blocks, its Markdown cells as their headings and prose (nothing is run)."""
    try:
        data = json.loads(text)
        cells = data["cells"]
        if not isinstance(cells, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise CodeImportError(f"{name} is not a Jupyter notebook (no list of cells in its JSON)") from None
    blocks: list[CodeBlock] = []
    segments: list[list[str]] = []
    prose: list[str] = []
    heading = ""
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            continue
        cell_source = cell.get("source", "")
        cell_text = "".join(cell_source) if isinstance(cell_source, list) else str(cell_source)
        if cell.get("cell_type") == "code":
            blocks.append(CodeBlock(cell_text + "\n", 1, heading, label=f"cell {number}"))
            segments.append(prose)
            prose = []
        elif cell.get("cell_type") == "markdown":
            for line in cell_text.splitlines():
                if match := HEADING.match(line):
                    heading = _plain(match.group(2))
                prose.append(line)
    return _with_prose(blocks, segments, prose)


def _with_prose(blocks: list[CodeBlock], segments: list[list[str]], trailing: list[str]) -> Source:
    """Share the prose out: what comes before a heading explains the block above it, the rest the block below."""
    for index, block in enumerate(blocks):
        after = segments[index + 1] if index + 1 < len(segments) else trailing
        before = segments[index]
        start = _split_point(before) if index else 0
        block.prose = _prose(before[start:], block.heading)
        block.after = _prose(after[:_split_point(after)], block.heading)
    rest = trailing[_first_heading(trailing):] if blocks else trailing
    return Source(blocks, _prose(rest, ""), notes=True)


def _first_heading(lines: list[str]) -> int:
    """Index of the first heading line (len(lines) if none)."""
    return next((i for i, line in enumerate(lines) if HEADING.match(line)), len(lines))


def _split_point(lines: list[str]) -> int:
    """Where prose between two blocks turns to the next one: its first heading, else a last paragraph that ends
    with a colon ("Or:") introducing the next block."""
    heading = _first_heading(lines)
    if heading < len(lines):
        return heading
    filled = [i for i, line in enumerate(lines) if line.strip() and not RULE.match(line)]
    if not filled or not lines[filled[-1]].rstrip().endswith(":"):
        return len(lines)
    start = filled[-1]
    while start > 0 and lines[start - 1].strip():
        start -= 1
    return start


def _plain(text: str) -> str:
    """Markdown inline marks dropped: `**bold**`, `code` and links read as their text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[*_`]+", "", text).strip()


def _unmarked(line: str) -> str:
    """A prose line as a note shows it: bold marks and empty code spans dropped, code spans kept as quotes."""
    line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
    line = line.replace("``", "")
    return re.sub(r"`([^`]+)`", r"'\1'", line)


def _prose(lines: list[str], title: str) -> str:
    """The prose worth a note: rules and blank runs dropped, and the heading that titles the next frame."""
    kept: list[str] = []
    for line in lines:
        if RULE.match(line):
            continue
        match = HEADING.match(line)
        if match and _plain(match.group(2)) == title:
            continue
        text = _plain(match.group(2)) if match else _unmarked(line.rstrip())
        if text or (kept and kept[-1]):
            kept.append(text)
    return "\n".join(kept).strip()
