"""Run the book's chapters in this process, as the notebooks do, and keep everything they publish.

The attacker (`tests/test_disclosure.py`) reads what a chapter publishes: every glued value, every
figure's payload and every displayed output (notes, the reproduction-check table), and what each
glued number means (`Chapter.meanings`). For the 2022 edition the values are read from the executed
notebooks (what the site is built from) and checked against a run here; for synthetic waves a run
here is what would be published, without Sphinx or a kernel.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from book import chapter_notebooks
from kamsurvey.report import chapter_glue, figures

RECORD = "application/papermill.record/"
# pages with no number about any question's answers (the editions list, the questionnaire's wording)
NO_ANSWERS = {"editions", "questionnaire"}
CLAIMS_CHAPTER = "reproduction-check"


@dataclass
class Published:
    """What one chapter publishes: glued values, figure payloads (by id), displayed outputs, and the chapter."""

    name: str
    glued: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)
    chapter: object = None
    claims: list | None = None  # the reproduction check's rows, with the id of the claim each is about


def data_chapters() -> list[Path]:
    return [path for path in chapter_notebooks() if path.stem not in NO_ANSWERS]


def _display(value) -> str | None:
    for attribute in ("data",):
        if hasattr(value, attribute) and isinstance(getattr(value, attribute), str):
            return getattr(value, attribute)
    return None


def run_chapter(path: Path, *, wave: str, data_dir: Path, monkeypatch) -> Published:
    """Execute the notebook's code cells here, with `wave` and `data_dir`, recording what it publishes."""
    published = Published(path.stem)
    monkeypatch.setattr(chapter_glue, "_glue", lambda name, value: published.glued.__setitem__(name, value))
    monkeypatch.setattr(chapter_glue.ChapterGlue, "glue_figure",
                        lambda self, figure: published.figures.__setitem__(figure.id, figure.payload()))
    namespace: dict = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []):
            continue
        tree = ast.parse(cell.source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"{path.name}", "exec"), namespace)
        if "parameters" in cell.metadata.get("tags", []):
            namespace.update(wave=wave, data_dir=str(data_dir), compare_with="")
        if last is not None:
            shown = eval(compile(ast.Expression(last.value), f"{path.name}", "eval"), namespace)
            text = _display(shown)
            if text is not None:
                published.outputs.append(text)
    published.chapter = namespace.get("ch")
    if path.stem == CLAIMS_CHAPTER:
        published.claims = claim_rows(published.chapter)
    return published


def claim_rows(chapter) -> list[tuple[str, dict]]:
    """The reproduction check's table, row by row, with the id of the claim each row is about."""
    return list(zip(chapter.claim_results(), chapter.claims_table().to_dict("records")))


def claims_html(chapter) -> str:
    """The reproduction check's table as its notebook displays it."""
    return chapter.claims_table().to_html(index=False, escape=True, border=0, classes=["kam-claims-table"])


def run_book(*, wave: str, data_dir: Path, monkeypatch) -> dict[str, Published]:
    return {path.stem: run_chapter(path, wave=wave, data_dir=data_dir, monkeypatch=monkeypatch) for path in data_chapters()}


def notebook_outputs(path: Path) -> Published:
    """What the executed notebook holds: glued values (as text), figure payloads, displayed Markdown and HTML."""
    published = Published(path.stem)
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if RECORD + figures.FIGURE_MIME in data:
                payload = data[RECORD + figures.FIGURE_MIME]
                published.figures[payload["id"]] = payload
            elif name is not None and RECORD + "text/plain" in data:
                published.glued[name] = data[RECORD + "text/plain"]
            for mime in ("text/markdown", "text/html"):
                if mime in data:
                    published.outputs.append("".join(data[mime]))
    return published
