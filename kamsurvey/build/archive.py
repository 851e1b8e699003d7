"""Editions never change once published: each is kept, byte for byte, in the repository.

    editions/<wave>.tar.gz    the edition's pages as published (every file of editions/<wave>/ on the site)
    editions/<wave>.sha256    its manifest: the archive's SHA-256, then every file's, in `sha256sum` format

    kam archive --check       every archive against its manifest (make test, CI)
    kam archive               archive the current edition as built in _build/html (freeze it now)

A page staff have cited must read the same next year: rebuilding an earlier edition with newer code
(a rounding fix, a new chart style) would silently change it. So `kam wave` archives the edition it
publishes (and the previous one, if it was never archived) and the site is assembled from the archives
(kamsurvey.build.website): a fresh CI runner needs nothing beyond the repository, never re-executes an
earlier edition, and fails if an archive does not match its manifest or if today's build of an archived
current edition differs from what was published.

The archive is deterministic (entries sorted, times set to the publication date, owners and modes
fixed, gzip without a time stamp), so archiving the same pages twice gives the same bytes, and
`cd editions && sha256sum -c <wave>.sha256 --ignore-missing` checks an archive with standard tools.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import io
import os
import shutil
import tarfile
from pathlib import Path

from kamsurvey.build.console import fail, say
from kamsurvey.build.journal import STAGING, Edited, Transaction, Unrecoverable, sha256
from kamsurvey.data.editions import current_edition, load_editions

ARCHIVES = "editions"  # the repository's folder of published editions
# never part of an edition: Sphinx's build records
NOT_PUBLISHED = (".buildinfo", ".doctrees")


class ArchiveProblem(RuntimeError):
    """An archive does not match its manifest, or cannot be read; the message names the file."""


def archive_path(root: Path, wave: str) -> Path:
    return root / ARCHIVES / f"{wave}.tar.gz"


def manifest_path(root: Path, wave: str) -> Path:
    return root / ARCHIVES / f"{wave}.sha256"


def archived_waves(root: Path) -> list[str]:
    """Waves with an archive or a manifest in editions/ (both must be there: `verify` says so)."""
    folder = root / ARCHIVES
    if not folder.is_dir():
        return []
    names = {p.name.removesuffix(".tar.gz") for p in folder.glob("*.tar.gz")}
    names |= {p.name.removesuffix(".sha256") for p in folder.glob("*.sha256")}
    return sorted(names)


def is_archived(root: Path, wave: str) -> bool:
    return archive_path(root, wave).exists() or manifest_path(root, wave).exists()


def published_files(tree: Path) -> list[Path]:
    """Every file of a built edition that is published (Sphinx's own records left out), sorted."""
    return sorted(p for p in tree.rglob("*") if (p.is_file() or p.is_symlink())
                  and not set(p.relative_to(tree).parts) & set(NOT_PUBLISHED))


def tree_digests(tree: Path) -> dict[str, str]:
    return {p.relative_to(tree).as_posix(): sha256(p) for p in published_files(tree)}


def write_archive(tree: Path, wave: str, published: dt.date | None, out: Path) -> tuple[Path, Path]:
    """editions/<wave>.tar.gz and .sha256 of the built edition in `tree`, written into the folder `out`."""
    symlinks = [p for p in published_files(tree) if p.is_symlink()]
    if symlinks:
        raise ArchiveProblem(f"{symlinks[0]}: a symbolic link in a built edition; an edition holds files only")
    mtime = int(dt.datetime.combine(published, dt.time(), dt.timezone.utc).timestamp()) if published else 0
    files = published_files(tree)
    folders = sorted({parent for p in files for parent in p.relative_to(tree).parents if parent != Path(".")})
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.addfile(_entry(wave, tarfile.DIRTYPE, 0, mtime))
            for folder in folders:
                tar.addfile(_entry(f"{wave}/{folder.as_posix()}", tarfile.DIRTYPE, 0, mtime))
            for path in files:
                data = path.read_bytes()
                tar.addfile(_entry(f"{wave}/{path.relative_to(tree).as_posix()}", tarfile.REGTYPE, len(data), mtime),
                            io.BytesIO(data))
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"{wave}.tar.gz"
    archive.write_bytes(raw.getvalue())
    lines = [f"{hashlib.sha256(raw.getvalue()).hexdigest()}  {archive.name}"]
    lines += [f"{digest}  {wave}/{name}" for name, digest in tree_digests(tree).items()]
    manifest = out / f"{wave}.sha256"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return archive, manifest


def publication_date(root: Path, wave: str) -> dt.date | None:
    """The wave's publication date (wave.yml), the time stamp of its archive's files; None if not recorded."""
    from kamsurvey.data.waves import read_meta  # (pandas: only when archiving)

    try:
        return read_meta(root / "data", wave).published
    except (OSError, ValueError):
        return None


def _entry(name: str, kind: bytes, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mtime = kind, size, mtime
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def read_manifest(root: Path, wave: str) -> tuple[str, dict[str, str]]:
    """(the archive's SHA-256, {file inside the edition: SHA-256}) from editions/<wave>.sha256."""
    path = manifest_path(root, wave)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ArchiveProblem(f"{ARCHIVES}/{path.name}: cannot be read ({error.__class__.__name__})") from None
    archive_digest, files = None, {}
    for number, line in enumerate(lines, start=1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise ArchiveProblem(f"{ARCHIVES}/{path.name}, line {number}: expected '<sha256>  <file>'")
        if name == f"{wave}.tar.gz":
            archive_digest = digest
        elif name.startswith(f"{wave}/"):
            files[name.removeprefix(f"{wave}/")] = digest
        else:
            raise ArchiveProblem(f"{ARCHIVES}/{path.name}, line {number}: {name!r} is not in the {wave} edition")
    if archive_digest is None or not files:
        raise ArchiveProblem(f"{ARCHIVES}/{path.name}: expected the archive's digest and every file's")
    return archive_digest, files


def verify(root: Path, wave: str) -> dict[str, str]:
    """The manifest's files if the archive is whole and matches it; ArchiveProblem naming the first mismatch."""
    archive = archive_path(root, wave)
    if not archive.exists():
        raise ArchiveProblem(f"{ARCHIVES}/{archive.name}: missing (its manifest {ARCHIVES}/{wave}.sha256 is there)")
    if not manifest_path(root, wave).exists():
        raise ArchiveProblem(f"{ARCHIVES}/{wave}.sha256: missing (the archive {ARCHIVES}/{archive.name} is there)")
    archive_digest, files = read_manifest(root, wave)
    if sha256(archive) != archive_digest:
        raise ArchiveProblem(f"{ARCHIVES}/{archive.name}: its SHA-256 is not the one in {ARCHIVES}/{wave}.sha256 "
                             "(a published edition never changes: restore it from git)")
    found = {}
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                name = member.name.removeprefix(f"{wave}/")
                if not member.isfile() or name == member.name:
                    raise ArchiveProblem(f"{ARCHIVES}/{archive.name}: {member.name!r} is not a file of the {wave} edition")
                found[name] = hashlib.sha256(tar.extractfile(member).read()).hexdigest()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ArchiveProblem(f"{ARCHIVES}/{archive.name}: cannot be read ({error})") from None
    if found != files:
        differing = sorted(set(found) ^ set(files) | {n for n in set(found) & set(files) if found[n] != files[n]})
        raise ArchiveProblem(f"{ARCHIVES}/{archive.name}: its files differ from the manifest's: {', '.join(differing[:5])}")
    return files


def extract(root: Path, wave: str, dest: Path) -> None:
    """The archived edition, checked against its manifest, written to the new folder `dest`."""
    files = verify(root, wave)
    with tarfile.open(archive_path(root, wave), mode="r:gz") as tar:
        tar.extractall(dest.parent / f".{dest.name}.extracting", filter="data")
    os.rename(dest.parent / f".{dest.name}.extracting" / wave, dest)
    shutil.rmtree(dest.parent / f".{dest.name}.extracting")
    if tree_digests(dest) != files:
        raise ArchiveProblem(f"{ARCHIVES}/{wave}.tar.gz: extracted files differ from the manifest")


def differences(root: Path, wave: str, tree: Path) -> list[str]:
    """Files of a build of an archived edition that are not exactly as published (added, missing or changed)."""
    _, files = read_manifest(root, wave)
    built = tree_digests(tree)
    return sorted(set(built) ^ set(files) | {n for n in set(built) & set(files) if built[n] != files[n]})


def check_all(root: Path) -> list[str]:
    """Every archive in editions/ against its manifest; one line per problem."""
    problems = []
    for wave in archived_waves(root):
        try:
            verify(root, wave)
        except ArchiveProblem as problem:
            problems.append(str(problem))
    return problems


# --------------------------------------------------------------------------- kam archive



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="check every archive against its manifest (exit 1 if one differs)")
    parser.add_argument("--html", type=Path, default=None, help="the built current edition (default: _build/html)")
    parser.add_argument("--book", type=Path, default=Path("."), help="the book's folder (default: here)")


def command(args: argparse.Namespace) -> int:
    root = args.book.resolve()
    if args.check:
        problems = check_all(root)
        for problem in problems:
            fail(f"kam archive: {problem}")
        if not problems:
            say(f"kam archive: {len(archived_waves(root))} archived edition(s) match their manifests")
        return 1 if problems else 0
    edition = current_edition(load_editions(root / "data"))
    if is_archived(root, edition.wave):
        fail(f"kam archive: the {edition.wave} edition is archived already ({ARCHIVES}/{edition.wave}.tar.gz): "
             "a published edition never changes")
        return 1
    html = (args.html or root / "_build" / "html").resolve()
    if not (html / "index.html").is_file():
        fail(f"kam archive: no built edition in {html}: run `make html` first")
        return 1
    from kamsurvey.build import website  # the site's checks of a built edition

    try:
        website.check_built_edition(root, html, edition.wave)
    except website.StepFailed as failure:
        fail(f"kam archive: {failure.reason}")
        return 1
    transaction = Transaction(root, f"kam archive of the {edition.wave} edition")
    staged = root / STAGING / f"archive-{edition.wave}-{os.getpid()}"
    archive, manifest = write_archive(html, edition.wave, publication_date(root, edition.wave), staged)
    transaction.add(archive, archive_path(root, edition.wave))
    transaction.add(manifest, manifest_path(root, edition.wave))
    try:
        transaction.commit()
    except (Edited, Unrecoverable) as error:
        fail(f"kam archive: {error}")
        return 1
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    say(f"Archived the {edition.wave} edition: {ARCHIVES}/{archive.name} and {ARCHIVES}/{manifest.name}; commit them")
    return 0
