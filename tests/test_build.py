"""The book builds with warnings as errors, its pages hold their charts, and nothing loads from another host."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from book import ROOT, chapter_notebooks
from sitecheck import external, external_loads, loaded_resources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


def test_landing_page_and_every_chapter_are_built(site):
    assert (site / "index.html").exists()
    for notebook in chapter_notebooks():
        assert (site / notebook.relative_to(ROOT).with_suffix(".html")).exists(), notebook


def test_landing_page_shows_key_findings_with_links_to_figures(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "Key findings" in html
    assert 'href="chapters/assessing-performance.html#fig-most-important"' in html


def test_chapter_contains_its_charts(site):
    html = (site / "chapters" / "assessing-performance.html").read_text(encoding="utf-8")
    for fig in ("fig-targets-set", "fig-assessment-basis", "fig-most-important"):
        assert f'id="{fig}"' in html
        assert f'data-kam-figure="{fig}"' in html
    assert html.count('<div class="kam-static" aria-hidden="true"><svg') == 3
    assert html.count('<script type="application/json" class="kam-spec">') == 3


def test_every_figure_has_its_downloads(site):
    for fig in ("fig-most-important", "fig-reflects-job", "fig-bonus-size-sector"):
        for ext in ("csv", "svg", "png"):
            path = site / "figures" / f"{fig}.{ext}"
            assert path.exists() and path.stat().st_size > 0, path


def test_no_page_loads_anything_from_another_host(site):
    assert external_loads(site) == {}


def test_vega_is_served_from_the_site_itself(site):
    html = (site / "chapters" / "assessing-performance.html").read_text(encoding="utf-8")
    scripts = [url for tag, url in loaded_resources(html) if tag == "script"]
    assert any(url.startswith("../_static/vega-bundle.js") for url in scripts)
    assert (site / "_static" / "vega-bundle.js").stat().st_size > 100_000


def test_the_external_check_can_fail(tmp_path):
    page = '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script><link rel="stylesheet" href="//fonts.example/x.css">'
    assert [external(url) for _, url in loaded_resources(page)] == [True, True]
    (tmp_path / "a.html").write_text('<script src="_static/local.js"></script>')
    (tmp_path / "b.css").write_text('a{background:url("data:image/svg+xml;utf8,<svg xmlns=\'http://www.w3.org/2000/svg\'/>")}'
                                    '@import "https://fonts.example/f.css";')
    assert external_loads(tmp_path) == {"b.css": ["https://fonts.example/f.css"]}
