"""Text stays text: every value from data or metadata reaches a chapter's MyST as text, never as markup.

Each field a note or the questionnaire prints (wave.yml's provenance note and wave id, the codebook's
wordings and labels, the claims ledger's words) is filled with an injection, the Markdown is parsed
as the book parses it (myst-parser's markdown-it with the book's extensions, each admonition's title
and body parsed in turn as Sphinx does), and the result must hold the injection as literal text,
with exactly the structure (paragraphs, lists, admonitions, roles) the same note has for plain words.
"""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest
import yaml
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

from conftest import ROOT
from kamsurvey.analysis import claims
from kamsurvey.data.waves import Wave
from kamsurvey.report import literal
from kamsurvey.report.chapter import Chapter
from kamsurvey.report.questionnaire import questionnaire_markdown

BOOK_EXTENSIONS = set(yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["parse"]["myst_enable_extensions"])
# the book's extensions, and math too: '$$x$$' must stay text even if the book ever turns math on
PARSER = create_md_parser(MdParserConfig(enable_extensions=BOOK_EXTENSIONS | {"dollarmath"}), RendererHTML)

INJECTIONS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{download}`../../etc/passwd`",
    "[link](javascript:alert(1))",
    "<div>\n<script>alert(1)</script>\n</div>",
    "$$x$$",
    ":::",
    ":::{danger}",
    "{{ var }}",
    "# heading",
    "- item",
    "1. item",
    "> quote",
    "(target)=",
    "% comment",
    "```",
    "&lt;script&gt;",
    "**bold** _em_ `code`",
    "a | b |",
    "trailing backslash \\",
    "~~struck~~",
]
PLAIN = "plain words"
# what the book may print for its own sake: admonitions, and {doc} links to its own pages (the provenance note)
TEMPLATE_DIRECTIVES = {"admonition"}
TEMPLATE_ROLES = {"doc"}
DANGEROUS_TAGS = {"script", "img", "a", "iframe", "object", "embed", "svg", "style", "link", "form", "input"}


def one_line(value: str) -> str:
    """A value as it reads on the page: a line break in it is a space (as a paragraph shows it)."""
    return re.sub(r"[ \t]*\n[ \t]*", " ", value).strip()


# -- parsing as the book does ------------------------------------------------------------------------


def _tokens(markdown: str) -> list:
    """Every token of `markdown`, inline children included, each admonition's title and body parsed in turn."""
    found = []
    for token in PARSER.parse(markdown):
        found.append(token)
        found += token.children or []
        if token.type == "colon_fence" and token.info.startswith("{"):
            _, _, title = token.info.partition("}")
            for inline in PARSER.parseInline(title.strip()):
                found += [inline, *(inline.children or [])]
            body = token.content.splitlines()
            while body and re.match(r"^:[\w-]+:", body[0]):  # the directive's options
                body.pop(0)
            found += _tokens("\n".join(body))
    return found


def structure(markdown: str) -> list[tuple]:
    """The markup of `markdown`: every token but the text, with the name of each directive and role."""
    shape = []
    for token in _tokens(markdown):
        if token.type == "text":
            continue
        name = token.info.split("}")[0] if token.type == "colon_fence" else token.meta.get("name", "")
        shape.append((token.type, token.tag, name))
    return shape


def text(markdown: str) -> str:
    """What a reader sees of `markdown`: its text and code, in order."""
    return " ".join(t.content for t in _tokens(markdown) if t.type in ("text", "code_inline"))


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)


def html_tags(markdown: str) -> set[str]:
    """Tags of `markdown` rendered to HTML, each admonition's body rendered too."""
    parser = _Tags()
    parser.feed(PARSER.render(markdown))
    for token in PARSER.parse(markdown):
        if token.type == "colon_fence":
            parser.tags |= html_tags(token.content)
    return parser.tags


def assert_inert(markdown: str, plain_markdown: str, values: list[str]) -> None:
    """`markdown` (values injected) has the markup of `plain_markdown` (plain words) and reads each value as written."""
    assert structure(markdown) == structure(plain_markdown)
    shape = structure(markdown)
    assert {name for kind, _, name in shape if kind == "colon_fence"} <= {"{" + d for d in TEMPLATE_DIRECTIVES}
    assert {name for kind, _, name in shape if kind == "myst_role"} <= TEMPLATE_ROLES
    assert not html_tags(markdown) & DANGEROUS_TAGS
    shown = text(markdown)
    for value in values:
        assert one_line(value) in shown, (value, shown)


