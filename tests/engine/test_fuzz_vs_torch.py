"""Differential fuzzing: random programs over the engine's surface, run under the engine and under PyTorch.

`make test` runs a fixed, bounded set of seeds (a few seconds); `make fuzz` sets
GRADSTUDIO_FUZZ_COUNT (and optionally GRADSTUDIO_FUZZ_START) for a longer run.
Divergences that belong to work tracked elsewhere are classified by `known` and
counted, not failed; any other divergence fails with the program's text.
"""

from __future__ import annotations

import os
import re

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential fuzzing against PyTorch skipped")

from fuzz_programs import fuzz  # noqa: E402

COUNT = int(os.environ.get("GRADSTUDIO_FUZZ_COUNT", "250"))
START = int(os.environ.get("GRADSTUDIO_FUZZ_START", "0"))

# Divergences owned by the engine-core work of issue 12 (dtype rules, NaN backward rules, std/var gradients):
# recognised so the fuzzer stays green while they are open, and reported by `make fuzz`.
REFUSED_BY_TORCH = re.compile(r"not implemented for '(Bool|Long)'|with a bool tensor is not supported|"
                              r"on a bool tensor is not supported")


def _raised(steps: list) -> tuple | None:
    return next((step for step in steps if isinstance(step, tuple) and step[:1] == ("raised",)), None)


def known(text: str, ours: dict, theirs: dict, found: list[str]) -> str | None:
    """Which tracked engine-core divergence explains `found`, or None when it is new."""
    theirs_error, ours_error = _raised(theirs["steps"]), _raised(ours["steps"])
    if theirs_error and REFUSED_BY_TORCH.search(theirs_error[2]) and theirs_error != ours_error:
        return "integer/bool op PyTorch refuses (core: integer and bool arithmetic)"
    first = found[0]
    step = re.match(r"\.steps\[(\d+)\]\.dtype", first)
    if step and "clamp(" in text.splitlines()[int(step.group(1))]:
        return "clamp result dtype (core: type promotion)"
    if first.startswith(".grads") and "nan" in first.split(" vs ")[0]:
        return "NaN in backward where PyTorch has none (core: NaN rules, std/var gradients)"
    if ours_error and theirs_error and ours_error[1] != theirs_error[1] and "clamp(" in text:
        return "clamp with unbroadcastable tensor bounds raises ValueError (core: clamp)"
    return None


def test_fuzz_vs_torch() -> None:
    count, divergent, explained = fuzz(torch, range(START, START + COUNT), known)
    print(f"\nfuzzed {count} programs: {len(divergent)} new divergences, {len(explained)} known (core)")
    for reason in sorted(set(explained.values())):
        print(f"  {sum(1 for r in explained.values() if r == reason)} x {reason}")
    report = "\n\n".join(f"seed {seed}:\n{text}\n  -> " + "\n  -> ".join(found[:3])
                         for seed, (text, found) in list(divergent.items())[:5])
    assert not divergent, f"{len(divergent)} of {count} programs diverge from PyTorch:\n\n{report}"
