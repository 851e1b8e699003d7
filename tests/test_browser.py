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
    """Pages holding a figure block with its downloads (the landing page's headline chart has none)."""
    return [p for p in site_pages(site) if 'data-kam-figure-more="' in (site / p).read_text(encoding="utf-8")]


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


MIN_TEXT_PX = 11  # the smallest text a chart may show on a phone, in CSS px (issue 16)

# Each figure's chart as the reader sees it: the layout shown (kam.css picks one by the width available), its
# interactive SVG once drawn (else the static one), its box, and every text's size in CSS px as drawn (the SVG's
# font size times the scale the SVG is shown at).
CHARTS_AS_SHOWN = """
  return Array.from(document.querySelectorAll('.kam-figure')).map(function (f) {
    var layout = Array.from(f.querySelectorAll('.kam-layout')).find(function (l) {
      return getComputedStyle(l).display !== 'none'; });
    if (!layout) { return {id: f.dataset.kamFigure, layout: null}; }
    var svg = f.classList.contains('kam-ready') ? layout.querySelector('.kam-interactive svg')
                                                : layout.querySelector('.kam-static svg');
    var box = svg.getBoundingClientRect();
    var drawn = svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width ? svg.viewBox.baseVal.width
                                                                                : svg.width.baseVal.value;
    var scale = box.width / drawn;
    var texts = Array.from(svg.querySelectorAll('text')).filter(function (t) { return t.textContent.trim(); });
    var sizes = texts.map(function (t) {
      return [t.textContent.trim().slice(0, 40), parseFloat(getComputedStyle(t).fontSize) * scale]; });
    return {id: f.dataset.kamFigure, layout: layout.dataset.kamLayout, width: box.width, right: box.right,
            scale: scale, smallest: sizes.reduce(function (a, b) { return b[1] < a[1] ? b : a; }, ['', 1e9])};
  });"""


def phone_layout(browser, url: str) -> dict:
    """The page at 390 CSS px: its widths, and each chart as shown (`CHARTS_AS_SHOWN`)."""
    browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        browser.open(url)
        layout = browser.js("""
          var root = document.documentElement;
          return {scroll: root.scrollWidth, client: root.clientWidth, body: document.body.scrollWidth};""")
        layout["charts"] = browser.js(CHARTS_AS_SHOWN)
    finally:
        browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return layout


def assert_fits_a_phone(layout: dict, page: str) -> None:
    """Nothing wider than the screen, and every chart's text at least `MIN_TEXT_PX` as shown."""
    assert layout["client"] == PHONE["width"], page
    assert layout["scroll"] <= layout["client"] and layout["body"] <= layout["client"], (page, layout)
    for chart in layout["charts"]:
        assert chart["layout"] == "narrow", (page, chart)
        assert 0 < chart["width"] <= PHONE["width"] and chart["right"] <= PHONE["width"], (page, chart)
        text, size = chart["smallest"]
        assert size >= MIN_TEXT_PX, f"{page}: {chart['id']}: '{text}' is {size:.1f} CSS px at 390 px wide"


def test_pages_fit_a_phone_screen(browser, server, page):
    assert_fits_a_phone(phone_layout(browser, server + page), page)


def test_the_phone_check_can_fail():
    """A chart scaled to fit, its smallest text under 11 px, fails the check (as a 728 px chart did)."""
    scaled = {"client": 390, "scroll": 390, "body": 390,
              "charts": [{"id": "fig-x", "layout": "narrow", "width": 350, "right": 370, "scale": 0.48,
                          "smallest": ["Sales", 5.8]}]}
    with pytest.raises(AssertionError, match="5.8 CSS px"):
        assert_fits_a_phone(scaled, "chapters/x.html")


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


def hover_tooltip(browser, element) -> dict[str, str]:
    """The tooltip's rows (key -> value) while the pointer is on `element`."""
    from selenium.webdriver.common.action_chains import ActionChains

    browser.js("arguments[0].scrollIntoView({block: 'center'})", element)
    ActionChains(browser.driver).move_to_element(element).perform()
    deadline = time.monotonic() + 5
    text = ""
    while time.monotonic() < deadline and not text:
        text = browser.js("var t = document.getElementById('vg-tooltip-element');"
                          "return t && t.classList.contains('visible') ? t.innerText : '';")
        time.sleep(0.1)
    assert text, "no tooltip on hover"
    return dict(browser.js("""return Array.from(document.querySelectorAll('#vg-tooltip-element tr'))
        .map(function (r) { return [r.querySelector('.key').textContent, r.querySelector('.value').textContent]; });"""))


