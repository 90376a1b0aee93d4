"""The PyInstaller bundle: its spec ships what the lookups need, and resources are found through sys._MEIPASS.

Building the bundle takes minutes (`make dist-check` builds it and runs --smoke in it), so it is not a test here.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from gradstudio import resource_files

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "pyinstaller" / "gradstudio.spec"


def test_the_spec_ships_every_resource_folder_and_packaging_file():
    text = SPEC.read_text()
    assert '(str(ROOT / "resources"), "resources")' in text
    for name in ("desktop", "metainfo.xml", "mime.xml"):
        assert f'"io.github.gradstudio.GradStudio.{name}"), "resources/packaging"' in text
    assert (ROOT / "packaging" / "pyinstaller" / "launch.py").is_file()


def test_resources_are_found_in_a_bundle(tmp_path, monkeypatch):
    bundle = tmp_path / "_internal"
    (bundle / "resources" / "examples").mkdir(parents=True)
    (bundle / "resources" / "examples" / "only_in_bundle.gsg").write_text("{}")
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert resource_files.resource_roots()[-1] == bundle / "resources"
    found = resource_files.resource_path("examples", "only_in_bundle.gsg")
    assert found == bundle / "resources" / "examples" / "only_in_bundle.gsg"


def test_makefile_has_dist_and_dist_check():
    makefile = (ROOT / "Makefile").read_text()
    assert "packaging/pyinstaller/gradstudio.spec" in makefile
    assert re.search(r"^dist-check: dist\n\t.*dist/gradstudio/gradstudio --smoke", makefile, re.M)
