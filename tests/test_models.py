"""The four YAML inputs through their pydantic models (kamsurvey.data.yamlfile).

The 2022 files load to exactly what they say; a bad file is refused with a message naming the
file, the line, the key and what was expected: a wrong type, a missing key, an unknown
(misspelt) key and a reference to something that does not exist, for each of the four files.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from conftest import DATA
from kamsurvey.analysis.claims import Claim, ClaimsError, ClaimResult, load_claims
from kamsurvey.data import editions, yamlfile
from kamsurvey.data.codebook import Codebook, CodebookError, load_codebook
from kamsurvey.data.editions import Edition, EditionsError, load_editions
from kamsurvey.data.wavemeta import check_meta, meta_from_mapping, read_meta_file
from kamsurvey.data.waves import read_meta

LEDGER = DATA / "claims" / "2022.yml"


def line_of(text: str, snippet: str) -> int:
    """The line (1-based) of the only line of `text` containing `snippet`."""
    found = [number for number, line in enumerate(text.splitlines(), start=1) if snippet in line]
    assert len(found) == 1, (snippet, found)
    return found[0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ the 2022 files load to what they say


def test_the_codebook_holds_what_its_file_says(codebook):
    raw = yaml.safe_load((DATA / "codebook.yml").read_text(encoding="utf-8"))
    by_id = {entry["id"]: entry for entry in raw["questions"]}
    for entry, question in zip(raw["questions"], codebook, strict=True):
        source = by_id[entry["options_from"]] if "options_from" in entry else entry
        assert (question.id, question.number, question.type, question.short_title) == (
            entry["id"], entry["number"], entry["type"], entry["short_title"])
        assert question.wording == " ".join(entry["wording"].split())
        assert question.note == entry.get("note") and question.reconstructed == entry.get("reconstructed", False)
        assert question.answer_among == entry.get("answer_among")
        asked_of = entry.get("asked_of")
        assert question.asked_of == (None if asked_of is None else type(question.asked_of)(**asked_of))
        assert [dataclasses.astuple(option) for option in question.options] == [
            (str(o["code"]), o["label"], o.get("group"), o.get("exclusive", False), o.get("reconstructed", False),
             o.get("since"), o.get("score")) for o in source["options"]]
    assert codebook.survey == raw["survey"] and codebook.groups == raw["groups"]
    assert [(r.id, r.if_.question, r.if_.option, r.forbids.question, r.forbids.option, r.message) for r in codebook.rules] == [
        (r["id"], r["if"]["question"], r["if"]["option"], r["forbids"]["question"], r["forbids"]["option"], r["message"])
        for r in raw["rules"]]


def test_no_dead_names():
    assert "publisher" not in {f.name for f in dataclasses.fields(Codebook)}
    assert not hasattr(ClaimResult, "holds")


def test_the_ledger_holds_what_its_file_says(codebook):
    raw = yaml.safe_load(LEDGER.read_text(encoding="utf-8"))["claims"]
    for entry, claim in zip(raw, load_claims(LEDGER, codebook), strict=True):
        for key in ("id", "question", "measure", "group", "top", "field"):
            assert getattr(claim, key) == entry.get(key), (claim.id, key)
        for key in ("section", "article_words", "reading", "vacuous", "loose"):
            assert getattr(claim, key) == (" ".join(entry[key].split()) if key in entry else None), (claim.id, key)
        for key in ("options", "options_except", "groups"):
            assert getattr(claim, key) == (tuple(entry[key]) if key in entry else None), (claim.id, key)
        assert claim.within == entry.get("within")
        ranks = entry.get("ranks")
        assert claim.ranks == (None if ranks is None else (ranks, ranks) if isinstance(ranks, int) else tuple(ranks))
        versus = {k: tuple(v) if isinstance(v, list) else v for k, v in (entry.get("versus") or {}).items()}
        assert claim.versus == (versus or None)
        allowed = {k: getattr(claim.allowed, k) for k in ("min", "max", "min_exclusive", "max_exclusive", "equals", "options")}
        assert {k: v for k, v in allowed.items() if v is not None} == {
            k: tuple(v) if isinstance(v, list) else v for k, v in entry["allowed"].items()}, claim.id


def test_the_register_and_wave_yml_hold_what_their_files_say():
    raw = yaml.safe_load((DATA / "editions.yml").read_text(encoding="utf-8"))["editions"]
    assert load_editions(DATA) == [Edition(str(e["wave"]), e["title"], e["compare_with"]) for e in raw]
    meta = yaml.safe_load((DATA / "waves" / "2022" / "wave.yml").read_text(encoding="utf-8"))
    loaded = read_meta(DATA, "2022")
    assert (loaded.wave, loaded.title, loaded.n, loaded.provenance, loaded.published) == (
        meta["wave"], meta["title"], meta["n"], meta["provenance"], meta["published"])
    assert (loaded.fieldwork_start, loaded.fieldwork_end) == (meta["fieldwork"]["start"], meta["fieldwork"]["end"])
    assert loaded.population == meta["population"].strip() and loaded.provenance_note == " ".join(meta["provenance_note"].split())
    assert meta_from_mapping(meta) == loaded


# ------------------------------------------------------------------ the codebook

CODEBOOK = """\
survey: Test survey
groups:
  price_group: About price
