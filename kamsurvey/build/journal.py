"""Publishing all or nothing, whatever ends the run: a journal of what is being replaced.

A new edition replaces files the repository tracks (data/waves/<wave>/, the chapters, the register,
CITATION.cff, the editions' archives) and what readers are served (_build/html, _build/site). No one
rename moves them all, and a run killed between two renames left six chapters of one wave and six of
another. So a `Transaction` works in three moves:

  1. everything new is staged beside the repository (_build/.staging/, _build/.versions/), on the same
     file system, so that putting it in place is a rename; nothing the repository or a reader sees
     has changed yet;
  2. the list of renames is written to the journal (_build/.journal.json, itself renamed into place:
     it is there whole or not at all), then carried out, each one undoable and safe to repeat;
  3. the journal is removed: the change is complete.

A run that ends between 2 and 3 (kill -9, a crash, a power cut of the process) leaves the journal; the
next command that writes (cli.py, under the writer lock) carries it through before anything else:
forward if the run was going forward, back if it was already undoing an error or a Ctrl-C. What is
served switches in one step: _build/site and _build/html are symbolic links into _build/.versions/,
each replaced by one rename, so a reader sees the old site or the new one, never a mix.

A replaced file is kept (a hard link) until the end: if it turns out to have been edited while the
run worked (its SHA-256 is not the one the run started from), everything is put back, edit included.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import signal
import tempfile
import time
from pathlib import Path

JOURNAL = Path("_build") / ".journal.json"
STAGING = Path("_build") / ".staging"  # what a run is preparing; nothing there outlives the run that made it
VERSIONS = Path("_build") / ".versions"  # the folders _build/site and _build/html point to
SERVED = (Path("_build") / "site", Path("_build") / "html")
# tests: the process signals itself at this checkpoint: "7" (SIGKILL), "7:SIGINT" (Ctrl-C), "7:SIGTERM"
KILL_AT = "KAM_TEST_KILL_AT"
# left by the builds before _build/html was built afresh each time
OLD_BUILD_CACHES = (Path("_build") / ".doctrees", Path("_build") / "jupyter_execute")
STAMP_FOLDER = Path("_build") / ".stamps"
TEMPORARY_FOLDERS = ("kam-chapters-*", "kam-ipc-*")  # chapter runs of earlier versions; kernels' sockets
# seconds: a temporary folder older than this belongs to no live run (the writer lock does not cover /tmp,
# which other checkouts share)
TEMPORARY_AGE = 3600


class Edited(RuntimeError):
    """A file changed while the run worked on it; nothing was replaced, and the edit is kept."""


class Unrecoverable(RuntimeError):
    """The journal cannot be carried through; the message says what to do by hand."""


# --------------------------------------------------------------------------- test hook

_checkpoints = 0


def checkpoint() -> None:
    """Between any two operations that change what is published: the place a test may kill the process."""
    global _checkpoints
    _checkpoints += 1
    at, _, name = os.environ.get(KILL_AT, "").partition(":")
    if at == str(_checkpoints):
        os.kill(os.getpid(), getattr(signal, name or "SIGKILL"))


# --------------------------------------------------------------------------- digests


def sha256(path: Path) -> str | None:
    """The SHA-256 of a file's bytes; None if there is no such file."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def digests(root: Path, files: list[Path]) -> dict[str, str | None]:
    """relative path -> SHA-256 of each file under `root`, as a run found it when it started."""
    return {str(path.relative_to(root)): sha256(path) for path in files}


def changed_since(root: Path, recorded: dict[str, str | None]) -> list[str]:
    """The files (relative paths) whose bytes are no longer those recorded by `digests`."""
    return [name for name, digest in recorded.items() if sha256(root / name) != digest]


# --------------------------------------------------------------------------- the transaction


