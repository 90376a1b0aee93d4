"""The one error an import raises: what was refused, where, why, and the nearest form that is supported."""

from __future__ import annotations


class CodeImportError(ValueError):
    """Code that cannot become a graph; nothing was changed. `line`/`column` are 1-based (0: the whole source)."""

    def __init__(self, reason: str, line: int = 0, column: int = 0, nearest: str = "", where: str = "") -> None:
        self.reason = reason
        self.line = line
        self.column = column
        self.nearest = nearest
        self.where = where
        super().__init__(self.message())

    def message(self) -> str:
        """`line 3, column 5: reason. Nearest supported form: ...` (the position omitted when there is none)."""
        place = f"line {self.line}, column {self.column}" if self.line else ""
        place = ", ".join(part for part in (self.where, place) if part)
        text = f"{place}: {self.reason}" if place else self.reason
        return f"{text}. Nearest supported form: {self.nearest}" if self.nearest else text

    def moved(self, line_offset: int, where: str = "") -> CodeImportError:
        """The same refusal with its line counted from the start of the whole file (a block's offset added)."""
        line = self.line + line_offset if self.line else 0
        return CodeImportError(self.reason, line, self.column, self.nearest, where or self.where)
