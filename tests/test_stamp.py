"""make book's steps run only when their inputs changed (kamsurvey.build.stamps): unchanged inputs run nothing;
a changed chapter, data file, package source or lock runs the step again; a failed step is never stamped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kamsurvey.build import stamps as stamp


@pytest.fixture()
def book(tmp_path) -> Path:
    root = tmp_path / "book"
    for name, text in {
        "_toc.yml": "root: index\n", "_config.yml": "title: t\n", "index.md": "# t\n", "requirements.txt": "x==1\n",
        "pyproject.toml": "[project]\n", "chapters/one.ipynb": "{}", "data/codebook.yml": "questions: []\n",
        "data/waves/2022/responses.csv": "respondent_id\nR1\n", "data/waves/2022/wave.yml": "n: 1\n",
        "data/editions.yml": "editions: []\n", "kamsurvey/tabulate.py": "X = 1\n",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def counting_command(root: Path, name: str, *, writes: str | None = None, fails: bool = False) -> list[str]:
    """A step's command: appends a line to <root>/runs-<name>, optionally rewrites a file, optionally fails."""
    code = f"open({str(root / f'runs-{name}')!r}, 'a').write('run\\n')"
    if writes:
        code += f"; p = {str(root / writes)!r}; open(p, 'a').write(' ')"
    if fails:
        code += "; raise SystemExit(3)"
    return [sys.executable, "-c", code]


def runs(root: Path, name: str) -> int:
    path = root / f"runs-{name}"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize("changed", ["chapters/one.ipynb", "data/waves/2022/responses.csv", "data/codebook.yml",
                                     "kamsurvey/tabulate.py", "requirements.txt"])
def test_the_chapters_step_runs_again_only_when_an_input_changed(book, changed):
    command = counting_command(book, "chapters", writes="chapters/one.ipynb")  # it rewrites its notebooks
    assert stamp.run_step(book, "chapters", command) == 0
    assert stamp.run_step(book, "chapters", command) == 0
    assert runs(book, "chapters") == 1  # the notebooks it rewrote are what the stamp vouches for
    assert stamp.up_to_date(book, "chapters", command)
    (book / changed).write_text((book / changed).read_text() + "\n", encoding="utf-8")
    assert not stamp.up_to_date(book, "chapters", command)
    assert stamp.run_step(book, "chapters", command) == 0
    assert runs(book, "chapters") == 2


def test_a_new_input_file_or_another_command_runs_the_step(book):
    command = counting_command(book, "html")
    stamp.run_step(book, "html", command)
    (book / "_build" / "html").mkdir(parents=True)
    (book / "_build" / "html" / "index.html").write_text("built")
    stamp.run_step(book, "html", command)
    assert runs(book, "html") == 2  # the first run left no output (index.html): not up to date
    stamp.run_step(book, "html", command)
    assert runs(book, "html") == 2
    (book / "chapters" / "two.ipynb").write_text("{}")
    stamp.run_step(book, "html", command)
    assert runs(book, "html") == 3
    stamp.run_step(book, "html", [*command, "--other-option"])
    assert runs(book, "html") == 4


def test_a_missing_output_runs_the_step(book):
    command = counting_command(book, "html")
    (book / "_build" / "html").mkdir(parents=True)
    (book / "_build" / "html" / "index.html").write_text("built")
    stamp.run_step(book, "html", command)
    (book / "_build" / "html" / "index.html").unlink()
    stamp.run_step(book, "html", command)
    assert runs(book, "html") == 2


def test_the_environment_the_step_reads_is_an_input(book, monkeypatch):
    (book / "_build" / "html").mkdir(parents=True)
    (book / "_build" / "html" / "index.html").write_text("built")
    command = counting_command(book, "html")
    monkeypatch.delenv("KAM_EDITION", raising=False)
    stamp.run_step(book, "html", command)
    monkeypatch.setenv("KAM_EDITION", "2023")
    stamp.run_step(book, "html", command)
    assert runs(book, "html") == 2


def test_a_failed_step_is_not_stamped(book):
    failing = counting_command(book, "chapters", fails=True)
    assert stamp.run_step(book, "chapters", failing) == 3
    assert not (book / stamp.STAMPS / "chapters").exists()
    assert stamp.run_step(book, "chapters", failing) == 3
    assert runs(book, "chapters") == 2


def test_inputs_changed_while_the_step_ran_are_not_stamped(book):
    command = counting_command(book, "chapters", writes="data/codebook.yml")  # not one of its own outputs
    stamp.run_step(book, "chapters", command)
    assert not (book / stamp.STAMPS / "chapters").exists()


def test_the_site_step_sees_a_missing_edition(book):
    site = book / "_build" / "site"
    for path in ("_build/html/index.html", "_build/site/index.html", "_build/site/editions.js",
                 "_build/site/editions/2022/index.html"):
        (book / path).parent.mkdir(parents=True, exist_ok=True)
        (book / path).write_text("x")
    command = counting_command(book, "site")
    stamp.run_step(book, "site", command)
    stamp.run_step(book, "site", command)
    assert runs(book, "site") == 1
    (site / "editions" / "2022" / "index.html").unlink()
    stamp.run_step(book, "site", command)
    assert runs(book, "site") == 2


@pytest.mark.parametrize("damage", ["bytes", "folder", "empty"])
def test_an_unreadable_stamp_counts_as_missing(book, damage):
    command = counting_command(book, "chapters", writes="chapters/one.ipynb")
    assert stamp.run_step(book, "chapters", command) == 0
    path = book / stamp.STAMPS / "chapters"
    path.unlink()
    if damage == "bytes":
        path.write_bytes(b"\xff\xfe\x00garbage")
    elif damage == "folder":
        path.mkdir()
    else:
        path.write_text("")
    assert not stamp.up_to_date(book, "chapters", command)
    assert stamp.run_step(book, "chapters", command) == 0
    assert runs(book, "chapters") == 2
    assert stamp.up_to_date(book, "chapters", command)  # stamped afresh


def test_a_page_of_the_table_of_contents_missing_from_the_build_is_not_up_to_date(book):
    (book / "_toc.yml").write_text("root: index\nchapters:\n  - file: chapters/one\n", encoding="utf-8")
    html = book / "_build" / "html"
    command = counting_command(book, "html")
    html.mkdir(parents=True)
    (html / "index.html").write_text("built")
    assert stamp.run_step(book, "html", command) == 0
    assert not (book / stamp.STAMPS / "html").exists()  # chapters/one.html was never built: nothing to vouch for
    (html / "chapters").mkdir()
    (html / "chapters" / "one.html").write_text("built")
    stamp.run_step(book, "html", command)
    stamp.run_step(book, "html", command)
    assert runs(book, "html") == 2 and stamp.up_to_date(book, "html", command)
    (html / "chapters" / "one.html").unlink()  # a page deleted from _build/html since
    assert not stamp.up_to_date(book, "html", command)
