"""The file suffixes code import reads, apart from the importer itself: the canvas checks a dropped file's
name against them on every drag, long before (or without) anything is imported."""

from __future__ import annotations

CODE_SUFFIXES = (".py",)
NOTES_SUFFIXES = (".md", ".markdown", ".txt")
NOTEBOOK_SUFFIXES = (".ipynb",)
SUFFIXES = CODE_SUFFIXES + NOTES_SUFFIXES + NOTEBOOK_SUFFIXES
