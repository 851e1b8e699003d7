"""Text from data or metadata, kept as text: the one way such a value reaches MyST or HTML output.

Codebook wordings and labels, `wave.yml` fields, the claims ledger's words and wave ids are
data. A chapter's Markdown output (an admonition, the questionnaire) is parsed by MyST, which
would run what a value contains: raw HTML (`<script>`), a link, a role such as
{download}`../../etc/passwd` (which copies any readable file into the site), a directive
fence, a substitution, math. A value goes into MyST through `myst` (or `myst_code` for a code
span) and into HTML through `html`, and then reads exactly as written, never as markup.

Only what could start markup is escaped (a backslash before it: CommonMark's escape, which
renders the character itself), so ordinary prose, its typographic quotes and dashes included,
comes out unchanged.
"""

from __future__ import annotations

import html as _html
import json
import re
import string
from typing import Any

# Characters that open markup anywhere in a line: backslash escapes, code spans and roles
# ({name}`...`), emphasis, links and images, raw HTML and autolinks, substitutions ({{ }}) and
# attributes, table cells, math, strikethrough.
_ANYWHERE = frozenset("\\`*{}[]<>|$~")
# A line break in a value would let its next line start a block (a fence, a heading, a list):
# a value is one line, as a paragraph would show it anyway.
_LINE_BREAK = re.compile(r"[ \t]*(?:\r\n|[\r\n\v\f])[ \t]*")
# '&' only where it would be read as a character reference ('&lt;'); 'R&D' stays as it is
_REFERENCE = re.compile(r"&#?[0-9A-Za-z]+;")
# '1.' or '1)' at the start of a value that begins a line (a list item's text) starts a list
_ORDERED_MARKER = re.compile(r"([0-9]+)([.)])")


def _one_line(value: Any) -> str:
    return _LINE_BREAK.sub(" ", str(value)).strip(" \t")


def _intraword(text: str, i: int) -> bool:
    """An underscore between two letters or digits ('reconstruct_2022') can neither open nor close emphasis."""
    return 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()


def myst(value: Any) -> str:
    """`value` as MyST inline text that renders as exactly these characters, wherever in a line it stands.

    Its first character is escaped when it is punctuation, and a leading '1.' loses its list
    meaning, because a value can begin a line (a list item's text), where '#', '>', '-', ':::',
    '%' or '(x)=' would start a block.
    """
    text = _one_line(value)
    escaped = []
    for i, char in enumerate(text):
        if (char in _ANYWHERE or (char == "_" and not _intraword(text, i))
                or (char == "&" and _REFERENCE.match(text, i)) or (i == 0 and char in string.punctuation)):
            escaped.append("\\")
        escaped.append(char)
    text = "".join(escaped)
    marker = _ORDERED_MARKER.match(text)
    return f"{marker[1]}\\{marker[2]}{text[marker.end():]}" if marker else text


def myst_code(value: Any) -> str:
    """`value` as a MyST code span (shown in monospace, never parsed), whatever backticks it holds."""
    text = _LINE_BREAK.sub(" ", str(value))  # its spaces kept: a code is shown exactly
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    # CommonMark takes one space off each end of a span that has both; a backtick at an end needs one
    pad = " " if text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def html(value: Any) -> str:
    """`value` as HTML text or an attribute value (quotes escaped too)."""
    return _html.escape(str(value), quote=True)


def script_json(value: Any) -> str:
    """JSON safe to place inside a <script> element (no '</script>' can close it early)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
