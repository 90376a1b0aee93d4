"""What the headless commands do (`run`, `check`, `export-code`, `import-code`): load the file, do the work, and turn
every failure into one line on stderr and an exit status (a bug: a report file named on that line)."""

from __future__ import annotations

import os
import sys
import time
import traceback
import warnings
from typing import TYPE_CHECKING

from gradstudio.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERNAL, EXIT_OK
from gradstudio.cli.arguments import FILE_TARGET

if TYPE_CHECKING:
    import argparse

    from gradstudio.model.document import GraphDocument
    from gradstudio.model.workspace import GraphWorkspace

MAX_PATH_SHOWN = 200  # characters of a file's path quoted in a message


class CommandError(Exception):
    """A problem reported as one line on stderr, with exit status 2."""


def run_command(args: argparse.Namespace) -> int:
    """Run `check` or `run`: a CommandError is one line on stderr and status 2, a bug one line and status 3;
    the engine's warnings (PyTorch's, such as mse_loss broadcasting) follow as one line each."""
    shown = shown_path(args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = _run_guarded(args, shown)
    _report_warnings(shown, caught)
    return status


def _run_guarded(args: argparse.Namespace, shown: str) -> int:
    try:
        if args.command == "import-code":
            return import_code(args.file, args.output)
        document = _load(args.file)
        if args.command == "check":
            return check(shown, document)
        if args.command == "export-code":
            return export_code(document, args.output)
        return run(args, document)
    except CommandError as error:
        print(f"gradstudio: {shown}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # the reader went away (`gradstudio run FILE | head`): stop quietly, as other Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except MemoryError:
        print(f"gradstudio: {shown}: not enough memory", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001 - a bug: reported, never a traceback
        return internal_error(shown, error)


def _report_warnings(shown: str, caught: list[warnings.WarningMessage]) -> None:
    """Each distinct warning the engine gave (PyTorch's own, e.g. mse_loss broadcasting) as one line on stderr."""
    from gradstudio.model.limits import short_message

    seen = set()
    for warning in caught:
        text = short_message(" ".join(str(warning.message).split()))
        if text not in seen:
            seen.add(text)
            print(f"gradstudio: {shown}: warning: {text}", file=sys.stderr)


def internal_error(shown: str, error: BaseException) -> int:
    """Write the traceback to a report file and say where in one line on stderr (the report itself if that fails)."""
    import tempfile

    from gradstudio.model.limits import short_message

    report = "".join(traceback.format_exception(error))
    summary = short_message(f"{type(error).__name__}: {error}", 200)
    try:
        descriptor, path = tempfile.mkstemp(prefix=f"gradstudio-error-{time.strftime('%Y%m%d-%H%M%S')}-",
                                            suffix=".txt")
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(f"gradstudio {' '.join(sys.argv[1:2])} {shown}\n\n{report}")
    except OSError:
        print(f"gradstudio: {shown}: internal error: {summary}; the report follows\n{report}", file=sys.stderr, end="")
        return EXIT_INTERNAL
    print(f"gradstudio: {shown}: internal error: {summary} (report written to {path})", file=sys.stderr)
    return EXIT_INTERNAL


def shown_path(path: str) -> str:
    """A file's path as messages quote it: long ones cut in the middle."""
    if len(path) <= MAX_PATH_SHOWN:
        return path
    half = MAX_PATH_SHOWN // 2 - 2
    return f"{path[:half]}...{path[-half:]}"


def _load(path: str) -> GraphDocument:
    from gradstudio.model.io.fileformat import GraphFileError, load

    try:
        return load(path)
    except GraphFileError as error:
        raise CommandError(str(error)) from None


def import_code(source: str, output: str) -> int:
    """Import `source` into a new graph and save it to `output`; a refusal is one line (status 2), nothing written."""
    from gradstudio.model.io.code_import import CodeImportError, import_file_as_document
    from gradstudio.model.io.fileformat import save

    try:
        document, cautions = import_file_as_document(source)
    except CodeImportError as error:
        raise CommandError(str(error)) from None
    try:
        save(document, output)
    except OSError as error:
        raise CommandError(f"cannot write {shown_path(output)}: {error.strerror or error}") from None
    frames = sum(item.kind == "frame" for item in document.annotations.values())
    print(f"{shown_path(output)}: {len(document.nodes)} nodes, {len(document.edges)} edges, {frames} frames")
    for caution in cautions:
        print(f"gradstudio: {shown_path(source)}: warning: {caution}", file=sys.stderr)
    return EXIT_OK


def check(path: str, document: GraphDocument) -> int:
    """Print a one-line summary of a valid file."""
    target = document.settings.backward_target
    details = [f"{len(document.nodes)} nodes", f"{len(document.edges)} edges",
               f"grad mode {document.settings.grad_mode}"]
    if target is not None:
        details.append(f"backward target {document.nodes[target].name}")
    print(f"{path}: OK ({', '.join(details)})")
    return 0


def export_code(document: GraphDocument, output: str | None) -> int:
    """Print the graph's PyTorch code, or write it atomically to `output`."""
    from gradstudio.model.io.codegen import generate_code
    from gradstudio.model.io.fileformat import write_atomically

    code = generate_code(document)
    if output is None:
        sys.stdout.write(code)
        return EXIT_OK
    try:
        write_atomically(output, code.encode("utf-8"))
    except OSError as error:
        raise CommandError(f"cannot write {shown_path(output)}: {error.strerror or error}") from None
    return EXIT_OK


def resolve_node(document: GraphDocument, wanted: str) -> str:
    """The id of the node whose variable name (or else id) is `wanted`."""
    if wanted == FILE_TARGET:
        if document.settings.backward_target is None:
            raise CommandError("--backward: the file sets no backward target; name a node")
        return document.settings.backward_target
    by_name = {node.name: node_id for node_id, node in document.nodes.items()}
    if wanted in by_name:
        return by_name[wanted]
    if wanted in document.nodes:
        return wanted
    raise CommandError(f"--backward: no node named {wanted!r} (and no node with that id)")


def run(args: argparse.Namespace, document: GraphDocument) -> int:
    """Evaluate (and optionally run Backward), print the report; 1 if a node or Backward failed."""
    from gradstudio.model.edits import SetSetting
    from gradstudio.model.workspace import GraphWorkspace

    if args.no_grad:
        SetSetting("grad_mode", "no_grad").apply(document)
    target = resolve_node(document, args.backward) if args.backward is not None else None
    workspace = GraphWorkspace(document)
    results = workspace.results()
    backward_error = None
    if target is not None:
        backward_error = _run_backward(workspace, target)
    shown = shown_path(args.file)
    from gradstudio.cli.reports import json_report, text_report

    if args.json:
        from gradstudio.model.io.fileformat import format_json

        print(format_json(json_report(shown, workspace, target, backward_error)))
    else:
        print(text_report(shown, workspace, target, backward_error), end="")
    if backward_error is not None:
        name = document.nodes[target].name
        print(f"gradstudio: {shown}: backward from {name}: {backward_error}", file=sys.stderr)
    failed = backward_error is not None or any(not r.ok for r in results.values())
    return 1 if failed else 0


def _run_backward(workspace: GraphWorkspace, target: str) -> str | None:
    """Backward from `target`; the one-line reason it failed (engine errors, or memory), or None."""
    from gradstudio.model.limits import short_message

    try:
        workspace.backward(target)
    except MemoryError:
        return "not enough memory for backward"
    except (RuntimeError, ValueError, TypeError, ArithmeticError) as error:
        return short_message(str(error) or type(error).__name__).splitlines()[0]
    return None
