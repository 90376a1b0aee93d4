"""Python syntax colours for the code panel (loaded when the panel is first on screen)."""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat, QTextDocument

# (pattern, colour) pairs, later ones winning where they overlap
SYNTAX = [
    (r"\b(" + "|".join(keyword.kwlist) + r")\b", QColor(0, 92, 197)),
    (r"\b(torch|F)\b", QColor(111, 66, 193)),
    (r"(?<![\w.])(\d+\.?\d*(e[+-]?\d+)?)\b", QColor(0, 134, 114)),
    (r"'[^']*'", QColor(3, 47, 98)),
    (r"#.*$", QColor(106, 115, 125)),
]


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, the torch module, numbers, strings and comments, in the colours of a plain code view."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.rules = []
        for pattern, colour in SYNTAX:
            style = QTextCharFormat()
            style.setForeground(colour)
            self.rules.append((re.compile(pattern), style))

    def highlightBlock(self, text: str) -> None:
        for pattern, style in self.rules:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), style)