# -- the mechanism ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", INJECTIONS)
def test_a_value_reads_as_written_wherever_it_stands(value):
    for template in ("{}", "- {}", "1. {}", "Before {} after.", ":::{{admonition}} Title {}\n:class: note\n\n{}\n:::",
                     "| {} | b |\n|---|---|\n| {} | d |"):
        assert_inert(template.format(*[literal.myst(value)] * template.count("{}")),
                     template.format(*[PLAIN] * template.count("{}")), [value] * (template.count("{}") > 0))


@pytest.mark.parametrize("value", ["a`b", "`", "``x``", " x ", "<script>", "{download}`../x`"])
def test_a_code_span_holds_any_value(value):
    markdown = f"Column: {literal.myst_code(value)}"
    code = [t.content for t in _tokens(markdown) if t.type == "code_inline"]
    assert code == [value]


def test_ordinary_prose_is_left_as_it_is():
    """The 2022 codebook's and wave.yml's words need no escape: typographic quotes and dashes, R&D, a file name."""
    for words in ("Doesn’t recognise the customer’s point of view", "10–20% — ‘Bonus (cash)’", "R&D: 20% or more?",
                  "reconstructed by scripts/reconstruct_2022.py, an integer program; see README.md.",
                  "Key account managers' performance", "2022"):
        assert literal.myst(words) == words


def test_html_escapes_text_and_attributes():
    assert literal.html('<a href="x">Tom & ‘Jerry’</a>') == "&lt;a href=&quot;x&quot;&gt;Tom &amp; ‘Jerry’&lt;/a&gt;"
    assert "</script" not in literal.script_json({"a": "</script><script>alert(1)</script>"}).lower()


# -- every note a chapter prints, and the questionnaire ---------------------------------------------


NOT_COMPARED = "reward_basis"  # its wording changes in the wave under test, so it is not compared


def _evil_codebook(codebook, value: str, wave: str = "2023"):
    """The codebook with `value` in every wording, short title, note, option label and group label, and in
    the wording one question has in `wave`."""
    def evil_question(question):
        options = tuple(replace(o, label=f"{value} {o.code}") for o in question.options)
        changed = {wave: f"{value} changed wording"} if question.id == NOT_COMPARED else {}
        return replace(question, wording=f"{value} wording", short_title=f"{value} short", note=f"{value} note",
                       options=options, wording_by_wave=changed)
    return replace(codebook, questions=tuple(evil_question(q) for q in codebook.questions),
                   groups={code: f"{value} {code}" for code in codebook.groups})


def _chapter(wave_2022, value: str, *, reconstructed: bool, wave: str, previous: str | None) -> Chapter:
    """2022's answers as wave `wave` (bonus_size left out), metadata and codebook words holding `value`, two
    claims that fail with `value` in their words, and optionally the same answers as an earlier wave `previous`."""
    codebook = _evil_codebook(wave_2022.codebook, value, wave)
    meta = replace(wave_2022.meta, wave=wave, title=f"{value} title", source=f"{value} source",
                   population=f"{value} population", provenance_note=f"{value} provenance",
                   provenance="reconstructed" if reconstructed else "original")
    frame = wave_2022.responses.drop(columns=codebook["bonus_size"].columns())
    earlier = None
    if previous is not None:
        earlier = Wave(meta=replace(meta, wave=previous), responses=wave_2022.responses, codebook=codebook)
    ledger = claims.load_claims(ROOT / "data" / "claims" / "2022.yml", wave_2022.codebook)
    results = {}
    for claim, status in zip(ledger[:2], (claims.DOES_NOT_HOLD, claims.CANNOT_COMPUTE)):
        results[claim.id] = claims.ClaimResult(replace(claim, article_words=f"{value} words"), status,
                                               value_text=f"{value} value", allowed_text=f"{value} allowed",
                                               reason=f"{value} reason")
    return Chapter(wave=Wave(meta=meta, responses=frame, codebook=codebook), previous=earlier,
                   data_dir=ROOT / "data", _claims=results)


