"""Publishing is all or nothing whatever ends the run (kamsurvey.build.journal): the publish step of `kam wave`
(publish.switch_in) killed with SIGKILL, interrupted (SIGINT) or terminated (SIGTERM) at every point between two of
its operations leaves what readers are served exactly old or exactly new, and the next command that writes leaves
the whole book exactly old or exactly new; an edit made meanwhile is never overwritten.

The book here is small and fake (a few files per kind) so that every point can be tried in a forked process;
tests/test_new_wave.py kills a real `make wave` once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from kamsurvey import cli
from kamsurvey.build import journal, publish
from kamsurvey.build.journal import JOURNAL, STAGING, VERSIONS

CHAPTERS = ("introduction", "methodology", "editions")
WAVE = "2024"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def site(folder: Path, wave: str) -> Path:
    write(folder / "index.html", f'<meta name="kam-edition" content="{wave}">')
    write(folder / "editions" / wave / "index.html", f"edition {wave}")
    write(folder / "editions.js", f'{{"latest": "{wave}"}}')
    return folder


def fake_book(root: Path, *, served_as_links: bool) -> dict:
    """A book with the 2023 edition published, and the 2024 edition staged as `kam wave` leaves it before step 5."""
    for name in CHAPTERS:
        write(root / "chapters" / f"{name}.ipynb", f'{{"chapter": "{name}", "wave": "2023"}}')
    write(root / "data" / "editions.yml", "editions:\n  - wave: '2023'\n")
    write(root / "data" / "waves" / "2023" / "wave.yml", "wave: '2023'\n")
    write(root / "CITATION.cff", 'version: "2023"\n')
    write(root / "editions" / "2023.sha256", "manifest of 2023\n")
    for name in ("site", "html"):
        if served_as_links:  # as `kam site` and `kam html` leave them
            version = site(root / VERSIONS / f"{name}-old", "2023")
            (root / "_build" / name).symlink_to(Path(".versions") / version.name)
        else:  # a folder built before links were used: adopted into _build/.versions/ by the first switch
            site(root / "_build" / name, "2023")
    recorded = journal.digests(root, sorted(p for p in root.rglob("*") if p.is_file() and "_build" not in p.parts))
    work = root / STAGING / "wave-2024-test"
    book = work / "book"
    for name in CHAPTERS:
        write(book / "chapters" / f"{name}.ipynb", f'{{"chapter": "{name}", "wave": "{WAVE}"}}')
    write(book / "data" / "editions.yml", f"editions:\n  - wave: '2023'\n  - wave: '{WAVE}'\n")
    write(book / "data" / "waves" / WAVE / "wave.yml", f"wave: '{WAVE}'\n")
    write(book / "data" / "waves" / WAVE / "responses.csv", "respondent_id\nR001\n")
    write(book / "CITATION.cff", f'version: "{WAVE}"\n')
    write(work / "archives" / f"{WAVE}.tar.gz", "archive of 2024")
    write(work / "archives" / f"{WAVE}.sha256", "manifest of 2024\n")
    return {"book": book, "recorded": recorded, "archives": work / "archives",
            "html": site(root / VERSIONS / "html-new", WAVE), "site": site(root / VERSIONS / "site-new", WAVE)}


def repository_state(root: Path) -> dict[str, str]:
    """Every file the repository tracks, and what _build/site and _build/html serve."""
    state = {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*"))
             if p.is_file() and "_build" not in p.relative_to(root).parts}
    state.update(served_state(root))
    return state


def served_state(root: Path) -> dict[str, str]:
    return {f"served {name}/{p.relative_to(root / '_build' / name)}": p.read_text(encoding="utf-8")
            for name in ("site", "html") for p in sorted((root / "_build" / name).rglob("*")) if p.is_file()}


def served_tree(state: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in state.items() if k.startswith(f"served {name}/")}


def in_a_fork(function, env: dict[str, str]) -> int:
    """Run `function` in a forked copy of this process with `env` set; its exit status (-N: killed by signal N)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        code = 0
        try:
            os.environ.update(env)
            journal._checkpoints = 0
            signal.signal(signal.SIGTERM, cli._stop)  # as every writing command has it (cli.begin_writing)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            function()
        except KeyboardInterrupt:
            code = 130
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def publish_step(root: Path, staged: dict):
    return lambda: publish.switch_in(root, staged["book"], WAVE, staged["recorded"], archives=staged["archives"],
                                     html=staged["html"], site=staged["site"])