questions:
  - id: liked
    type: single
    wording: Did you like it?
    options:
      - {code: yes_liked, label: "Yes"}
      - {code: not_liked, label: "No"}
  - id: reasons
    type: multi
    wording: Why?
    asked_of: {question: liked, option: yes_liked}
    options:
      - {code: price, label: Price, group: price_group}
      - {code: none, label: None of these, exclusive: true}
"""


def codebook_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, "codebook.yml", text)
    with pytest.raises(CodebookError) as caught:
        load_codebook(path)
    return str(caught.value)


def test_a_good_codebook_loads(tmp_path):
    codebook = load_codebook(write(tmp_path, "codebook.yml", CODEBOOK))
    assert codebook.ids() == ["liked", "reasons"] and [q.number for q in codebook] == [1, 2]
    assert codebook["reasons"].exclusive_codes() == ["none"]


def test_codebook_wrong_type(tmp_path):
    text = CODEBOOK.replace("exclusive: true", "exclusive: maybe")
    message = codebook_error(tmp_path, text)
    line = line_of(text, "exclusive: maybe")
    assert message == (f"{tmp_path / 'codebook.yml'}, line {line}, key questions[1].options[1].exclusive: "
                       "got 'maybe'; expected true or false")


def test_codebook_missing_key(tmp_path):
    text = CODEBOOK.replace("    wording: Why?\n", "")
    message = codebook_error(tmp_path, text)
    assert message == (f"{tmp_path / 'codebook.yml'}, line {line_of(text, 'id: reasons')}, key questions[1].wording: "
                       "required key missing: expected the exact wording shown to respondents")


def test_codebook_misspelt_key(tmp_path):
    text = CODEBOOK.replace("wording: Why?", "wordng: Why?")
    message = codebook_error(tmp_path, text)
    assert f"line {line_of(text, 'wordng')}, key questions[1].wordng: unknown key (a misspelling of 'wording'?)" in message
    assert "key questions[1].wording: required key missing" in message
    assert message.startswith(f"2 problems in {tmp_path / 'codebook.yml'}:")


def test_codebook_bad_reference(tmp_path):
    text = CODEBOOK.replace("option: yes_liked", "option: yes_please")
    message = codebook_error(tmp_path, text)
    assert message == (f"{tmp_path / 'codebook.yml'}, line {line_of(text, 'asked_of')}, key questions[1].asked_of.option: "
                       "'liked' has no option 'yes_please': expected one of its codes: yes_liked, not_liked")


def test_codebook_duplicate_code(tmp_path):
    text = CODEBOOK.replace("code: not_liked", "code: yes_liked")
    line = line_of(text, 'label: "No"')
    assert codebook_error(tmp_path, text) == (
        f"{tmp_path / 'codebook.yml'}, line {line}, key questions[0].options[1].code: "
        "duplicate option codes: got 'yes_liked'; expected a code no other option of question 'liked' has (options[0] has it)")


def test_codebook_an_unquoted_no_is_not_text(tmp_path):
    text = CODEBOOK.replace('label: "No"', "label: No")
    assert codebook_error(tmp_path, text) == (
        f"{tmp_path / 'codebook.yml'}, line {line_of(text, 'label: No}')}, key questions[0].options[1].label: "
        "YAML reads unquoted yes, no, on, off as true or false; quote text: got False; expected the option's label, as text")


def test_codebook_not_yaml_or_missing(tmp_path):
    assert codebook_error(tmp_path, "questions: [unclosed\n").startswith(f"{tmp_path / 'codebook.yml'}, line 2: not YAML")
    with pytest.raises(CodebookError, match="file not found"):
        load_codebook(tmp_path / "nowhere.yml")


# ------------------------------------------------------------------ wave.yml

WAVE_YML = (DATA / "waves" / "2022" / "wave.yml").read_text(encoding="utf-8")


def wave_problems(tmp_path: Path, text: str, n_rows: int = 112) -> list:
    path = write(tmp_path / "2022", "wave.yml", text)
    raw, problems, lines = read_meta_file(path)
    assert problems == []
    return [str(p) for p in check_meta(raw, file=str(path), wave_dir_name="2022", n_rows=n_rows, key_lines=lines)]


def test_the_2022_wave_yml_has_no_problems(tmp_path):
    assert wave_problems(tmp_path, WAVE_YML) == []


def test_wave_yml_wrong_type(tmp_path):
    text = WAVE_YML.replace("n: 112", "n: many")
    assert wave_problems(tmp_path, text) == [
        f"{tmp_path / '2022' / 'wave.yml'}, line {line_of(text, 'n: many')}, key n: got 'many'; "
        "expected the number of respondents, a whole number"]


def test_wave_yml_missing_key(tmp_path):
    text = WAVE_YML.replace("  end: 2022-09-30\n", "")
    assert wave_problems(tmp_path, text) == [
        f"{tmp_path / '2022' / 'wave.yml'}, line {line_of(text, 'fieldwork:')}, key fieldwork.end: required key missing: "
        "expected an ISO date (YYYY-MM-DD)"]


def test_wave_yml_misspelt_and_unknown_keys(tmp_path):
    text = WAVE_YML.replace("provenance_note:", "provenance_nte:") + "colour: blue\n"
    problems = wave_problems(tmp_path, text)
    file = tmp_path / "2022" / "wave.yml"
    assert (f"{file}, line {line_of(text, 'provenance_nte')}, key provenance_nte: unknown key (a misspelling of "
            "'provenance_note'?): expected 'provenance_note'") in problems
    assert f"{file}, key provenance_note: required key missing: expected how the data was obtained or reconstructed, as text" in problems
    assert any(p.startswith(f"{file}, line {line_of(text, 'colour')}, key colour: unknown key: expected one of the keys wave, title")
               for p in problems)


def test_wave_yml_bad_reference(tmp_path):
    text = WAVE_YML.replace('wave: "2022"', 'wave: "2021"')
    assert wave_problems(tmp_path, text, n_rows=100) == [
        f"{tmp_path / '2022' / 'wave.yml'}, line {line_of(text, 'wave: ')}, key wave: got '2021'; "
        "expected '2022', the name of the wave's directory",
        f"{tmp_path / '2022' / 'wave.yml'}, line {line_of(text, 'n: 112')}, key n: n does not match the data: got 112; "
        "expected 100, the number of respondent lines in responses.csv"]


def test_wave_yml_a_date_and_time_is_not_a_date(tmp_path):
    text = WAVE_YML.replace("published: 2026-11-26", "published: 2026-11-26 10:00:00")
    assert wave_problems(tmp_path, text) == [
        f"{tmp_path / '2022' / 'wave.yml'}, line {line_of(text, 'published: 2026')}, key published: bad date: "
        "got datetime.datetime(2026, 11, 26, 10, 0); expected an ISO date (YYYY-MM-DD)"]


# ------------------------------------------------------------------ the editions register

REGISTER = """\
# Published editions, oldest first.
editions:
  - wave: "2022"
    title: "2022 survey"
    compare_with: null
  - wave: "2023"
    title: "2023 survey"
    compare_with: "2022"
