"""A new wave's pages on a phone, in a real browser: the 390 px check of `test_browser` on a synthetic wave.

The wave differs from 2022 in what moves a layout: its size, its sector mix, a question left out (bonus_size),
original answers (no marks), other leading answers (other finding titles). The book is copied, the wave added
and registered as the current edition, its chapters executed (`kam chapters`) and the copy built as
`make html` would, once for this module.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kamsurvey.build import website
from kamsurvey.report import marks
from test_browser import Browser, QuietHandler, assert_fits_a_phone, phone_layout, tools  # noqa: F401 (fixture)
from wavekit import ROOT, write_synthetic_wave

pytestmark = pytest.mark.browser

WAVE = "2031"
BIN = Path(sys.executable).parent


def _run(args: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KAM_EDITION")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def synthetic_site(tmp_path_factory) -> Path:
    book = website.copy_sources(ROOT, tmp_path_factory.mktemp("wave") / "book")
    write_synthetic_wave(book / "data", WAVE, n=243, seed=31, omit=["bonus_size"], pharma_share=0.3)
    register = book / "data" / "editions.yml"
    register.write_text(register.read_text(encoding="utf-8")
                        + f'  - wave: "{WAVE}"\n    title: "{WAVE} survey (synthetic)"\n    compare_with: null\n',
                        encoding="utf-8")
    _run([str(BIN / "kam"), "chapters", "--book", str(book), "--wave", WAVE, "--compare-with", ""], book)
    _run([str(BIN / "jupyter-book"), "build", str(book), "--path-output", str(book), "-W", "-n", "--keep-going"], book)
    return book / "_build" / "html"


@pytest.fixture(scope="module")
def synthetic_server(synthetic_site):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(QuietHandler, directory=str(synthetic_site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def wave_browser(tools, synthetic_server):  # noqa: F811 (tools is test_browser's fixture)
    session = Browser(tools)
    yield session
    session.quit()


def test_a_synthetic_waves_pages_fit_a_phone_screen(wave_browser, synthetic_server, synthetic_site):
    pages = ["index.html"] + sorted(str(p.relative_to(synthetic_site)) for p in (synthetic_site / "chapters").glob("*.html"))
    charts = 0
    for page in pages:
        layout = phone_layout(wave_browser, synthetic_server + page)
        assert_fits_a_phone(layout, page)
        charts += len(layout["charts"])
    assert charts >= 13


def test_a_synthetic_wave_of_original_answers_shows_no_mark(synthetic_site):
    """No class column, key, range or 'not published' words in any figure of the built pages or its downloads
    (the questionnaire may still say that a question's wording is reconstructed: that is the codebook's)."""
    marked = (f'<th scope="col">{marks.TABLE_HEADER}</th>', *marks.LEGEND_WORDS.values(), "not published",
              "Not published by the article", marks.NO_INTERVAL)
    downloads = [p for p in (synthetic_site / "figures").iterdir() if p.suffix in (".csv", ".svg", ".txt")]
    pages = [synthetic_site / "index.html"] + sorted((synthetic_site / "chapters").glob("*.html"))
    blocks = {f"{page.name} #{i}": block for page in pages for i, block in enumerate(
        re.findall(r'<div class="kam-figure".*?(?:</figure>|kam-headline-link)', page.read_text(encoding="utf-8"), re.S))}
    assert len(blocks) >= 14 and len(downloads) > 20
    texts = blocks | {path.name: path.read_text(encoding="utf-8-sig") for path in downloads}
    for name, text in texts.items():
        assert not any(words in text for words in marked), (name, [w for w in marked if w in text])
