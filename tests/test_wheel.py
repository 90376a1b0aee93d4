"""The wheel carries the resources; installed in a fresh venv outside the checkout, it runs headless and --smoke."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LOOKUP = "from gradstudio.resource_files import resource_path; print(resource_path('examples', 'xor_mlp.gsg'))"
WHERE = "import gradstudio, sys; print(gradstudio.__file__); print(sys.path)"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the checkout."""
    folder = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    [built] = folder.glob("gradstudio-*.whl")
    return built


def test_wheel_ships_resources_and_finds_them(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    assert "gradstudio/resources/examples/notes_forward_backward.gsg" in names
    assert "gradstudio/resources/icons/48x48/io.github.gradstudio.GradStudio.png" in names
    assert "gradstudio/resources/packaging/io.github.gradstudio.GradStudio.desktop" in names
    found = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(unpacked)!r}); {LOOKUP}"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()) == unpacked / "gradstudio" / "resources" / "examples" / "xor_mlp.gsg"


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with only the wheel installed; the dependencies come from ours by a .pth."""
    folder = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # a plain path line: the dependencies are importable, but the .pth files over there (our editable
    # install of the checkout) are not processed, so `gradstudio` can only come from the wheel
    Path(purelib, "shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                              "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    return folder


def fresh_run(venv: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a program of the fresh venv with no source tree on the path and nothing inherited that points at one."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run([str(venv / "bin" / argv[0]), *argv[1:]], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=180)


def test_installed_wheel_is_the_one_imported(venv: Path, tmp_path: Path) -> None:
    where = fresh_run(venv, "python", "-c", WHERE, cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    module, path = where.stdout.splitlines()
    assert Path(module).is_relative_to(venv), module
    entries = [Path(entry).resolve() for entry in ast.literal_eval(path) if entry]
    # the checkout itself (or its package folder) must not be importable; the shared venv inside it may be
    assert not any(entry in (ROOT, ROOT / "gradstudio") for entry in entries), path


def test_installed_wheel_runs_an_example_headless(venv: Path, tmp_path: Path) -> None:
    example = fresh_run(venv, "python", "-c", LOOKUP, cwd=tmp_path).stdout.strip()
    assert Path(example).is_relative_to(venv)
    done = fresh_run(venv, "gradstudio", "run", example, "--backward", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"# {example} (grad mode: normal)")
    assert ".backward()\n" in done.stdout and ".grad = tensor(" in done.stdout


def test_installed_wheel_passes_smoke(venv: Path, tmp_path: Path) -> None:
    done = fresh_run(venv, "gradstudio", "--smoke", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("gradstudio --smoke: OK")


def test_installed_wheel_installs_the_desktop_entry(venv: Path, tmp_path: Path) -> None:
    env_home = tmp_path / "share"
    done = subprocess.run([str(venv / "bin" / "gradstudio"), "--install-desktop"], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "XDG_DATA_HOME": str(env_home)}, timeout=120)
    assert done.returncode == 0, done.stderr
    entry = (env_home / "applications" / "io.github.gradstudio.GradStudio.desktop").read_text()
    assert f"Exec={venv / 'bin' / 'gradstudio'} %f" in entry