"""


def editions_error(tmp_path: Path, text: str) -> str:
    write(tmp_path, "editions.yml", text)
    with pytest.raises(EditionsError) as caught:
        load_editions(tmp_path)
    return str(caught.value)


def test_a_good_register_loads(tmp_path):
    assert load_editions(write(tmp_path, "editions.yml", REGISTER).parent) == [
        Edition("2022", "2022 survey"), Edition("2023", "2023 survey", "2022")]


def test_register_wrong_type(tmp_path):
    text = REGISTER.replace('title: "2023 survey"', "title: [2023, survey]")
    assert editions_error(tmp_path, text) == (
        f"{tmp_path / 'editions.yml'}, line {line_of(text, 'title: [')}, key editions[1].title: got [2023, 'survey']; "
        "expected the edition's title, as text")


def test_register_missing_key(tmp_path):
    text = REGISTER.replace('  - wave: "2023"\n    title', "  - title")
    assert editions_error(tmp_path, text) == (
        f"{tmp_path / 'editions.yml'}, line {line_of(text, '- title')}, key editions[1].wave: required key missing: "
        "expected the wave's id, the name of its folder under data/waves/ (e.g. '2022')")


def test_register_misspelt_key(tmp_path):
    text = REGISTER.replace('compare_with: "2022"', 'compare_wiht: "2022"')
    assert editions_error(tmp_path, text) == (
        f"{tmp_path / 'editions.yml'}, line {line_of(text, 'compare_wiht')}, key editions[1].compare_wiht: "
        "unknown key (a misspelling of 'compare_with'?): expected 'compare_with'")


def test_register_bad_reference_and_duplicate(tmp_path):
    text = REGISTER.replace('compare_with: "2022"', 'compare_with: "2021"')
    assert editions_error(tmp_path, text) == (
        f"{tmp_path / 'editions.yml'}, line {line_of(text, '2021')}, key editions[1].compare_with: not an earlier edition: "
        "got '2021'; expected null, or one of the waves listed before it: 2022")
    text = REGISTER.replace('wave: "2023"', "wave: 2022")
    assert editions_error(tmp_path, text) == (
        f"{tmp_path / 'editions.yml'}, line {line_of(text, 'wave: 2022')}, key editions[1].wave: an edition is listed "
        "twice: got 2022; expected a wave no other edition has (editions[0] has it)")


def test_registering_names_the_line_of_the_edition_already_there():
    line = line_of(REGISTER, 'wave: "2023"')
    with pytest.raises(EditionsError, match=re.escape(f"data/editions.yml, line {line}: edition '2023' is already registered")):
        editions.register_text(REGISTER, Edition("2023", "again"))
    with pytest.raises(EditionsError, match="key editions: got \\[\\]; expected a list of editions, oldest first"):
        editions.register_text("editions: []\n", Edition("2024", "new"))


# ------------------------------------------------------------------ the claims ledger

LEDGER_TEXT = """\
wave: "2022"
claims:
  - id: sales_first
    section: Assessing performance
    article_words: Nearly 60% say it is sales
    question: most_important
    measure: share_of_respondents
    options: [sales]
    allowed: {min: 0.55, max_exclusive: 0.6}
    reading: Example.
  - id: a_tautology
    section: Assessing performance
    article_words: Everybody answered
    question: null
    measure: respondents
    allowed: {min: 0}
    reading: Any wave has at least no respondents.
    vacuous: >-
      A count of respondents is never negative.
    loose: The words give no number.
