"""Editions: the register grows by one entry per wave; the site keeps every edition where it was published, byte for
byte (earlier editions from their archives, never rebuilt), and switches to a new site in one rename."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import DATA
from kamsurvey.build import website as build_site
from kamsurvey.data import editions
from kamsurvey.data.editions import Edition
from kamsurvey.report import citation
from kamsurvey.site import editions_index

REGISTER = (DATA / "editions.yml").read_text(encoding="utf-8")
E2022 = Edition("2022", "2022 survey (July–September 2022)", None)
E2023 = Edition("2023", "2023 survey (March–May 2023)", "2022")


def test_registering_an_edition_appends_it_and_keeps_the_comments():
    text = editions.register_text(REGISTER, E2023)
    assert text.startswith(REGISTER) and "# Published editions" in text
    assert editions.editions_from_mapping(yaml.safe_load(text)) == [E2022, E2023]
    with pytest.raises(ValueError, match="already registered"):
        editions.register_text(text, E2023)
    tricky = Edition("2024", 'Survey "2024": a: b', "2023")
    assert editions.editions_from_mapping(yaml.safe_load(editions.register_text(text, tricky)))[-1] == tricky


def test_the_site_index_names_the_latest_and_every_edition():
    script = editions_index.editions_js([E2022, E2023])
    payload = json.loads(re.search(r"kamEditionsLoaded\((.*)\);", script).group(1))
    assert payload == {"latest": "2023", "editions": [{"wave": "2022", "title": E2022.title},
                                                      {"wave": "2023", "title": E2023.title}]}
    assert 'typeof window.kamEditionsLoaded === "function"' in script


def test_the_editions_list_shows_editions_up_to_this_one():
    from kamsurvey.report.citation import EditionRecord

    records = [EditionRecord(wave=w, title=f"{w} <survey>", survey="S", fieldwork="May 2023", n=1500, published=None,
                             reconstructed=False, url=f"https://example.org/editions/{w}/", current=w == "2024")
               for w in ("2022", "2023", "2024")]
    listing = citation.editions_list_html(records, "2023")
    assert listing.startswith('<ul id="kam-editions-list"')
    assert listing.count("<li>") == 2 and "2024" not in listing
    assert '<a href="https://example.org/editions/2023/">2023 &lt;survey&gt;</a> (this edition): 1,500 respondents' in listing
    assert editions.editions_up_to([E2022, E2023], "2022") == [E2022]


def fake_edition(folder: Path, wave: str, extra: str = "") -> Path:
    (folder / "chapters").mkdir(parents=True)
    (folder / "index.html").write_text(f'<meta name="kam-edition" content="{wave}">{extra}')
    (folder / "chapters" / "a.html").write_text(f"chapter of {wave}")
    (folder / ".buildinfo").write_text("sphinx")
    return folder


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def contents(folder: Path) -> dict[str, bytes]:
    return {k: v[0] for k, v in snapshot(folder).items()}


@pytest.fixture()
def book(tmp_path) -> Path:
    """A book whose table of contents lists index and chapters/a (the pages every built edition must have)."""
    root = tmp_path / "book"
    root.mkdir()
    (root / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: chapters/a\n")
    return root


def archive_edition(root: Path, wave: str, extra: str = "") -> dict[str, bytes]:
    """editions/<wave>.tar.gz and .sha256 of a fake edition, as kam wave commits them; the edition's files."""
    from kamsurvey.build import archive

    tree = fake_edition(root.parent / f"built-{wave}", wave, extra)
    archive.write_archive(tree, wave, None, root / archive.ARCHIVES)
    return {k: v for k, v in contents(tree).items() if k != ".buildinfo"}


def test_the_site_takes_earlier_editions_from_their_archives_and_the_current_one_from_its_build(book, tmp_path):
    published = archive_edition(book, "2022", extra="as published")
    html = fake_edition(tmp_path / "html", "2023")
    version, sources = build_site.assemble_site(book, [E2022, E2023], html)
    assert sources == {"2022": "archive", "2023": "built"}
    assert contents(version / "editions" / "2022") == published  # byte for byte what was archived
    assert (version / "index.html").read_text() == '<meta name="kam-edition" content="2023">'
    assert (version / "editions" / "2023" / "chapters" / "a.html").read_text() == "chapter of 2023"
    assert not (version / ".buildinfo").exists() and (version / ".nojekyll").exists()
    assert '"latest": "2023"' in (version / "editions.js").read_text()
    build_site.switch(book, {build_site.SITE: version}, "test")
    site = book / build_site.SITE
    assert site.is_symlink() and contents(site) == contents(version)
    # built again: a new folder, switched in one rename; the old one is gone, the bytes are the same
    again, _ = build_site.assemble_site(book, [E2022, E2023], html)
    build_site.switch(book, {build_site.SITE: again}, "test")
    assert site.resolve() == again and not version.exists() and contents(site) == contents(again)