def next_command(root: Path, env: dict[str, str] | None = None) -> int:
    """What every command that writes does first (cli.begin_writing: lock, journal, leftovers), in a new process."""
    return in_a_fork(lambda: sys.exit(cli.begin_writing(root, ["test"])), env or {})


def states(tmp_path: Path, served_as_links: bool) -> tuple[dict, dict]:
    """The book before and after a publish step that nothing interrupts."""
    before_root, after_root = tmp_path / "before", tmp_path / "after"
    fake_book(before_root, served_as_links=served_as_links)
    staged = fake_book(after_root, served_as_links=served_as_links)
    old = repository_state(before_root)
    assert in_a_fork(publish_step(after_root, staged), {}) == 0
    new = repository_state(after_root)
    assert new != old and new["chapters/introduction.ipynb"].endswith(f'"wave": "{WAVE}"}}')
    assert new["served site/index.html"] == f'<meta name="kam-edition" content="{WAVE}">'
    return old, new


def assert_settled(root: Path) -> None:
    """No journal, nothing staged, no version nothing points to."""
    assert not (root / JOURNAL).exists()
    assert not (root / STAGING).exists() or not any((root / STAGING).iterdir())
    assert {p.name for p in (root / VERSIONS).iterdir()} == journal.served_versions(root)


@pytest.mark.parametrize("served_as_links", [True, False], ids=["links", "folders-before-links"])
def test_sigkill_at_every_point_leaves_the_old_or_the_new_state_and_the_next_command_finishes(tmp_path, served_as_links):
    old, new = states(tmp_path, served_as_links)
    tried, outcomes = 0, set()
    for point in range(1, 100):
        root = tmp_path / f"kill-{point}"
        staged = fake_book(root, served_as_links=served_as_links)
        status = in_a_fork(publish_step(root, staged), {journal.KILL_AT: str(point)})
        if status == 0:
            break  # past the last point: the step ran to its end
        assert status == -signal.SIGKILL, status
        tried += 1
        served = served_state(root)
        # readers: the site and the html are each exactly the old or the new one, never a mix (html switches first)
        for name in ("site", "html"):
            assert served_tree(served, name) in (served_tree(old, name), served_tree(new, name)), (point, name)
        if served_tree(served, "site") == served_tree(new, "site"):
            assert served_tree(served, "html") == served_tree(new, "html")
        assert next_command(root) == 0
        after = repository_state(root)
        assert after in (old, new), point
        if served["served site/index.html"] == new["served site/index.html"]:
            assert after == new, point  # what readers were shown is never taken back
        outcomes.add("new" if after == new else "old")
        assert_settled(root)
    assert tried >= 15 and outcomes == {"old", "new"}, (tried, outcomes)


def test_a_kill_while_the_next_command_finishes_the_job_is_finished_by_the_one_after(tmp_path):
    old, new = states(tmp_path, True)
    root = tmp_path / "twice"
    staged = fake_book(root, served_as_links=True)
    assert in_a_fork(publish_step(root, staged), {journal.KILL_AT: "6"}) == -signal.SIGKILL
    record = json.loads((root / JOURNAL).read_text())
    assert record["direction"] == "forward" and record["what"] == f"publication of the {WAVE} edition (kam wave)"
    assert next_command(root, {journal.KILL_AT: "3"}) == -signal.SIGKILL  # the recovery itself killed
    assert (root / JOURNAL).exists()
    assert next_command(root) == 0
    assert repository_state(root) == new
    assert_settled(root)


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_at_every_point_puts_everything_back(tmp_path, signal_name):
    old, new = states(tmp_path, True)
    for point in range(1, 100):
        root = tmp_path / f"{signal_name}-{point}"
        staged = fake_book(root, served_as_links=True)
        status = in_a_fork(publish_step(root, staged), {journal.KILL_AT: f"{point}:{signal_name}"})
        if status == 0:
            break
        assert status in (130, 128 + signal.SIGTERM), status
        after = repository_state(root)
        # put back by the run itself (nothing left for the next command), unless it had already finished
        assert after == old or (after == new and not (root / JOURNAL).exists()), point
        assert not (root / JOURNAL).exists(), point
    assert point > 15


