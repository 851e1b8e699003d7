"""What a chapter notebook works with: one object per notebook, holding its wave.

Chapters stay short: each cell asks this object for a table, a figure or a glued number. The
object loads (and so validates) the wave once, and builds every figure through the same chart
functions, so that no analysis is written twice across chapters.

`Chapter` is composed of one class per concern, each in its own module:

    chapter_data      the wave, tables, shares, rankings, sector breakdowns (and their caches)
    chapter_claims    the article's claims re-tested on the wave, the reproduction-check table
    chapter_glue      numbers and phrases glued for the prose ({glue:text})
    chapter_figures   the figures (bars, agreement scale, by sector, diagram, not available)
    chapter_notes     MyST notes beside the text: provenance, a question left out, change since
                      the previous wave, an article finding this wave does not bear out

Any wave, not only 2022. A later wave may leave a question out, have nobody in a sector, a
different n, or options added since (`since` in the codebook). Nothing here raises for that and
nothing prints a number it does not have: every glue helper still glues each of its keys (a
`{glue:text}` key left unglued fails the -W build), with `NOT_ASKED` or `NO_RESPONDENTS` in place
of the number; a figure whose question was not asked keeps its number and anchor and says so in
place of bars; `wave_note` puts beside a figure what a reader of this wave needs: that the
question was not asked, or its change since the previous wave, or why it cannot be compared.
"""

from __future__ import annotations

from kamsurvey.report.chapter_figures import ChapterFigures
from kamsurvey.report.chapter_glue import ChapterGlue
from kamsurvey.report.chapter_notes import ChapterNotes


class Chapter(ChapterGlue, ChapterFigures, ChapterNotes):
    """The current wave (and optionally the wave it is compared with) as one chapter sees it.

    `Chapter.load(wave=..., data_dir=..., compare_with=...)` in a chapter's first cell.
    """
