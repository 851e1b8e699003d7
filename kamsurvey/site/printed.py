"""The print edition: the whole edition as one PDF, printed by the system's Chromium and put together with pypdf.

    cover       the book, the edition, its facts, the reconstruction caveat where it applies, its
                reference (APA 7), its permanent address and the reuse terms
    contents    every page in reading order and every figure, with page numbers
    the pages   each page of the edition as the site prints it (the print stylesheet, kam-print.css:
                static charts, no navigation, no widgets, black on white, external addresses shown)
    outline     bookmarks: each page, and under it each of its figures
    footer      the book, the edition and the page number on every page but the cover

Chromium is the system's (Debian's `chromium`; CHROMIUM names another binary), driven over the
DevTools protocol on a pipe (no port, no driver, nothing downloaded), with scripts off (the pages
print their static charts, and nothing runs late) and every network request refused but the
pages' own files. Links between pages become links inside the PDF; any other link to the site
becomes the page's permanent address, so no local path is left in the file.

Chromium writes the time into a PDF: the document is put together afresh with pypdf, its
information dated by the edition (its publication date) and without a random identifier, so
the same pages give the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import select
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from kamsurvey.report.literal import html

A4_IN = (8.27, 11.69)
MARGINS_IN = {"marginTop": 0.6, "marginBottom": 0.75, "marginLeft": 0.65, "marginRight": 0.65}
ANSWER_TIMEOUT_S = 120  # a page loading, or printing: far longer than either takes
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars", "--disable-quic",
    "--font-render-hinting=none",
    # nothing but the pages' own files: no host name resolves, anything else goes to a dead proxy
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
)


CLOSED = "Chromium closed its DevTools pipe (it crashed or could not start)"


class PrintError(RuntimeError):
    """Chromium could not print the edition (the message says what happened)."""


def find_chromium() -> str | None:
    """The system's Chromium: $CHROMIUM if set, else `chromium` (Debian) or `chromium-browser` on the PATH."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if os.access(named, os.X_OK) else None)
    return shutil.which("chromium") or shutil.which("chromium-browser")


# -- Chromium over the DevTools protocol, on a pipe ----------------------------------------------------------------


class Chromium:
    """A headless Chromium whose DevTools protocol is on file descriptors 3 (commands) and 4 (replies)."""

    def __init__(self, binary: str):
        self.profile = tempfile.mkdtemp(prefix="kam-print-")
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def on_fds_3_and_4() -> None:
            os.dup2(commands_read, 3)
            os.dup2(replies_write, 4)

        try:
            self.process = subprocess.Popen(
                [binary, *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(3, 4), preexec_fn=on_fds_3_and_4)
        finally:
            os.close(commands_read)
            os.close(replies_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            self.call("Page.enable", session=True)
            self.call("Emulation.setScriptExecutionDisabled", value=True, session=True)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._replies], [], [], ANSWER_TIMEOUT_S)
            if not ready:
                raise PrintError(f"Chromium did not answer within {ANSWER_TIMEOUT_S} s")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise PrintError(CLOSED)
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, *, session: bool = False, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        try:
            os.write(self._commands, json.dumps(message).encode() + b"\0")
        except OSError:  # a broken pipe: the browser is gone
            raise PrintError(CLOSED) from None
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise PrintError(f"Chromium: {method} failed: {reply['error'].get('message', reply['error'])}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_for(self, event: str) -> dict:
        for i, found in enumerate(self._events):
            if found["method"] == event:
                return self._events.pop(i)
        while True:
            reply = self._read()
            if reply.get("method") == event:
                return reply
            if "method" in reply:
                self._events.append(reply)

    def pdf(self, url: str, **options) -> bytes:
        """The page at `url`, loaded (with everything it loads), printed."""
        self._events.clear()
        result = self.call("Page.navigate", url=url, session=True)
        if result.get("errorText"):
            raise PrintError(f"Chromium could not open {url}: {result['errorText']}")
        self.wait_for("Page.loadEventFired")
        printed = self.call("Page.printToPDF", session=True, transferMode="ReturnAsBase64", **options)
        return base64.b64decode(printed["data"])

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                try:
                    self.call("Browser.close")
                except (PrintError, OSError):
                    pass
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            for fd in (self._commands, self._replies):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)