def test_a_chapter_or_the_register_edited_during_the_run_stops_the_switch_and_keeps_the_edit(tmp_path):
    for edited in ("chapters/methodology.ipynb", "data/editions.yml"):
        root = tmp_path / edited.replace("/", "-")
        staged = fake_book(root, served_as_links=True)
        before = repository_state(root)
        with (root / edited).open("a", encoding="utf-8") as handle:
            handle.write("\n# a line added while the run worked\n")
        with pytest.raises(publish.StepFailed, match=f"{edited} changed while .* the edit is kept"):
            publish_step(root, staged)()
        after = repository_state(root)
        assert after[edited].endswith("# a line added while the run worked\n")
        assert {k: v for k, v in after.items() if k != edited} == {k: v for k, v in before.items() if k != edited}


def test_an_edit_made_while_the_files_are_switched_is_put_back(tmp_path, monkeypatch):
    """The last moment: a chapter edited after the check, while the renames run (through the kept hard link)."""
    root = tmp_path / "book"
    staged = fake_book(root, served_as_links=True)
    before = repository_state(root)
    chapter = root / "chapters" / "introduction.ipynb"
    real_checkpoint, edits = journal.checkpoint, []

    def edit_once_linked():
        real_checkpoint()
        kept = list((root / STAGING).glob("txn-*/*-introduction.ipynb"))
        if kept and not edits and chapter.read_text() == before["chapters/introduction.ipynb"]:
            with chapter.open("a", encoding="utf-8") as handle:  # kept (a hard link to it), not yet replaced
                handle.write(" edited")
            edits.append(chapter)

    monkeypatch.setattr(journal, "checkpoint", edit_once_linked)
    with pytest.raises(publish.StepFailed, match="chapters/introduction.ipynb changed while"):
        publish_step(root, staged)()
    assert edits
    after = repository_state(root)
    assert after["chapters/introduction.ipynb"] == before["chapters/introduction.ipynb"] + " edited"
    assert {k: v for k, v in after.items() if k != "chapters/introduction.ipynb"} == \
        {k: v for k, v in before.items() if k != "chapters/introduction.ipynb"}


def test_an_unreadable_journal_stops_every_writer_and_says_so(tmp_path, capsys):
    root = tmp_path / "book"
    fake_book(root, served_as_links=True)
    write(root / JOURNAL, "{not json")
    assert next_command(root) == 1
    assert (root / JOURNAL).exists()


def test_leftovers_of_earlier_runs_are_removed_by_the_next_command(tmp_path):
    root = tmp_path / "book"
    fake_book(root, served_as_links=True)
    write(root / STAGING / "wave-2023-abc" / "book" / "x", "left by a killed run")
    write(root / VERSIONS / "site-orphan" / "index.html", "never switched in")
    write(root / "chapters" / ".introduction.executing.ipynb", "{}")
    write(root / "_build" / ".stamps" / "html.tmp", "half")
    write(root / "_build" / ".briefing-new-x" / "key-findings.md", "half")
    served = served_state(root)
    assert next_command(root) == 0
    assert not (root / STAGING).exists() and not (root / VERSIONS / "site-orphan").exists()
    assert not (root / "chapters" / ".introduction.executing.ipynb").exists()
    assert not (root / "_build" / ".stamps" / "html.tmp").exists()
    assert not (root / "_build" / ".briefing-new-x").exists()
    assert served_state(root) == served and (root / VERSIONS / "site-old").is_dir()


def test_the_digests_a_run_starts_from_name_what_changed(tmp_path):
    a, b = write(tmp_path / "a.txt", "a"), write(tmp_path / "b.txt", "b")
    recorded = journal.digests(tmp_path, [a, b])
    assert recorded == {"a.txt": digest(a), "b.txt": digest(b)} and journal.changed_since(tmp_path, recorded) == []
    b.write_text("B")
    a.unlink()
    assert journal.changed_since(tmp_path, recorded) == ["a.txt", "b.txt"]