class Transaction:
    """Renames staged under `root` that happen together or not at all (see the module's docstring)."""

    def __init__(self, root: Path, what: str):
        self.root = root
        self.what = what
        # the replaced files, kept until the end (made by commit: a transaction never committed leaves nothing)
        self.work = root / STAGING / f"txn-{os.getpid()}-{secrets.token_hex(4)}"
        self.ops: list[dict] = []

    def _rel(self, path: Path) -> str:
        path = Path(path)
        if not path.is_absolute():
            path = self.root / path
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            raise ValueError(f"{path} is not inside {self.root}: it cannot be renamed into place") from None

    def _backup(self, dest: str) -> str:
        return self._rel(self.work / f"{len(self.ops)}-{Path(dest).name}")

    def replace(self, staged: Path, dest: Path, *, expect: str | None) -> None:
        """File `dest` becomes `staged`; `expect` is the SHA-256 `dest` had when the run started (None: no file)."""
        rel = self._rel(dest)
        self.ops.append({"op": "replace", "staged": self._rel(staged), "dest": rel, "expect": expect,
                         "backup": self._backup(rel) if expect is not None else None})

    def add(self, staged: Path, dest: Path) -> None:
        """`staged` (a file or a folder) becomes `dest`, which must not exist."""
        self.ops.append({"op": "add", "staged": self._rel(staged), "dest": self._rel(dest)})

    def remove(self, dest: Path) -> None:
        if os.path.lexists(dest):
            rel = self._rel(dest)
            self.ops.append({"op": "remove", "dest": rel, "backup": self._backup(rel)})

    def point(self, link: Path, target: Path) -> None:
        """The symbolic link `link` points to `target` (a folder under _build/.versions/), replaced in one rename."""
        link = self.root / self._rel(link)
        old = os.readlink(link) if link.is_symlink() else None
        # a folder from before links were used is moved into _build/.versions/ first (once)
        adopt = (self._rel(self.root / VERSIONS / f"{link.name}-{Path(self.work).name}-adopted")
                 if old is None and link.is_dir() else None)
        self.ops.append({"op": "point", "dest": self._rel(link), "old": old, "adopt": adopt,
                         "target": os.path.relpath(self.root / self._rel(target), link.parent)})

    def commit(self) -> None:
        """Carry every operation out (or none: Edited, or the error that stopped it, after putting everything back)."""
        self._check()
        self.work.mkdir(parents=True)
        record = {"what": self.what, "pid": os.getpid(), "started": dt.datetime.now().astimezone().isoformat(
            timespec="seconds"), "direction": "forward", "work": self._rel(self.work), "ops": self.ops}
        try:
            try:
                checkpoint()  # staged and checked, nothing moved: stopped here, nothing changed
                _save(self.root, record)
                _settle(self.root, record)
            except BaseException:
                if (self.root / JOURNAL).exists():  # stopped before it could turn back by itself
                    _reverse(self.root, record)
                raise
        finally:
            if not (self.root / JOURNAL).exists():  # else the next command needs what is kept there
                shutil.rmtree(self.work, ignore_errors=True)
                self._remove_replaced_versions()
                tidy(self.root)

    def _remove_replaced_versions(self) -> None:
        """The versions the links pointed to before (or the folders they replaced), once nothing points to them.
        (Other unused versions are left to the next command's clean-up: one may be a caller's, not switched in yet.)"""
        served = served_versions(self.root)
        for op in self.ops:
            if op["op"] != "point":
                continue
            link = self.root / op["dest"]
            replaced = [link.parent / op["old"] if op["old"] else None, self.root / op["adopt"] if op["adopt"] else None]
            for folder in replaced:
                if folder is not None and folder.parent == self.root / VERSIONS and folder.name not in served:
                    _remove_tree(folder)

    def _check(self) -> None:
        """Before anything moves: nothing edited since the run started, nothing in the way, one file system."""
        edited = [op["dest"] for op in self.ops if op["op"] == "replace" and sha256(self.root / op["dest"]) != op["expect"]]
        if edited:
            raise Edited(_edited_message(edited, self.what))
        in_the_way = [op["dest"] for op in self.ops if op["op"] == "add" and os.path.lexists(self.root / op["dest"])]
        if in_the_way:
            raise Edited(f"{', '.join(in_the_way)} appeared while {self.what} ran: nothing was replaced, and "
                         "it is kept as it is")
        (self.root / STAGING).mkdir(parents=True, exist_ok=True)
        device = (self.root / STAGING).stat().st_dev
        elsewhere = [op["dest"] for op in self.ops
                     if (self.root / op["dest"]).parent.exists() and (self.root / op["dest"]).parent.stat().st_dev != device]
        if elsewhere:
            raise Unrecoverable(f"{', '.join(elsewhere)} is on another file system than {STAGING}: it cannot be "
                                "replaced in one rename")


def _edited_message(names: list[str], what: str) -> str:
    return (f"{', '.join(names)} changed while {what} ran: nothing was replaced and the edit is kept; "
            "run the command again to include it")


def _save(root: Path, record: dict) -> None:
    """Write the journal whole (a temporary file renamed into place), flushed to disk."""
    path = root / JOURNAL
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _drop(root: Path) -> None:
    (root / JOURNAL).unlink(missing_ok=True)
    checkpoint()