def test_tooltip_shows_option_count_percentage_base_and_interval_and_what_the_article_says(browser, server):
    """A published number's tooltip gives its interval; one the article did not publish gives its range instead."""
    from selenium.webdriver.common.by import By

    browser.open(server + "chapters/assessing-performance.html")
    figure = browser.driver.find_element(By.CSS_SELECTOR, '[data-kam-figure="fig-most-important"]')
    more = browser.driver.find_element(By.CSS_SELECTOR, '[data-kam-figure-more="fig-most-important"]')
    rows = browser.js("""return Array.from(arguments[0].querySelectorAll('.kam-data-table tbody tr'))
                           .map(function (r) { return Array.from(r.children).map(function (c) { return c.textContent; }); });""",
                      more)
    bar = '.kam-wide .kam-interactive svg path[aria-roledescription="rect mark"][aria-label*="In the article: {}"]'
    seen = set()
    for article, said in (("published", "published"), ("not published", "exact value not published")):
        fields = hover_tooltip(browser, figure.find_element(By.CSS_SELECTOR, bar.format(said)))
        assert list(fields) == ["Option", "Count", "Percentage", "Base (n)", "95% interval", "In the article"], fields
        row = next(r for r in rows if r[0] == fields["Option"])
        assert [fields["Count"], fields["Base (n)"], fields["Percentage"], fields["In the article"]] == \
            [row[1], row[2], row[3], row[-1]]
        if article == "published":
            assert fields["In the article"] == "published"
            assert fields["95% interval"].endswith("%") and "–" in fields["95% interval"]
        else:
            assert re.fullmatch(r"exact value not published; any value from \d+% to \d+% fits the article", fields["In the article"])
            assert fields["95% interval"] == "none: not published"  # no interval drawn around it, nor given
        seen.add(fields["Option"])
    assert len(seen) == 2


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


def test_print_uses_the_static_charts_and_shows_content_only(browser, server):
    """On paper: the static chart drawn for a page (not the phone's), its caption; no interactive chart,
    downloads, data-table toggle, citation toggle, code or navigation."""
    browser.open(server + "chapters/what-rewards.html")
    browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = browser.js("""
          function shown(node) { return !!node && getComputedStyle(node).display !== 'none'
                                        && (!node.parentElement || shown(node.parentElement) || node === document.body); }
          return Array.from(document.querySelectorAll('.kam-figure')).map(function (f) {
            var more = document.querySelector('[data-kam-figure-more="' + f.dataset.kamFigure + '"]');
            return {ready: f.classList.contains('kam-ready'),
                    wide: shown(f.querySelector('.kam-wide .kam-static')),
                    narrow: shown(f.querySelector('.kam-narrow .kam-static')),
                    interactive: Array.from(f.querySelectorAll('.kam-interactive')).some(shown),
                    caption: shown(f.closest('figure').querySelector('figcaption')),
                    extras: Array.from(more.querySelectorAll('.kam-downloads, details')).filter(shown).length};
          });""")
        chrome = browser.js("""
          return Array.from(document.querySelectorAll(
              '.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .prev-next-footer, details.hide, .cell_input,'
              + ' button')).filter(function (n) { return getComputedStyle(n).display !== 'none'
                                                          && n.getBoundingClientRect().height > 0; })
            .map(function (n) { return n.className || n.tagName; });""")
    finally:
        browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert shown and all(f["ready"] and f["wide"] and not f["narrow"] and not f["interactive"] and f["caption"]
                         and f["extras"] == 0 for f in shown), shown
    assert chrome == [], chrome


def _png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", data[16:20])[0]


def test_the_landing_page_opens_with_the_headline_chart_linked_to_its_chapter(browser, server, site):
    """Before the key findings: the most important factor's chart, and a link to it in its chapter."""
    browser.open(server + "index.html")
    found = browser.js("""
      var block = document.querySelector('.kam-headline'), findings = document.getElementById('key-findings');
      if (!block) { return null; }
      var link = block.querySelector('.kam-headline-link a');
      return {before: !!findings && !!(block.compareDocumentPosition(findings) & Node.DOCUMENT_POSITION_FOLLOWING),
              figure: block.querySelector('.kam-figure').dataset.kamFigure, ready: !!block.querySelector('.kam-ready'),
              href: link ? link.getAttribute('href') : null, text: link ? link.textContent : ''};""")
    assert found is not None, "no headline chart on the landing page"
    assert found["before"] and found["ready"] and found["figure"] == "fig-most-important", found
    assert found["href"] == "chapters/assessing-performance.html#fig-most-important", found
    target = (site / "chapters" / "assessing-performance.html").read_text(encoding="utf-8")
    assert 'id="fig-most-important"' in target and re.match(r"Figure \d+\.\d+, in ", found["text"]), found


