"""`kam chapters` (make book's chapters step) never overwrites an edit: a chapter edited while the chapters run stops
the run, is named, and keeps the edit; otherwise every executed chapter replaces its notebook, all together (through
the journal), and nothing is left behind (no staging folder, no half-executed notebook)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kamsurvey.build import chapters, journal

EDITED_DURING_THE_RUN = "chapters/b.ipynb"


def fake_execute(source: str, target: str, parameters: dict) -> tuple[str, float]:
    """Stands for papermill: 'executes' a chapter; while chapter b runs, someone edits it."""
    text = Path(source).read_text(encoding="utf-8")
    Path(target).write_text(text.replace("not run", f"run for {parameters['wave']}"), encoding="utf-8")
    if source.endswith(EDITED_DURING_THE_RUN) and "edit me" in text:
        Path(source).write_text(text + " (edited while running)", encoding="utf-8")
    return source, 0.0


@pytest.fixture()
def book(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(chapters, "execute_one", fake_execute)
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    (root / "_toc.yml").write_text("root: index\nchapters:\n  - file: chapters/a\n  - file: chapters/b\n")
    for name in ("a", "b"):
        (root / "chapters" / f"{name}.ipynb").write_text(f"{name}: not run")
    return root


def run(book: Path) -> list[Path]:
    return chapters.run(book, book, wave="2023", compare_with="", data_dir="../data", jobs=2, kernel_server=False)


def test_every_chapter_is_replaced_together_and_nothing_is_left(book):
    written = run(book)
    assert [p.read_text() for p in written] == ["a: run for 2023", "b: run for 2023"]
    assert not (book / journal.JOURNAL).exists() and not (book / journal.STAGING).exists()
    assert not list((book / "chapters").glob(".*"))


def test_a_chapter_edited_while_the_chapters_run_is_kept_and_named(book):
    (book / EDITED_DURING_THE_RUN).write_text("b: not run, edit me")
    with pytest.raises(chapters.ChapterFailed, match=f"{EDITED_DURING_THE_RUN} changed while the chapters ran: "
                                                     "nothing was replaced and the edit is kept"):
        run(book)
    assert (book / "chapters" / "a.ipynb").read_text() == "a: not run"  # all or nothing
    assert (book / EDITED_DURING_THE_RUN).read_text() == "b: not run, edit me (edited while running)"
    assert not (book / journal.STAGING).exists() and not list((book / "chapters").glob(".*"))
