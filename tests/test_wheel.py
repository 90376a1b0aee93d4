"""The built wheel carries the resources, and the packaged lookup finds them there (not in the checkout)."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOOKUP = "from gradstudio.resource_files import resource_path; print(resource_path('examples', 'xor_mlp.gsg'))"


def test_wheel_ships_resources_and_finds_them(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    [wheel] = tmp_path.glob("gradstudio-*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    assert "gradstudio/resources/examples/notes_forward_backward.gsg" in names
    found = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(unpacked)!r}); {LOOKUP}"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()) == unpacked / "gradstudio" / "resources" / "examples" / "xor_mlp.gsg"