# -- what is printed ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrintFigure:
    fig_id: str
    label: str  # "Figure 2.3"
    title: str


@dataclass(frozen=True)
class PrintPage:
    page: str  # chapters/assessing-performance.html, relative to the site
    title: str  # "2. Assessing performance"
    figures: Sequence[PrintFigure] = ()


@dataclass(frozen=True)
class Edition:
    """What the cover and the footer say."""

    book: str
    edition: str  # "2022 edition: AKAM performance and rewards survey 2022"
    facts: Sequence[str]  # fieldwork, n, publication date
    caveat: str | None
    reference: str  # APA 7
    url: str  # the edition's permanent address (…/editions/<wave>/)
    publisher: str
    reuse: str
    published: dt.date | None
    short: str  # the footer: "Rewarding KAM performance · 2022 edition"
    keywords: Sequence[str] = field(default_factory=tuple)


PAPER = {"paperWidth": A4_IN[0], "paperHeight": A4_IN[1], **MARGINS_IN, "printBackground": False,
         "preferCSSPageSize": False, "generateTaggedPDF": False}

FRONT_STYLE = """
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; color: #000; font-size: 10.5pt; line-height: 1.45; margin: 0; }
.cover { break-after: page; padding-top: 18mm; }
.cover h1 { font-size: 24pt; line-height: 1.2; margin: 0 0 8mm; }
.cover .edition { font-size: 14pt; font-weight: bold; margin: 0 0 3mm; }
.cover p { margin: 0 0 2.5mm; }
.cover .caveat { border: 1.5pt solid #000; padding: 2.5mm 3.5mm; margin: 6mm 0; }
.cover .cite { margin-top: 10mm; }
.cover h2, .contents h2 { font-size: 13pt; margin: 6mm 0 2mm; }
a { color: #000; text-decoration: underline; overflow-wrap: anywhere; }
.contents h1 { font-size: 18pt; margin: 0 0 5mm; }
.contents ol { list-style: none; padding: 0; margin: 0; }
.contents li { margin: 0; }
.contents a { color: #000; text-decoration: none; }
.contents .page a, .contents .figure a { display: flex; gap: 2mm; width: 100%; }
.contents .page { display: flex; gap: 2mm; margin-top: 2.2mm; font-weight: bold; }
.contents .figure { display: flex; gap: 2mm; padding-left: 6mm; font-size: 9.5pt; }
.contents .fill { flex: 1; border-bottom: 0.6pt dotted #000; margin-bottom: 1.1mm; }
.contents .what { max-width: 80%; }
""".strip()


def front_matter_html(edition: Edition, pages: Sequence[PrintPage], starts: dict[str, int],
                      figure_pages: dict[str, int], site: Path | None = None) -> str:
    """The cover and the contents (every value escaped); with `site`, each entry links to its page (a link inside
    the PDF once put together)."""
    facts = "".join(f"<p>{html(fact)}</p>" for fact in edition.facts)
    caveat = f'<p class="caveat">{html(edition.caveat)}</p>' if edition.caveat else ""

    def entry(kind: str, words: str, number: object, page: str, fragment: str = "") -> str:
        text = f'<span class="what">{html(words)}</span><span class="fill"></span><span>{number}</span>'
        if site is not None:
            href = (site / page).as_uri() + (f"#{fragment}" if fragment else "")
            text = f'<a href="{html(href)}">{text}</a>'
        return f'<li class="{kind}">{text}</li>'

    items = []
    for page in pages:
        items.append(entry("page", page.title, starts.get(page.page, ""), page.page))
        items += [entry("figure", f"{fig.label}: {fig.title}", figure_pages.get(fig.fig_id, ""), page.page, fig.fig_id)
                  for fig in page.figures]
    url = html(edition.url)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html(edition.book)}</title><style>{FRONT_STYLE}</style></head><body>"
        f'<section class="cover"><h1>{html(edition.book)}</h1><p class="edition">{html(edition.edition)}</p>'
        f"{facts}{caveat}<p>{html(edition.publisher)}</p>"
        f'<p>The edition online: <a href="{url}">{url}</a></p>'
        f'<div class="cite"><h2>How to cite</h2><p>{html(edition.reference)}</p>'
        f"<h2>Reuse</h2><p>{html(edition.reuse)}</p></div></section>"
        f'<section class="contents"><h1>Contents</h1><ol>{"".join(items)}</ol></section>'
        "</body></html>\n"
    )


