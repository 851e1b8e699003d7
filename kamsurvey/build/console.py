"""What `kam` prints: its own words, and values from files that must not drive the terminal.

A data cell, a column header or a file name can hold escape sequences (colours, a new window title,
a cursor moved over earlier lines) or, from a binary file read as text, any byte at all. Every
message that may carry such a value is printed through `printable`: the characters a terminal would
act on are shown escaped (`\\x1b`, `\\x07`, `\\u202e`), the rest as is.
"""

from __future__ import annotations

import sys


def printable(text: object) -> str:
    """`text` safe to print on a terminal: control and format characters shown escaped; new lines and tabs kept."""
    return "".join(c if c.isprintable() or c in "\n\t" else c.encode("unicode_escape").decode("ascii") for c in str(text))


def say(message: str) -> None:
    print(printable(message), flush=True)


def fail(message: str) -> None:
    print(printable(message), file=sys.stderr, flush=True)