def _notes(chapter: Chapter) -> dict[str, str]:
    """Every Markdown output of the chapter's notes, by name (without an earlier wave, the last three are None)."""
    outputs = {
        "provenance": chapter.provenance_note(),
        "article check": chapter.article_check(*chapter.claim_results()),
        "not asked": chapter.wave_note("bonus_size"),
        "comparison": chapter.comparison_note(),
        "change": chapter.wave_note("downsides"),
        "not compared": chapter.wave_note(NOT_COMPARED),
    }
    return {name: output.data for name, output in outputs.items() if output is not None}


def _fields(codebook) -> list[str]:
    """What follows the injection in each value `_chapter` fills (the option labels end with their code)."""
    return (["provenance", "words", "value", "allowed", "reason", "wording", "short", "changed wording", "wave",
             "before"] + [o.code for q in codebook for o in q.options] + list(codebook.groups))


# (reconstructed, this wave's id, the earlier wave's id): the injection goes into the ids as well
WAVES = [(True, "{} wave", None), (False, "{} wave", "{} before")]
_PLAIN_NOTES: dict[tuple, dict[str, str]] = {}


def _wave_notes(wave_2022, words: str, reconstructed: bool, wave: str, previous: str | None) -> dict[str, str]:
    return _notes(_chapter(wave_2022, words, reconstructed=reconstructed, wave=wave.format(words),
                           previous=previous.format(words) if previous else None))


@pytest.mark.parametrize("value", INJECTIONS)
def test_every_note_of_a_chapter_keeps_data_as_text(wave_2022, value):
    for kind in WAVES:
        if kind not in _PLAIN_NOTES:  # the same for every injection: computed once
            _PLAIN_NOTES[kind] = _wave_notes(wave_2022, PLAIN, *kind)
        evil, plain = _wave_notes(wave_2022, value, *kind), _PLAIN_NOTES[kind]
        assert evil.keys() == plain.keys()
        for name, markdown in evil.items():
            values = [f"{value} {field}" for field in _fields(wave_2022.codebook) if f"{PLAIN} {field}" in text(plain[name])]
            assert values, name
            assert_inert(markdown, plain[name], values)


def test_the_notes_under_test_cover_every_kind_and_field(wave_2022):
    later = _notes(_chapter(wave_2022, PLAIN, reconstructed=False, wave="plain words wave", previous="plain words before"))
    assert set(later) == {"provenance", "article check", "not asked", "comparison", "change", "not compared"}
    shown = " ".join(text(markdown) for markdown in later.values())
    for field in ("provenance", "words", "value", "allowed", "reason", "wording", "short", "changed wording", "wave",
                  "before", "none", "overemphasises_sales"):
        assert f"{PLAIN} {field}" in shown, field


@pytest.mark.parametrize("value", INJECTIONS)
def test_the_questionnaire_keeps_codebook_words_and_codes_as_text(codebook, value):
    sources = {q.asked_of.question for q in codebook if q.asked_of}  # their codes are referred to: left as they are

    def with_codes(book, prefix):
        return replace(book, questions=tuple(
            q if q.id in sources else replace(q, options=tuple(replace(o, code=f"{prefix}{i}")
                                                                for i, o in enumerate(q.options)))
            for q in book.questions))

    evil = questionnaire_markdown(with_codes(_evil_codebook(codebook, value), value), "2023", not_asked=["bonus_size"])
    plain = questionnaire_markdown(with_codes(_evil_codebook(codebook, PLAIN), "code"), "2023", not_asked=["bonus_size"])
    first = codebook.questions[0].options[0].code
    assert_inert(evil, plain, [f"{value} wording", f"{value} changed wording", f"{value} note", f"{value} {first}"])
    codes = [t.content for t in _tokens(evil) if t.type == "code_inline"]
    assert one_line(f"{value}0") in codes


def test_the_chapters_glue_text_only():
    """Title, source, population and the rest reach the prose through {glue:text} (inserted as text, never
    parsed) or as figures: no chapter uses a glue role that would parse its value as Markdown."""
    import nbformat

    roles = set()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                roles |= set(re.findall(r"\{(glue(?::\w+)?)\}", cell.source))
                roles |= set(re.findall(r"^[`:]{3,}\{(glue(?::\w+)?)\}", cell.source, re.MULTILINE))
    assert roles and roles <= {"glue:text", "glue:figure"}, roles
