"""The `gradstudio` command: opens the desktop app, or runs and checks graph files headless.

`gradstudio FILE` opens the app (Qt is imported only then). `gradstudio run` and
`gradstudio check` and `gradstudio export-code` never import Qt, so they work on machines without a display.
Exit status: 0 when all went well, 1 when a node or Backward failed, 2 for a
file that cannot be loaded or a usage error, 3 for an internal error (a bug): one
line on stderr naming the report written with the details. Never a traceback.
"""

from __future__ import annotations

import math
import os
import sys
import time
import traceback
import warnings
from typing import TYPE_CHECKING, Any

from gradstudio import __version__

if TYPE_CHECKING:
    import argparse

    from gradstudio.model.document import GraphDocument
    from gradstudio.model.workspace import GraphWorkspace

COMMANDS = ("run", "check", "export-code", "import-code")
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
JSON_ELEMENTS = 1000  # larger tensors are summarised in --json as PyTorch's repr summarises them
MAX_PATH_SHOWN = 200  # characters of a file's path quoted in a message
FILE_TARGET = "\0file"  # `--backward` without a node: use the file's backward target
EPILOG = """commands (no display needed):
  gradstudio run FILE [--backward [NODE]] [--no-grad] [--json]   evaluate and print values and gradients
  gradstudio check FILE                                           validate a graph file
  gradstudio export-code FILE [-o SCRIPT]                         write the graph as a PyTorch script
  gradstudio import-code SOURCE -o FILE.gsg                       PyTorch code (.py, .ipynb, .md) into a graph
  gradstudio FILE                                                 open a graph file (.gsg, or a tensor's .pt) in the app
'gradstudio COMMAND --help' tells more about a command."""
GRAPH_SUFFIXES = (".gsg", ".pt", ".json")


class CommandError(Exception):
    """A problem reported as one line on stderr, with exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    """Command-line arguments of `gradstudio [FILE]` (the app)."""
    import argparse

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


def unknown_command(word: str) -> str | None:
    """The complaint for a first argument that is neither a command nor a graph file, else None."""
    if word.startswith("-") or os.path.exists(word) or word.lower().endswith(GRAPH_SUFFIXES) or os.sep in word:
        return None
    import difflib  # only for a mistyped command: `gradstudio FILE` starts the app without it

    close = difflib.get_close_matches(word, COMMANDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"gradstudio: unknown command {word!r}{hint}; the commands are {', '.join(COMMANDS)}, "
            f"or give a graph file to open (gradstudio --help)")


def build_command_parser() -> argparse.ArgumentParser:
    """Command-line arguments of the headless commands `run` and `check`."""
    import argparse

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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `gradstudio` script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if opens_app_at_once(argv):
        from gradstudio.ui.app import run_app

        return run_app(argv[0] if argv else None)
    try:
        if argv and argv[0] in COMMANDS:
            return run_command(_parse(build_command_parser(), argv))
        complaint = unknown_command(argv[0]) if argv else None
        if complaint is not None:
            print(complaint, file=sys.stderr)
            return 2
        args = _parse(build_parser(), argv)
    except _UsageExit as done:
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


class _UsageExit(Exception):
    """argparse finished (a usage error, or --help) with this exit status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """`parser.parse_args(argv)`, its exit (usage errors: 2, --help: 0) as a status main() returns."""
    try:
        return parser.parse_args(argv)
    except SystemExit as done:
        raise _UsageExit(done.code if isinstance(done.code, int) else EXIT_BAD_INPUT) from None


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


# ----- reports --------------------------------------------------------------------------------------------


def _repr(value: Any) -> str:
    """PyTorch's repr of a value (already a bounded summary for big tensors); huge Python ints bounded too."""
    from gradstudio.model.limits import short_repr

    return short_repr(value) if isinstance(value, int) and not isinstance(value, bool) else repr(value)


def _assignment(name: str, value: Any) -> str:
    """`name = repr(value)`, continuation lines indented so multi-line tensors stay aligned."""
    prefix = f"{name} = "
    return prefix + _repr(value).replace("\n", "\n" + " " * len(prefix))


def text_report(path: str, workspace: GraphWorkspace, target: str | None, backward_error: str | None) -> str:
    """Each node as `name = value` in PyTorch's repr, then each `.grad` after Backward."""
    document = workspace.document
    results = workspace.results()
    lines = [f"# {path} (grad mode: {document.settings.grad_mode})"]
    for node_id in document.topological_order():
        node, result = document.nodes[node_id], results[node_id]
        if result.error is not None:
            lines.append(f"{node.name} = <error: {result.error}>")
        elif result.blocked_by is not None:
            lines.append(f"{node.name} = <not computed: {document.nodes[result.blocked_by].name} failed>")
        else:
            lines.append(_assignment(node.name, result.value))
    if target is not None:
        lines.append(f"# {document.nodes[target].name}.backward()" + (" failed" if backward_error else ""))
        if backward_error is None:
            # every .grad PyTorch lets you read, upstream of the target or not (those print None)
            lines += [_assignment(f"{document.nodes[n].name}.grad", workspace.grad(n))
                      for n in workspace.grad_holders()]
    return "\n".join(lines) + "\n"


def _summarised(value: Any) -> bool:
    """True for a tensor too big to list in --json (its `summary` is PyTorch's repr instead)."""
    from gradstudio.engine import Tensor

    return isinstance(value, Tensor) and value.numel() > JSON_ELEMENTS


def _plain(value: Any) -> Any:
    """A value as JSON-safe data: tensors as nested lists (None when summarised), non-finite floats as strings."""
    from gradstudio.engine import Tensor
    from gradstudio.model.limits import short_repr

    if _summarised(value):
        return None
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1100:
        return short_repr(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _node_report(workspace: GraphWorkspace, node_id: str) -> dict[str, Any]:
    document = workspace.document
    node, result = document.nodes[node_id], workspace.result(node_id)
    value = result.value if result.ok else None
    tensor = result.tensor if result.ok else None
    grad = workspace.grad(node_id) if workspace.last_backward is not None else None
    return {
        "id": node_id,
        "name": node.name,
        "kind": node.kind,
        "value": _plain(value),
        "shape": list(tensor.shape) if tensor is not None else None,
        "dtype": str(tensor.dtype) if tensor is not None else None,
        "requires_grad": result.ok and result.tracked,
        "is_leaf": bool(tensor is not None and tensor.is_leaf),
        "grad_fn": tensor.grad_fn.name() if tensor is not None and tensor.grad_fn is not None else None,
        "grad": _plain(grad),
        "summary": repr(value) if _summarised(value) else None,
        "grad_summary": repr(grad) if _summarised(grad) else None,
        "error": result.error,
        "blocked_by": document.nodes[result.blocked_by].name if result.blocked_by else None,
    }


def json_report(path: str, workspace: GraphWorkspace, target: str | None, backward_error: str | None) -> dict[str, Any]:
    """The run as JSON data: settings, the Backward outcome and every node in evaluation order."""
    document = workspace.document
    backward = None
    if target is not None:
        backward = {"target": document.nodes[target].name, "error": backward_error}
    return {
        "file": path,
        "grad_mode": document.settings.grad_mode,
        "backward": backward,
        "nodes": [_node_report(workspace, node_id) for node_id in document.topological_order()],
    }
