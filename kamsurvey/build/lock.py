"""One writer at a time: every command that writes holds one lock, `_build/.lock`, for its whole life.

Two runs writing at once lost an edition from the register and published one wave's edition with
another wave's data. So `kam book`, `chapters`, `html`, `site`, `wave`, `briefing`, `archive`,
`clean` and `reconstruct` (cli.py: WRITES) take the lock before doing anything;
a second such command fails at once, naming the command that holds it, its process id and since when.

The lock is `fcntl.flock` on an open file, which the kernel releases when the last process holding
that open file ends, however it ends: `kill -9` leaves no stale lock to remove by hand. The file
itself stays (deleting it would let two processes lock two different files); its text only says
who holds it. A command's own steps that run as child processes (`kam book` runs `kam chapters`,
`kam html` and `kam site`) are handed the open file (`child_options`) and hold the lock with their
parent; a process that merely sets the variable without the file gets nothing from it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from kamsurvey.build.console import printable

LOCK_FILE = Path("_build") / ".lock"
INHERITED = "KAM_LOCK_FD"  # the descriptor of the lock file a parent command handed over


class Busy(RuntimeError):
    """Another command holds the lock; the message names it."""


@dataclass(frozen=True)
class WriterLock:
    path: Path
    fd: int
    # taken by this process (False: handed over by the command that started it, which cleans up for both)
    owner: bool


_held: WriterLock | None = None


def held() -> WriterLock | None:
    """The lock this process holds, if any."""
    return _held


def child_options(env: dict[str, str] | None = None) -> dict:
    """subprocess options that hand the lock this process holds to a child `kam` command (none if it holds none)."""
    if _held is None:
        return {} if env is None else {"env": env}
    return {"pass_fds": (_held.fd,), "env": {**(os.environ if env is None else env), INHERITED: str(_held.fd)}}


def forget_in_child() -> None:
    """In a forked helper process (a pool worker): let go of the inherited lock file without unlocking it, so that
    a helper outliving its command never keeps the book locked."""
    global _held
    if _held is not None:
        os.close(_held.fd)
        _held = None


def acquire(root: Path, command: list[str]) -> WriterLock:
    """Hold the writer lock of the book at `root` until this process ends; Busy if another command holds it."""
    global _held
    path = root / LOCK_FILE
    if _held is not None and _held.path == path:
        return _held
    path.parent.mkdir(parents=True, exist_ok=True)
    inherited = _inherited(path)
    if inherited is not None:
        _held = WriterLock(path, inherited, owner=False)
        return _held
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise Busy(f"another kam command is writing this book: {holder}; wait for it to finish "
                   f"(the lock is {LOCK_FILE} and goes away with that process)") from None
    note = {"command": shlex.join(["kam", *command]), "pid": os.getpid(),
            "since": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(note) + "\n").encode(), 0)
    _held = WriterLock(path, fd, owner=True)
    return _held


def _inherited(path: Path) -> int | None:
    """The descriptor a parent command handed over, if it really is this lock file, open and locked."""
    value = os.environ.get(INHERITED, "")
    if not value.isdigit():
        return None
    fd = int(value)
    try:
        handed, ours = os.fstat(fd), path.stat()
        if (handed.st_dev, handed.st_ino) != (ours.st_dev, ours.st_ino):
            return None
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the same open file as the parent's: already ours
    except OSError:
        return None
    os.set_inheritable(fd, False)
    return fd


def _holder(fd: int) -> str:
    try:
        note = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        command, pid, since = note["command"], int(note["pid"]), str(note["since"])
    except (OSError, ValueError, KeyError, TypeError):
        return "a command that is just starting"
    text = f"'{printable(command)}' (process {pid}, since {printable(since)})"
    if not _alive(pid):
        text += f"; process {pid} has ended, a process it started still holds the lock"
    return text


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
