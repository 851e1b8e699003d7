"""Helpers for tests that read the book's sources: the table of contents and the chapters."""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    """Every document of the book, in reading order, as paths without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    files += [chapter["file"] for chapter in toc.get("chapters", [])]
    return files


def chapter_notebooks() -> list[Path]:
    return [ROOT / f"{name}.ipynb" for name in toc_files() if (ROOT / f"{name}.ipynb").exists()]


def markdown_sources() -> dict[str, str]:
    """Prose of every document: markdown cells of notebooks, and the .md pages."""
    sources = {}
    for name in toc_files():
        notebook, page = ROOT / f"{name}.ipynb", ROOT / f"{name}.md"
        if notebook.exists():
            nb = nbformat.read(notebook, as_version=4)
            sources[name] = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        elif page.exists():
            sources[name] = page.read_text(encoding="utf-8")
    return sources
