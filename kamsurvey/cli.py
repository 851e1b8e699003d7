"""`kam`: the one command-line entry point of the book.

    kam book [STEP ...]     execute the chapters, build the current edition and the site (only what changed)
    kam chapters            execute every chapter with papermill for the current wave
    kam html                build the current edition into _build/html (afresh, switched in whole)
    kam site                the website: every edition at editions/<wave>/, the latest at the root
    kam wave                publish a new survey wave as a new edition
    kam briefing            the member briefing pack from the built edition
    kam archive             check the published editions' archives (--check), or archive the current edition
    kam clean               remove everything built (_build/)
    kam validate WAVE_DIR   check a wave against the codebook
    kam synth               write a synthetic wave (tests, benchmarks)
    kam reconstruct         the 2022 reconstruction (rewrite, or --check it)
    kam cite                the BibTeX of the book and every edition (--check: CITATION.cff is current)
    kam serve               preview the built site on this machine
    kam bench               benchmarks (not part of the tests)

Run from the book's folder (the one holding _toc.yml), as the Makefile does; `kam COMMAND --help`
describes each command and its options. A command that writes (WRITES) first takes
the book's writer lock (kamsurvey.build.lock: one at a time; a second fails at once, naming the first),
then completes or undoes what a killed run left half done and removes what earlier runs left behind
(kamsurvey.build.journal); SIGTERM then stops it as Ctrl-C does, putting back what it had replaced.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import signal
import sys
from pathlib import Path

# command -> (module that implements it, one line of help); each module has add_arguments(parser) and command(args)
COMMANDS = {
    "book": ("kamsurvey.build.stamps", "execute the chapters, build the edition and the site, each step only if its inputs changed"),
    "chapters": ("kamsurvey.build.chapters", "execute every chapter with papermill (all or nothing)"),
    "html": ("kamsurvey.build.pages", "build the current edition into _build/html: afresh, switched in whole"),
    "site": ("kamsurvey.build.website", "build the website: every edition at its permanent address, the latest at the root"),
    "wave": ("kamsurvey.build.publish", "publish a new survey wave as a new edition, in one command"),
    "briefing": ("kamsurvey.build.briefing", "write the member briefing pack from the built edition"),
    "archive": ("kamsurvey.build.archive", "check every published edition against its manifest, or archive the current one"),
    "clean": ("kamsurvey.build.clean", "remove everything built (_build/), under the writer lock"),
    "validate": ("kamsurvey.data.validate", "check a wave's wave.yml and responses.csv against the codebook"),
    "synth": ("kamsurvey.data.synth", "write a synthetic wave: seeded, valid, any size"),
    "reconstruct": ("kamsurvey.build.reconstruct", "rebuild the 2022 respondents from the article's figures, and the range of every number"),
    "cite": ("kamsurvey.report.citation", "print the BibTeX of the book and its editions, or check CITATION.cff"),
    "serve": ("kamsurvey.site.serve", "preview the built site at http://127.0.0.1:PORT/ (the standard library's server)"),
    "bench": ("kambench.harness", "time the new-wave command, the no-op build and large waves (minutes)"),
}

# commands that write into the book, and when: they take the writer lock first (kamsurvey.build.lock)
WRITES = {
    "book": lambda args: not args.check,
    "chapters": lambda args: True,
    "html": lambda args: True,
    "site": lambda args: True,
    "wave": lambda args: True,
    "briefing": lambda args: True,
    "archive": lambda args: not args.check,
    "clean": lambda args: True,
    "reconstruct": lambda args: not (args.check or args.counts),
}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the option (the usage of a command with many options
    printed first buried it), every value in it shown escaped."""

    def error(self, message: str):
        from kamsurvey.build.console import printable

        self.exit(2, printable(f"{self.prog}: error: {message} (`{self.prog} --help` lists the options)") + "\n")


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser of `kam`; only the `selected` command's module is imported (it brings its options)."""
    parser = Parser(prog="kam", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for name, (module_name, summary) in COMMANDS.items():
        if name != selected:
            commands.add_parser(name, help=summary, description=summary)
            continue
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=summary, description=module.__doc__ or summary,
                                  epilog=getattr(module, "EPILOG", None),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.command)
    return parser


FROM_ENVIRONMENT = "--from-environment"


def environment_arguments(command: str, environ=os.environ) -> list[str]:
    """The arguments `make` hands over in the environment (KAM_WAVE, KAM_DATA, KAM_ARGS), exactly as typed.

    ARGS is split into words by shlex, as a shell would split it, but nothing in it is run or
    expanded: `make wave WAVE=2023 DATA='my export.csv' ARGS="--title 'Survey 2023'"`.
    """
    words: list[str] = []
    if command == "wave":
        for variable, option in (("KAM_WAVE", "--wave"), ("KAM_DATA", "--data")):
            if not environ.get(variable):
                raise UsageError("usage: make wave WAVE=2023 DATA=path/to/export.csv "
                                 "[ARGS='--fieldwork-start 2023-03-01 ...']")
            words += [option, environ[variable]]
    try:
        words += shlex.split(environ.get("KAM_ARGS", ""))
    except ValueError as error:  # an unclosed quote
        raise UsageError(f"ARGS: {error} (in {environ.get('KAM_ARGS')!r})") from None
    return words


class UsageError(Exception):
    """The command line cannot be read; the message says how to write it."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if FROM_ENVIRONMENT in argv:
        at = argv.index(FROM_ENVIRONMENT)
        try:
            argv[at:at + 1] = environment_arguments(argv[0] if argv else "")
        except UsageError as error:
            print(error, file=sys.stderr)
            return 2
    selected = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(selected if selected in COMMANDS else None).parse_args(argv)
    try:
        if WRITES.get(args.command, lambda _: False)(args):
            refused = begin_writing(Path(getattr(args, "book", None) or ".").resolve(), argv)
            if refused:
                return refused
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("kam: interrupted", file=sys.stderr)
        return 130


def begin_writing(root: Path, argv: list[str]) -> int:
    """Take the writer lock; as its owner, finish what a killed run left and clear the leftovers. 0, or an exit status."""
    from kamsurvey.build import journal, lock
    from kamsurvey.build.console import printable

    try:
        held = lock.acquire(root, argv)
    except lock.Busy as busy:
        print(f"kam: {printable(busy)}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop)
    if not held.owner:
        return 0
    try:
        done = journal.recover(root)
    except (journal.Unrecoverable, OSError) as error:
        print(f"kam: cannot complete the interrupted publication in {journal.JOURNAL}: {printable(error)}", file=sys.stderr)
        return 1
    if done:
        print(f"kam: {printable(done)}", file=sys.stderr)
    removed = journal.clean_leftovers(root)
    if removed:
        shown = ", ".join(removed[:5]) + (f" and {len(removed) - 5} more" if len(removed) > 5 else "")
        print(f"kam: removed what earlier runs left behind: {printable(shown)}", file=sys.stderr)
    return 0


def _stop(signum, frame):
    """SIGTERM stops a writing command as an error does: what it had replaced is put back, its staging removed."""
    print("kam: terminated (SIGTERM); stopping, and putting back anything half replaced", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
