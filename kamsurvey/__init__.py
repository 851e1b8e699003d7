"""The executable edition of AKAM's 'Rewarding KAM performance: survey findings': the code behind the book.

Layers, each a folder; a layer imports only from the layers listed before it
(`tests/test_layers.py` checks it):

    data/      the questionnaire (codebook), reading, validating and importing a wave, the
               editions register, synthetic waves, the 2022 reconstruction
    analysis/  counts, shares, intervals and tests, the small-base policy, change between
               waves, the article's claims re-tested
    report/    words and figures: the chapter façade the notebooks use, phrasing, charts,
               figure payloads, the questionnaire appendix, citations
    site/      the Sphinx extension: figures on the page, rendering, static files, templates
    build/     running the chapters (kernel server), building the site and its editions,
               publishing a wave, stamps, the briefing pack
    cli.py     `kam`, the one command-line entry point

The names a chapter uses are importable from here (`from kamsurvey import Chapter, phrasing`),
whatever layer they live in; they are loaded when first used.
"""

from __future__ import annotations

import importlib

__version__ = "1.0.0"

# what chapters import by name -> the module that defines it (a module itself, or the module holding the name)
_PUBLIC = {
    "Chapter": "kamsurvey.report.chapter",
    "phrasing": "kamsurvey.report.phrasing",
    "citation": "kamsurvey.report.citation",
    "questionnaire": "kamsurvey.report.questionnaire",
    "claims": "kamsurvey.analysis.claims",
    "policy": "kamsurvey.analysis.policy",
    "stats": "kamsurvey.analysis.stats",
    "editions": "kamsurvey.data.editions",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'kamsurvey' has no attribute {name!r}")
    module = importlib.import_module(_PUBLIC[name])
    value = module if module.__name__.rsplit(".", 1)[-1] == name else getattr(module, name)
    globals()[name] = value
    return value
