"""The site: how the book's pages are made from the chapters' outputs.

Imports from the layers below. `sphinx_ext` is the Sphinx extension (figures on the page,
offline Vega, editions, quotations); `render` renders charts to SVG and PNG with vl-convert;
`editions_index` writes editions.js; `static/` and `templates/` are served with every page
(the palette's CSS, kam.js, theme components).
"""