def test_each_caption_sits_directly_under_its_chart(browser, server, site):
    """Chart, caption, then the data table, downloads and citation: nothing between a chart and its caption."""
    checked = 0
    for page in figure_pages(site):
        browser.open(server + page, wait_for_charts=False)
        order = browser.js("""
          return Array.from(document.querySelectorAll('figure > .kam-figure')).map(function (f) {
            var caption = f.nextElementSibling, more = caption && caption.nextElementSibling;
            return [f.dataset.kamFigure, caption ? caption.tagName : null,
                    more ? more.getAttribute('data-kam-figure-more') : null,
                    caption ? Math.round(caption.getBoundingClientRect().top - f.getBoundingClientRect().bottom) : null];
          });""")
        for fig_id, caption, more, gap in order:
            assert caption == "FIGCAPTION" and more == fig_id, (page, fig_id, caption, more)
            assert 0 <= gap <= 24, (page, fig_id, gap)
            checked += 1
    assert checked >= 13


def test_downloaded_charts_keep_every_label_whole(browser, server, site):
    """Every text of each chart's SVG download (the PNG is drawn from the same SVG) lies inside the drawing, as
    measured by the browser's own text layout, and none is shortened with an ellipsis (Figure 6.1's two top
    labels once were)."""
    checked = 0
    for path in sorted((site / "figures").glob("*.svg")):
        browser.open(server + f"figures/{path.name}", wait_for_charts=False)
        outside = browser.js("""
          var svg = document.documentElement, width = svg.width.baseVal.value;
          return Array.from(svg.querySelectorAll('text')).filter(function (t) {
            var box = t.getBoundingClientRect();
            return t.textContent.indexOf('\u2026') >= 0 || box.left < -0.5 || box.right > width + 0.5;
          }).map(function (t) { return t.textContent; });""")
        assert outside == [], (path.name, outside)
        checked += 1
    assert checked >= 13


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
    assert checked >= 4 * 12 + 3  # a diagram (Figure 7.1) has no CSV


def notebook_pages(site: Path) -> list[str]:
    """The pages made from a chapter notebook."""
    from book import toc_files

    return [f"{name}.html" for name in toc_files() if (ROOT / f"{name}.ipynb").exists()]


def test_reader_pages_show_no_code_and_each_chapter_links_to_its_notebook(browser, server, site):
    """No code and no code toggle on a reader's page (nor in print): each chapter links to the notebook that
    computes it instead."""
    pages = notebook_pages(site)
    assert len(pages) >= 10
    for page in pages:
        html = (site / page).read_text(encoding="utf-8")
        assert "cell_input" not in html and 'class="admonition hide' not in html, page
        assert re.search(r'href="[^"]+/chapters/[\w-]+\.ipynb"', html), f"{page}: no link to its notebook"
    browser.open(server + "chapters/assessing-performance.html")
    assert browser.js("return document.querySelectorAll('details.hide, .cell_input, .highlight-ipython3').length") == 0


DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}


def _screenshot(browser, url: str, path: Path, *, phone: bool) -> bytes:
    """The whole page at a width: the viewport made as tall as the page (capturing beyond the viewport instead
    lays the page out again at another size, and the theme then shifts it)."""
    metrics = PHONE if phone else DESKTOP
    browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        browser.open(url)
        height = browser.js("return document.documentElement.scrollHeight")
        browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
        time.sleep(0.5)
        shot = browser.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    data = base64.b64decode(shot["data"])
    path.write_bytes(data)
    return data


def test_screenshots_of_landing_page_and_a_chapter_at_desktop_and_phone_widths(browser, server, capsys):
    """Test artefacts for a reader's eye: the landing page and a chapter at 1280 and at 390 CSS px (3x pixels)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for page, name in (("index.html", "landing"), ("chapters/assessing-performance.html", "chapter")):
        for phone, width in ((False, "desktop"), (True, "390px")):
            path = SCREENSHOTS / f"{name}-{width}.png"
            data = _screenshot(browser, server + page, path, phone=phone)
            expected = PHONE["width"] * PHONE["deviceScaleFactor"] if phone else 1000
            assert _png_width(data) >= expected and len(data) > 20_000, path.name
            written.append(path)
    with capsys.disabled():
        print("\nscreenshots: " + ", ".join(str(path) for path in written))


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
