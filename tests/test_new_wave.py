"""`make wave` end to end, in a copy of the repository: a synthetic second wave is published as a new edition, both
editions archived; rebuilding the new edition gives the archived bytes; a bad file or a failing chapter changes
nothing; a run killed (SIGKILL) in the middle of switching the new edition in is completed by the next command.

The copy is the working tree (sources only, as a clean clone would have them) made into a git
repository, using this environment's Python. Its codebook offers a new answer option from 2023,
and the synthetic wave (an .xlsx export with labels, a different n and different distributions)
leaves one question out, so the run also shows that such a wave builds.
"""

from __future__ import annotations

import csv
import hashlib
import html as html_lib
import io
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from kamsurvey.build import website as build_site
from kamsurvey.data import synth
from wavekit import ROOT, add_option

pytestmark = pytest.mark.slow

VENV = Path(sys.executable).parent.parent
PUBLISHED = "2024-02-01"
NEW_OPTION = '- {code: profit_share, label: Profit share, since: "2023"}'
AFTER = "      - {code: shares, label: Shares or share options, reconstructed: true}"


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KAM_EDITION")}
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
                            cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout


def make_wave(repo: Path, wave: str, data: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    dates = [] if "--fieldwork-start" in args else ["--fieldwork-start", f"{wave}-03-01", "--fieldwork-end", f"{wave}-05-31"]
    extra = " ".join(["--published", PUBLISHED, *dates, *args])  # an export without timestamps needs its dates
    # STAMP: this environment counts as installed. Never let make install the copy into it: `pip install -e .` of
    # the copy would point this environment's kamsurvey at the temporary copy
    installed = repo.parent / "venv-installed"
    installed.touch()
    return subprocess.run(["make", "--no-print-directory", "wave", f"VENV={VENV}", f"STAMP={installed}", f"WAVE={wave}",
                           f"DATA={data}", f"ARGS={extra}"], cwd=repo, capture_output=True, text=True,
                          env={**environment(), **(env or {})})


def kam(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kamsurvey", *args], cwd=repo, capture_output=True, text=True,
                          env=environment())


NOISE = ("Traceback", "KeyboardInterrupt caught in kernel", "without encryption", "[IPKernelApp]")


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def page_text(path: Path) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def half_up_percent(count: int, base: int) -> int:
    return int(Fraction(100 * count, base) + Fraction(1, 2))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A fresh repository with the 2022 edition built into _build/html and _build/site (as after `make site`)."""
    repo = build_site.copy_sources(ROOT, tmp_path_factory.mktemp("e2e") / "repo")
    codebook = repo / "data" / "codebook.yml"
    codebook.write_text(add_option(codebook.read_text(encoding="utf-8"), AFTER, NEW_OPTION), encoding="utf-8")
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "the book, and a codebook offering a new option from 2023")
    result = kam(repo, "book", "html", "site")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (repo / "_build" / "site").is_symlink() and (repo / "_build" / "html").is_symlink()
    return repo


@pytest.fixture(scope="module")
def published(repo, tmp_path_factory):
    """`make wave WAVE=2023 DATA=export.xlsx`: what it printed, and the 2022 edition as it was before."""
    from kamsurvey.data.codebook import load_codebook
    from kamsurvey.data.importer import export_labels, write_table

    codebook = load_codebook(repo / "data" / "codebook.yml")
    frame = synth.generate(codebook, 180, seed=11, wave="2023", omit=["bonus_size"])
    export = write_table(export_labels(frame, codebook, "2023", multi="joined", headers="wording"),
                         tmp_path_factory.mktemp("export") / "survey-export-2023.xlsx")
    before = tree_hashes(repo / "_build" / "site" / "editions" / "2022")
    result = make_wave(repo, "2023", export, "--fieldwork-start", "2023-03-01", "--fieldwork-end", "2023-05-31",
                       "--not-asked", "bonus_size")
    return result, before


def test_make_wave_succeeds_reporting_each_step(published):
    result, _ = published
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for step in ("[1/5] import", "[2/5] validate", "[3/5] execute", "[4/5] build", "[5/5] publish"):
        assert step in result.stdout
    assert "180 respondents" in result.stdout and "not asked in this wave: bonus_size" in result.stdout
    assert re.search(r"\[12/12\] chapters/\S+\.ipynb executed", result.stdout)
    assert not [noise for noise in NOISE if noise in result.stdout + result.stderr], result.stderr[-3000:]


def test_only_the_new_wave_the_chapters_and_the_register_changed(repo, published):
    changed = {line[3:] for line in git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()}
    chapters = {f"chapters/{p.name}" for p in (repo / "chapters").glob("*.ipynb")}
    wave_files = {f"data/waves/2023/{name}" for name in ("responses.csv", "wave.yml", "README.md", "mapping.yml")}
    archives = {f"editions/{wave}.{kind}" for wave in ("2022", "2023") for kind in ("tar.gz", "sha256")}
    assert changed == chapters | wave_files | archives | {"data/editions.yml", "CITATION.cff"}
    assert 'version: "2023"' in (repo / "CITATION.cff").read_text(encoding="utf-8")


def test_the_2022_edition_is_still_built_and_unchanged(repo, published):
    _, before = published
    assert before and tree_hashes(repo / "_build" / "site" / "editions" / "2022") == before


def test_both_editions_are_archived_as_published_and_rebuilding_gives_the_same_bytes(repo, published):
    from kamsurvey.build import archive

    site = repo / "_build" / "site"
    assert archive.check_all(repo) == [] and archive.archived_waves(repo) == ["2022", "2023"]
    for wave in ("2022", "2023"):
        assert archive.differences(repo, wave, site / "editions" / wave) == []
    # the new edition rebuilt from the committed chapters, in the repository: byte for byte the archived one
    # (kam site refuses a build of an archived edition that differs)
    served = tree_hashes(site)
    (repo / "_build" / ".stamps" / "html").unlink(missing_ok=True)
    result = kam(repo, "book", "html", "site")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2023: archive; today's build is identical" in result.stdout
    assert tree_hashes(site) == served


def test_numbers_in_the_built_pages_are_those_of_the_wave_file(repo, published):
    with (repo / "data" / "waves" / "2023" / "responses.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sectors = [r["sector"] for r in rows if r["sector"]]
    pharma = sum(s == "pharma" for s in sectors)
    reward = [r["reward_basis"] for r in rows if r["reward_basis"]]
    sales = sum(r == "sales" for r in reward)
    edition = repo / "_build" / "site" / "editions" / "2023" / "chapters"
    intro = page_text(edition / "introduction.html")
    assert f"{len(rows)} key account managers answered the survey" in intro
    assert f"{pharma} respondents ({half_up_percent(pharma, len(sectors))}%) work in pharma" in intro
    incentives = page_text(edition / "rewards-incentives.html")
    share = half_up_percent(sales, len(reward))
    # 'sales' first: "… ‘sales’: 14% of respondents say so"; else "… and 14% say ‘sales’"
    assert re.search(rf"(of respondents \({share}%\)|{share}% of respondents) say so|\b{share}%\)? say ‘sales’", incentives)


def test_the_site_serves_the_latest_and_keeps_every_edition_with_the_same_anchors(repo, published):
    site = repo / "_build" / "site"
    meta = '<meta name="kam-edition" content="{}">'
    assert meta.format("2023") in (site / "index.html").read_text(encoding="utf-8")
    assert meta.format("2022") in (site / "editions" / "2022" / "index.html").read_text(encoding="utf-8")
    assert '"latest": "2023"' in (site / "editions.js").read_text(encoding="utf-8")

    def anchors(edition: Path) -> set[str]:
        return {m for page in edition.rglob("*.html") for m in re.findall(r'id="(fig-[^"]+)"', page.read_text(encoding="utf-8"))}

    assert anchors(site / "editions" / "2022") == anchors(site / "editions" / "2023") != set()
    assert (repo / "_build" / "html" / "index.html").read_bytes() == (site / "index.html").read_bytes()
    # a book built on its own carries the index too (kamsurvey.site.sphinx_ext writes it), so its editions page loads it
    assert (repo / "_build" / "html" / "editions.js").read_text(encoding="utf-8") == (site / "editions.js").read_text(encoding="utf-8")


def test_the_new_edition_shows_change_and_says_what_it_cannot_compute(repo, published):
    edition = repo / "_build" / "site" / "editions" / "2023" / "chapters"
    assessing = page_text(edition / "assessing-performance.html")
    assert "Change since the 2022 survey:" in assessing and "95% interval" in assessing
    rewards = page_text(edition / "what-rewards.html")
    assert "Not compared with the 2022 survey" in rewards and "‘Profit share’ was added in 2023" in rewards
    # a question left out drops its sentences and says so in words: no placeholder reaches the prose
    assert "Not asked in the 2023 survey" in rewards and "[not asked]" not in rewards
    assert "re-tested on the 2023 survey" in rewards  # the article's findings, checked against the new wave
    assert "Change since" not in page_text(repo / "_build" / "site" / "editions" / "2022" / "chapters" / "assessing-performance.html")


@pytest.fixture(scope="module")
def committed(repo, published, tmp_path_factory):
    """The published edition committed; a valid 2024 export and the state failures must leave alone."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "the 2023 edition")
    from kamsurvey.data.codebook import load_codebook
    from kamsurvey.data.importer import write_responses

    frame = synth.generate(load_codebook(repo / "data" / "codebook.yml"), 70, seed=5, wave="2024")
    good = write_responses(frame, tmp_path_factory.mktemp("exports") / "good-2024.csv")
    return good


def assert_nothing_changed(repo: Path, site: dict, html: dict) -> None:
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert tree_hashes(repo / "_build" / "site") == site
    assert tree_hashes(repo / "_build" / "html") == html
    assert not (repo / "_build" / ".staging").exists()  # the temporary copy is gone
    from kamsurvey.build import journal

    assert {p.name for p in (repo / journal.VERSIONS).iterdir()} == journal.served_versions(repo)


def test_a_malformed_file_changes_nothing_and_names_the_problem(repo, committed):
    site, html = tree_hashes(repo / "_build" / "site"), tree_hashes(repo / "_build" / "html")
    rows = list(csv.reader(io.StringIO(committed.read_text(encoding="utf-8"))))
    rows[3][rows[0].index("reflects_job")] = "agreed"
    rows[5] = rows[5][:4]
    bad = committed.with_name("bad-2024.csv")
    bad.write_text("".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    result = make_wave(repo, "2024", bad)
    assert result.returncode != 0
    assert "step 'import' failed" in result.stderr
    assert "line 4 (respondent R003), column reflects_job: unknown label: got 'agreed'" in result.stderr
    assert "line 6" in result.stderr and "malformed CSV" in result.stderr
    assert_nothing_changed(repo, site, html)


def test_a_wave_breaking_the_codebook_rules_fails_validation_and_changes_nothing(repo, committed):
    site, html = tree_hashes(repo / "_build" / "site"), tree_hashes(repo / "_build" / "html")
    rows = list(csv.DictReader(io.StringIO(committed.read_text(encoding="utf-8"))))
    broken = next(i for i, r in enumerate(rows) if r["bonus_size"])
    rows[broken]["rewarded_with__bonus_cash"] = "0"
    rows[broken]["rewarded_with__salary_increase"] = "1"
    bad = committed.with_name("skip-2024.csv")
    with bad.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    result = make_wave(repo, "2024", bad)
    assert result.returncode != 0
    assert "step 'validate' failed" in result.stderr
    assert f"line {broken + 2} (respondent {rows[broken]['respondent_id']}), column bonus_size" in result.stderr
    assert "answered though not asked" in result.stderr
    assert_nothing_changed(repo, site, html)


def test_a_chapter_that_raises_changes_nothing_and_is_named(repo, committed):
    import nbformat

    notebook = repo / "chapters" / "methodology.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    cell = nbformat.v4.new_code_cell('if wave == "2024":\n    raise RuntimeError("forced failure for the test")')
    cell.metadata["tags"] = ["remove-cell"]
    nb.cells.append(cell)
    nbformat.write(nb, notebook)
    git(repo, "commit", "--quiet", "-am", "a chapter that fails on the 2024 wave")
    site, html = tree_hashes(repo / "_build" / "site"), tree_hashes(repo / "_build" / "html")
    result = make_wave(repo, "2024", committed)
    assert result.returncode != 0
    assert "[2/5] validate" in result.stdout and "[4/5] build" not in result.stdout
    assert "step 'execute' failed" in result.stderr
    assert "chapters/methodology.ipynb: 'RuntimeError: forced failure for the test'" in result.stderr
    assert_nothing_changed(repo, site, html)


def test_a_run_killed_while_switching_in_is_completed_by_the_next_command(repo, committed, tmp_path):
    """SIGKILL in the middle of step 5 (after the new wave's folder and a few chapters were switched in): what the
    site serves is still the previous edition, the journal says what is left, and the next command completes it."""
    from kamsurvey.build import journal
    from kamsurvey.data.codebook import load_codebook
    from kamsurvey.data.importer import write_responses

    frame = synth.generate(load_codebook(repo / "data" / "codebook.yml"), 60, seed=9, wave="2025")
    data = write_responses(frame, tmp_path / "export-2025.csv")
    served = tree_hashes(repo / "_build" / "site")
    killed = make_wave(repo, "2025", data, env={journal.KILL_AT: "8"})
    assert killed.returncode != 0 and "[5/5] publish" in killed.stdout and "Published" not in killed.stdout
    assert (repo / journal.JOURNAL).exists()
    assert tree_hashes(repo / "_build" / "site") == served  # readers still get the 2023 edition, whole
    half = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert "data/waves/2025/" in half  # half done: the next command must finish it
    result = kam(repo, "site", "--html", "_build/html")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "completed the interrupted publication of the 2025 edition" in result.stderr
    assert not (repo / journal.JOURNAL).exists() and not (repo / "_build" / ".staging").exists()
    changed = {line[3:] for line in git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()}
    chapters = {f"chapters/{p.name}" for p in (repo / "chapters").glob("*.ipynb")}
    wave_files = {f"data/waves/2025/{n}" for n in ("responses.csv", "wave.yml", "README.md", "mapping.yml")}
    published = {"data/editions.yml", "CITATION.cff", "editions/2025.tar.gz", "editions/2025.sha256"}
    assert wave_files | published <= changed <= chapters | wave_files | published
    assert '<meta name="kam-edition" content="2025">' in (repo / "_build" / "site" / "index.html").read_text()
    assert 'version: "2025"' in (repo / "CITATION.cff").read_text(encoding="utf-8")
