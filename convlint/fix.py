"""Autofixes: from a rule's node replacement to a text edit, and applying edits so that nothing
is lost.

A rule proposes a :class:`~convlint.rules.base.Replacement` (a libcst node and the node to put
in its place); :func:`fix_for` rewrites the file's tree with it and keeps the span of text
that changed as the edit, so every other character of the file (formatting, comments, line
endings) stays as it was. :func:`fix_text` applies a file's fixes together,
re-lints the result and keeps the fixes only if the file still parses and each fixed finding
is gone with no new one in its place; fixes that fail this are tried one by one, then dropped.
:func:`write_fixed` replaces the file atomically, in its own encoding and with its permissions,
and never over a file that changed since it was read.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import io
import os
import re
import stat
import tempfile
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Protocol, Sequence, Set, Tuple

from convlint.analysis.imports import SourceError, parse_source
from convlint.diagnostics import Diagnostic, Edit, Fix

if TYPE_CHECKING:
    from convlint.analysis.imports import ModuleSource
    from convlint.rules.base import Replacement

SAFE, UNSAFE = "safe", "unsafe"
#: Rounds of fix-and-relint per file, as ruff loops until nothing is left to fix.
MAX_PASSES = 10
_LINE_END = re.compile(r"\r\n|\r|\n")


class Linting(Protocol):
    """What fixing needs of a linter (``runner.Linter``): to lint a text as a file's content."""

    def lint_text(self, path: Path, text: str, unknown_defaults: bool = False) -> List[Diagnostic]: ...


# --------------------------------------------------------------------- edits


def line_starts(text: str) -> List[int]:
    """The offset of each line's first character, lines ending as Python's (and libcst's) do."""
    return [0] + [match.end() for match in _LINE_END.finditer(text)]


def _offset(starts: Sequence[int], line: int, column: int) -> int:
    """The offset of a 1-based line and column (in code points)."""
    return starts[line - 1] + column - 1


def _place(starts: Sequence[int], offset: int) -> Tuple[int, int]:
    """The 1-based line and column of ``offset``."""
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def fix_for(source: "ModuleSource", replacement: "Replacement") -> Optional[Fix]:
    """The edit that puts ``replacement.new`` where ``replacement.node`` is: the file's tree is
    rewritten with libcst and the characters that change, as one span of whole tokens, become
    the edit. None when nothing would change, when the tree does not print back as the file
    (then an edit could not be trusted), or when the edit would add or remove a line (checking
    fixes relies on findings keeping their lines)."""
    text = source.text
    if source.tree.code != text:
        return None
    new = source.tree.deep_replace(replacement.node, replacement.new).code
    if new == text or len(line_starts(new)) != len(line_starts(text)):
        return None
    return Fix(replacement.message, SAFE if replacement.safe else UNSAFE, (text_edit(text, new),))


def text_edit(old: str, new: str) -> Edit:
    """The one edit that turns ``old`` into ``new``: the span between what they share at
    both ends."""
    prefix, suffix = _unchanged_ends(old, new)
    starts = line_starts(old)
    first, last = _place(starts, prefix), _place(starts, len(old) - suffix)
    return Edit(new[prefix:len(new) - suffix], first[0], first[1], last[0], last[1])


def _unchanged_ends(old: str, new: str) -> Tuple[int, int]:
    """How many characters at the start and at the end of ``old`` stay in ``new``, never
    splitting a name or a number (``120`` → ``128`` is one edit of the whole literal)."""
    prefix = len(os.path.commonprefix([old, new]))
    suffix = len(os.path.commonprefix([old[prefix:][::-1], new[prefix:][::-1]]))

    def word(text: str, index: int) -> bool:
        return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")

    def splits(at_old: int, at_new: int) -> bool:
        """Whether the changed span starts or ends inside a word at these indices."""
        return word(old[prefix:len(old) - suffix], at_old) or word(new[prefix:len(new) - suffix], at_new)

    while prefix and word(old, prefix - 1) and splits(0, 0):
        prefix -= 1
    while suffix and word(old, len(old) - suffix) and splits(len(old) - suffix - prefix - 1,
                                                             len(new) - suffix - prefix - 1):
        suffix -= 1
    return prefix, suffix


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with non-overlapping ``edits`` made."""
    starts = line_starts(text)
    spans = sorted(((_offset(starts, e.line, e.column), _offset(starts, e.end_line, e.end_column), e.content)
                    for e in set(edits)), reverse=True)
    for start, end, content in spans:
        text = text[:start] + content + text[end:]
    return text


def applies(diagnostic: Diagnostic, unsafe: bool) -> bool:
    """Whether ``--fix`` applies the diagnostic's fix (an unsafe one only with ``--unsafe-fixes``)."""
    fix = diagnostic.fix
    return fix is not None and (fix.applicability == SAFE or unsafe and fix.applicability == UNSAFE)


