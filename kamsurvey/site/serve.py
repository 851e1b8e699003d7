"""Preview the built site on this machine: the standard library's HTTP server, nothing else.

    kam serve                        # _build/site (every edition) if built, else _build/html
    kam serve --port 8080 --dir _build/html
    make serve PORT=8080

The site needs no server of its own (it is static files); serving it over HTTP, rather than
opening the files, is what GitHub Pages does, so what you preview is what readers get. This is
`python -m http.server --bind 127.0.0.1 --directory <site>`. Stop with Ctrl+C.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=os.environ.get("PORT") or "8000",
                        help="port to listen on (default: $PORT, else 8000; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--dir", type=Path, default=None, help="folder to serve (default: _build/site, else _build/html)")


def command(args: argparse.Namespace) -> int:
    """Serve the built site with `python -m http.server`: static files, as GitHub Pages serves them."""
    candidates = [args.dir] if args.dir is not None else [Path("_build") / "site", Path("_build") / "html"]
    directory = next((c for c in candidates if (c / "index.html").is_file()), None)
    if directory is None:
        what = f"{args.dir} has no index.html" if args.dir is not None else "nothing built yet"
        print(f"kam serve: {what}: run `make book` (or `make site` for every edition) first", file=sys.stderr)
        return 1
    os.execv(sys.executable, [sys.executable, "-u", "-m", "http.server", str(args.port), "--bind", args.host,
                              "--directory", str(directory)])
    return 0  # not reached: execv replaces this process
