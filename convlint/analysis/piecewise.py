"""libcst's parse of a long file, a run of top-level statements at a time.

While it parses, libcst's native parser holds about 300 bytes per character of source (a
234 kB file of timm: 76 MiB), ten times the tree it returns. A file is a sequence of top-level
statements that parse alike on their own, so a long file is cut, at lines that begin a
top-level statement, into pieces of about ``PIECE_CHARACTERS`` that are parsed one after the
other and joined into the module the whole parse gives: the blank lines and comments at the end
of a piece (its footer) lead the next piece's first statement, as they would in one parse.

The cuts come from a scan of the lines, which cannot see strings and brackets; a cut inside one
leaves a piece that does not parse, and then the file is parsed whole, as is a file whose
pieces disagree on the indentation or newline they would print with.
"""

from __future__ import annotations

import re
from typing import List, Optional

import libcst as cst

#: Files longer than this are parsed in pieces of about this many characters.
PIECE_CHARACTERS = 16_384
#: A line that may begin a top-level statement: a name, a keyword or a decorator at column 0,
#: other than the clauses that continue a statement.
_STATEMENT_START = re.compile(r"^(?!(?:else|elif|except|finally)\b)[A-Za-z_@]", re.MULTILINE)


def parse_module(text: str) -> cst.Module:
    """What ``cst.parse_module(text)`` returns, parsed in pieces when ``text`` is long."""
    pieces = _pieces(text)
    if len(pieces) > 1:
        try:
            joined = _joined([cst.parse_module(piece) for piece in pieces])
        except cst.ParserSyntaxError:
            joined = None
        if joined is not None:
            return joined
    return cst.parse_module(text)


def _pieces(text: str) -> List[str]:
    """``text`` cut before lines that seem to begin top-level statements, each piece but the
    last at least ``PIECE_CHARACTERS`` long; the whole text when it is short, or when its lines
    end otherwise than with ``\\n`` alone (the scan counts no other ending)."""
    if len(text) <= 2 * PIECE_CHARACTERS or "\r" in text:
        return [text]
    pieces = []
    start = 0
    for match in _STATEMENT_START.finditer(text, PIECE_CHARACTERS):
        cut = match.start()
        if cut - start < PIECE_CHARACTERS or len(text) - cut < PIECE_CHARACTERS or not _may_cut(text, cut):
            continue
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def _may_cut(text: str, cut: int) -> bool:
    """Whether the line before ``cut`` ends a statement: neither a decorator, nor continued by a
    backslash. Between them only empty lines and comments at column 0 may lie: a piece's parse
    would give other lines there (spaces, a form feed, an indented comment) to the block before.
    """
    end = cut - 1
    while end > 0:
        line_start = text.rfind("\n", 0, end) + 1
        line = text[line_start:end]
        if line and not line.startswith("#"):
            code = line.strip()
            return bool(code) and not code.startswith(("#", "@")) and not line.endswith("\\")
        end = line_start - 1
    return False


def _joined(modules: List[cst.Module]) -> Optional[cst.Module]:
    """The module of the pieces' statements, or None if they would print differently."""
    first, last = modules[0], modules[-1]
    if any((m.default_indent, m.default_newline) != (first.default_indent, first.default_newline)
           for m in modules):
        return None
    body: List[cst.BaseStatement] = list(first.body)
    for before, piece in zip(modules, modules[1:]):
        leading = piece.body[0]  # a piece that parses begins with the statement it was cut before
        body.append(leading.with_changes(leading_lines=[*before.footer, *piece.header, *leading.leading_lines]))
        body.extend(piece.body[1:])
    return first.with_changes(body=body, footer=last.footer, has_trailing_newline=last.has_trailing_newline)
