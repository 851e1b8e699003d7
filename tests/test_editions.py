"""Editions: the register grows by one entry per wave, the site keeps every edition where it was published."""

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


def test_publishing_adds_the_new_edition_and_leaves_earlier_ones_untouched(tmp_path):
    site = tmp_path / "site"
    fake_edition(site / "editions" / "2022", "2022")
    fake_edition(site, "2022", extra="root copy")
    (site / "stale.html").write_text("from the 2022 root")
    before = snapshot(site / "editions" / "2022")
    html = fake_edition(tmp_path / "html", "2023")
    work = tmp_path / "work"
    staged = build_site.stage_site(site, work, [E2022, E2023], html)
    assert set(staged) == {"editions/2023", "root", "editions.js"}
    build_site.publish_site(site, staged, build_site.Swap(work / "trash"))
    assert snapshot(site / "editions" / "2022") == before  # same bytes, never rewritten
    assert (site / "index.html").read_text() == '<meta name="kam-edition" content="2023">'
    assert (site / "editions" / "2023" / "chapters" / "a.html").read_text() == "chapter of 2023"
    assert not (site / "stale.html").exists() and not (site / ".buildinfo").exists()
    assert '"latest": "2023"' in (site / "editions.js").read_text() and (site / ".nojekyll").exists()


def test_a_missing_earlier_edition_is_built_and_a_failed_swap_is_undone(tmp_path):
    site = tmp_path / "site"
    html = fake_edition(tmp_path / "html", "2023")
    with pytest.raises(build_site.StepFailed, match="the 2022 edition is not in"):
        build_site.stage_site(site, tmp_path / "w1", [E2022, E2023], html)
    built = []
    staged = build_site.stage_site(site, tmp_path / "w2", [E2022, E2023], html,
                                   build_missing=lambda e: built.append(e.wave) or fake_edition(tmp_path / "old", e.wave))
    assert built == ["2022"] and "editions/2022" in staged

    fake_edition(site, "2021")
    before = snapshot(site)
    swap = build_site.Swap(tmp_path / "w2" / "trash")
    build_site.publish_site(site, staged, swap)
    assert snapshot(site) != before
    swap.undo()
    assert {k: v[0] for k, v in snapshot(site).items()} == {k: v[0] for k, v in before.items()}


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
    assert missing.returncode == 2 and "--data nope.csv: no such file" in missing.stderr
