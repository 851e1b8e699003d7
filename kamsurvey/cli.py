"""`kam`: the one command-line entry point of the book.

    kam book [STEP ...]     execute the chapters, build the current edition and the site (only what changed)
    kam chapters            execute every chapter with papermill for the current wave
    kam site                the website: every edition at editions/<wave>/, the latest at the root
    kam wave                publish a new survey wave as a new edition
    kam briefing            the member briefing pack from the built edition
    kam validate WAVE_DIR   check a wave against the codebook
    kam synth               write a synthetic wave (tests, benchmarks)
    kam reconstruct         the 2022 reconstruction (rewrite, or --check it)
    kam cite                the BibTeX of the book and every edition (--check: CITATION.cff is current)
    kam serve               preview the built site on this machine
    kam bench               benchmarks (not part of the tests)

Run from the book's folder (the one holding _toc.yml), as the Makefile does; `kam COMMAND --help`
describes each command and its options.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys

# command -> (module that implements it, one line of help); each module has add_arguments(parser) and command(args)
COMMANDS = {
    "book": ("kamsurvey.build.stamps", "execute the chapters, build the edition and the site, each step only if its inputs changed"),
    "chapters": ("kamsurvey.build.chapters", "execute every chapter with papermill (all or nothing)"),
    "site": ("kamsurvey.build.website", "build the website: every edition at its permanent address, the latest at the root"),
    "wave": ("kamsurvey.build.publish", "publish a new survey wave as a new edition, in one command"),
    "briefing": ("kamsurvey.build.briefing", "write the member briefing pack from the built edition"),
    "validate": ("kamsurvey.data.validate", "check a wave's wave.yml and responses.csv against the codebook"),
    "synth": ("kamsurvey.data.synth", "write a synthetic wave: seeded, valid, any size"),
    "reconstruct": ("kamsurvey.data.reconstruction", "rebuild the 2022 respondents from the article's figures"),
    "cite": ("kamsurvey.report.citation", "print the BibTeX of the book and its editions, or check CITATION.cff"),
    "serve": ("kamsurvey.site.serve", "preview the built site at http://127.0.0.1:PORT/ (the standard library's server)"),
    "bench": ("kambench.harness", "time the new-wave command, the no-op build and large waves (minutes)"),
}


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser of `kam`; only the `selected` command's module is imported (it brings its options)."""
    parser = argparse.ArgumentParser(prog="kam", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
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
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
