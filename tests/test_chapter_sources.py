"""Conventions every chapter keeps, checked on the committed notebooks."""

from __future__ import annotations

import re

import nbformat
import pytest

from book import ROOT, chapter_notebooks, markdown_sources

NOTEBOOKS = chapter_notebooks()
HIDING_TAGS = {"hide-input", "remove-input", "remove-cell"}
PARAMETERS = {"wave", "data_dir", "compare_with"}


def _id(path):
    return path.stem


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_parameters_cell_is_tagged_and_removed_from_the_page(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell tagged 'parameters'"
    assert "remove-cell" in tagged[0].metadata["tags"]
    names = set(re.findall(r"^(\w+)\s*=", tagged[0].source, re.MULTILINE))
    assert PARAMETERS <= names, f"{path.name}: parameters cell must define {sorted(PARAMETERS)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_code_is_hidden_from_readers(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert HIDING_TAGS & set(cell.metadata.get("tags", [])), f"{path.name} cell {index}: code shown by default"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_committed_outputs_are_free_of_errors_timestamps_and_paths(path):
    nb = nbformat.read(path, as_version=4)
    assert set(nb.metadata.get("papermill", {})) <= {"parameters"}, f"{path.name}: papermill metadata not stripped"
    for cell in nb.cells:
        assert "execution" not in cell.metadata
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{path.name}: an error is stored as output"
            assert output.get("name") != "stderr", f"{path.name}: stderr output {output.get('text', '')[:200]!r}"
    text = path.read_text(encoding="utf-8")
    assert str(ROOT) not in text, f"{path.name}: contains an absolute path of this machine"


@pytest.mark.parametrize("document", sorted(markdown_sources()))
def test_figures_are_numbered_and_referenced(document):
    source = markdown_sources()[document]
    for match in re.finditer(r"```\{glue:figure\} (\S+)\n:name: (\S+)", source):
        key, name = match.groups()
        assert key == name and name.startswith("fig-"), f"{document}: figure {key!r} must be named like its key, fig-…"
        assert f"{{numref}}`{name}`" in source, f"{document}: figure {name} is never referenced with {{numref}}"
    assert not re.search(r"(chart|figure|graph) (below|above)", source, re.IGNORECASE), f"{document}: say 'Figure n', not 'the chart below'"


def test_a_statement_that_cannot_be_re_tested_is_quoted_without_its_brackets_and_with_paired_quotes():
    from kamsurvey import Chapter

    ch = Chapter.load(wave="2022", data_dir=str(ROOT / "data"))
    note = ch.article_check("reward_basis_sales_most_common", "bonus_20_plus_fewer_in_pharma").data
    assert "*‘fewer in pharma’*" in note and "‘\\\\(" not in note
    assert "*‘the response is overwhelmingly “sales”’*" in note
