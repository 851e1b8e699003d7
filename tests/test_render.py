"""Figures rendered by the pool (kamsurvey.site.render) are the bytes rendering them one by one gives; the PNG
rasterised from the chart's SVG is the PNG vl-convert renders from the spec."""

from __future__ import annotations

import json
import math

import nbformat
import pytest
import vl_convert

from kamsurvey.report import figures

from kamsurvey.site import render
from wavekit import ROOT

pytestmark = pytest.mark.slow


def chapter_specs(limit: int = 5) -> list[dict]:
    specs = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                for mime, data in output.get("data", {}).items():
                    if mime.endswith(figures.FIGURE_MIME):
                        specs.append((data if isinstance(data, dict) else json.loads(data))["spec"])
    assert len(specs) >= limit
    return specs[:limit]


def test_the_png_from_the_svg_is_the_png_from_the_spec():
    for spec in chapter_specs(3):
        svg = render.render_svg(spec).decode("utf-8")
        scale = max(math.ceil(render.PNG_MIN_WIDTH / render.svg_width(svg) * 100) / 100, 1.0)
        assert render.render_png(svg) == vl_convert.vegalite_to_png(spec, scale=scale)


def test_the_pool_renders_the_same_bytes_into_the_cache(tmp_path):
    specs = chapter_specs(5)
    serial, pooled = tmp_path / "serial", tmp_path / "pooled"
    serial.mkdir()
    pooled.mkdir()
    for spec in specs:
        render.cached(serial, spec, "png")
    pool = render.Prerenderer(pooled, workers=2)
    pool.bundle()
    assert pool.figures(specs + specs[:2]) == len(specs)  # each figure once
    assert pool.wait() == []
    assert sorted(p.name for p in serial.iterdir()) == sorted(p.name for p in pooled.iterdir() if p.is_file()
                                                              and p.suffix in (".svg", ".png"))
    for path in serial.iterdir():
        assert (pooled / path.name).read_bytes() == path.read_bytes()
    assert render.bundle_is_current(pooled)
    assert (pooled / "static" / render.VEGA_BUNDLE).read_text(encoding="utf-8").startswith("/* Vega, Vega-Lite")
    assert not [p for p in pooled.rglob("*.tmp")]
    again = render.Prerenderer(pooled, workers=2)
    assert again.figures(specs) == 0  # all cached: nothing to start a process for
    assert again.wait() == []
