"""The copy button of "Cite this figure", in a real browser, from a file:// page with no network.

A page holding one figure's citation block (kamsurvey.site.citehtml) and the site's own kam.js
and kam.css is opened from disk in Debian's headless chromium: the buttons appear once kam.js
has run, are named by their text, pass axe, copy the reference (pasted back into a text box)
and announce "Copied" in the block's status line.

Locally the test skips, saying why, when chromium, chromedriver or axe-core is missing; with
CI=true it fails instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from book import ROOT
from kamsurvey.report import citation, citeformats
from kamsurvey.site import citehtml, sphinx_ext

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--window-size=1280,900", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9")


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser test cannot run in CI: {reason}")
    pytest.skip(f"browser test skipped: {reason}")


@pytest.fixture(scope="module")
def driver():
    chromium = shutil.which(os.environ.get("CHROMIUM", "") or "chromium")
    chromedriver = shutil.which(os.environ.get("CHROMEDRIVER", "") or "chromedriver")
    if not chromium or not chromedriver:
        _unavailable("no chromium/chromedriver found (Debian: apt-get install chromium chromium-driver)")
    if not AXE.exists():
        _unavailable(f"axe-core not installed ({AXE.relative_to(ROOT)} missing: run `npm ci`)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="kam-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS + (f"--user-data-dir={profile}",):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(chromedriver), options=options)
    yield session
    session.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, dict]:
    """A page with the 2022 edition's citation of one figure, kam.js and kam.css beside it, as on the site."""
    folder = tmp_path_factory.mktemp("copy")
    (folder / "_static").mkdir()
    for name in ("kam.js", "kam.css"):
        shutil.copy(sphinx_ext.STATIC_DIR / name, folder / "_static" / name)
    book = citation.load_citation(ROOT)
    edition = book.current
    item = citation.figure_item(book, edition, label="Figure 2.3", title="Which factor receives the most attention?",
                                url=f"{edition.url}chapters/assessing-performance.html#fig-most-important",
                                fig_id="fig-most-important")
    block = citehtml.figure_cite_html(item, "fig-most-important").replace("<details ", "<details open ", 1)
    (folder / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Copy a reference</title>'
        '<link rel="stylesheet" href="_static/kam.css"><script defer src="_static/kam.js"></script></head>'
        f'<body><main><h1>A figure</h1>{block}<label for="paste">Pasted</label><textarea id="paste"></textarea>'
        "</main></body></html>", encoding="utf-8")
    return folder / "index.html", item


def wait_for(condition, seconds: float = 5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


def test_copy_button_copies_the_reference_and_says_so(driver, page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, item = page
    driver.get(path.as_uri())
    wait_for(lambda: driver.execute_script("return document.readyState") == "complete")
    buttons = driver.find_elements(By.CSS_SELECTOR, "button.kam-copy")
    assert [b.text for b in buttons] == ["Copy APA 7 reference", "Copy Harvard reference"]
    assert all(b.is_displayed() and b.get_attribute("aria-label") is None for b in buttons)

    driver.execute_script(AXE.read_text(encoding="utf-8"))
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => v.id)))"
        ".catch(e => done(['axe-error: ' + e]));")
    assert violations == []

    status = driver.find_element(By.CSS_SELECTOR, ".kam-copy-status")
    assert status.get_attribute("role") == "status" and status.text == ""
    buttons[0].click()
    assert wait_for(lambda: status.text == "Copied"), status.text
    box = driver.find_element(By.ID, "paste")
    box.click()
    box.send_keys(Keys.CONTROL, "v")
    pasted = wait_for(lambda: box.get_attribute("value"))
    assert " ".join(pasted.split()) == citeformats.text(item, "apa")