def _settle(root: Path, record: dict) -> None:
    """Carry the journal through in its direction, then remove it. Going forward, any error, an interrupt or
    an edit found in a replaced file turns it back (and is raised once everything is put back)."""
    if record["direction"] != "forward":
        _reverse(root, record)
        return
    try:
        checkpoint()
        for op in record["ops"]:
            FORWARD[op["op"]](root, op)
        edited = [op["dest"] for op in record["ops"] if op["op"] == "replace" and op["backup"]
                  and os.path.lexists(root / op["backup"]) and sha256(root / op["backup"]) != op["expect"]]
    except BaseException:
        _reverse(root, record)
        raise
    if edited:
        _reverse(root, record)
        raise Edited(_edited_message(edited, record["what"]))
    _drop(root)


def _reverse(root: Path, record: dict) -> None:
    if record["direction"] != "backward":
        record["direction"] = "backward"
        _save(root, record)
        checkpoint()
    for op in reversed(record["ops"]):
        BACKWARD[op["op"]](root, op)
    _drop(root)


# --------------------------------------------------------------------------- the operations, both ways
# Each one checks what is on disk before acting, so that repeating it after a kill is harmless.


def _keep(path: Path, backup: Path) -> None:
    """`backup` is `path` as it is (the same file, hard-linked; a copy where links are not possible)."""
    try:
        os.link(path, backup)
    except OSError:
        temporary = backup.with_name(backup.name + ".tmp")
        shutil.copy2(path, temporary)
        os.replace(temporary, backup)


def _replace_forward(root: Path, op: dict) -> None:
    staged, dest = root / op["staged"], root / op["dest"]
    if not os.path.lexists(staged):
        return  # done before
    if op["backup"] and not os.path.lexists(root / op["backup"]):
        _keep(dest, root / op["backup"])
        checkpoint()
    os.replace(staged, dest)
    checkpoint()


def _replace_backward(root: Path, op: dict) -> None:
    staged, dest = root / op["staged"], root / op["dest"]
    if op["backup"] is None:
        if not os.path.lexists(staged) and os.path.lexists(dest):
            staged.parent.mkdir(parents=True, exist_ok=True)
            os.replace(dest, staged)
            checkpoint()
    elif os.path.lexists(root / op["backup"]):
        os.replace(root / op["backup"], dest)
        checkpoint()


def _add_forward(root: Path, op: dict) -> None:
    staged, dest = root / op["staged"], root / op["dest"]
    if os.path.lexists(staged):
        dest.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(dest):
            raise Edited(f"{op['dest']} appeared while the run worked: it is kept as it is")
        os.rename(staged, dest)
        checkpoint()


def _add_backward(root: Path, op: dict) -> None:
    staged, dest = root / op["staged"], root / op["dest"]
    if os.path.lexists(dest) and not os.path.lexists(staged):
        staged.parent.mkdir(parents=True, exist_ok=True)
        os.rename(dest, staged)
        checkpoint()


def _remove_forward(root: Path, op: dict) -> None:
    dest, backup = root / op["dest"], root / op["backup"]
    if os.path.lexists(dest) and not os.path.lexists(backup):
        os.rename(dest, backup)
        checkpoint()


def _remove_backward(root: Path, op: dict) -> None:
    dest, backup = root / op["dest"], root / op["backup"]
    if os.path.lexists(backup) and not os.path.lexists(dest):
        os.rename(backup, dest)
        checkpoint()


def _set_link(link: Path, target: str) -> None:
    temporary = link.with_name(f".{link.name}.kam-link")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE: a folder and a link); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_cwd, exchange = -100, 2
    return renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), exchange) == 0


def _point_forward(root: Path, op: dict) -> None:
    link = root / op["dest"]
    link.parent.mkdir(parents=True, exist_ok=True)
    if op["adopt"] and link.is_dir() and not link.is_symlink():
        # a folder from before links: the new link takes its place in one step, the folder goes to _build/.versions/
        adopt = root / op["adopt"]
        adopt.unlink(missing_ok=True)
        os.symlink(op["target"], adopt)
        if not _exchange(adopt, link):  # two renames where the system cannot swap (a moment without the folder)
            adopt.unlink()
            os.rename(link, adopt)
            checkpoint()
            _set_link(link, op["target"])
        checkpoint()
        return
    if not (link.is_symlink() and os.readlink(link) == op["target"]):
        _set_link(link, op["target"])
        checkpoint()


