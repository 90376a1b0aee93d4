"""Run the README's install and bundle commands literally, as a new user would type them (CI calls this).

Usage: `python tools/readme_commands.py [SECTION ...]` (default: the wheel and bundle sections). Each
shell block under those headings runs line by line with bash from the checkout, in a throw-away HOME and
XDG_DATA_HOME, offscreen; the first failing line stops the run with its exit status.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("Installing from a wheel", "Building the bundle")
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def section_commands(readme: str, heading: str) -> list[str]:
    """The shell lines of the blocks under `## heading` (up to the next `## `), comments stripped."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    if match is None:
        raise SystemExit(f"README has no section '{heading}'")
    lines = []
    for block in BLOCK.findall(match.group(1)):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                lines.append(command)
    return lines


def main(argv: list[str]) -> int:
    """Run the commands of the chosen sections; 0 when every one succeeds."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="gradstudio-readme-") as home:
        env = {**os.environ, "HOME": home, "XDG_DATA_HOME": str(Path(home, ".local", "share")),
               "QT_QPA_PLATFORM": "offscreen"}
        env.pop("VIRTUAL_ENV", None)
        for heading in argv or SECTIONS:
            for command in section_commands(readme, heading):
                print(f"$ {command}", flush=True)
                done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env)
                if done.returncode != 0:
                    print(f"README command failed ({done.returncode}): {command}", file=sys.stderr)
                    return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