def footer_template(edition: Edition) -> str:
    return ('<div style="font-family: \'DejaVu Sans\', Verdana, Arial, sans-serif; font-size: 8pt; color: #000; '
            'width: 100%; margin: 0 0.65in; display: flex; justify-content: space-between;">'
            f'<span>{html(edition.short)}</span><span class="pageNumber"></span></div>')


def numbers_html(count: int) -> str:
    """`count` empty pages: printed with the footer template, the page numbers laid over the edition's pages."""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>body { margin: 0 } "
            "div { break-after: page; height: 1px } div:last-child { break-after: auto }</style></head><body>"
            + "<div></div>" * count + "</body></html>\n")


# -- putting it together -----------------------------------------------------------------------------------------


@dataclass
class _Printed:
    page: PrintPage
    reader: object  # pypdf.PdfReader
    start: int = 0  # its first page in the whole, counted from 0


def _reader(data: bytes):
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(data))


Place = tuple[int, float | None]  # a page (counted from 0) and how far down it (the PDF's y, None: its top)


def _destinations(reader) -> dict[str, Place]:
    """Named destinations (element ids Chromium kept: link targets) -> where they are in that PDF."""
    found = {}
    for name, destination in reader.named_destinations.items():
        try:
            top = destination.get("/Top")
            found[str(name).lstrip("/")] = (reader.get_destination_page_number(destination),
                                            float(top) if top is not None else None)
        except Exception:  # noqa: BLE001 - a destination pypdf cannot place is simply not linked
            continue
    return found


def print_edition(site: Path, pages: Sequence[PrintPage], edition: Edition, *, chromium: str) -> bytes:
    """The print edition of the built site `site` (pages in reading order) as PDF bytes."""
    site = site.resolve()
    with tempfile.TemporaryDirectory(prefix="kam-print-pages-") as scratch, Chromium(chromium) as browser:
        printed = [_Printed(page, _reader(browser.pdf(_page_uri(site, page), **PAPER))) for page in pages]
        front, figure_at = _front_matter(browser, Path(scratch), site, printed, edition)
        total = len(front.pages) + sum(len(item.reader.pages) for item in printed)
        numbers = _page_numbers(browser, Path(scratch), total, edition)
    return _assemble(site, front, printed, numbers, figure_at, edition)


def _page_uri(site: Path, page: PrintPage) -> str:
    path = site / page.page
    if not path.is_file():
        raise PrintError(f"{page.page} is not in the built site {site}")
    return path.as_uri()


def _front_matter(browser: Chromium, scratch: Path, site: Path, printed: list[_Printed],
                  edition: Edition) -> tuple[object, dict[str, Place]]:
    """The cover and contents, printed; and where each figure is. The contents' page numbers depend on how many
    pages the contents take: printed again until that settles."""
    front_pages = 2
    for _ in range(4):
        start = front_pages
        for item in printed:
            item.start = start
            start += len(item.reader.pages)
        figure_at: dict[str, Place] = {}
        for item in printed:
            dests = _destinations(item.reader)
            for fig in item.page.figures:
                page, top = dests.get(fig.fig_id, (0, None))
                figure_at[fig.fig_id] = (item.start + page, top)
        path = scratch / "front.html"
        path.write_text(front_matter_html(edition, [item.page for item in printed],
                                          {item.page.page: item.start + 1 for item in printed},
                                          {fig_id: page + 1 for fig_id, (page, _) in figure_at.items()}, site),
                        encoding="utf-8")
        front = _reader(browser.pdf(path.as_uri(), **PAPER))
        if len(front.pages) == front_pages:
            return front, figure_at
        front_pages = len(front.pages)
    raise PrintError("the contents' length does not settle")


def _page_numbers(browser: Chromium, scratch: Path, total: int, edition: Edition):
    """`total` pages holding nothing but the footer: the book, the edition and the page number (Chromium's own)."""
    path = scratch / "numbers.html"
    path.write_text(numbers_html(total), encoding="utf-8")
    numbers = _reader(browser.pdf(path.as_uri(), **PAPER, displayHeaderFooter=True, headerTemplate="<span></span>",
                                  footerTemplate=footer_template(edition)))
    if len(numbers.pages) != total:
        raise PrintError(f"the page numbers came out on {len(numbers.pages)} pages, not {total}")
    return numbers