"""


def claims_error(tmp_path: Path, codebook, text: str) -> str:
    path = write(tmp_path, "claims.yml", text)
    with pytest.raises(ClaimsError) as caught:
        load_claims(path, codebook)
    return str(caught.value)


def test_a_good_ledger_loads_with_its_notes(tmp_path, codebook):
    first, second = load_claims(write(tmp_path, "claims.yml", LEDGER_TEXT), codebook)
    assert isinstance(first, Claim) and first.options == ("sales",) and first.allowed.max_exclusive == 0.6
    assert first.vacuous is None and first.loose is None
    assert second.vacuous == "A count of respondents is never negative." and second.loose == "The words give no number."


def test_ledger_wrong_type(tmp_path, codebook):
    text = LEDGER_TEXT.replace("min: 0.55", "min: lots")
    assert claims_error(tmp_path, codebook, text) == (
        f"{tmp_path / 'claims.yml'}, line {line_of(text, 'min: lots')}, claim 'sales_first', key allowed.min: "
        "got 'lots'; expected a number (a share as a fraction: 0.15 is 15%)")


def test_ledger_missing_key(tmp_path, codebook):
    text = LEDGER_TEXT.replace("    reading: Example.\n", "")
    assert claims_error(tmp_path, codebook, text) == (
        f"{tmp_path / 'claims.yml'}, line {line_of(text, 'id: sales_first')}, claim 'sales_first', key reading: "
        "required key missing: expected how the words were turned into the range, as text")


def test_ledger_misspelt_key(tmp_path, codebook):
    text = LEDGER_TEXT.replace("    loose:", "    lose:")
    assert claims_error(tmp_path, codebook, text) == (
        f"{tmp_path / 'claims.yml'}, line {line_of(text, 'lose:')}, claim 'a_tautology', key lose: "
        "unknown key (a misspelling of 'loose'?): expected 'loose'")


def test_ledger_bad_references(tmp_path, codebook):
    text = LEDGER_TEXT.replace("options: [sales]", "options: [salez]\n    within: {sector: pharmaceuticals}")
    message = claims_error(tmp_path, codebook, text)
    assert message.startswith(f"2 problems in {tmp_path / 'claims.yml'}:")
    assert (f"line {line_of(text, 'salez')}, claim 'sales_first', key options[0]: question 'most_important' has no "
            "option 'salez': expected one of its codes: sales, customer_profitability") in message
    assert (f"line {line_of(text, 'within')}, claim 'sales_first', key within.sector: question 'sector' has no option "
            "'pharmaceuticals': expected one of its codes: pharma, other") in message


def test_ledger_a_vacuous_note_must_be_text(tmp_path, codebook):
    text = LEDGER_TEXT.replace("    loose: The words give no number.", "    loose: 3")
    assert claims_error(tmp_path, codebook, text) == (
        f"{tmp_path / 'claims.yml'}, line {line_of(text, 'loose: 3')}, claim 'a_tautology', key loose: got 3; "
        "expected why the range is looser than the words might suggest, as text")


def test_ledger_not_a_ledger(tmp_path, codebook):
    assert claims_error(tmp_path, codebook, "- just a list\n") == (
        f"{tmp_path / 'claims.yml'}: not a mapping (got a list): expected a YAML mapping of keys: claims")


# ------------------------------------------------------------------ the shared reader


def test_lines_of_every_key_path_and_key_text():
    document = yamlfile.parse("a:\n  b:\n    - x\n    - {c: 1}\n2022: old\n", "f.yml", expected="anything")
    assert document.line(("a", "b", 1, "c")) == 4 and document.line(("a", "b", 1, "missing")) == 4
    assert document.line((2022,)) == 5 and document.value(("a", "b", 1, "c")) == 1
    assert yamlfile.key_text(("questions", 3, "options", 0, "code")) == "questions[3].options[0].code"
