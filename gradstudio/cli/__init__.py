"""The `gradstudio` command: opens the desktop app, or runs and checks graph files headless.

`gradstudio FILE` opens the app (Qt is imported only then). `gradstudio run` and
`gradstudio check` and `gradstudio export-code` never import Qt, so they work on machines without a display.
Exit status: 0 when all went well, 1 when a node or Backward failed, 2 for a
file that cannot be loaded or a usage error, 3 for an internal error (a bug): one
line on stderr naming the report written with the details. Never a traceback.

This module is only the dispatch, kept small because `gradstudio FILE` imports it at every start: the fast path to
the app, then `arguments` (the argument parsers, built only when needed), `commands` (what each headless command
does) and `reports` (`gradstudio run`'s text and JSON output).
"""

from __future__ import annotations

import os
import sys

COMMANDS = ("run", "check", "export-code", "import-code")
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
GRAPH_SUFFIXES = (".gsg", ".pt", ".json")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `gradstudio` script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if opens_app_at_once(argv):
        from gradstudio.ui.app import run_app

        return run_app(argv[0] if argv else None)
    from gradstudio.cli import arguments

    try:
        if argv and argv[0] in COMMANDS:
            from gradstudio.cli.commands import run_command

            return run_command(arguments.parse(arguments.build_command_parser(), argv))
        complaint = unknown_command(argv[0]) if argv else None
        if complaint is not None:
            print(complaint, file=sys.stderr)
            return EXIT_BAD_INPUT
        args = arguments.parse(arguments.build_parser(), argv)
    except arguments.UsageExit as done:
        return done.status
    if args.smoke:
        from gradstudio.smoke import smoke

        return smoke()
    if args.install_desktop or args.uninstall_desktop:
        from gradstudio.desktop_install import install_command

        return install_command(remove=args.uninstall_desktop)
    from gradstudio.ui.app import run_app

    return run_app(args.file)


def opens_app_at_once(argv: list[str]) -> bool:
    """True for `gradstudio` and `gradstudio FILE` (a file that exists): the app opens without the argument parser,
    whose import and parse cost start-up about 5 ms; the parser would find no option in them either."""
    if not argv:
        return True
    return len(argv) == 1 and not argv[0].startswith("-") and argv[0] not in COMMANDS and os.path.isfile(argv[0])


def unknown_command(word: str) -> str | None:
    """The complaint for a first argument that is neither a command nor a graph file, else None."""
    if word.startswith("-") or os.path.exists(word) or word.lower().endswith(GRAPH_SUFFIXES) or os.sep in word:
        return None
    import difflib  # only for a mistyped command: `gradstudio FILE` starts the app without it

    close = difflib.get_close_matches(word, COMMANDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"gradstudio: unknown command {word!r}{hint}; the commands are {', '.join(COMMANDS)}, "
            f"or give a graph file to open (gradstudio --help)")
