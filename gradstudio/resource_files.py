"""Finding shipped resources (example graphs, icons, style sheets) wherever GradStudio runs from."""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def resource_roots() -> list[Path]:
    """Folders that may hold the resources, in the order they are tried."""
    roots = [PACKAGE / "resources", PACKAGE.parent / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle) / "resources")
    return roots


def resource_path(*parts: str) -> Path:
    """The path of a resource: in the installed package, else the source checkout, else a PyInstaller bundle."""
    for root in resource_roots():
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    tried = ", ".join(str(root) for root in resource_roots())
    raise FileNotFoundError(f"resource {'/'.join(parts)!r} not found (looked in {tried})")


def packaging_path(name: str) -> Path:
    """A freedesktop file of `packaging/` (the .desktop entry, AppStream metainfo, MIME type), wherever we run from."""
    try:
        return resource_path("packaging", name)
    except FileNotFoundError:
        checkout = PACKAGE.parent / "packaging" / name
        if checkout.exists():
            return checkout
        raise
