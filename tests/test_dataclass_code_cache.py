"""Dataclasses made inside `cached_dataclass_code` get the very methods plain dataclasses would, compiled once."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from gradstudio.dataclass_code_cache import CodeCache, cached_dataclass_code, read_codes

METHODS = ("__init__", "__repr__", "__eq__", "__setattr__", "__delattr__", "__hash__")


def make_class() -> type:
    """A frozen dataclass with a default, a factory and an annotation the module would keep as a string."""
    @dataclasses.dataclass(frozen=True)
    class Sample:
        """A record."""

        name: str
        shape: tuple[int, ...] = ()
        tags: frozenset[str] = dataclasses.field(default_factory=frozenset)

    return Sample


def codes_of(cls: type) -> dict[str, Any]:
    return {name: getattr(cls, name).__code__ for name in METHODS}


def test_a_cold_run_compiles_and_keeps_a_warm_run_compiles_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "codes.marshal"
    plain = make_class()
    with cached_dataclass_code(path) as cold:
        first = make_class()
    assert cold.compiled == len(METHODS) and path.exists()
    with cached_dataclass_code(path) as warm:
        second = make_class()
    assert warm.compiled == 0
    assert codes_of(first) == codes_of(plain) == codes_of(second)
    assert "exec" not in vars(dataclasses), "dataclasses' own exec is back after the block"


def test_cached_classes_behave_as_plain_ones(tmp_path: Path) -> None:
    path = tmp_path / "codes.marshal"
    with cached_dataclass_code(path):
        make_class()
    with cached_dataclass_code(path):
        cached = make_class()
    plain = make_class()
    record = cached("x", (2, 3))
    assert record == cached("x", (2, 3)) and record != cached("y")
    assert repr(record) == repr(plain("x", (2, 3))).replace(plain.__qualname__, cached.__qualname__)
    assert hash(record) == hash(cached("x", (2, 3))) and record.tags == frozenset()
    assert cached.__init__.__annotations__ == plain.__init__.__annotations__
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.name = "z"  # type: ignore[misc]


@pytest.mark.parametrize("content", [b"", b"not marshal data", b"\xe9\x00\x00", b"N"])
def test_an_unreadable_cache_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "codes.marshal"
    path.write_bytes(content)
    assert read_codes(path) == {}
    with cached_dataclass_code(path) as cache:
        make_class()
    assert cache.compiled == len(METHODS) and len(read_codes(path)) == len(METHODS)


def test_a_folder_that_cannot_be_written_only_costs_the_next_run(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("in the way", encoding="utf-8")
    with cached_dataclass_code(blocker / "codes.marshal") as cache:
        made = make_class()
    assert cache.compiled == len(METHODS) and made("x").name == "x"


def test_only_source_text_goes_through_the_cache(tmp_path: Path) -> None:
    cache = CodeCache(tmp_path / "codes.marshal")
    namespace: dict[str, Any] = {}
    cache.exec(compile("answer = 42", "<test>", "exec"), {}, namespace)
    assert namespace == {"answer": 42} and cache.compiled == 0 and cache.used == {}
