#!/usr/bin/env python
"""Preview the built website locally: a plain HTTP server on this machine, nothing else.

    python scripts/serve.py                    # _build/site (all editions) if built, else _build/html
    python scripts/serve.py --port 8080 --dir _build/html
    make serve PORT=8080

The site needs no server of its own (it is static files); serving it over HTTP, rather
than opening the files, is what GitHub Pages does, so what you preview is what readers get.
Stop with Ctrl+C.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CANDIDATES = (REPO / "_build" / "site", REPO / "_build" / "html")


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the types the site's downloads need."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".csv": "text/csv; charset=utf-8",
        ".svg": "image/svg+xml",
        ".js": "text/javascript",
        ".bib": "text/plain; charset=utf-8",
        ".cff": "text/plain; charset=utf-8",
    }


def site_dir(explicit: Path | None) -> Path:
    if explicit is not None:
        if not (explicit / "index.html").exists():
            raise SystemExit(f"serve: {explicit} has no index.html")
        return explicit
    for candidate in CANDIDATES:
        if (candidate / "index.html").exists():
            return candidate
    raise SystemExit("serve: nothing built yet: run `make book` (or `make site` for every edition) first")


def make_server(directory: Path, host: str, port: int) -> http.server.ThreadingHTTPServer:
    return http.server.ThreadingHTTPServer((host, port), functools.partial(Handler, directory=str(directory)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--dir", type=Path, default=None, help="folder to serve (default: _build/site, else _build/html)")
    args = parser.parse_args(argv)
    directory = site_dir(args.dir)
    server = make_server(directory, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"Serving {directory.relative_to(REPO) if directory.is_relative_to(REPO) else directory} "
          f"at http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