def test_an_earlier_edition_is_never_rebuilt(book, tmp_path):
    html = fake_edition(tmp_path / "html", "2023")
    with pytest.raises(build_site.StepFailed, match="the 2022 edition is neither archived .* never rebuilt"):
        build_site.assemble_site(book, [E2022, E2023], html)
    assert not any((book / "_build" / ".versions").iterdir())
    # an edition from before archives, in the site as built then, is kept as it is
    old_site = book / build_site.SITE
    fake_edition(old_site / "editions" / "2022", "2022", extra="built in 2022")
    before = snapshot(old_site / "editions" / "2022")
    version, sources = build_site.assemble_site(book, [E2022, E2023], html)
    assert sources["2022"] == "kept (not archived)"
    assert snapshot(version / "editions" / "2022") == {k: v for k, v in before.items() if k != ".buildinfo"}


def test_a_tampered_archive_stops_the_site(book, tmp_path):
    from kamsurvey.build import archive

    archive_edition(book, "2022")
    data = bytearray(archive.archive_path(book, "2022").read_bytes())
    data[len(data) // 2] ^= 1
    archive.archive_path(book, "2022").write_bytes(bytes(data))
    with pytest.raises(build_site.StepFailed, match="2022.tar.gz: its SHA-256 is not the one in editions/2022.sha256"):
        build_site.assemble_site(book, [E2022, E2023], fake_edition(tmp_path / "html", "2023"))


def test_a_published_current_edition_is_served_from_its_archive_and_a_differing_build_is_named(book, tmp_path):
    archive_edition(book, "2022")
    published = archive_edition(book, "2023")
    same = fake_edition(tmp_path / "same", "2023")
    version, sources = build_site.assemble_site(book, [E2022, E2023], same)
    assert sources["2023"] == "archive; today's build is identical"
    changed = fake_edition(tmp_path / "changed", "2023")
    (changed / "chapters" / "a.html").write_text("chapter of 2023, rounded differently")
    version, sources = build_site.assemble_site(book, [E2022, E2023], changed)
    assert sources["2023"].startswith("archive; today's build differs in chapters/a.html and is not published")
    assert contents(version / "editions" / "2023") == published
    assert (version / "chapters" / "a.html").read_text() == "chapter of 2023"  # the root copy too


def test_a_build_missing_a_page_of_the_table_of_contents_is_not_published(book, tmp_path):
    archive_edition(book, "2022")
    html = fake_edition(tmp_path / "html", "2023")
    (html / "chapters" / "a.html").unlink()
    with pytest.raises(build_site.StepFailed, match="no chapters/a.html"):
        build_site.assemble_site(book, [E2022, E2023], html)
    wrong = fake_edition(tmp_path / "wrong", "2022")
    with pytest.raises(build_site.StepFailed, match="is the 2022 edition, not the 2023 edition"):
        build_site.assemble_site(book, [E2022, E2023], wrong)


@pytest.mark.slow
def test_a_build_warning_fails_the_build_step_and_names_the_warning(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text("title: t\nexecute:\n  execute_notebooks: 'off'\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (book / "index.md").write_text("# Title\n\nSee {doc}`no-such-page`.\n")
    with pytest.raises(build_site.StepFailed) as caught:
        build_site.build_book(book, edition="2023")
    assert caught.value.step == "build"
    assert "no-such-page" in caught.value.reason and "WARNING" in caught.value.reason


def test_the_commands_explain_themselves():
    from kamsurvey.cli import COMMANDS

    for command in COMMANDS:
        result = subprocess.run([sys.executable, "-m", "kamsurvey", command, "--help"], capture_output=True, text=True)
        assert result.returncode == 0 and f"usage: kam {command}" in result.stdout, command
    missing = subprocess.run([sys.executable, "-m", "kamsurvey", "wave", "--wave", "2023", "--data", "nope.csv"],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "argument --data: nope.csv: no such file" in missing.stderr