# --------------------------------------------------------------------- one file's fixes


@dataclass
class FileFix:
    """What fixing one file's text gave: the new text, the codes fixed (one per finding), and
    the findings that remain (a fix that failed its checks is taken off its finding)."""

    text: str
    diagnostics: List[Diagnostic]
    fixed: Counter = field(default_factory=Counter)


def _key(diagnostic: Diagnostic) -> Tuple[str, int, str]:
    """A finding across passes: fixes never add or remove a line, so its line stays."""
    return (diagnostic.code, diagnostic.line, diagnostic.fix.message if diagnostic.fix else "")


def _spans_overlap(a: Edit, b: Edit) -> bool:
    return (a.line, a.column) < (b.end_line, b.end_column) and (b.line, b.column) < (a.end_line, a.end_column)


def _compatible(chosen: Sequence[Diagnostic]) -> List[Diagnostic]:
    """The fixes of ``chosen`` that can be made together, in order: an edit that overlaps one
    already taken waits for the next pass (the same edit offered twice is made once)."""
    taken: List[Diagnostic] = []
    edits: Set[Edit] = set()
    for diagnostic in chosen:
        assert diagnostic.fix is not None
        new = [e for e in diagnostic.fix.edits if e not in edits]
        if any(_spans_overlap(e, other) or (e.line, e.column) == (other.line, other.column)
               for e in new for other in edits):
            continue
        edits.update(diagnostic.fix.edits)
        taken.append(diagnostic)
    return taken


def fix_text(linter: Linting, path: Path, text: str, diagnostics: List[Diagnostic], unsafe: bool) -> FileFix:
    """Apply the fixes of ``diagnostics`` (found in ``text``, the content of ``path``)."""
    fixed: Counter = Counter()
    rejected: Set[Tuple[str, int, str]] = set()
    for _ in range(MAX_PASSES):
        candidates = _compatible([d for d in diagnostics if applies(d, unsafe) and _key(d) not in rejected])
        if not candidates:
            break
        probed = _places(linter.lint_text(path, text, unknown_defaults=True))
        # All together first; if that fails, one at a time, and a fix failing alone is dropped.
        for attempt in [candidates] + ([[d] for d in candidates] if len(candidates) > 1 else []):
            outcome = _verified(linter, path, text, diagnostics, probed, attempt)
            if outcome is not None:
                text, diagnostics = outcome
                fixed.update(d.code for d in attempt)
                break
            if len(attempt) == 1:
                rejected.add(_key(attempt[0]))
    remaining = [dataclasses.replace(d, fix=None) if _key(d) in rejected else d for d in diagnostics]
    return FileFix(text, remaining, fixed)


def _places(diagnostics: Iterable[Diagnostic]) -> Counter:
    return Counter((d.code, d.line) for d in diagnostics)


def _verified(linter: Linting, path: Path, text: str, diagnostics: List[Diagnostic], probed: Counter,
              attempt: Sequence[Diagnostic]) -> Optional[Tuple[str, List[Diagnostic]]]:
    """The text with ``attempt``'s fixes made and its findings, if the text still parses and
    each fixed finding is gone with nothing new in its place, both as linted and with the roots'
    parameter defaults unknown (``probed`` is that lint of ``text``): a fix must not rest on a
    default that a caller elsewhere may change. Else None."""
    new_text = apply_edits(text, (e for d in attempt for e in d.fix.edits))  # type: ignore[union-attr]
    try:
        parse_source(new_text)
    except SourceError:
        return None
    found = linter.lint_text(path, new_text)
    for before, after in ((_places(diagnostics), _places(found)),
                          (probed, _places(linter.lint_text(path, new_text, unknown_defaults=True)))):
        before.subtract(_places(attempt))
        if any(count > before[place] for place, count in after.items()) or \
                any(after[(d.code, d.line)] > before[(d.code, d.line)] for d in attempt):
            return None
    return new_text, found


# --------------------------------------------------------------------- reading and writing


@dataclass
class SourceFile:
    """A file as read for fixing: its bytes, text, encoding and state on disk."""

    path: Path
    data: bytes
    text: str
    encoding: str
    status: os.stat_result

    @classmethod
    def read(cls, path: Path) -> Optional["SourceFile"]:
        """None when the file cannot be read, or its text would not encode back to the same
        bytes (then a fixed version could not keep the rest of the file as it was)."""
        real = Path(os.path.realpath(path))
        try:
            status = os.stat(real)
            data = real.read_bytes()
        except OSError:
            return None
        encoding = source_encoding(data)
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            return None
        if text.encode(encoding) != data:
            return None
        return cls(real, data, text, encoding, status)


