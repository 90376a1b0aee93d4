"""Recovery files on disk, without Qt: write one, find the ones a crashed process left, restore or drop them.

A recovery file is a real `.gsg` file (`fileformat.save`, atomic) named
`recovery-<pid>-<token>.gsg`, beside a sidecar `recovery-<pid>-<token>.json`
recording the original path, the display name, the writing process's id and
its start time, and when it was written. The `.gsg` is written first and the
sidecar second, so a sidecar always describes a complete graph file. A file
whose process is still alive belongs to a running GradStudio and is never
offered; the start time guards against a later process reusing the id.

Writing is split for autosave: `snapshot` (cheap, on the thread that edits the document) and
`write_snapshot` (build the file data, serialise, write, fsync: safe on a worker thread, and cancellable
between its files).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gradstudio.model.document import GraphDocument
from gradstudio.model.io import fileformat
from gradstudio.model.io.snapshot import DocumentSnapshot, take_snapshot

STATE_DIR_VARIABLE = "GRADSTUDIO_STATE_DIR"
SIDECAR_VERSION = 1


def process_start(pid: int) -> str | None:
    """An opaque start stamp of process `pid` (Linux's /proc start time), or None when unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def process_alive(pid: int, start: str | None = None) -> bool:
    """True when process `pid` runs (and, when `start` is known, is the same process that wrote the file)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, but belongs to someone else
    except OSError:
        return False
    current = process_start(pid)
    return start is None or current is None or current == start


def _windows_process_alive(pid: int) -> bool:
    """Windows has no signal 0 (os.kill would send Ctrl+C): ask the kernel for the process's exit code."""
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    code = ctypes.c_ulong()
    try:
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
    finally:
        kernel32.CloseHandle(handle)
    return not ok or code.value == 259  # STILL_ACTIVE


@dataclass(frozen=True)
class Recovery:
    """One recovery file found on disk: the graph file, its sidecar, and what the sidecar says."""

    graph_file: Path
    sidecar: Path
    original_path: str | None
    display_name: str
    pid: int
    saved_at: float
    process_start: str | None = None

    def load(self) -> GraphDocument:
        """The recovered document (GraphFileError if the file is damaged)."""
        return fileformat.load(self.graph_file)

    def discard(self) -> None:
        """Delete the graph file, its sidecar and its large leaf data."""
        for path in (self.sidecar, self.graph_file):
            with contextlib.suppress(OSError):  # gone already, or the folder is unusable: nothing to remove
                path.unlink()
        shutil.rmtree(self.graph_file.with_name(f"{self.graph_file.stem}.data"), ignore_errors=True)


@dataclass(frozen=True)
class RecoverySnapshot:
    """What one autosave writes, taken at one moment: the document's snapshot and the sidecar's names."""

    document: DocumentSnapshot
    original_path: str | None
    display_name: str


def snapshot(document: GraphDocument, original_path: str | None, display_name: str) -> RecoverySnapshot:
    """The document as it is now, sharing nothing the editing thread may change (milliseconds at 5,000 nodes)."""
    return RecoverySnapshot(take_snapshot(document), original_path, display_name)


class RecoveryStore:
    """One writer's recovery file in `folder` (created on first write), and the finder of stale ones."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.pid = os.getpid()
        # eight random hex digits as `secrets.token_hex(4)` draws them, without loading secrets (and hashlib) at start
        self.stem = f"recovery-{self.pid}-{os.urandom(4).hex()}"

    @property
    def graph_file(self) -> Path:
        """This writer's recovery graph file."""
        return self.folder / f"{self.stem}.gsg"

    @property
    def sidecar(self) -> Path:
        """This writer's sidecar file."""
        return self.folder / f"{self.stem}.json"

    @property
    def data_folder(self) -> Path:
        """Where this writer's large leaf data goes (`fileformat` writes `.npy` files beside a graph file)."""
        return self.folder / f"{self.stem}.data"

    def write(self, document: GraphDocument, original_path: str | None, display_name: str) -> Path:
        """Write `document` atomically as this writer's recovery file, then its sidecar; the graph file's path."""
        self.write_snapshot(snapshot(document, original_path, display_name))  # never cancelled
        return self.graph_file

    def write_snapshot(self, recovery: RecoverySnapshot, cancelled: Callable[[], bool] = lambda: False,
                       pace: Callable[[], None] | None = None) -> Path | None:
        """Write a snapshot as this writer's recovery file and sidecar; None when `cancelled()` turned true first.

        Cancellation is checked before each file, so a cancelled write leaves no temporary file behind and
        at most a graph file without a sidecar (never offered; `clear` removes it). `pace` is called while
        the graph file's text is built (see `fileformat.format_json`)."""
        if cancelled():
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        fileformat.write_data(fileformat.to_data(recovery.document, pace), self.graph_file, pace=pace)
        if cancelled():
            return None
        header = {"version": SIDECAR_VERSION, "graph_file": self.graph_file.name,
                  "original_path": recovery.original_path, "display_name": recovery.display_name, "pid": self.pid,
                  "process_start": process_start(self.pid), "saved_at": time.time()}
        fileformat.write_atomically(self.sidecar, (json.dumps(header, indent=2) + "\n").encode("utf-8"))
        return self.graph_file

    def clear(self) -> None:
        """Remove this writer's recovery file (the work is saved, discarded, or closed cleanly); never raises."""
        for path in (self.sidecar, self.graph_file):
            with contextlib.suppress(OSError):  # gone already, or the folder is unusable: nothing to remove
                path.unlink()
        shutil.rmtree(self.data_folder, ignore_errors=True)

    def exists(self) -> bool:
        """True when this writer's recovery file is on disk."""
        return self.sidecar.is_file() and self.graph_file.is_file()

    def stale(self) -> list[Recovery]:
        """Recovery files left by processes that no longer run, newest first."""
        found = []
        try:
            sidecars = sorted(self.folder.glob("recovery-*.json")) if self.folder.is_dir() else []
        except OSError:
            return []
        for sidecar in sidecars:
            recovery = read_sidecar(sidecar)
            if recovery is not None and not process_alive(recovery.pid, recovery.process_start):
                found.append(recovery)
        return sorted(found, key=lambda item: item.saved_at, reverse=True)


def read_sidecar(sidecar: Path) -> Recovery | None:
    """The recovery a sidecar describes, or None when it is unreadable or its graph file is missing."""
    try:
        header = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(header, dict) or not isinstance(header.get("pid"), int):
        return None
    name = header.get("graph_file")
    graph_file = sidecar.with_name(name) if isinstance(name, str) and "/" not in name else None
    if graph_file is None or not graph_file.is_file():
        return None
    original = header.get("original_path")
    display = header.get("display_name")
    saved_at = header.get("saved_at")
    start = header.get("process_start")
    return Recovery(graph_file, sidecar, original if isinstance(original, str) else None,
                    display if isinstance(display, str) and display else "Untitled", header["pid"],
                    float(saved_at) if isinstance(saved_at, (int, float)) else 0.0,
                    start if isinstance(start, str) else None)
