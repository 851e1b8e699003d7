"""The briefing kit page in a real browser, offline: every link on it resolves on the built site, and each file of the
kit downloads, byte for byte the file the build made (Debian's chromium, network blocked, as in test_browser)."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

from kamsurvey.site import kit
from test_browser import Browser, server, tools  # noqa: F401 - the fixtures, shared with the other browser tests

pytestmark = pytest.mark.browser

KIT_PAGE = "briefing.html"
MAGIC = {".pptx": b"PK\x03\x04", ".zip": b"PK\x03\x04", ".pdf": b"%PDF-", ".html": b"<!DOCTYPE html>"}


@pytest.fixture(scope="module")
def browser(tools, server):  # noqa: F811 - this module's own session
    session = Browser(tools)
    yield session
    session.quit()


def test_every_link_of_the_kit_page_resolves_offline(browser, server, site):  # noqa: F811 - the fixture
    browser.open(server + KIT_PAGE, wait_for_charts=False)
    assert browser.errors() == [] and browser.external_requests(server) == [] and not browser.failed
    links = browser.js("return Array.from(document.querySelectorAll('main a[href]')).map(function (a) {"
                       " return [a.href, a.classList.contains('kam-kit-file')]; });")
    kit_files = sorted(p.name for p in (site / kit.KIT_DIR).iterdir())
    offered = [href for href, is_kit in links if is_kit]
    assert sorted(Path(urlparse(href).path).name for href in offered) == kit_files
    checked = 0
    for href, _ in links:
        url, fragment = urldefrag(href)
        if not url.startswith(server):
            continue
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, href
            data = response.read()
        suffix = Path(urlparse(url).path).suffix
        if suffix in MAGIC:
            assert data.lstrip().startswith(MAGIC[suffix]), href
        if fragment:
            assert f'id="{fragment}"'.encode() in data, href
        checked += 1
    assert checked >= len(kit_files) + 5  # the kit, the key findings' figures, How to cite


def test_each_file_of_the_kit_downloads_as_built(browser, server, site, tmp_path):  # noqa: F811 - the fixture
    from selenium.webdriver.common.by import By

    browser.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.open(server + KIT_PAGE, wait_for_charts=False)
    anchors = browser.driver.find_elements(By.CSS_SELECTOR, "a.kam-kit-file")
    assert anchors
    for anchor in anchors:
        name = Path(urlparse(anchor.get_attribute("href")).path).name
        browser.js("arguments[0].scrollIntoView({block: 'center'})", anchor)
        anchor.click()
        target = tmp_path / name
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (target.exists() and not list(tmp_path.glob("*.crdownload"))):
            time.sleep(0.1)
        assert target.read_bytes() == (site / kit.KIT_DIR / name).read_bytes(), name
    browser.drain()
    assert browser.external_requests(server) == []
