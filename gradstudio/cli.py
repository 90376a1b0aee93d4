"""The `gradstudio` command: opens the desktop app (Qt is imported only when a window is needed)."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """Command-line arguments of `gradstudio`."""
    parser = argparse.ArgumentParser(prog="gradstudio", description="Build autograd graphs and watch them compute.")
    parser.add_argument("file", nargs="?", help="graph file (.gsg) to open")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `gradstudio` gui-script."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from gradstudio.ui.app import run_app

    return run_app(args.file)