def _assemble(site: Path, front, printed: list[_Printed], numbers, figure_at: dict[str, Place],
              edition: Edition) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import Fit, NameObject

    writer = PdfWriter()
    for page in front.pages:
        writer.add_page(page)
    for item in printed:
        for page in item.reader.pages:
            writer.add_page(page)
    targets = _link_targets(printed)
    for index, page in enumerate(writer.pages):
        owner = next((item for item in printed if item.start <= index < item.start + len(item.reader.pages)), None)
        _relink(writer, page, owner, targets, site, edition.url)
        if index > 0:
            page.merge_page(numbers.pages[index])
    writer.add_outline_item(title="Cover", page_number=0)
    writer.add_outline_item(title="Contents", page_number=1)
    for item in printed:
        parent = writer.add_outline_item(title=item.page.title, page_number=item.start)
        for fig in item.page.figures:
            page, top = figure_at[fig.fig_id]
            writer.add_outline_item(title=f"{fig.label}: {fig.title}", page_number=page, parent=parent,
                                    fit=Fit.xyz(top=top))
    writer.page_mode = "/UseOutlines"
    when = f"D:{(edition.published or dt.date(1980, 1, 1)):%Y%m%d}000000Z"
    writer.metadata = {
        NameObject("/Title"): f"{edition.book}: {edition.edition}",
        NameObject("/Author"): edition.publisher,
        NameObject("/Subject"): "; ".join(edition.facts),
        NameObject("/Keywords"): "; ".join(edition.keywords),
        NameObject("/Creator"): "kamsurvey (the print edition)",
        NameObject("/Producer"): "Chromium and pypdf",
        NameObject("/CreationDate"): when,
        NameObject("/ModDate"): when,
    }
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _link_targets(printed: list[_Printed]) -> dict[tuple[str, str], Place]:
    """(page, element id or '') -> where it is in the whole, for every page printed."""
    targets: dict[tuple[str, str], Place] = {}
    for item in printed:
        targets[(item.page.page, "")] = (item.start, None)
        for name, (index, top) in _destinations(item.reader).items():
            targets[(item.page.page, name)] = (item.start + index, top)
    return targets


def _relink(writer, page, owner: _Printed | None, targets: dict[tuple[str, str], Place], site: Path,
            edition_url: str) -> None:
    """Each link of `page`: to a printed page (or an element of it), a link inside the PDF; to another file of the
    site, its permanent address; elsewhere, left as it is."""
    from pypdf.generic import ArrayObject, FloatObject, NameObject, NullObject, TextStringObject

    annotations = page.get("/Annots")
    if annotations is None:
        return
    for ref in annotations.get_object():
        annotation = ref.get_object()
        if annotation.get("/Subtype") != "/Link":
            continue
        target: tuple[str, str] | None = None
        action = annotation.get("/A")
        action = action.get_object() if action is not None else None
        if "/Dest" in annotation and owner is not None:
            name = annotation["/Dest"]
            name = str(name.get_object() if hasattr(name, "get_object") else name).lstrip("/")
            target = (owner.page.page, name)
            del annotation[NameObject("/Dest")]
        elif action is not None and action.get("/S") == "/URI":
            uri = str(action.get("/URI"))
            parsed = urlparse(uri)
            if parsed.scheme != "file":
                continue
            path = Path(unquote(parsed.path))
            try:
                relative = path.resolve().relative_to(site).as_posix()
            except ValueError:
                relative = path.name
            if (relative, parsed.fragment) in targets or (relative, "") in targets:
                target = (relative, parsed.fragment if (relative, parsed.fragment) in targets else "")
                del annotation[NameObject("/A")]
            else:
                fragment = f"#{parsed.fragment}" if parsed.fragment else ""
                action[NameObject("/URI")] = TextStringObject(f"{edition_url}{relative}{fragment}")
                continue
        if target is None:
            continue
        place = targets.get(target, targets.get((target[0], "")))
        if place is None:
            continue
        index, top = place
        annotation[NameObject("/Dest")] = ArrayObject([writer.pages[index].indirect_reference, NameObject("/XYZ"),
                                                       NullObject(), NullObject() if top is None else FloatObject(top),
                                                       FloatObject(0)])