def source_encoding(data: bytes) -> str:
    """The encoding Python reads ``data`` in: ``utf-8-sig`` with a BOM, a coding cookie's, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return "utf-8"
    return encoding


def write_fixed(source: SourceFile, text: str) -> bool:
    """Replace the file with ``text`` atomically (a temporary file in the same folder, renamed
    over it), in its encoding and with its permissions. False, and nothing written, when the
    file changed on disk since it was read."""
    data = text.encode(source.encoding)
    folder = source.path.parent
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{source.path.name}.", suffix=".convlint")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(source.status.st_mode))
        try:
            now = os.stat(source.path)
            unchanged = (now.st_mtime_ns, now.st_size, now.st_ino) == (
                source.status.st_mtime_ns, source.status.st_size, source.status.st_ino) \
                and source.path.read_bytes() == source.data
        except OSError:
            unchanged = False
        if not unchanged:
            os.unlink(temporary)
            return False
        os.replace(temporary, source.path)
        return True
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _write(source: SourceFile, text: str) -> Optional[str]:
    """Why the fixed text could not be written, or None when it was."""
    try:
        written = write_fixed(source, text)
    except OSError as error:
        return f"cannot be written ({error.strerror or error})"
    return None if written else "changed on disk while it was being fixed"


def unified_diff(old: str, new: str, shown: str) -> str:
    """The diff ruff prints for ``--diff``: ``--- path``/``+++ path``, three lines of context,
    a note for a last line without a newline, and a blank line after each file."""
    lines = []
    for line in difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     fromfile=shown, tofile=shown, n=3):
        if line.startswith(("---", "+++")):
            line = line.rstrip("\n") + "\n"
        if not line.endswith(("\n", "\r")):
            line += "\n\\ No newline at end of file\n"
        lines.append(line)
    return "".join(lines) + "\n" if lines else ""


def summary_by_file(fixed: Dict[str, Counter]) -> List[str]:
    """ruff's ``--show-fixes`` block: ``Fixed 2 errors:``, then ``- path:`` and
    ``    1 × CL101 (channel-mismatch)`` lines, files sorted, most frequent code first."""
    from convlint.rules import RULES_BY_CODE

    total = sum(sum(counts.values()) for counts in fixed.values())
    if not total:
        return []
    width = len(str(max(max(counts.values()) for counts in fixed.values() if counts)))
    lines = [f"Fixed {total} error{'' if total == 1 else 's'}:"]
    for shown in sorted(fixed):
        if not fixed[shown]:
            continue
        lines.append(f"- {shown}:")
        for code, count in sorted(fixed[shown].items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"    {count:>{width}} × {code} ({RULES_BY_CODE[code].name})")
    return lines


# --------------------------------------------------------------------- a run's fixes


@dataclass
class RunFixes:
    """What fixing a run's files gave: the findings that remain (sorted), the codes fixed per
    shown path, the diffs (with ``--diff``), and the files left as they were, with why (changed
    on disk while convlint worked on them, or not writable)."""

    diagnostics: List[Diagnostic]
    fixed: Dict[str, Counter] = field(default_factory=dict)
    diffs: List[str] = field(default_factory=list)
    not_written: List[Tuple[str, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(sum(counts.values()) for counts in self.fixed.values())


def fix_paths(linter: Linting, files: Dict[str, Path], diagnostics: List[Diagnostic], unsafe: bool,
              write: bool) -> RunFixes:
    """Fix every file (``files`` maps shown paths to paths) that has an applicable fix among
    ``diagnostics``: write it (``write``) or collect its diff. Each such file is read and
    linted afresh, so a result from the cache or an edit since the run began is never fixed
    with stale positions."""
    fixable = sorted({d.path for d in diagnostics if applies(d, unsafe) and d.path in files})
    result = RunFixes([d for d in diagnostics if d.path not in fixable])
    for shown in fixable:
        path = files[shown]
        source = SourceFile.read(path)
        if source is None:
            result.diagnostics.extend(d for d in diagnostics if d.path == shown)
            continue
        found = linter.lint_text(path, source.text)
        outcome = fix_text(linter, path, source.text, found, unsafe)
        if outcome.text != source.text:
            if not write:
                result.diffs.append(unified_diff(source.text, outcome.text, shown))
            else:
                problem = _write(source, outcome.text)
                if problem is not None:
                    result.not_written.append((shown, problem))
                    result.diagnostics.extend(found)
                    continue
            result.fixed[shown] = outcome.fixed
        result.diagnostics.extend(outcome.diagnostics)
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result