def _point_backward(root: Path, op: dict) -> None:
    link = root / op["dest"]
    if op["old"] is not None:
        if not (link.is_symlink() and os.readlink(link) == op["old"]):
            _set_link(link, op["old"])
            checkpoint()
        return
    adopt = root / op["adopt"] if op["adopt"] else None
    if adopt is not None and adopt.is_dir() and not adopt.is_symlink():
        if link.is_symlink() and _exchange(adopt, link):
            adopt.unlink()
        else:
            if link.is_symlink():
                link.unlink()
            os.rename(adopt, link)
        checkpoint()
    elif adopt is None and link.is_symlink():
        link.unlink()
        checkpoint()


FORWARD = {"replace": _replace_forward, "add": _add_forward, "remove": _remove_forward, "point": _point_forward}
BACKWARD = {"replace": _replace_backward, "add": _add_backward, "remove": _remove_backward, "point": _point_backward}


# --------------------------------------------------------------------------- the next command


def recover(root: Path) -> str | None:
    """Carry through the journal a killed run left, if any; what was done, in a sentence."""
    path = root / JOURNAL
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        what, direction = str(record["what"]), record["direction"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise Unrecoverable(f"{JOURNAL} cannot be read ({error}): a publication was interrupted and cannot be "
                            "completed; check `git status` and _build/, then remove the journal") from None
    try:
        _settle(root, record)
    except Edited as edited:
        return f"undid the interrupted {what}: {edited}"
    if direction == "forward":
        return f"completed the interrupted {what}"
    return f"finished undoing the interrupted {what}"


def served_versions(root: Path) -> set[str]:
    """The folders of _build/.versions/ that _build/site and _build/html point to."""
    names = set()
    for link in SERVED:
        if (root / link).is_symlink():
            names.add(Path(os.readlink(root / link)).name)
    return names


def clean_versions(root: Path) -> None:
    """Remove the versions nothing points to any more (built by a run that failed, or replaced)."""
    versions = root / VERSIONS
    if not versions.is_dir() or (root / JOURNAL).exists():
        return
    keep = served_versions(root)
    for entry in versions.iterdir():
        if entry.name not in keep:
            _remove_tree(entry)


def clean_leftovers(root: Path) -> list[str]:
    """What earlier runs left behind, removed; call only while holding the writer lock as its owner, after
    `recover`. Returns what was removed, for the record."""
    removed = []
    staging = root / STAGING
    if staging.is_dir():
        for entry in sorted(staging.iterdir()):
            _remove_tree(entry)
            removed.append(str(entry.relative_to(root)))
        _remove_if_empty(staging)
    versions = root / VERSIONS
    before = set(versions.iterdir()) if versions.is_dir() else set()
    clean_versions(root)
    removed += [str(p.relative_to(root)) for p in sorted(before) if not os.path.lexists(p)]
    for link in SERVED:
        temporary = (root / link).with_name(f".{link.name}.kam-link")
        if temporary.is_symlink():
            temporary.unlink()
    (root / JOURNAL).with_name(JOURNAL.name + ".tmp").unlink(missing_ok=True)  # a journal never renamed into place
    for temporary in sorted((root / STAMP_FOLDER).glob("*.tmp")):  # kamsurvey.build.stamps writes, then renames
        temporary.unlink(missing_ok=True)
        removed.append(str(temporary.relative_to(root)))
    for half_written in sorted((root / "_build").glob(".briefing-*")):  # kamsurvey.build.briefing's new and old packs
        _remove_tree(half_written)
        removed.append(str(half_written.relative_to(root)))
    for cache in OLD_BUILD_CACHES:
        if (root / cache).is_dir():
            _remove_tree(root / cache)
            removed.append(str(cache))
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith((".", "_build", "node_modules"))]
        for name in files:
            if name.startswith(".") and name.endswith(".executing.ipynb"):  # kamsurvey.build.chapters
                (Path(folder) / name).unlink(missing_ok=True)
                removed.append(str((Path(folder) / name).relative_to(root)))
    cutoff = time.time() - TEMPORARY_AGE
    for entry in (p for pattern in TEMPORARY_FOLDERS for p in Path(tempfile.gettempdir()).glob(pattern)):
        try:
            stale = entry.is_dir() and entry.stat().st_uid == os.getuid() and entry.stat().st_mtime < cutoff
        except OSError:
            continue
        if stale:
            _remove_tree(entry)
            removed.append(str(entry))
    return removed


def tidy(root: Path) -> None:
    """_build/.staging/ removed once a run has nothing left in it."""
    _remove_if_empty(root / STAGING)


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
