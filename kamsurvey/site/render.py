"""Rendering figures (SVG, PNG) and the Vega bundle with vl-convert, cached, and in parallel.

The Sphinx extension (`kamsurvey.site.sphinx_ext`) writes each figure's static SVG from the
Vega-Lite spec the chapter stored, through a cache keyed by the spec
(`_build/.kam-figure-cache/<key>.svg|png`): an unchanged figure is never rendered again. Its PNG
download (`kamsurvey.site.downloads`) is the chart's SVG with the figure's number, permanent
address and publisher drawn around it, rasterised and cached by that SVG's text
(`<cache>/svg-<key>.png`); the slide deck uses the chart's own PNG.

vl-convert renders one chart at a time per process (threads do not help: measured), and a
fresh build has every figure to render (about 0.3 s each) plus the Vega bundle (about 3 s).
So when the book's pages have been read, the figures that are not cached yet are rendered by
a pool of processes, one per core, and the bundle is made in that pool while Sphinx is still
reading (`Prerenderer`); the pages are then written from the cache. The figures' PNG downloads
are rasterised by a pool too, all at once, when the first page with a figure is written (figure
numbers exist only then). The bytes are the same as rendering them one by one (each file is
written by one process, atomically).

This module imports nothing heavy (no pandas, no Sphinx): the pool's processes start fast.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

# the cache folder, beside the doctrees (_build/.kam-figure-cache); scripts/build_site.py copies it into staging copies
FIGURE_CACHE = ".kam-figure-cache"
PNG_MIN_WIDTH = 1600
VEGA_BUNDLE = "vega-bundle.js"
BUNDLE_FORMAT = "wrapped-1"


def spec_key(spec: dict) -> str:
    import vl_convert

    versions = f"{vl_convert.__version__}"
    return hashlib.sha256((versions + json.dumps(spec, sort_keys=True)).encode()).hexdigest()[:20]


def svg_width(svg: str) -> float:
    match = re.search(r'<svg[^>]*\swidth="([\d.]+)"', svg)
    return float(match.group(1)) if match else 0.0


def render_svg(spec: dict) -> bytes:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec).encode("utf-8")


def render_png(svg: str) -> bytes:
    """A chart's PNG, at least PNG_MIN_WIDTH pixels wide, rasterised from its SVG (the same bytes as
    vl-convert's vegalite_to_png at that scale, without running Vega again)."""
    import vl_convert

    width = svg_width(svg)
    scale = math.ceil(PNG_MIN_WIDTH / width * 100) / 100 if width else 3.0
    return vl_convert.svg_to_png(svg, scale=max(scale, 1.0))


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def cached(cache: Path, spec: dict, fmt: str) -> bytes:
    """The figure's SVG or PNG from the cache, rendered (and cached) if it is not there yet."""
    path = cache / f"{spec_key(spec)}.{fmt}"
    if path.exists():
        return path.read_bytes()
    data = render_svg(spec) if fmt == "svg" else render_png(cached(cache, spec, "svg").decode("utf-8"))
    write_atomic(path, data)
    return data


def rasterised(cache: Path, svg: str) -> bytes:
    """Any SVG (a chart with its number and address drawn around it, say) as a PNG, cached by its text."""
    path = cache / f"{svg_key(svg)}.png"
    if path.exists():
        return path.read_bytes()
    data = render_png(svg)
    write_atomic(path, data)
    return data


def is_rasterised(cache: Path, svg: str) -> bool:
    return (cache / f"{svg_key(svg)}.png").exists()


def svg_key(svg: str) -> str:
    import vl_convert

    return "svg-" + hashlib.sha256(f"{vl_convert.__version__}\0{svg}".encode()).hexdigest()[:20]


def rasterise_into(cache: str, svg: str) -> str:
    """A pool task: an SVG's PNG into the cache folder; returns its key."""
    rasterised(Path(cache), svg)
    return svg_key(svg)


def render_into(cache: str, spec_json: str) -> str:
    """A pool task: the figure's SVG and PNG into the cache folder; returns its key."""
    spec = json.loads(spec_json)
    cached(Path(cache), spec, "png")  # renders the SVG first
    return spec_key(spec)


def bundle_script(bundle: str, version: str) -> str:
    """vl-convert's bundle as a classic script.

    The bundle is an ES module body: its top-level `const`/`let` names would share
    the page's global scope with the theme's scripts (and clash, e.g. `_`), so it
    runs inside a strict-mode function. It still sets `window.vega`,
    `window.vegaLite` and `window.vegaEmbed`. A classic script also works from a
    site opened as local files, where a module script would be refused.
    """
    return (f"/* Vega, Vega-Lite and vega-embed, bundled by vl-convert {version}. */\n"
            f"(function () {{\n\"use strict\";\n{bundle}\n}})();\n")


def bundle_version() -> str:
    import vl_convert

    return f"{vl_convert.__version__} {BUNDLE_FORMAT}"


def bundle_is_current(cache: Path) -> bool:
    target, stamp = cache / "static" / VEGA_BUNDLE, cache / "vega-bundle.version"
    return target.exists() and stamp.exists() and stamp.read_text() == bundle_version()


def write_bundle(cache: str) -> None:
    """A pool task (or a plain call): the Vega bundle into <cache>/static, with its version stamp beside it."""
    import vl_convert

    cache_path = Path(cache)
    (cache_path / "static").mkdir(parents=True, exist_ok=True)
    script = bundle_script(vl_convert.javascript_bundle(), vl_convert.__version__)
    write_atomic(cache_path / "static" / VEGA_BUNDLE, script.encode("utf-8"))
    # the stamp is outside the static folder (not published), written last: it vouches for the bundle
    write_atomic(cache_path / "vega-bundle.version", bundle_version().encode("utf-8"))


class Prerenderer:
    """A pool of processes (one per core) rendering into the cache; `wait()` before the pages are written.

    Anything that fails in the pool is left for the page writer to render (and report) itself.
    """

    def __init__(self, cache: Path, workers: int | None = None):
        self.cache = cache
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future] = []

    def _submit(self, function, *args) -> None:
        if self._pool is None:
            import multiprocessing

            # spawned, not forked: the pool's processes start clean, whatever the parent holds
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        self._futures.append(self._pool.submit(function, *args))

    def bundle(self) -> None:
        self._submit(write_bundle, str(self.cache))

    def figures(self, specs: list[dict]) -> int:
        """Queue the figures missing from the cache; how many were queued."""
        seen: set[str] = set()
        queued = 0
        for spec in specs:
            key = spec_key(spec)
            if key in seen or ((self.cache / f"{key}.svg").exists() and (self.cache / f"{key}.png").exists()):
                continue
            seen.add(key)
            self._submit(render_into, str(self.cache), json.dumps(spec))
            queued += 1
        return queued

    def rasterise(self, svgs: list[str]) -> None:
        """Queue SVGs to rasterise into the cache (see `rasterised`)."""
        for svg in dict.fromkeys(svgs):
            self._submit(rasterise_into, str(self.cache), svg)

    def wait(self) -> list[BaseException]:
        """Wait for everything queued; the errors (the writer renders those figures itself)."""
        errors = []
        for future in self._futures:
            try:
                future.result()
            except BaseException as error:  # noqa: BLE001 - reported by the caller, rendered again serially
                errors.append(error)
        self._futures.clear()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        return errors
