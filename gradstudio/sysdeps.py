"""Check that the system libraries Qt needs are present, and name the Debian packages if not.

Without them Qt aborts with an unhelpful message (or none at all); this check runs
before the app or the tests start so a fresh machine gets one clear instruction.
"""

from __future__ import annotations

import ctypes.util
import sys

# library name as ctypes.util.find_library knows it -> Debian package that ships it
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


def missing_packages(libraries: dict[str, str] = QT_OFFSCREEN_LIBRARIES) -> list[str]:
    """Debian packages whose libraries cannot be found on this machine."""
    return sorted({package for lib, package in libraries.items() if ctypes.util.find_library(lib) is None})


def main() -> int:
    """Print an apt-get line for missing libraries; exit status 1 if any are missing."""
    if not sys.platform.startswith("linux"):
        return 0
    missing = missing_packages()
    if not missing:
        return 0
    print(
        "GradStudio needs system libraries that Qt loads at start-up. Install them with:\n"
        f"    sudo apt-get install {' '.join(missing)}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
