"""The application icon, the freedesktop validators, and --install-desktop / --uninstall-desktop."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradstudio import desktop_install
from gradstudio.cli import main
from gradstudio.desktop_install import APP_ID, ICON_SIZES

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"


def needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install desktop-file-utils appstream shared-mime-info)")


def test_the_desktop_file_names_an_icon_that_exists():
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(PACKAGING / f"{APP_ID}.desktop")
    name = entry["Desktop Entry"]["Icon"]
    assert (ICONS / f"{name}.svg").is_file()
    for size in ICON_SIZES:
        assert (ICONS / f"{size}x{size}" / f"{name}.png").is_file(), size


def test_png_icons_have_their_sizes_and_match_the_svg(qapp):
    from PySide6.QtGui import QImage

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from make_icons import render
    finally:
        sys.path.remove(str(ROOT / "tools"))
    for size in ICON_SIZES:
        image = QImage(str(ICONS / f"{size}x{size}" / f"{APP_ID}.png"))
        assert (image.width(), image.height()) == (size, size)
        fresh = render(ICONS / f"{APP_ID}.svg", size).convertToFormat(image.format())
        assert fresh == image, f"{size}x{size} is stale: run tools/make_icons.py"


def test_metainfo_has_screenshots_that_exist_and_a_release():
    import xml.etree.ElementTree as ET

    component = ET.parse(PACKAGING / f"{APP_ID}.metainfo.xml").getroot()
    images = [image.text for image in component.iter("image")]
    assert images
    for url in images:
        assert (ROOT / "docs" / "images" / url.rsplit("/", 1)[1]).is_file(), url
    [release] = component.find("releases")
    assert release.get("version") == __import__("gradstudio").__version__
    assert release.find("description") is not None


def test_desktop_file_validates():
    needs("desktop-file-validate")
    done = subprocess.run(["desktop-file-validate", str(PACKAGING / f"{APP_ID}.desktop")],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr


def test_metainfo_validates():
    needs("appstreamcli")
    done = subprocess.run(["appstreamcli", "validate", "--no-net", str(PACKAGING / f"{APP_ID}.metainfo.xml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mime_type_validates(tmp_path):
    needs("update-mime-database")
    packages = tmp_path / "mime" / "packages"
    packages.mkdir(parents=True)
    shutil.copy(PACKAGING / f"{APP_ID}.mime.xml", packages / f"{APP_ID}.xml")
    done = subprocess.run(["update-mime-database", str(tmp_path / "mime")], capture_output=True, text=True)
    assert done.returncode == 0 and "warning" not in done.stderr.lower(), done.stderr
    assert "application/x-gradstudio+json" in (tmp_path / "mime" / "globs2").read_text()


# ----- installing for a user ------------------------------------------------------------------------------


def test_install_and_uninstall_desktop_into_xdg_data_home(tmp_path, monkeypatch, capsys):
    home = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    before = {p for p in tmp_path.rglob("*")}
    assert main(["--install-desktop"]) == 0
    assert f"under {home}" in capsys.readouterr().out
    written = set(desktop_install.installed_files(home))
    assert (home / "applications" / f"{APP_ID}.desktop") in written
    assert (home / "mime" / "packages" / f"{APP_ID}.xml") in written
    assert (home / "icons" / "hicolor" / "48x48" / "apps" / f"{APP_ID}.png") in written
    assert (home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg") in written
    assert all(path.is_file() for path in written)
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(home / "applications" / f"{APP_ID}.desktop")
    command = entry["Desktop Entry"]["Exec"]
    assert command.endswith(" %f")
    program = command.split(" ")[0].strip('"')
    assert Path(program).is_file() and Path(program).parent == Path(sys.executable).parent
    if shutil.which("update-mime-database"):
        assert "*.gsg" in (home / "mime" / "globs2").read_text()
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(["desktop-file-validate", str(home / "applications" / f"{APP_ID}.desktop")],
                              capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout == "", done.stdout
    assert main(["--uninstall-desktop"]) == 0
    assert not any(path.exists() for path in written)
    # only what install wrote is gone: the caches the database tools made, and the folders, may stay
    left = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    assert not any(APP_ID in p.name for p in left), left


def test_uninstall_leaves_other_files_alone(tmp_path):
    home = tmp_path / "share"
    other = home / "applications" / "other.desktop"
    other.parent.mkdir(parents=True)
    other.write_text("[Desktop Entry]\n")
    desktop_install.install(home)
    desktop_install.uninstall(home)
    assert other.read_text() == "[Desktop Entry]\n"


def test_exec_quotes_paths_with_spaces(monkeypatch):
    monkeypatch.setattr(desktop_install, "launch_command", lambda: ["/opt/my apps/bin/python", "-m", "gradstudio"])
    lines = desktop_install.desktop_entry().splitlines()
    assert 'Exec="/opt/my apps/bin/python" -m gradstudio %f' in lines


def test_install_reports_an_unwritable_folder(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocked))
    assert main(["--install-desktop"]) == 1
    assert capsys.readouterr().err.startswith("gradstudio: cannot install the desktop files:")
