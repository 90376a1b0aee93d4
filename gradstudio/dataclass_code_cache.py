"""The methods `dataclasses` writes for each class, compiled once and kept between runs, as a .pyc keeps a module.

Each `@dataclass` writes the source of its `__init__`, `__repr__`, `__eq__` (and a frozen one's `__setattr__`,
`__delattr__`, `__hash__`) and compiles it with `exec`: about 300 compilations while the app's modules load, a
twentieth of start-up's CPU. Inside `cached_dataclass_code()`, dataclasses' `exec` looks the compiled code up by its
exact source text in a cache file and compiles only what is missing; on leaving, the file is rewritten if anything
was compiled. The same source always compiles to the same code, so an entry cannot go stale; a file written by
another Python (another bytecode magic number) is never read, and an unreadable one is ignored.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import importlib.util
import marshal
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType
from typing import Any


def cache_file() -> Path:
    """The cache of this Python's bytecode version, in the user's cache folder."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "gradstudio" / f"dataclass-code-{importlib.util.MAGIC_NUMBER.hex()}.marshal"


def read_codes(path: Path) -> dict[str, CodeType]:
    """The compiled methods kept in `path` by their source (none when it is missing or unreadable)."""
    try:
        kept = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(kept, dict):
        return {}
    return {source: code for source, code in kept.items() if isinstance(source, str) and isinstance(code, CodeType)}


class CodeCache:
    """Compiled sources by their text: those read from the file, and those this run used."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known = read_codes(path)
        self.used: dict[str, CodeType] = {}
        self.compiled = 0  # sources this run had to compile

    def exec(self, source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:  # noqa: A002
        """`exec` as dataclasses calls it (a source, its module's globals, a namespace), from a kept compilation."""
        if not isinstance(source, str):
            builtins.exec(source, globals, locals)
            return
        code = self.known.get(source)
        if code is None:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            self.compiled += 1
        self.used[source] = code
        builtins.exec(code, vars(dataclasses) if globals is None else globals, locals)

    def save(self) -> None:
        """Keep the compilations this run used, if it compiled any (atomically; a failure only costs the next run)."""
        if not self.compiled:
            return
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(marshal.dumps(self.used))
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


@contextmanager
def cached_dataclass_code(path: Path | None = None) -> Iterator[CodeCache]:
    """Let the dataclasses made inside the block use (and fill) the cache at `path` (by default `cache_file()`)."""
    cache = CodeCache(cache_file() if path is None else path)
    dataclasses.exec = cache.exec  # a module global: dataclasses finds it before the builtin
    try:
        yield cache
    finally:
        del dataclasses.exec
        cache.save()
