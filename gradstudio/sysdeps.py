"""Check that the system libraries Qt needs are present, and name the Debian packages if not.

Without them Qt aborts with an unhelpful message (for any xcb failure it names
`libxcb-cursor0`, installed or not). This check runs before the app or the tests
start: it finds the platform plugin Qt will load (xcb, wayland or offscreen) and
loads it as Qt would; only when that fails does it ask `ldd` which libraries the
plugin cannot resolve, and print one `apt-get install` line naming exactly the
packages that ship them. (Loading first keeps the app's start-up free of the `ldd`
process: Qt loads the same plugin a moment later, so loading it costs nothing more.)
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# library name as ctypes.util.find_library knows it -> Debian package that ships it (used when ldd is unavailable)
QT_OFFSCREEN_LIBRARIES: dict[str, str] = {
    "glib-2.0": "libglib2.0-0",
    "EGL": "libegl1",
    "GL": "libgl1",
    "X11": "libx11-6",
    "dbus-1": "libdbus-1-3",
    "fontconfig": "libfontconfig1",
    "freetype": "libfreetype6",
    "xkbcommon": "libxkbcommon0",
}

# sonames whose Debian package does not follow the libNAME.so.N -> libnameN convention
SONAME_PACKAGES: dict[str, str] = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libX11.so.6": "libx11-6",
    "libXext.so.6": "libxext6",
    "libxcb.so.1": "libxcb1",
    "libz.so.1": "zlib1g",
    "libpng16.so.16": "libpng16-16",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
}

Ldd = Callable[[Path], str]
Loads = Callable[[Path], bool]
NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def platform_in_use(environ: Mapping[str, str] | None = None) -> str:
    """The platform plugin Qt will try first: QT_QPA_PLATFORM, else wayland in a Wayland session, else xcb."""
    env = os.environ if environ is None else environ
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return re.split(r"[;:]", chosen)[0]
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def plugin_folder() -> Path | None:
    """The `platforms` folder of the installed PySide6's Qt plugins (found without importing Qt)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms"
    return folder if folder.is_dir() else None


def platform_plugins(platform: str, folder: Path | None) -> list[Path]:
    """The plugin files Qt loads for `platform` (wayland ships as more than one in some releases)."""
    if folder is None:
        return []
    return sorted(folder.glob(f"libq{platform}*.so"))


def debian_package(soname: str) -> str:
    """The Debian package that ships `soname`: libxcb-icccm.so.4 -> libxcb-icccm4, libdbus-1.so.3 -> libdbus-1-3."""
    if soname in SONAME_PACKAGES:
        return SONAME_PACKAGES[soname]
    name, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    name = name.lower()
    if not version:
        return name
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def loads(path: Path) -> bool:
    """Whether the dynamic linker loads `path` with every library it links (as Qt loads a platform plugin)."""
    try:
        ctypes.CDLL(str(path), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError:
        return False
    return True


def run_ldd(path: Path) -> str:
    """What `ldd` says about `path` (empty when ldd is missing or fails)."""
    import subprocess  # only when a plugin failed to load: the app's start-up never pays for it

    try:
        return subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def missing_packages(libraries: dict[str, str] = QT_OFFSCREEN_LIBRARIES) -> list[str]:
    """Debian packages whose libraries cannot be found by name on this machine (the check without ldd)."""
    import ctypes.util

    return sorted({package for lib, package in libraries.items() if ctypes.util.find_library(lib) is None})


def missing_for_platform(platform: str, folder: Path | None = None, ldd: Ldd = run_ldd,
                         load: Loads = loads) -> list[str]:
    """Debian packages to install so Qt's `platform` plugin loads: none when it loads, else from ldd on the
    plugin, else by library name."""
    plugins = platform_plugins(platform, folder if folder is not None else plugin_folder())
    if plugins and all(load(plugin) for plugin in plugins):
        return []
    reports = [ldd(plugin) for plugin in plugins]
    if reports and all(reports):  # ldd worked: it names exactly what the plugin cannot load
        sonames = {soname for report in reports for soname in NOT_FOUND.findall(report)}
        return sorted({debian_package(soname) for soname in sonames})
    return missing_packages()


def install_line(packages: list[str]) -> str:
    """The one command that installs `packages`."""
    return f"sudo apt-get install {' '.join(packages)}"


def main(environ: Mapping[str, str] | None = None, folder: Path | None = None, ldd: Ldd = run_ldd,
         load: Loads = loads) -> int:
    """Print one apt-get line for the missing libraries of the platform Qt will use; exit status 1 if any."""
    if not sys.platform.startswith("linux"):
        return 0
    platform = platform_in_use(environ)
    missing = missing_for_platform(platform, folder, ldd, load)
    if not missing:
        return 0
    print(f"GradStudio needs system libraries that Qt's {platform} platform loads at start-up. Install them with:\n"
          f"    {install_line(missing)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
