"""File commands: New, Open, Open Recent, Examples, Save, Save As, Close, Export Image, and the unsaved-work prompt.

Nothing here discards work without asking: every command that would replace
the open document first calls `maybe_save`, and a file that fails to load
leaves the open document as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from gradstudio.model.document import GraphDocument
from gradstudio.model.io import fileformat
from gradstudio.model.io.fileformat import write_atomically
from gradstudio.model.io.torch_file import TORCH_SUFFIXES, load_any
from gradstudio.resource_files import resource_path, resource_roots
from gradstudio.ui.panels.code_panel import safe_code
from gradstudio.ui.text_limits import clip, elide_path

if TYPE_CHECKING:
    from gradstudio.ui.main_window import MainWindow
    from gradstudio.ui.workspace import Workspace

GRAPH_FILTER = "GradStudio graphs (*.gsg)"
OPEN_FILTER = "GradStudio graphs (*.gsg);;PyTorch tensors (*.pt *.pth)"
IMAGE_FILTERS = "PNG image (*.png);;SVG drawing (*.svg)"


def example_files() -> list[Path]:
    """The example graphs shipped in `resources/examples/`, sorted by name."""
    try:
        folder = resource_path("examples")
    except FileNotFoundError:
        return []
    return sorted(folder.glob("*.gsg"))


def is_shipped_example(path: str | Path) -> bool:
    """True when `path` is one of the shipped example files (in the package, the checkout or a bundle)."""
    try:
        resolved = Path(path).resolve()
    except OSError:
        return False
    for root in resource_roots():
        try:
            if resolved.is_relative_to((root / "examples").resolve()):
                return True
        except OSError:
            continue
    return False


def example_title(path: Path) -> str:
    """A menu title for an example file: `notes_no_grad.gsg` -> `Notes no grad`."""
    return path.stem.replace("_", " ").capitalize()


class FileController:
    """Opens, saves and closes the window's document."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    @property
    def workspace(self) -> Workspace:
        """The open graph (a new one replaces it on New and Open)."""
        return self.window.workspace

    def say(self, text: str) -> None:
        """A line for the status bar."""
        self.workspace.message.emit(text)

    # ----- asking before discarding ------------------------------------------------------------------------------

    def maybe_save(self) -> bool:
        """True when it is fine to discard the open document (saved, or the user said so)."""
        if self.workspace.undo_stack.isClean():
            return True
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window, "Unsaved changes",
            f"“{self.workspace.display_name}” has changes that are not saved. Save them first?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        if answer == buttons.Save:
            return self.save()
        return answer == buttons.Discard

    # ----- new, open, close --------------------------------------------------------------------------------------

    def new(self) -> bool:
        """Start an empty document."""
        if not self.maybe_save():
            return False
        self.window.set_document(GraphDocument())
        return True

    def close(self) -> bool:
        """Close the open document (the window stays, with an empty one)."""
        return self.new()

    def open(self) -> bool:
        """Ask for a graph file and open it."""
        start = str(Path(self.workspace.path).parent) if self.workspace.path else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open graph", start, OPEN_FILTER)
        return bool(path) and self.open_path(path)

    def open_path(self, path: str, as_example: bool = False) -> bool:
        """Open `path`; on a bad file say why and keep the open document untouched."""
        if not self.maybe_save():
            return False
        try:
            document = load_any(path)
        except (fileformat.GraphFileError, OSError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            message = clip(f"{elide_path(Path(path).name)}: {reason}", 2000)
            QMessageBox.critical(self.window, "Cannot open graph", message)
            return False
        if as_example or is_shipped_example(path):
            # an example opens as an untitled copy, so Save never overwrites the shipped file
            self.window.set_document(document, None, f"{example_title(Path(path))} (example)")
        elif path.lower().endswith(TORCH_SUFFIXES):
            # a tensor file opens untitled too: Save writes a .gsg, never over the .pt
            self.window.set_document(document, None, Path(path).stem)
        else:
            self.window.set_document(document, str(Path(path).resolve()))
            self.window.settings.add_recent_file(path)
        self.say(f"Opened {elide_path(Path(path).name)}")
        return True

    # ----- save --------------------------------------------------------------------------------------------------

    def save(self) -> bool:
        """Save to the document's file (asking for one if it has none)."""
        if self.workspace.path is None or is_shipped_example(self.workspace.path):
            return self.save_as()  # never over a shipped example, whichever way it was opened
        return self.save_to(self.workspace.path)

    def save_as(self) -> bool:
        """Ask for a file name and save there."""
        suggested = self.workspace.path or f"{self.workspace.display_name.removesuffix(' (example)')}.gsg"
        path = self._ask_save_path("Save graph as", suggested, GRAPH_FILTER, (".gsg",))
        return self.save_to(path) if path else False

    def save_to(self, path: str) -> bool:
        """Write the document to `path` (asking first if it is read-only); on failure say why, change nothing."""
        name = elide_path(Path(path).name)
        written = self._write(path, replace_read_only=False)
        if written is None:  # the model refused to replace a read-only file: the user decides
            if not self._confirm_replace_read_only(path):
                self.say(f"Not saved: {name} is read-only")
                return False
            written = self._write(path, replace_read_only=True)
        if not written:
            return False
        self.workspace.path = str(Path(path).resolve())
        self.workspace.display_name = Path(path).name
        self.workspace.mark_saved()
        self.window.update_title()
        self.window.settings.add_recent_file(path)
        self.say(f"Saved {name}")
        return True

    def _write(self, path: str, replace_read_only: bool) -> bool | None:
        """Save to `path`: True when written, None for a read-only target left alone, False after an error box."""
        try:
            fileformat.save(self.workspace.document, path, replace_read_only=replace_read_only)
        except fileformat.ReadOnlyTargetError:
            return None
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            message = clip(f"{elide_path(Path(path).name)}: {reason}", 2000)
            QMessageBox.critical(self.window, "Cannot save graph", message)
            return False
        return True

    def _confirm_replace_read_only(self, path: str) -> bool:
        """Ask whether a read-only file may be replaced (it stays read-only)."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window, "Replace read-only file?",
            f"{elide_path(Path(path).name)} is read-only. Replace it anyway (it stays read-only)?",
            buttons.Yes | buttons.No, buttons.No)
        return answer == buttons.Yes

    # ----- export ------------------------------------------------------------------------------------------------

    def export_image(self) -> bool:
        """Ask for a PNG or SVG file name and draw the graph into it."""
        stem = Path(self.workspace.display_name).stem.removesuffix(" (example)")
        path = self._ask_save_path("Export image", f"{stem}.png", IMAGE_FILTERS, (".png", ".svg"))
        if not path:
            return False
        from gradstudio.ui.io import export  # loaded by the first export

        if not export.export_image(self.window.view.scene(), path):
            QMessageBox.critical(self.window, "Cannot export image", f"Could not write {elide_path(path)}")
            return False
        self.say(f"Exported {Path(path).name}")
        return True

    def export_code(self) -> bool:
        """Ask for a .py file name and write the graph's PyTorch code into it."""
        stem = Path(self.workspace.display_name).stem.removesuffix(" (example)")
        path = self._ask_save_path("Export code", f"{stem}.py", "Python source (*.py)", (".py",))
        if not path:
            return False
        code, problem = safe_code(self.workspace)
        if problem is not None:
            QMessageBox.critical(self.window, "Cannot export code", f"This graph cannot be written as code:\n{problem}")
            return False
        try:
            write_atomically(path, code.encode("utf-8"))
        except OSError as error:
            message = f"Could not write {elide_path(path)}:\n{error.strerror}"
            QMessageBox.critical(self.window, "Cannot export code", message)
            return False
        self.say(f"Exported {Path(path).name}")
        return True

    def _ask_save_path(self, title: str, suggested: str, filters: str, suffixes: tuple[str, ...]) -> str | None:
        """A file name from the save dialog, completed with the chosen filter's suffix.

        The dialog asked about overwriting only the name as typed; when the suffix we add makes it an
        existing file, ask again here so nothing is replaced silently.
        """
        path, chosen = QFileDialog.getSaveFileName(self.window, title, suggested, filters)
        if not path:
            return None
        if not path.lower().endswith(suffixes):
            path += next((suffix for suffix in suffixes if suffix[1:] in chosen.lower()), suffixes[0])
            if Path(path).exists() and not self._confirm_replace(path):
                return None
        return path

    def _confirm_replace(self, path: str) -> bool:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self.window, "Replace file?", f"{Path(path).name} already exists. Replace it?",
                                      buttons.Yes | buttons.No, buttons.No)
        return answer == buttons.Yes

    # ----- menus -------------------------------------------------------------------------------------------------

    def fill_recent_menu(self, menu: QMenu) -> None:
        """List the recent files (rebuilt each time the menu opens)."""
        menu.clear()
        recent = self.window.settings.recent_files()
        for path in recent:
            menu.addAction(Path(path).name, lambda p=path: self.open_path(p)).setToolTip(path)
        if recent:
            menu.addSeparator()
            menu.addAction("Clear Recent Files", self.window.settings.clear_recent_files)
        else:
            menu.addAction("No recent files").setEnabled(False)

    def fill_examples_menu(self, menu: QMenu) -> None:
        """One entry per shipped example graph."""
        menu.clear()
        for path in example_files():
            menu.addAction(example_title(path), lambda p=str(path): self.open_path(p, as_example=True))
        if menu.isEmpty():
            menu.addAction("No examples found").setEnabled(False)
