"""The built site in a real browser: Debian's chromium, headless, driven by Selenium and chromedriver.

The site is served from 127.0.0.1 by a local http.server. Outbound network is blocked
twice over (every host name resolves to nothing except 127.0.0.1, and any other
traffic goes to a proxy on a dead port), and every request the browser makes is
recorded from its DevTools network events, so "no request to another host" is
measured, not assumed. The accessibility check injects axe-core from node_modules
(`npm ci`, pinned in package-lock.json).

Locally the tests skip, saying why, when chromium, chromedriver or axe-core is
missing; with CI=true they fail instead.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import re
import shutil
import struct
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from book import ROOT

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "_build" / "screenshots"
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools", "file"}
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--window-size=1280,900",
    # outbound network blocked: no name resolves but the local server's, and anything else hits a dead proxy
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
)


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


def _find(*candidates: str) -> str | None:
    for name in candidates:
        path = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK) else None)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def tools() -> dict[str, str]:
    chromium = _find(os.environ.get("CHROMIUM", "") or "chromium", "/usr/bin/chromium", "chromium-browser")
    driver = _find(os.environ.get("CHROMEDRIVER", "") or "chromedriver", "/usr/bin/chromedriver")
    if not chromium or not driver:
        _unavailable("no chromium/chromedriver found (Debian: apt-get install chromium chromium-driver)")
    if not AXE.exists():
        _unavailable(f"axe-core not installed ({AXE.relative_to(ROOT)} missing: run `npm ci`)")
    return {"chromium": chromium, "driver": driver}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """What `make serve` serves, without a log line per request."""

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class Browser:
    """A chromium session that records the console and every network request."""

    def __init__(self, tools: dict[str, str]) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="kam-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = tools["chromium"]
        for flag in CHROMIUM_FLAGS + (f"--user-data-dir={self.profile}",):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(tools["driver"]), options=options)
        self.driver.set_script_timeout(60)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.console: list[dict] = []

    def drain(self) -> None:
        """Move the browser's pending log entries into `requests`, `failed` and `console`."""
        ids = {}
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent":
                ids[params["requestId"]] = params["request"]["url"]
                self.requests.append(params["request"]["url"])
            elif message["method"] == "Network.webSocketCreated":
                self.requests.append(params["url"])
            elif message["method"] == "Network.loadingFailed":
                self.failed.append(ids.get(params["requestId"], params["requestId"]))
        self.console += self.driver.get_log("browser")

    def reset(self) -> None:
        self.drain()
        self.requests, self.failed, self.console = [], [], []

    def open(self, url: str, *, wait_for_charts: bool = True) -> None:
        self.reset()
        self.driver.get(url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = self.driver.execute_script(
                "return [document.readyState, document.querySelectorAll('.kam-figure').length,"
                " document.querySelectorAll('.kam-figure.kam-ready, .kam-figure.kam-failed').length]")
            if state[0] == "complete" and (not wait_for_charts or state[1] == state[2]):
                break
            time.sleep(0.1)
        time.sleep(0.3)  # late requests (fonts, editions index) and console messages
        self.drain()

    def external_requests(self, origin: str) -> list[str]:
        return [url for url in self.requests
                if urlparse(url).scheme not in LOCAL_SCHEMES and not url.startswith(origin)]

    def errors(self) -> list[str]:
        return [entry["message"] for entry in self.console if entry["level"] == "SEVERE"]

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def quit(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(tools, server):
    session = Browser(tools)
    yield session
    session.quit()


def site_pages(site: Path) -> list[str]:
    """The site's pages (not the theme's template snippets under _static)."""
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "_static")


def figure_pages(site: Path) -> list[str]:
    return [p for p in site_pages(site) if 'data-kam-figure="' in (site / p).read_text(encoding="utf-8")]


def pytest_generate_tests(metafunc):
    """One test per page of the book (from _toc.yml, plus the theme's search and index pages),
    known before the site is built."""
    if "page" in metafunc.fixturenames:
        from book import toc_files

        pages = ["index.html"] + [f"{name}.html" for name in toc_files() if name != "index"]
        metafunc.parametrize("page", pages + ["search.html", "genindex.html"])


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]}).then(function (result) {
  done(result.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(" ") + " :: " + n.failureSummary; })};
  }));
}).catch(function (error) { done([{id: "axe-error", impact: "critical", help: String(error), nodes: []}]); });
"""


def test_page_loads_cleanly_renders_its_charts_and_passes_axe(browser, server, site, page):
    browser.open(server + page)
    assert browser.errors() == [], f"{page}: console errors"
    assert browser.external_requests(server) == [], f"{page}: requests to other hosts"
    assert not browser.failed, f"{page}: failed requests {browser.failed}"
    figures = browser.js("""
      return Array.from(document.querySelectorAll('.kam-figure')).map(function (f) {
        var svg = f.querySelector('.kam-interactive svg'), box = svg ? svg.getBoundingClientRect() : null;
        return {id: f.dataset.kamFigure, ready: f.classList.contains('kam-ready'),
                width: box ? box.width : 0, height: box ? box.height : 0,
                marks: svg ? svg.querySelectorAll('path, line, text, rect, circle').length : 0,
                staticShown: getComputedStyle(f.querySelector('.kam-static')).display !== 'none',
                interactiveShown: getComputedStyle(f.querySelector('.kam-interactive')).display !== 'none'};
      });""")
    expected = (site / page).read_text(encoding="utf-8").count('data-kam-figure="')
    assert len(figures) == expected
    for figure in figures:
        assert figure["ready"], figure
        assert figure["width"] > 200 and figure["height"] > 100 and figure["marks"] > 10, figure
        assert figure["interactiveShown"] and not figure["staticShown"], figure
    browser.js(AXE.read_text(encoding="utf-8"))
    violations = browser.driver.execute_async_script(AXE_RUN)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{page}: accessibility violations\n" + json.dumps(serious, indent=1)


def test_pages_fit_a_phone_screen(browser, server, page):
    browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        browser.open(server + page)
        layout = browser.js("""
          var root = document.documentElement;
          return {scroll: root.scrollWidth, client: root.clientWidth, body: document.body.scrollWidth,
                  charts: Array.from(document.querySelectorAll('.kam-figure')).map(function (f) {
                    var chart = f.querySelector('.kam-ready .kam-interactive svg') || f.querySelector('.kam-static svg');
                    return [f.dataset.kamFigure, chart.getBoundingClientRect().width, chart.getBoundingClientRect().right];
                  })};""")
    finally:
        browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert layout["client"] == PHONE["width"]
    assert layout["scroll"] <= layout["client"] and layout["body"] <= layout["client"], layout
    for figure_id, width, right in layout["charts"]:
        assert 0 < width <= PHONE["width"] and right <= PHONE["width"], (figure_id, width, right)


def test_outbound_requests_and_console_errors_are_recorded(browser, server):
    """The checks can fail: a request to another host is seen (and does not get through), a console error is seen."""
    browser.open(server + "index.html")
    assert browser.errors() == [] and browser.external_requests(server) == []
    browser.js("fetch('https://cdn.jsdelivr.net/npm/vega@5').catch(function () {});"
               "var img = new Image(); img.src = 'http://example.org/pixel.png'; document.body.appendChild(img);"
               "console.error('kam: a console error');")
    time.sleep(1.5)
    browser.drain()
    outside = browser.external_requests(server)
    assert "https://cdn.jsdelivr.net/npm/vega@5" in outside and "http://example.org/pixel.png" in outside
    assert set(outside) <= set(browser.failed)
    assert any("kam: a console error" in message for message in browser.errors())
    browser.reset()


def test_tooltip_shows_option_count_percentage_base_and_interval(browser, server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.open(server + "chapters/assessing-performance.html")
    figure = browser.driver.find_element(By.CSS_SELECTOR, '[data-kam-figure="fig-most-important"]')
    browser.js("arguments[0].scrollIntoView({block: 'center'})", figure)
    bar = figure.find_element(By.CSS_SELECTOR, '.kam-interactive svg path[aria-roledescription="bar"]')
    ActionChains(browser.driver).move_to_element(bar).perform()
    deadline = time.monotonic() + 5
    text = ""
    while time.monotonic() < deadline and not text:
        text = browser.js("var t = document.getElementById('vg-tooltip-element');"
                          "return t && t.classList.contains('visible') ? t.innerText : '';")
        time.sleep(0.1)
    assert text, "no tooltip on hover"
    fields = dict(browser.js("""return Array.from(document.querySelectorAll('#vg-tooltip-element tr'))
        .map(function (r) { return [r.querySelector('.key').textContent, r.querySelector('.value').textContent]; });"""))
    assert list(fields) == ["Option", "Count", "Percentage", "Base (n)", "95% interval"], text
    rows = browser.js("""return Array.from(arguments[0].querySelectorAll('.kam-data-table tbody tr'))
                           .map(function (r) { return Array.from(r.children).map(function (c) { return c.textContent; }); });""",
                      figure)
    row = next(r for r in rows if r[0] == fields["Option"])
    assert [fields["Count"], fields["Base (n)"], fields["Percentage"]] == [row[1], row[2], row[3]]
    assert fields["95% interval"].endswith("%") and "–" in fields["95% interval"]


def test_without_javascript_the_static_charts_show(browser, server):
    browser.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.open(server + "chapters/what-rewards.html", wait_for_charts=False)
        # scripts are off for the page; WebDriver's own evaluation still runs
        shown = browser.js("""return Array.from(document.querySelectorAll('.kam-figure')).map(function (f) {
            var svg = f.querySelector('.kam-static svg');
            return [svg.getBoundingClientRect().width, svg.getBoundingClientRect().height,
                    getComputedStyle(f.querySelector('.kam-interactive')).display,
                    f.querySelector('.kam-interactive').children.length];
          });""")
    finally:
        browser.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    assert shown and all(w > 200 and h > 100 and display == "none" and children == 0
                         for w, h, display, children in shown), shown


def test_print_uses_the_static_charts(browser, server):
    browser.open(server + "chapters/what-rewards.html")
    browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = browser.js("""return Array.from(document.querySelectorAll('.kam-figure')).map(function (f) {
            return [f.classList.contains('kam-ready'), getComputedStyle(f.querySelector('.kam-static')).display,
                    getComputedStyle(f.querySelector('.kam-interactive')).display,
                    getComputedStyle(f.querySelector('.kam-downloads')).display];
          });""")
    finally:
        browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert shown and all(ready and static != "none" and interactive == "none" and downloads == "none"
                         for ready, static, interactive, downloads in shown), shown


def _png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", data[16:20])[0]


def test_every_download_link_resolves_to_a_file_of_its_type(browser, server, site):
    checked = 0
    for page in figure_pages(site):
        browser.open(server + page)
        links = browser.js("return Array.from(document.querySelectorAll('a.kam-download'))"
                           ".map(function (a) { return [a.href, a.hasAttribute('download'), a.textContent]; });")
        assert links, page
        for href, has_download, label in links:
            assert href.startswith(server) and has_download, (page, href)
            with urllib.request.urlopen(href, timeout=10) as response:
                kind, data = response.headers.get_content_type(), response.read()
            assert data, href
            if href.endswith(".csv"):
                assert kind == "text/csv", href
                assert data.startswith(b"\xef\xbb\xbf"), href
                text = data.decode("utf-8-sig")
                assert text.splitlines()[0].startswith("Option") or text.splitlines()[0].startswith("Group"), href
                assert "respondent_id" not in text
            elif href.endswith(".txt"):
                assert kind == "text/plain" and data.decode("utf-8-sig").startswith("Figure "), href
            elif href.endswith(".svg"):
                assert kind == "image/svg+xml" and data.lstrip().startswith(b"<svg"), href
            elif href.endswith(".png"):
                assert kind == "image/png" and _png_width(data) >= 1600, href
            else:
                pytest.fail(f"unexpected download {href}")
            checked += 1
    assert checked >= 4 * 13


def test_code_is_hidden_with_a_toggle_per_cell(browser, server):
    from selenium.webdriver.common.by import By

    browser.open(server + "chapters/assessing-performance.html")
    toggles = browser.driver.find_elements(By.CSS_SELECTOR, "details.hide.above-input")
    assert toggles, "no code toggles"
    first = toggles[0]
    code = first.find_element(By.CSS_SELECTOR, "div.cell_input, pre")
    assert not code.is_displayed() and first.get_attribute("open") is None
    browser.js("arguments[0].scrollIntoView({block: 'center'})", first)
    first.find_element(By.TAG_NAME, "summary").click()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not code.is_displayed():
        time.sleep(0.1)
    assert code.is_displayed() and first.get_attribute("open") is not None
    assert all(t.get_attribute("open") is None for t in toggles[1:])  # one cell at a time


def test_search_finds_chapters(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.open(server + "index.html")
    browser.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.CONTROL, "k")  # the theme's search dialog
    box = browser.driver.switch_to.active_element
    assert box.get_attribute("name") == "q", "Ctrl+K does not focus the search box"
    box.send_keys("bonus", Keys.ENTER)
    deadline = time.monotonic() + 15
    results = []
    while time.monotonic() < deadline and not results:
        results = browser.js("return Array.from(document.querySelectorAll('#search-results ul.search li a'))"
                             ".map(function (a) { return a.getAttribute('href'); });")
        time.sleep(0.2)
    assert "search.html?q=bonus" in browser.driver.current_url
    assert any(href.startswith("chapters/what-rewards.html") for href in results), results
    browser.drain()
    assert browser.errors() == [] and browser.external_requests(server) == []


def test_screenshots_of_landing_page_and_a_chapter(browser, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for page, name in (("index.html", "landing.png"), ("chapters/assessing-performance.html", "chapter.png")):
        browser.open(server + page)
        shot = browser.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        data = base64.b64decode(shot["data"])
        (SCREENSHOTS / name).write_bytes(data)
        assert _png_width(data) >= 1000 and len(data) > 20_000, name


def test_links_inside_the_site_resolve(browser, server, site):
    """Every same-site link on every page points at a built file (a broken download or page link fails)."""
    missing = []
    for page in site_pages(site):
        html = (site / page).read_text(encoding="utf-8")
        for href in set(re.findall(r'href="([^"#?]+)', html)):
            url = urljoin(server + page, href)
            if url.startswith(server):
                target = site / urlparse(url).path.lstrip("/")
                if not (target.is_file() or (target / "index.html").is_file()):
                    missing.append((page, href))
    assert missing == []


def test_briefing_prints_on_one_page(browser, site, tmp_path):
    """`make briefing`'s key findings fit one A4 page when printed (Chromium's own PDF output)."""
    from kamsurvey.build import briefing

    files = briefing.write_briefing(ROOT, site, tmp_path / "briefing")
    browser.open(files["html"].as_uri(), wait_for_charts=False)
    assert browser.errors() == [] and browser.requests == [files["html"].as_uri()]
    pdf = base64.b64decode(browser.driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    assert pages == 1, f"the briefing prints on {pages} pages"


def test_missing_browser_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        _unavailable("no chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI"):
        _unavailable("no chromium")
