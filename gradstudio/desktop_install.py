"""`gradstudio --install-desktop` / `--uninstall-desktop`: the menu entry, icon and `*.gsg` MIME type for one user.

Everything goes under `$XDG_DATA_HOME` (default `~/.local/share`): the `.desktop` file, whose `Exec`
runs this very installation, the icon in the hicolor theme's sizes, and the shared-mime-info type, so a
double-clicked `.gsg` opens in GradStudio. Uninstalling removes exactly those files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from gradstudio.resource_files import packaging_path, resource_path

APP_ID = "io.github.gradstudio.GradStudio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def data_home() -> Path:
    """The user's XDG data folder."""
    configured = os.environ.get("XDG_DATA_HOME", "")
    return Path(configured) if os.path.isabs(configured) else Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """The command that starts this installation of GradStudio (the bundle, the venv's script, or python -m)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.executable).parent / "gradstudio"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "gradstudio"]


def _exec_argument(argument: str) -> str:
    """One argument of a desktop entry's Exec key, quoted when the spec requires it."""
    if not any(c in argument for c in ' \t\n"\'\\><~|&;$*?#()`%='):
        return argument
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in argument).replace("%", "%%")
    return f'"{escaped}"'


def desktop_entry() -> str:
    """The packaged `.desktop` file with `Exec` pointing at this installation."""
    lines = packaging_path(f"{APP_ID}.desktop").read_text(encoding="utf-8").splitlines()
    command = " ".join(_exec_argument(part) for part in launch_command())
    return "\n".join(f"Exec={command} %f" if line.startswith("Exec=") else line for line in lines) + "\n"


def installed_files(home: Path | None = None) -> dict[Path, Path | str]:
    """Each file --install-desktop writes, with its source (a file to copy, or the text to write)."""
    home = home or data_home()
    files: dict[Path, Path | str] = {
        home / "applications" / f"{APP_ID}.desktop": desktop_entry(),
        home / "mime" / "packages" / f"{APP_ID}.xml": packaging_path(f"{APP_ID}.mime.xml"),
        home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg": resource_path("icons", f"{APP_ID}.svg"),
    }
    for size in ICON_SIZES:
        source = resource_path("icons", f"{size}x{size}", f"{APP_ID}.png")
        files[home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"] = source
    return files


def install(home: Path | None = None) -> list[Path]:
    """Write the desktop files into `home` (the XDG data folder) and refresh the caches; the paths written."""
    home = home or data_home()
    written = []
    for target, source in installed_files(home).items():
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            shutil.copyfile(source, target)
        else:
            target.write_text(source, encoding="utf-8")
        written.append(target)
    refresh_caches(home)
    return written


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove what `install` writes (only those files) and refresh the caches; the paths removed."""
    home = home or data_home()
    removed = [path for path in installed_files(home) if path.is_file()]
    for path in removed:
        path.unlink()
    refresh_caches(home)
    return removed


def refresh_caches(home: Path) -> None:
    """Run update-mime-database and update-desktop-database where they are installed."""
    for tool, folder in (("update-mime-database", home / "mime"), ("update-desktop-database", home / "applications")):
        if shutil.which(tool) and folder.is_dir():
            subprocess.run([tool, str(folder)], check=False, capture_output=True, timeout=60)


def install_command(remove: bool = False) -> int:
    """The CLI's --install-desktop / --uninstall-desktop: do it, say what changed; 1 on an error."""
    try:
        paths = uninstall() if remove else install()
    except OSError as error:
        print(f"gradstudio: cannot {'uninstall' if remove else 'install'} the desktop files: {error}", file=sys.stderr)
        return 1
    verb = "Removed" if remove else "Installed"
    print(f"{verb} {len(paths)} files under {data_home()}")
    return 0
