"""Saving cleans up after a save that was killed, and never silently replaces a read-only file."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.edits import AddNode
from gradstudio.model.io.fileformat import ReadOnlyTargetError, dumps, load, remove_stale_temps, save


def document(name: str = "x") -> GraphDocument:
    result = GraphDocument()
    result.apply(AddNode(Node("n1", "tensor", name)))
    return result


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_stale_temporary_files_of_our_own_are_removed_on_the_next_save(tmp_path: Path) -> None:
    target = tmp_path / "graph.gsg"
    stale = tmp_path / ".graph.gsg.0123abcd.tmp"
    fresh = tmp_path / ".graph.gsg.89abcdef.tmp"  # perhaps another save running right now
    others = [tmp_path / ".other.gsg.0123abcd.tmp", tmp_path / ".graph.gsg.tmp", tmp_path / "graph.gsg.0123abcd.tmp",
              tmp_path / ".graph.gsg.0123ABCD.tmp"]
    for path in (stale, fresh, *others):
        path.write_bytes(b"{")
        age(path, 3600 if path is not fresh else 0)
    save(document(), target)
    assert not stale.exists()
    assert fresh.exists() and all(path.exists() for path in others)
    assert load(target).nodes["n1"].name == "x"


def test_a_save_killed_midway_leaves_a_temporary_file_the_next_save_removes(tmp_path: Path) -> None:
    target = tmp_path / "graph.gsg"
    script = textwrap.dedent(f"""
        import os, sys, time
        from gradstudio.model.document import GraphDocument
        from gradstudio.model.io.fileformat import save
        os.fsync = lambda descriptor: (print("writing", flush=True), time.sleep(60))
        save(GraphDocument(), {str(target)!r})
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2])
    try:
        assert process.stdout.readline() == "writing\n"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
    orphans = list(tmp_path.glob(".graph.gsg.*.tmp"))
    assert len(orphans) == 1 and not target.exists()
    age(orphans[0], 120)
    save(document(), target)
    assert list(tmp_path.iterdir()) == [target]


def test_remove_stale_temps_reports_what_it_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".g.gsg.00000000.tmp"
    stale.write_bytes(b"")
    assert remove_stale_temps(tmp_path / "g.gsg") == []  # a moment old: perhaps still being written
    age(stale, 61)
    assert remove_stale_temps(tmp_path / "g.gsg") == [stale]


def test_a_read_only_target_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "graph.gsg"
    save(document("old"), target)
    target.chmod(0o444)
    before = target.read_bytes()
    with pytest.raises(ReadOnlyTargetError, match="the file is read-only") as refused:
        save(document("new"), target)
    assert isinstance(refused.value, OSError) and refused.value.filename == str(target)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]
    save(document("new"), target, replace_read_only=True)  # after the user said yes
    assert target.read_bytes() == dumps(document("new")).encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
