"""The freedesktop files share one id with the app, and the MIME magic matches what we write."""

import configparser
import xml.etree.ElementTree as ET
from pathlib import Path

from gradstudio.model.document import GraphDocument
from gradstudio.model.io import fileformat

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "io.github.gradstudio.GradStudio"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def test_app_declares_the_packaging_id():
    assert f'DESKTOP_ID = "{APP_ID}"' in (ROOT / "gradstudio" / "ui" / "app.py").read_text()


def test_desktop_file_opens_our_mime_type():
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(ROOT / "packaging" / f"{APP_ID}.desktop")
    assert entry["Desktop Entry"]["MimeType"] == "application/x-gradstudio+json;"
    assert entry["Desktop Entry"]["Exec"].startswith("gradstudio ")


def test_metainfo_names_the_desktop_file():
    component = ET.parse(ROOT / "packaging" / f"{APP_ID}.metainfo.xml").getroot()
    assert component.findtext("id") == APP_ID
    assert component.findtext("launchable") == f"{APP_ID}.desktop"


def test_mime_magic_matches_every_saved_file():
    mime = ET.parse(ROOT / "packaging" / f"{APP_ID}.mime.xml").getroot()
    match = mime.find(f"{MIME_NS}mime-type/{MIME_NS}magic/{MIME_NS}match")
    window = int(match.get("offset").split(":")[1])
    files = [*sorted((ROOT / "resources" / "examples").glob("*.gsg"))]
    assert files
    for path in files:
        assert match.get("value") in path.read_text()[:window], path.name
    assert match.get("value") in fileformat.dumps(GraphDocument())[:window]
