"""The `gradstudio` command: opens the desktop app, or runs and checks graph files headless.

`gradstudio FILE` opens the app (Qt is imported only then). `gradstudio run` and
`gradstudio check` never import Qt, so they work on machines without a display.
Exit status: 0 when all went well, 1 when a node or Backward failed, 2 for a
file that cannot be loaded or a usage error.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import sys
from typing import TYPE_CHECKING, Any

from gradstudio import __version__

if TYPE_CHECKING:
    from gradstudio.model.document import GraphDocument
    from gradstudio.model.workspace import GraphWorkspace

COMMANDS = ("run", "check")
FILE_TARGET = "\0file"  # `--backward` without a node: use the file's backward target
EPILOG = """commands (no display needed):
  gradstudio run FILE [--backward [NODE]] [--no-grad] [--json]   evaluate and print values and gradients
  gradstudio check FILE                                           validate a graph file
  gradstudio FILE                                                 open a graph file (.gsg, or a tensor's .pt) in the app
'gradstudio COMMAND --help' tells more about a command."""
GRAPH_SUFFIXES = (".gsg", ".pt", ".json")


class CommandError(Exception):
    """A problem reported as one line on stderr, with exit status 2."""


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


def unknown_command(word: str) -> str | None:
    """The complaint for a first argument that is neither a command nor a graph file, else None."""
    if word.startswith("-") or os.path.exists(word) or word.lower().endswith(GRAPH_SUFFIXES) or os.sep in word:
        return None
    close = difflib.get_close_matches(word, COMMANDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"gradstudio: unknown command {word!r}{hint}; the commands are {', '.join(COMMANDS)}, "
            f"or give a graph file to open (gradstudio --help)")


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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `gradstudio` script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in COMMANDS:
        return run_command(build_command_parser().parse_args(argv))
    complaint = unknown_command(argv[0]) if argv else None
    if complaint is not None:
        print(complaint, file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    if args.smoke:
        from gradstudio.smoke import smoke

        return smoke()
    if args.install_desktop or args.uninstall_desktop:
        from gradstudio.desktop_install import install_command

        return install_command(remove=args.uninstall_desktop)
    from gradstudio.ui.app import run_app

    return run_app(args.file)


def run_command(args: argparse.Namespace) -> int:
    """Run `check` or `run`; a CommandError becomes one line on stderr and exit status 2."""
    try:
        document = _load(args.file)
        if args.command == "check":
            return check(args.file, document)
        return run(args, document)
    except CommandError as error:
        print(f"gradstudio: {args.file}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`gradstudio run FILE | head`): stop quietly, as other Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _load(path: str) -> GraphDocument:
    from gradstudio.model.io.fileformat import GraphFileError, load

    try:
        return load(path)
    except GraphFileError as error:
        raise CommandError(str(error)) from None


def check(path: str, document: GraphDocument) -> int:
    """Print a one-line summary of a valid file."""
    target = document.settings.backward_target
    details = [f"{len(document.nodes)} nodes", f"{len(document.edges)} edges",
               f"grad mode {document.settings.grad_mode}"]
    if target is not None:
        details.append(f"backward target {document.nodes[target].name}")
    print(f"{path}: OK ({', '.join(details)})")
    return 0


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
    from gradstudio.model.document import SetSetting
    from gradstudio.model.workspace import GraphWorkspace

    if args.no_grad:
        SetSetting("grad_mode", "no_grad").apply(document)
    target = resolve_node(document, args.backward) if args.backward is not None else None
    workspace = GraphWorkspace(document)
    results = workspace.results()
    backward_error = None
    if target is not None:
        try:
            workspace.backward(target)
        except RuntimeError as error:
            backward_error = str(error)
    if args.json:
        from gradstudio.model.io.fileformat import format_json

        print(format_json(json_report(args.file, workspace, target, backward_error)))
    else:
        print(text_report(args.file, workspace, target, backward_error), end="")
    if backward_error is not None:
        name = document.nodes[target].name
        print(f"gradstudio: {args.file}: backward from {name}: {backward_error}", file=sys.stderr)
    failed = backward_error is not None or any(not r.ok for r in results.values())
    return 1 if failed else 0


# ----- reports --------------------------------------------------------------------------------------------


def _assignment(name: str, value: Any) -> str:
    """`name = repr(value)`, continuation lines indented so multi-line tensors stay aligned."""
    prefix = f"{name} = "
    return prefix + repr(value).replace("\n", "\n" + " " * len(prefix))


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


def _plain(value: Any) -> Any:
    """A value as JSON-safe data: tensors as nested lists, non-finite floats as strings."""
    from gradstudio.engine import Tensor

    if isinstance(value, Tensor):
        value = value.tolist()
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
