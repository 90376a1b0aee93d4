"""The system clipboard's side of copy and paste: a graph fragment's JSON in and out (the model reads it)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from gradstudio.model.io.fileformat import MAX_FILE_BYTES, format_json
from gradstudio.model.io.filereader import parse_json
from gradstudio.model.io.fileschema import GraphFileError

FRAGMENT_MIME = "application/x-gradstudio-fragment"


def copy_to_clipboard(data: dict[str, Any]) -> None:
    """Put a fragment on the system clipboard (also as text, so it can be pasted into a chat or a file)."""
    text = format_json(data) + "\n"
    mime = QMimeData()
    mime.setData(FRAGMENT_MIME, text.encode("utf-8"))
    mime.setText(text)
    QGuiApplication.clipboard().setMimeData(mime)


def clipboard_text() -> str:
    """The clipboard's plain text ("" if it holds a fragment or no text): pasted code, say."""
    mime = QGuiApplication.clipboard().mimeData()
    if mime is None or mime.hasFormat(FRAGMENT_MIME) or not mime.hasText():
        return ""
    return mime.text()


def from_clipboard() -> dict[str, Any] | None:
    """The JSON object on the system clipboard, unchecked (`read_fragment` checks it); None if it holds none."""
    mime = QGuiApplication.clipboard().mimeData()
    if mime is None:
        return None
    if mime.hasFormat(FRAGMENT_MIME):
        raw = bytes(mime.data(FRAGMENT_MIME).data()).decode("utf-8", errors="replace")
    else:
        raw = mime.text()
    if len(raw) > MAX_FILE_BYTES:
        return None
    try:
        data = parse_json(raw)
    except GraphFileError:
        return None
    return data if isinstance(data, dict) else None
