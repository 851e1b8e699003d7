"""One writer at a time (kamsurvey.build.lock): a second command that writes fails at once, naming the command that
holds the lock, its process id and since when; kill -9 leaves no stale lock; a command's own steps share its lock."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from kamsurvey.build import lock

HOLD = """
import sys, time
from pathlib import Path
from kamsurvey.build import lock
lock.acquire(Path(sys.argv[1]), sys.argv[2:])
print("holding", flush=True)
time.sleep(60)
"""


def holder(root: Path, *command: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(root), *command], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "holding"
    return process


def kam(*args: str, cwd: Path, env: dict | None = None, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kamsurvey", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env, **options)


def test_a_second_writer_fails_at_once_naming_the_first(tmp_path):
    first = holder(tmp_path, "wave", "--wave", "2023\x1b]0;owned\x07")
    export = tmp_path / "export.csv"
    export.write_text("respondent_id\nR001\n")
    try:
        for command in (["clean"], ["chapters", "--book", str(tmp_path)], ["archive", "--book", str(tmp_path)],
                        ["wave", "--book", str(tmp_path), "--wave", "2024", "--data", str(export)],
                        ["book", "--book", str(tmp_path)]):
            result = kam(*command, cwd=tmp_path)
            assert result.returncode == 1, result.stderr
            message = result.stderr.strip()
            assert len(message.splitlines()) == 1
            assert "another kam command is writing this book: 'kam wave --wave " in message
            assert f"(process {first.pid}, since " in message
            assert re.search(r"since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", message)
            assert "\x1b" not in message and "\x07" not in message and "\\x1b]0;owned\\x07" in message
        assert (tmp_path / "_build" / ".lock").exists()
    finally:
        first.kill()
        first.wait()


def test_kill_9_leaves_no_stale_lock(tmp_path):
    first = holder(tmp_path, "book")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert (tmp_path / "_build" / ".lock").exists()  # the file stays; the lock went with the process
    result = kam("clean", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_reader_needs_no_lock(tmp_path):
    first = holder(tmp_path, "wave")
    try:
        result = kam("archive", "--check", "--book", str(tmp_path), cwd=tmp_path)
        assert result.returncode == 0 and "0 archived edition(s)" in result.stdout, result.stderr
    finally:
        first.kill()
        first.wait()


CHILD = """
import sys
from pathlib import Path
from kamsurvey.build import lock
try:
    held = lock.acquire(Path(sys.argv[1]), ["html"])
except lock.Busy:
    print("busy")
else:
    print("owner" if held.owner else "shared")
"""


def test_the_steps_a_command_runs_share_its_lock_and_no_one_else_does(tmp_path):
    held = lock.acquire(tmp_path, ["book"])
    try:
        shared = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True,
                                **lock.child_options())
        assert shared.stdout.strip() == "shared", shared.stderr
        # the variable alone (no open file handed over) gives nothing
        forged = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True,
                                env={**os.environ, lock.INHERITED: str(held.fd)})
        assert forged.stdout.strip() == "busy", forged.stderr
    finally:
        os.close(held.fd)
        lock._held = None
    free = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True)
    assert free.stdout.strip() == "owner"
