"""The start-up check names exactly the Debian packages the platform Qt will use is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gradstudio import sysdeps

XCB_LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f01)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f02)
\tlibxkbcommon-x11.so.0 => not found
\tlibdbus-1.so.3 => not found
\tlibxcb-icccm.so.4 => not found
"""


def fake_plugins(tmp_path: Path, *names: str) -> Path:
    """A `platforms` folder holding empty plugin files."""
    for name in names:
        (tmp_path / name).write_bytes(b"")
    return tmp_path


@pytest.mark.parametrize(("environ", "expected"), [
    ({"QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
    ({"QT_QPA_PLATFORM": "wayland;xcb"}, "wayland"),
    ({"QT_QPA_PLATFORM": "xcb:foo=1"}, "xcb"),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}, "wayland"),
    ({"DISPLAY": ":0"}, "xcb"),
    ({}, "xcb"),
])
def test_the_platform_in_use(environ: dict[str, str], expected: str) -> None:
    assert sysdeps.platform_in_use(environ) == expected


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-icccm.so.4", "libxcb-icccm4"), ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"), ("libdbus-1.so.3", "libdbus-1-3"),
    ("libX11-xcb.so.1", "libx11-xcb1"), ("libEGL.so.1", "libegl1"), ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"), ("libwayland-cursor.so.0", "libwayland-cursor0"),
])
def test_sonames_name_their_debian_packages(soname: str, package: str) -> None:
    assert sysdeps.debian_package(soname) == package


def test_a_plugin_with_missing_libraries_gets_one_exact_apt_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = fake_plugins(tmp_path, "libqxcb.so", "libqoffscreen.so")
    asked: list[Path] = []

    def ldd(path: Path) -> str:
        asked.append(path)
        return XCB_LDD

    status = sysdeps.main({"DISPLAY": ":0"}, folder, ldd)
    assert status == 1 and asked == [folder / "libqxcb.so"]  # the platform in use, not offscreen
    lines = [line.strip() for line in capsys.readouterr().err.splitlines() if "apt-get" in line]
    assert lines == ["sudo apt-get install libdbus-1-3 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0"]


def test_nothing_missing_says_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = fake_plugins(tmp_path, "libqoffscreen.so")
    resolved = "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n"
    assert sysdeps.main({"QT_QPA_PLATFORM": "offscreen"}, folder, lambda _path: resolved) == 0
    assert capsys.readouterr().err == ""


def test_wayland_checks_every_wayland_plugin(tmp_path: Path) -> None:
    folder = fake_plugins(tmp_path, "libqwayland-egl.so", "libqwayland-generic.so", "libqxcb.so")
    reports = {"libqwayland-egl.so": "\tlibwayland-egl.so.1 => not found\n",
               "libqwayland-generic.so": "\tlibwayland-cursor.so.0 => not found\n"}
    missing = sysdeps.missing_for_platform("wayland", folder, lambda path: reports[path.name])
    assert missing == ["libwayland-cursor0", "libwayland-egl1"]


def test_the_real_plugins_on_this_machine_load() -> None:
    """The venv's xcb and offscreen plugins resolve every library here (Xvfb runs the app)."""
    assert sysdeps.plugin_folder() is not None
    assert sysdeps.missing_for_platform("xcb") == [] and sysdeps.missing_for_platform("offscreen") == []


def test_a_plugin_that_loads_is_not_handed_to_ldd() -> None:
    """The app's start-up check loads the plugin as Qt will; when that works it runs no `ldd` process."""
    def ldd(path: Path) -> str:
        raise AssertionError(f"ldd ran on {path}")

    assert sysdeps.main({"QT_QPA_PLATFORM": "offscreen"}, ldd=ldd) == 0


def test_only_a_plugin_that_fails_to_load_is_handed_to_ldd(tmp_path: Path) -> None:
    """A file the dynamic linker refuses is diagnosed by ldd; the venv's own plugins load."""
    folder = fake_plugins(tmp_path, "libqxcb.so")
    assert not sysdeps.loads(folder / "libqxcb.so")
    assert all(sysdeps.loads(plugin) for plugin in sysdeps.platform_plugins("offscreen", sysdeps.plugin_folder()))
    asked: list[Path] = []
    assert sysdeps.missing_for_platform("xcb", folder, lambda path: asked.append(path) or XCB_LDD) != []
    assert asked == [folder / "libqxcb.so"]


def test_the_module_runs_as_a_command_and_exits_cleanly() -> None:
    run = subprocess.run([sys.executable, "-m", "gradstudio.sysdeps"], capture_output=True, text=True, timeout=60,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}, check=False)
    assert run.returncode == 0 and "Traceback" not in run.stderr
