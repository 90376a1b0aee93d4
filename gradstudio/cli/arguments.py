"""The argument parsers of `gradstudio`: the app's options (`--smoke`, `--install-desktop`, ...) and the
headless commands' sub-commands. Apart so that `gradstudio FILE` starts the app without importing argparse."""

from __future__ import annotations

import argparse

from gradstudio import __version__
from gradstudio.cli import EXIT_BAD_INPUT

FILE_TARGET = "\0file"  # `--backward` without a node: use the file's backward target
EPILOG = """commands (no display needed):
  gradstudio run FILE [--backward [NODE]] [--no-grad] [--json]   evaluate and print values and gradients
  gradstudio check FILE                                           validate a graph file
  gradstudio export-code FILE [-o SCRIPT]                         write the graph as a PyTorch script
  gradstudio import-code SOURCE -o FILE.gsg                       PyTorch code (.py, .ipynb, .md) into a graph
  gradstudio FILE                                                 open a graph file (.gsg, or a tensor's .pt) in the app
'gradstudio COMMAND --help' tells more about a command."""


def build_parser() -> argparse.ArgumentParser:
    """Command-line arguments of `gradstudio [FILE]` (the app)."""
    parser = argparse.ArgumentParser(prog="gradstudio", description="Build autograd graphs and watch them compute.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", help="graph file (.gsg) to open")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--smoke", action="store_true",
                        help="open an example offscreen, evaluate it, run Backward and exit (0 when all works)")
    parser.add_argument("--install-desktop", action="store_true",
                        help="add GradStudio to the desktop menu and open .gsg files with it (this user only)")
    parser.add_argument("--uninstall-desktop", action="store_true", help="remove what --install-desktop wrote")
    return parser


def build_command_parser() -> argparse.ArgumentParser:
    """Command-line arguments of the headless commands `run` and `check`."""
    parser = argparse.ArgumentParser(prog="gradstudio")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="evaluate a graph and print its values and gradients",
                              description="Evaluate a graph file and print each node's value (and, after "
                                          "Backward, each .grad) as PyTorch prints them.")
    run.add_argument("file", help="graph file (.gsg)")
    run.add_argument("--backward", metavar="NODE", nargs="?", const=FILE_TARGET,
                     help="run backward from NODE (a variable name or node id); without NODE, from the file's "
                          "backward target")
    run.add_argument("--no-grad", action="store_true", help="evaluate as under torch.no_grad()")
    run.add_argument("--json", action="store_true", help="print JSON: values as nested lists, grads, grad_fn names, "
                                                         "errors (non-finite numbers as \"nan\", \"inf\", \"-inf\")")
    check = commands.add_parser("check", help="validate a graph file", description="Validate a graph file.")
    check.add_argument("file", help="graph file (.gsg)")
    export = commands.add_parser("export-code", help="write a graph as a runnable PyTorch script",
                                 description="Write the PyTorch code computing what a graph file computes (its "
                                             "Backward included) to stdout, or to SCRIPT.")
    export.add_argument("file", help="graph file (.gsg)")
    export.add_argument("-o", "--output", metavar="SCRIPT", help="write the script here (atomically) instead of "
                                                                 "to stdout")
    code = commands.add_parser("import-code", help="turn PyTorch code into a graph file",
                               description="Read PyTorch code (a .py file, a notebook's code cells, or the fenced "
                                           "python blocks of Markdown notes) without running it, and save the "
                                           "graph it builds. Notes become one frame per code block.")
    code.add_argument("file", metavar="SOURCE", help="code to read (.py, .ipynb, .md or .txt)")
    code.add_argument("-o", "--output", required=True, metavar="FILE.gsg", help="graph file to write")
    return parser


class UsageExit(Exception):
    """argparse finished (a usage error, or --help) with this exit status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """`parser.parse_args(argv)`, its exit (usage errors: 2, --help: 0) as a status main() returns."""
    try:
        return parser.parse_args(argv)
    except SystemExit as done:
        raise UsageExit(done.code if isinstance(done.code, int) else EXIT_BAD_INPUT) from None
