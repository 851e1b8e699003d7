"""Publish a new survey wave as a new edition of the book, in one command.

    make wave WAVE=2023 DATA=path/to/export.csv
    kam wave --wave 2023 --data export.xlsx --fieldwork-start 2023-03-01 --fieldwork-end 2023-05-31

Steps, each reported as it runs:
  1. import    read the file: the canonical responses.csv, or a survey tool's export holding
               the codebook's option labels (.csv or .xlsx; a multi-select question as one
               column per option or as one column of labels separated by ';'); write the
               wave's responses.csv, wave.yml and README.md
  2. validate  check the wave against the codebook (every problem listed at once)
  3. execute   register the edition, run every chapter with papermill for the new wave,
               compared with the previous edition, chapters in parallel
  4. build     build the new edition's pages (jupyter-book, warnings are errors); archive them
               (editions/<wave>.tar.gz and its manifest .sha256: kamsurvey.build.archive), and the
               previous edition's as committed if it was never archived; assemble the new site
  5. publish   switch everything in, all or nothing (kamsurvey.build.journal): data/waves/<wave>/,
               chapters/*.ipynb, data/editions.yml, CITATION.cff, the archives, then _build/html
               and _build/site (symbolic links, each switched in one rename)

Everything up to the switch happens in a temporary copy of the book under _build/.staging/ and
in new folders under _build/.versions/, so a failure at any step (a bad file, a chapter that
raises, a build warning, Ctrl-C, SIGTERM) leaves the committed chapters, the data and the built
site exactly as they were, and exits 1 naming the step and the reason. A run killed during the
switch (kill -9) is completed by the next command that writes. A source edited in the repository
while the run worked (a chapter, a line added to data/editions.yml) stops the switch: the edit is
kept, the file named. Earlier editions are never rebuilt or changed: the site takes them from their
archives. The writer lock (kamsurvey.build.lock) keeps any other `kam` command from writing
meanwhile. Nothing is asked interactively: every choice has an option and a default.
Afterwards, review and commit the changed files (`git status` lists them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import shutil
import time
from pathlib import Path

from kamsurvey.build import archive, stamps
from kamsurvey.build import website as build_site
from kamsurvey.build.console import fail, printable, say
from kamsurvey.build.journal import Edited, Transaction, tidy
from kamsurvey.build.website import StepFailed
from kamsurvey.report import citation
from kamsurvey.data import editions as register
from kamsurvey.data.codebook import load_codebook
from kamsurvey.data.importer import ImportFailed, import_responses, wave_yaml, write_responses
from kamsurvey.build.kernels import release_memory
from kamsurvey.data.problems import WaveValidationError
from kamsurvey.data.validate import RESPONSES_FILE
from kamsurvey.data.wavemeta import WAVE_FILE, meta_from_mapping
from kamsurvey.data.waves import load_wave, read_meta, wave_dir

# a wave id names a folder, an archive and a web address: short, and nothing a path or a shell reads specially
WAVE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
STEPS = ("import", "validate", "execute", "build", "publish")


def _shown(text: str) -> str:
    return repr(text[:40]) + ("..." if len(text) > 40 else "")


def wave_id(text: str) -> str:
    """A wave id as the command line gives it: checked whole (a trailing new line is not allowed either)."""
    if not WAVE_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a wave id: expected 1 to 40 letters, digits, '.', "
                                         "'_' or '-', starting with a letter or digit (e.g. 2023)")
    return text


def earlier_wave(text: str) -> str:
    return text if text == "" else wave_id(text)


def data_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{printable(text)}: no such file")
    return path


# the first bytes of files that are not text, whatever their name says
SIGNATURES = {b"PK\x03\x04": "a ZIP archive, such as an Excel workbook (.xlsx)",
              b"\xd0\xcf\x11\xe0": "an old-style Excel workbook (.xls)", b"%PDF": "a PDF document"}


TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def not_text(path: Path) -> str | None:
    """What a file named .csv really is when it is not text (else None): a workbook read as CSV printed binary."""
    with path.open("rb") as handle:
        start = handle.read(4096)
    for signature, kind in SIGNATURES.items():
        if start.startswith(signature):
            return kind
    return "a binary file" if b"\x00" in start else None


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


EPILOG = "Exit status: 0 published; 1 a step failed (nothing was changed); 2 usage error."
MAPPING_FILE = "mapping.yml"
FIELDWORK_FROM = {"given": "as given when the wave was published", "export": "the export's own timestamps: "
                  "the first and the last response kept", "article": "the published article's words"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wave", required=True, type=wave_id,
                        help="the new wave's id, e.g. 2023 (its folder under data/waves/): 1 to 40 letters, digits, '.', '_', '-'")
    parser.add_argument("--data", required=True, type=data_file, help="the responses: .csv or .xlsx, codes or labels")
    parser.add_argument("--title", help="the survey's title (default: the previous wave's, with its year replaced)")
    parser.add_argument("--fieldwork-start", type=_date, help="first day of fieldwork, YYYY-MM-DD (default: the day "
                        "of the first response kept, from the export's own timestamps; required when it has none)")
    parser.add_argument("--fieldwork-end", type=_date, help="last day of fieldwork, YYYY-MM-DD (default: the day of the "
                        "last response kept, as above)")
    parser.add_argument("--population", help="who was surveyed (default: the previous wave's population)")
    parser.add_argument("--source", help="the source line under charts (default: the previous wave's)")
    parser.add_argument("--provenance", choices=("original", "reconstructed"), default="original",
                        help="where the respondent-level data comes from (default: original)")
    parser.add_argument("--provenance-note", help="a sentence on how the data was obtained (default: imported from the file)")
    parser.add_argument("--published", type=_date, default=None, help="publication date, YYYY-MM-DD (default: today)")
    parser.add_argument("--compare-with", default=None, type=earlier_wave,
                        help="earlier wave to compare with (default: the current edition; '' for none)")
    parser.add_argument("--ignore-column", action="append", default=[], metavar="NAME",
                        help="a column of the export to leave out (e.g. a survey tool's timestamps); repeatable")
    parser.add_argument("--not-asked", action="append", default=[], metavar="QUESTION",
                        help="a question of the codebook this wave did not ask (its column is then not expected); repeatable")
    parser.add_argument("--format", default=None, metavar="TOOL",
                        help="the survey tool that wrote the file, instead of recognising it (kamsurvey.data.formats)")
    parser.add_argument("--mapping", type=data_file, default=None, metavar="FILE",
                        help="a mapping file saying which column is which question or option (kamsurvey.data.mapping)")
    parser.add_argument("--include-incomplete", action="store_true",
                        help="keep the responses the survey tool marks unfinished (left out by default)")
    parser.add_argument("--check", action="store_true",
                        help="import and validate only, print what was found, and change nothing (try an export first)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="chapters executed at once (default: cores)")
    parser.add_argument("--book", type=Path, default=Path("."), help="the book's folder (default: here)")


def fieldwork_dates(args, found) -> tuple[dt.date, dt.date, str, list[str]]:
    """(start, end, source, notes): the dates given on the command line, else the export's own timestamps (`found`,
    a `kamsurvey.data.fieldwork.Fieldwork` or None). Never guessed: with neither, the import stops and says so."""
    notes = []
    given = (args.fieldwork_start, args.fieldwork_end)
    if all(given):
        start, end, source = *given, "given"
        if found is not None and (found.start < start or found.end > end):
            notes.append(f"The export's responses run from {found.start} to {found.end}, outside the fieldwork dates "
                         f"given ({start} to {end}).")
    elif any(given):
        raise StepFailed("import", "give both --fieldwork-start and --fieldwork-end, or neither (the dates are then "
                         "read from the export's own timestamps)")
    elif found is not None:
        start, end, source = found.start, found.end, "export"
        notes.append(f"Fieldwork dates read from the export: {found.source}.")
    else:
        raise StepFailed("import", "the export has no response timestamps to date the fieldwork by: give "
                         "--fieldwork-start and --fieldwork-end (YYYY-MM-DD); dates are never guessed")
    if start > end:
        raise StepFailed("import", f"fieldwork ends ({end}) before it starts ({start})")
    return start, end, source, notes


def wave_metadata(args, previous, result, published: dt.date) -> tuple[dict, list[str]]:
    """wave.yml for the new wave from the options and the import (`result`), text defaults from the previous wave;
    and notes on where the dates came from."""
    start, end, dates_from, notes = fieldwork_dates(args, result.fieldwork)
    title = args.title
    if not title:
        if previous is not None and previous.wave in previous.title:
            title = previous.title.replace(previous.wave, args.wave)
        else:
            title = f"Survey {args.wave}"
    population = args.population or (previous.population if previous else None)
    source = args.source or (previous.source if previous else None)
    if not population or not source:
        raise StepFailed("import", "give --population and --source: there is no previous wave to take them from")
    note = args.provenance_note or (f"Respondent-level answers from the file {args.data.name}, imported, checked "
                                    "against the codebook and published by kam wave.")
    meta = {
        "wave": args.wave, "title": title,
        "fieldwork": {"start": start.isoformat(), "end": end.isoformat(), "source": dates_from},
        "population": population, "n": len(result.responses), "source": source,
        "provenance": args.provenance, "provenance_note": note, "published": published.isoformat(),
        "not_asked": list(result.not_asked),
    }
    return meta, notes


def wave_readme(meta: dict, *, data: Path, digest: str, description: str, compare_with: str, notes: list[str]) -> str:
    lines = [
        f"# The {meta['wave']} wave",
        "",
        f"{meta['title']}: {meta['n']:,} respondents. Published {meta['published']} with `make wave` "
        f"(kam wave).",
        "",
        f"- **Fieldwork:** {meta['fieldwork']['start']} to {meta['fieldwork']['end']} "
        f"({FIELDWORK_FROM[meta['fieldwork']['source']]})",
        f"- **Population:** {' '.join(meta['population'].split())}",
        f"- **Source:** {meta['source']}",
        f"- **Provenance:** {meta['provenance']}. {meta['provenance_note']}",
        f"- **Imported from:** `{data.name}` (SHA-256 `{digest}`). {description}",
        f"- **Compared with:** the {compare_with} wave" if compare_with else "- **Compared with:** no earlier wave",
    ]
    lines += [f"- **Note:** {note}" for note in notes]
    lines += ["", "`responses.csv` follows the data contract (see `kamsurvey/data/validate.py`); "
              f"`kam validate data/waves/{meta['wave']}` checks it against the codebook.",
              "", f"`{MAPPING_FILE}` says which column of the export was read as which question or option, and "
              "which columns were dropped. Review it; correct it and pass it back with `--mapping` to import a "
              "later export of the same survey the same way.",
              "", "Personal data in the export (names, e-mail and IP addresses, locations, timestamps, the tool's "
              "own ids, panel and custom fields) was dropped when it was read and is stored nowhere: not in this "
              "folder, not on the website. Respondents have new, neutral ids. Text typed into \"Other\" or an "
              "open answer is not kept either: the answer counts as \"Other\".", ""]
    return "\n".join(lines)


def relabel(text: str, staging: Path) -> str:
    """Messages name files as they will be in the repository, not in the staging copy."""
    return text.replace(str(staging) + os.sep, "")


def publish(args) -> int:
    started = time.perf_counter()
    root = args.book.resolve()
    wave = args.wave
    editions = register.load_editions(root / "data")
    current = register.current_edition(editions)
    if (any(e.wave == wave for e in editions) or wave_dir(root / "data", wave).exists()
            or archive.is_archived(root, wave)):
        raise StepFailed("import", f"wave {wave} is already published (data/editions.yml, data/waves/{wave}/): an "
                         "edition does not change once published; publish the corrected data under a new wave id")
    compare_with = current.wave if args.compare_with is None else args.compare_with
    if compare_with and not any(e.wave == compare_with for e in editions):
        raise StepFailed("import", f"--compare-with {compare_with}: no such edition in data/editions.yml "
                         f"(the editions are {', '.join(e.wave for e in editions)})")
    binary = not_text(args.data) if args.data.suffix.lower() in TEXT_SUFFIXES else None
    if binary:
        raise StepFailed("import", f"{args.data.name} is {binary}, not a CSV file: export the responses as CSV, "
                         "or give the workbook itself (.xlsx)")
    published = args.published or dt.date.today()

    work = build_site.staging_folder(root, f"wave-{wave}-")
    versions: list[Path] = []
    try:
        book = build_site.copy_sources(root, work / "book")
        recorded = build_site.source_digests(book)  # what the edition is built from: edits meanwhile stop the switch
        superseded = _previous_edition_source(root, current, work)  # None: archived already
        data = book / "data"
        codebook = load_codebook(data / "codebook.yml")

        say(f"[1/5] import: {args.data}")
        try:
            result = import_responses(args.data, codebook, wave, format=args.format, mapping=args.mapping,
                                      not_asked=args.not_asked, include_incomplete=args.include_incomplete,
                                      ignore=args.ignore_column)
        except ImportFailed as failure:
            raise StepFailed("import", str(failure)) from None
        previous = read_meta(data, compare_with or current.wave) if (compare_with or current.wave) else None
        meta, notes = wave_metadata(args, previous, result, published)
        target = wave_dir(data, wave)
        write_responses(result.responses, target / RESPONSES_FILE)
        result.mapping.write(target / MAPPING_FILE)  # for review; `--mapping` takes it back for the next wave
        # what is said about the import later; the imported rows themselves are not needed any more
        described, questions, left_out = result.describe(), len(result.layout), list(result.not_asked)
        del result
        (target / WAVE_FILE).write_text(wave_yaml(meta), encoding="utf-8")
        with args.data.open("rb") as source:
            digest = hashlib.file_digest(source, "sha256").hexdigest()
        (target / "README.md").write_text(wave_readme(meta, data=args.data, digest=digest, description=described,
                                                      compare_with=compare_with, notes=notes), encoding="utf-8")
        say(f"      {described}")
        for note in notes:
            say(f"      note: {note}")

        say(f"[2/5] validate: data/waves/{wave}/")
        try:
            load_wave(data, wave, codebook)  # validated once: the chapters load it from the cache of validated waves
        except WaveValidationError as failure:
            raise StepFailed("validate", relabel(str(failure), book) + "\n  (line numbers are the imported file's: "
                             "line 2 is the first respondent; the problems are in the data, fix them in the export)") from None
        say(f"      OK: {meta['n']:,} respondents, {questions} questions"
            + (f"; not asked in this wave: {', '.join(left_out)}" if left_out else ""))
        if args.check:
            say(f"Checked: the {wave} wave would import and validate as above; nothing was changed (--check).")
            return 0
        release_memory()  # the chapters' kernels need it more than this process, which only waits for them now

        say(f"[3/5] execute: every chapter for wave {wave}" + (f", compared with {compare_with}" if compare_with else ""))
        fieldwork = meta_from_mapping(meta).fieldwork
        edition = register.Edition(wave=wave, title=register.edition_title(wave, fieldwork), compare_with=compare_with or None)
        editions_file = data / register.EDITIONS_FILE
        editions_file.write_text(register.register_text(editions_file.read_text(encoding="utf-8"), edition), encoding="utf-8")
        if (book / citation.CFF_FILE).exists():
            citation.update_cff(book)
        try:
            build_site.execute_chapters(book, wave=wave, compare_with=compare_with, jobs=args.jobs)
        except StepFailed as failure:
            raise StepFailed(failure.step, relabel(failure.reason, book)) from None

        say(f"[4/5] build: the {wave} edition")
        html = build_site.build_book(book, edition=wave)
        build_site.check_built_edition(book, html, wave)
        archives = work / "archives"
        archive.write_archive(html, wave, published, archives)
        being_archived = {}
        if superseded is not None:
            previous_html = (superseded if superseded.name == "html"
                             else build_site.build_book(superseded, edition=current.wave))
            build_site.check_built_edition(root, previous_html, current.wave)
            archive.write_archive(previous_html, current.wave, archive.publication_date(root, current.wave), archives)
            being_archived[current.wave] = previous_html
            say(f"      archived the {current.wave} edition as committed too ({archive.ARCHIVES}/{current.wave}.tar.gz: "
                "it had no archive)")
        html_version = build_site.new_version(root, "html")
        versions.append(html_version)
        html_version.rmdir()
        os.rename(html, html_version)
        site_version, _ = build_site.assemble_site(root, register.load_editions(data), html_version,
                                                   being_archived=being_archived)
        versions.append(site_version)

        say("[5/5] publish: switching in the data, chapters, register, archives and site")
        build_site.check_unchanged(root, recorded, f"kam wave {wave}")
        switch_in(root, book, wave, recorded, archives=archives, html=html_version, site=site_version)
        versions.clear()
        say(f"Published the {wave} edition in {time.perf_counter() - started:.0f} s: _build/site/ (latest at the root, "
            f"editions/{wave}/). Review and commit: data/waves/{wave}/, chapters/, data/editions.yml, "
            f"{archive.ARCHIVES}/" + (", CITATION.cff" if (root / citation.CFF_FILE).exists() else "") + ".")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for version in versions:  # built, never switched in
            shutil.rmtree(version, ignore_errors=True)
        tidy(root)


def switch_in(root: Path, book: Path, wave: str, recorded: dict[str, str | None], *, archives: Path, html: Path,
              site: Path) -> None:
    """Step 5: the staged wave, chapters, register, CITATION.cff and archives into the repository, and _build/html
    and _build/site to their new versions: one journaled transaction (all or nothing, even after kill -9)."""
    transaction = Transaction(root, f"publication of the {wave} edition (kam wave)")
    transaction.add(wave_dir(book / "data", wave), wave_dir(root / "data", wave))
    for notebook in sorted((book / "chapters").glob("*.ipynb")):
        name = f"chapters/{notebook.name}"
        transaction.replace(notebook, root / name, expect=recorded.get(name))
    name = f"data/{register.EDITIONS_FILE}"
    transaction.replace(book / name, root / name, expect=recorded.get(name))
    if (book / citation.CFF_FILE).exists():
        transaction.replace(book / citation.CFF_FILE, root / citation.CFF_FILE, expect=recorded.get(citation.CFF_FILE))
    for staged in sorted(archives.iterdir()):
        transaction.add(staged, root / archive.ARCHIVES / staged.name)
    transaction.point(root / build_site.HTML, html)
    transaction.point(root / build_site.SITE, site)
    try:
        transaction.commit()
    except Edited as edited:
        raise StepFailed("publish", str(edited)) from None
    except Exception as error:
        raise StepFailed("publish", f"could not switch the new edition in ({error}); everything was put back") from None


def _previous_edition_source(root: Path, current: register.Edition, work: Path) -> Path | None:
    """What to archive the superseded edition from, if it never was archived (None if it was): the current
    _build/html (a folder named html) when its stamp vouches for today's sources, else a copy of the sources
    as they are now, to build in step 4."""
    if archive.is_archived(root, current.wave):
        return None
    html = root / build_site.HTML
    if (build_site.built_edition(html) == current.wave
            and stamps.up_to_date(root, "html", stamps.step_command("html"))):
        copy = work / "previous" / "html"
        build_site.link_tree(html.resolve(), copy)
        return copy
    return build_site.copy_sources(root, work / "previous" / "book")



def command(args: argparse.Namespace) -> int:
    args.data = args.data.resolve()
    try:
        return publish(args)
    except StepFailed as failure:
        fail(f"error: step '{failure.step}' failed; nothing was changed.\n{failure.reason}")
        return 1
