"""A structure-aware file fuzzer: mutated examples load, evaluate, run backward, export and re-save cleanly.

In-process (hypothesis drawing seeds of `file_mutations.mutated_case`) and through the command line
(`fuzz_driver.py` in a subprocess limited to 4 GiB): 0 tracebacks, 0 hangs (10 s a case), bounded
memory. `make test` runs a small seeded count; `make soak` sets GRADSTUDIO_SOAK=1 for 10,000 cases of
each, and prints the figures.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from file_mutations import mutated_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradstudio.model.io.codegen import generate_code
from gradstudio.model.io.fileformat import GraphFileError, dumps, loads
from gradstudio.model.workspace import GraphWorkspace

SOAK = os.environ.get("GRADSTUDIO_SOAK") == "1"
IN_PROCESS_CASES = 10_000 if SOAK else 120
CLI_CASES = 10_000 if SOAK else 40
TIME_LIMIT = 10
MEMORY_LIMIT = 4 * 1024**3
ROOT = Path(__file__).resolve().parents[2]
FIGURES: dict = {"cases": 0, "loaded": 0, "refused": 0, "max_seconds": 0.0}


class Hang(Exception):
    """A case ran past TIME_LIMIT seconds."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def case_bytes(seed: int) -> bytes:
    """The file of one seeded case, as bytes (a lone surrogate makes it invalid UTF-8, as a damaged file is)."""
    return mutated_case(random.Random(seed)).encode("utf-8", "surrogatepass")


def exercise(source: bytes) -> str:
    """Load, evaluate, run backward, export and re-save one file; 'refused' or 'loaded'. Any other exception
    (and a refusal message of more than one line) fails the fuzzer."""
    try:
        document = loads(source)
    except GraphFileError as error:
        assert str(error) and "\n" not in str(error) and len(str(error)) < 1000
        return "refused"
    workspace = GraphWorkspace(document)
    results = workspace.results()
    target = document.settings.backward_target
    if target is not None and results[target].ok:
        try:
            workspace.backward(target)
        except RuntimeError:
            pass  # PyTorch's own refusals (not a scalar, no grad_fn): shown to the user as messages
    compile(generate_code(document, workspace.results()), "<exported>", "exec")
    text = dumps(document)
    assert dumps(loads(text)) == text
    return "loaded"


@settings(max_examples=IN_PROCESS_CASES, deadline=None, database=None, derandomize=not SOAK,
          suppress_health_check=list(HealthCheck))
@given(st.integers(0, 2**32 - 1))
def test_mutated_files_load_evaluate_and_export_without_a_traceback_or_a_hang(seed: int) -> None:
    previous = signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    signal.alarm(TIME_LIMIT)
    try:
        outcome = exercise(case_bytes(seed))
    except Hang:
        pytest.fail(f"case {seed} ran past {TIME_LIMIT} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    FIGURES["cases"] += 1
    FIGURES[outcome] += 1
    FIGURES["max_seconds"] = max(FIGURES["max_seconds"], time.perf_counter() - start)


def test_zz_report_in_process_figures() -> None:
    print(f"\nin-process fuzz figures: {json.dumps(FIGURES)}")
    assert FIGURES["cases"] >= 1 and FIGURES["loaded"] + FIGURES["refused"] == FIGURES["cases"]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def test_mutated_files_through_check_and_run_exit_0_1_or_2_with_one_line(tmp_path: Path) -> None:
    rng = random.Random(20261206)
    for index in range(CLI_CASES):
        (tmp_path / f"case{index:05}.gsg").write_bytes(case_bytes(rng.randrange(2**32)))
    # this checkout's gradstudio first (a script's own folder leads sys.path, not the working directory)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                             os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("fuzz_driver.py")), str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, env=environment, preexec_fn=_limit_memory,
                          timeout=60 + CLI_CASES * 3 * TIME_LIMIT)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    print(f"\ncommand-line fuzz figures: {json.dumps({k: v for k, v in figures.items() if k != 'failures'})}")
    assert figures["gradstudio"] == str(ROOT / "gradstudio")  # the code under test, not another checkout's
    assert figures["cases"] == CLI_CASES
    assert figures["failures"] == []
    assert figures["max_seconds"] < TIME_LIMIT
    assert not list(tmp_path.glob("gradstudio-error-*"))
