"""Run `gradstudio check` and `gradstudio run` on every file in a folder, in this one process; print figures.

Used by the file fuzzer through a subprocess (with a 4 GiB address-space limit), so thousands of files go
through the real command-line entry point without starting thousands of interpreters. Each call runs under
a 10 s alarm; a call that lets an exception out of `main`, prints anything but `gradstudio: ...` lines on
stderr (a traceback, a raw warning), exits 3 or times out is a failure. Prints one JSON object: cases,
calls, failures (with the file and reason), max seconds, statuses.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

from gradstudio.cli import main

TIME_LIMIT = 10


class Hang(Exception):
    """A call ran past TIME_LIMIT seconds."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def run_folder(folder: Path) -> dict:
    """Figures of check and run (with backward and JSON) over every file in `folder`."""
    signal.signal(signal.SIGALRM, _alarm)
    tempfile.tempdir = str(folder)  # internal-error reports, if any, land beside the cases
    figures: dict = {"cases": 0, "calls": 0, "failures": [], "max_seconds": 0.0, "statuses": {}}
    with open(os.devnull, "w") as devnull:
        for path in sorted(folder.glob("*.gsg")):
            figures["cases"] += 1
            for argv in (["check", str(path)], ["run", str(path), "--backward", "--json"], ["run", str(path)]):
                errors = io.StringIO()
                start = time.perf_counter()
                signal.alarm(TIME_LIMIT)
                try:
                    with contextlib.redirect_stdout(devnull), contextlib.redirect_stderr(errors):
                        status = main(argv)
                except Hang:
                    status = "hang"
                except BaseException as escaped:  # noqa: BLE001 - exactly what the fuzzer looks for
                    status = f"escaped {type(escaped).__name__}: {escaped}"[:300]
                finally:
                    signal.alarm(0)
                seconds = time.perf_counter() - start
                figures["calls"] += 1
                figures["max_seconds"] = max(figures["max_seconds"], seconds)
                figures["statuses"][str(status)] = figures["statuses"].get(str(status), 0) + 1
                text = errors.getvalue()
                # one line per problem, each the command's own (a warning or an error, never a raw report)
                lines = text.splitlines()
                if status not in (0, 1, 2) or any(not line.startswith("gradstudio: ") for line in lines):
                    figures["failures"].append({"file": path.name, "argv": argv[0], "status": str(status),
                                                "stderr": text[:500]})
    figures["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


if __name__ == "__main__":
    import gradstudio

    figures = run_folder(Path(sys.argv[1]))
    figures["gradstudio"] = str(Path(gradstudio.__file__).parent)
    print(json.dumps(figures))
