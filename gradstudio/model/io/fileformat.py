"""Reading and writing graph files (`.gsg`): versioned UTF-8 JSON, validated on load, saved atomically.

The layout is described in `docs/file-format.md`. Loading never executes code:
`filereader` checks the JSON key by key and rebuilds the document through the
model's own edits; any problem becomes one `GraphFileError` naming the place in
the file. Writing is deterministic (fixed key order; nodes in the document's
order, which breaks ties in the evaluation order; edges by target and port),
so save -> load -> save gives the same bytes.

Saving is split so that the slow part can leave the UI thread: autosave takes a `snapshot.take_snapshot`
of the document there (milliseconds), and on a worker builds the file data from it with `to_data` (plain
JSON values, built fresh) and writes them with `write_data`, while editing goes on.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import stat
import time
from collections.abc import Callable
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradstudio.model.annotations import Annotation
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.io.datafiles import write_large
from gradstudio.model.io.filereader import read_document
from gradstudio.model.io.fileschema import CURRENT_VERSION, FORMAT, MAX_FILE_BYTES, GraphFileError
from gradstudio.model.leaves import LeafError, element_count
from gradstudio.model.lesson import Hidden
from gradstudio.model.train_settings import history_record

if TYPE_CHECKING:
    from gradstudio.model.io.snapshot import DocumentSnapshot

__all__ = ["FORMAT", "CURRENT_VERSION", "MAX_FILE_BYTES", "GraphFileError", "ReadOnlyTargetError", "dumps", "save",
           "to_data", "write_data", "write_atomically", "remove_stale_temps", "loads", "load",
           "format_json", "node_record", "edge_record", "annotation_record", "edge_order"]

# ----- writing ----------------------------------------------------------------------------------------------


def dumps(document: GraphDocument) -> str:
    """The document as the text of a `.gsg` file."""
    return format_json(to_data(document)) + "\n"


class ReadOnlyTargetError(PermissionError):
    """The file a save would replace is read-only; nothing was written.

    The UI catches it to ask whether to replace the file anyway, then saves again with
    `replace_read_only=True` (the new file keeps the old one's read-only permissions).
    """


STALE_TEMP_SECONDS = 60.0  # a temporary file this old belongs to no save still running


def save(document: GraphDocument, path: str | os.PathLike[str], replace_read_only: bool = False) -> None:
    """Write the document to `path` atomically: on any failure the old file is left as it was.

    Large leaf data goes to sibling `.npy` files first. Raises ReadOnlyTargetError when `path` is a
    read-only file, unless `replace_read_only` (checked before anything is written).
    """
    if not replace_read_only and _read_only(Path(os.path.realpath(path))):
        raise ReadOnlyTargetError(errno.EACCES, "the file is read-only; saving would replace it", str(path))
    write_data(to_data(document), path, replace_read_only)


def write_data(data: dict[str, Any], path: str | os.PathLike[str], replace_read_only: bool = False,
               pace: Callable[[], None] | None = None) -> None:
    """Write a `to_data` snapshot to `path` atomically (large leaf data to sibling `.npy` files first).

    Reads nothing but `data`, so it may run on another thread while the document changes; it takes the
    large values out of `data`'s records, so a snapshot is written once. `pace` is `format_json`'s: an
    exception it raises stops the write before the graph file is touched.
    """
    write_large(data, path, write_atomically)
    write_atomically(path, (format_json(data, pace=pace) + "\n").encode("utf-8"), replace_read_only)


def temp_name(target: Path) -> Path:
    """The name of one save's temporary file beside `target` (`.name.<8 hex digits>.tmp`): random digits as
    `secrets.token_hex(4)` draws them, without importing secrets (and the hashlib it loads) while the app starts."""
    return target.with_name(f".{target.name}.{os.urandom(4).hex()}.tmp")


def write_atomically(path: str | os.PathLike[str], data: bytes, replace_read_only: bool = False) -> None:
    """Replace `path` with `data` via a synced temporary file and a rename: never a half-written file.

    A read-only `path` raises ReadOnlyTargetError (unless `replace_read_only`); stale temporary files of
    earlier saves to `path` that were killed midway are removed first.
    """
    target = Path(os.path.realpath(path))
    if not replace_read_only and _read_only(target):
        raise ReadOnlyTargetError(errno.EACCES, "the file is read-only; saving would replace it", str(target))
    remove_stale_temps(target)
    temp = temp_name(target)
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        _keep_mode(target, temp)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_directory(target.parent)


def _read_only(target: Path) -> bool:
    """True when `target` exists as a file nobody may write (root may, but a read-only mark is a wish to respect)."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) and (not stat.S_IMODE(mode) & 0o222 or not os.access(target, os.W_OK))


def remove_stale_temps(target: Path, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete temporary files our saves to `target` left behind (killed midway), if older than `older_than`
    seconds; only names of our exact pattern, so nobody else's files are touched. Returns what was removed."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[0-9a-f]{{8}}\.tmp")
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if not pattern.fullmatch(entry.name):
                continue
            with contextlib.suppress(OSError):
                age = now - entry.stat(follow_symlinks=False).st_mtime
                if entry.is_file(follow_symlinks=False) and age > older_than:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _keep_mode(target: Path, temp: Path) -> None:
    """Give the new file the old file's permissions (a new file gets the umask's)."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX only; Windows cannot open a folder)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def to_data(document: GraphDocument | DocumentSnapshot, pace: Callable[[], None] | None = None) -> dict[str, Any]:
    """The document (or a snapshot of one) as plain JSON values, in the file's key and item order.

    `pace`, when given, is called after each node record (see `format_json`)."""
    settings = document.settings
    return {
        "format": FORMAT,
        "version": CURRENT_VERSION,
        "settings": {"grad_mode": settings.grad_mode, "backward_target": settings.backward_target,
                     "training": settings.training.record() if settings.training is not None else None,
                     "loss_history": history_record(settings.loss_history)},
        "nodes": [node_record(node) for node in document.nodes.values()] if pace is None else [
            _paced(node_record(node), pace) for node in document.nodes.values()],
        "edges": [edge_record(edge) for edge in sorted(document.edges.values(), key=edge_order(document))],
        "annotations": [annotation_record(item) for item in document.annotations.values()],
    }


def edge_order(document: GraphDocument | DocumentSnapshot) -> Callable[[Edge], tuple]:
    """The sort key that writes edges by target node (in document order), then by the target's port order."""
    rank = {node_id: index for index, node_id in enumerate(document.nodes)}

    def key(edge: Edge) -> tuple:
        ports = document.nodes[edge.target].input_ports()
        return rank[edge.target], ports.index(edge.port) if edge.port in ports else len(ports), edge.port

    return key


def node_record(node: Node) -> dict[str, Any]:
    """One node as its file record (every attribute, in the catalog's order)."""
    names = [spec.name for spec in node.spec.attributes if spec.name in node.attributes]
    attributes = {name: _plain(node.attributes[name]) for name in names}
    if "values" in attributes and node.kind == "tensor":
        attributes["values"] = _nest(attributes["values"], node.attributes.get("shape", ()))
    record = {
        "id": node.id,
        "kind": node.kind,
        "name": node.name,
        "position": [float(node.position[0]), float(node.position[1])],
        "retain_grad": bool(node.retain_grad),
        "attributes": attributes,
    }
    if node.port_constants:  # only when there are some: files without them keep their bytes
        constants = node.port_constants
        record["port_constants"] = {port: constants[port] for port in node.input_ports() if port in constants}
    if node.hidden:  # a lesson's hidden items; files that hide nothing keep their bytes
        record["hidden"] = {kind: hidden_record(hidden) for kind, hidden in node.hidden.items()}
    return record


def hidden_record(hidden: Hidden) -> dict[str, Any]:
    """One hidden item's settings as its file record (the hint only when there is one)."""
    record: dict[str, Any] = {"atol": hidden.atol, "rtol": hidden.rtol}
    if hidden.hint:
        record["hint"] = hidden.hint
    return record


def edge_record(edge: Edge) -> dict[str, Any]:
    """One edge as its file record."""
    return {"source": edge.source, "target": edge.target, "port": edge.port}


def annotation_record(item: Annotation) -> dict[str, Any]:
    """One note or frame as its file record (a frame with its grad mode; a note has none)."""
    record = {"id": item.id, "kind": item.kind, "text": item.text, "position": [float(v) for v in item.position],
              "size": [float(v) for v in item.size]}
    if item.kind == "frame":
        record["grad_mode"] = item.grad_mode
    return record


def _plain(value: Any) -> Any:
    """`value` as fresh JSON lists and dicts (a flat tuple of numbers, a leaf's values, in one C-speed copy)."""
    if isinstance(value, (list, tuple)):
        items = list(value)
        if any(isinstance(item, (list, tuple, dict)) for item in items):
            return [_plain(item) for item in items]
        return items
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _nest(values: list, shape: Any) -> list:
    """Flat values as nested rows when they fill a 2-d or larger shape exactly (easier to read and diff)."""
    try:
        count = element_count(tuple(shape))
    except (LeafError, TypeError):
        return values
    if len(shape) < 2 or len(values) != count:
        return values
    for extent in reversed(shape[1:]):
        values = [values[i:i + extent] for i in range(0, len(values), extent)] if extent else []
    return values


def format_json(value: Any, level: int = 0, pace: Callable[[], None] | None = None) -> str:
    """JSON with two-space indents; arrays and objects holding only scalars stay on one line.

    `pace`, when given, is called after each item of the two outer levels' arrays (each node record, say):
    a worker thread uses it to let the UI thread run, or to stop a cancelled write."""
    inner = pace if level < 1 else None
    if isinstance(value, dict):
        items = [f"{_scalar(key)}: {format_json(item, level + 1, inner)}" for key, item in value.items()]
        brackets, inner_values = "{}", value.values()
    elif isinstance(value, list):
        items = [format_json(item, level + 1) for item in value] if pace is None else [
            _paced(format_json(item, level + 1, inner), pace) for item in value]
        brackets, inner_values = "[]", value
    else:
        return _scalar(value)
    if all(not isinstance(item, (dict, list)) for item in inner_values):
        return brackets[0] + ", ".join(items) + brackets[1]
    pad = "  " * (level + 1)
    return brackets[0] + "\n" + ",\n".join(pad + item for item in items) + "\n" + "  " * level + brackets[1]


def _paced(item: Any, pace: Callable[[], None]) -> Any:
    pace()
    return item


_JSON_CONSTANTS = {True: "true", False: "false", None: "null"}


def _scalar(value: Any) -> str:
    """One JSON scalar, exactly as `json.dumps(value, ensure_ascii=False)` writes it (the common types without
    building an encoder per value: this is most of a save's time)."""
    kind = type(value)
    if kind is float:
        return _float_text(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool or value is None:
        return _JSON_CONSTANTS[value]
    text = encode_basestring(value) if kind is str else json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: only its \u escape is valid UTF-8
            return json.dumps(value)
    return text


# ----- reading ----------------------------------------------------------------------------------------------


def load(path: str | os.PathLike[str]) -> GraphDocument:
    """The document saved in `path`; GraphFileError if it cannot be read or is not a valid graph file."""
    try:
        with open(path, "rb") as stream:
            if os.fstat(stream.fileno()).st_size > MAX_FILE_BYTES:
                raise GraphFileError("", _too_big())
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise GraphFileError("", f"cannot read the file: {error.strerror or error}") from error
    return loads(data, Path(os.path.realpath(path)).parent)


def loads(text: str | bytes, base: Path | None = None) -> GraphDocument:
    """The document a `.gsg` file's text (or bytes) describes (data files read from `base`); GraphFileError."""
    if len(text) > MAX_FILE_BYTES:
        raise GraphFileError("", _too_big())
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise GraphFileError("", f"not UTF-8 text (byte {error.start} is {text[error.start]:#04x})") from None
    return read_document(text.removeprefix("\ufeff"), base)


def _float_text(value: float) -> str:
    """A float as json writes it: repr, with NaN and the infinities spelled as JavaScript does."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _too_big() -> str:
    return f"the file is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit for graph files"
