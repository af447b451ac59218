"""The cache of a run's results, one entry per linted file, so that an unchanged tree is not
parsed again.

An entry is used only when everything its result depends on is as it was:

* the file's own content (a hash of its bytes, never its modification time, which a checkout
  or a build resets);
* convlint itself (its version and the content of its own source files), the Python that runs
  it, libcst's version, and the effective settings (rule selection, per-file ignores, model
  shapes and every other setting that can change a result; the output format and the
  excludes cannot), together with the folder it runs from, since imports resolve from there;
* every file the analysis consulted through imports, by content, and every place an import
  was looked for in vain, which must still be empty (see ``Project.start_recording``).

The first two pick the folder of entries (``<cache-dir>/<convlint version>/<hash>/``), the
last is checked per entry. Writes go to a temporary file renamed into place, so concurrent runs
never see half an entry; an entry that cannot be read or does not have the expected shape is
ignored, and rewritten after the file is linted. Like ruff, the cache folder holds a
``CACHEDIR.TAG`` and a ``.gitignore`` of ``*``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from convlint import __version__
from convlint.config import Settings
from convlint.diagnostics import ERROR, WARNING, Diagnostic, Edit, Fix
from convlint.rules import RULES_BY_CODE

DEFAULT_FOLDER = ".convlint_cache"
#: Settings that cannot change what a file's analysis reports.
_IRRELEVANT_SETTINGS = frozenset({"output_format", "cache_dir", "exclude", "extend_exclude", "config_path",
                                  "fix", "fix_only", "unsafe_fixes", "show_fixes"})
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by convlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
#: The layout of an entry; entries of another layout are ignored.
_FORMAT = 1


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def cache_folder(settings: Settings) -> Path:
    """The cache folder of a run: the ``cache-dir`` setting, else ``.convlint_cache`` beside the
    configuration (in the project root when there is none)."""
    return Path(settings.cache_dir) if settings.cache_dir else Path(settings.root) / DEFAULT_FOLDER


def _code_fingerprint() -> str:
    """convlint's own source, so that a changed analysis never reuses old results (a release
    changes its version too, but a checkout of convlint under development does not)."""
    from libcst._version import __version__ as libcst_version

    package = Path(__file__).resolve().parent
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(f"{__version__}|{sys.version}|{libcst_version}".encode())
    for source in sorted(package.rglob("*.py")):
        hasher.update(str(source.relative_to(package)).encode())
        hasher.update(source.read_bytes())
    return hasher.hexdigest()


def settings_fingerprint(settings: Settings, cwd: Path) -> str:
    """What, besides the files, a result depends on: convlint, the settings, the folder."""
    values = {
        field.name: repr(getattr(settings, field.name))
        for field in dataclasses.fields(settings)
        if field.name not in _IRRELEVANT_SETTINGS
    }
    text = json.dumps({"code": _code_fingerprint(), "settings": values, "cwd": str(Path(cwd).resolve())},
                      sort_keys=True)
    return digest(text.encode())


class Cache:
    """The entries of one cache folder for one fingerprint of convlint and the settings."""

    def __init__(self, folder: Path, fingerprint: str) -> None:
        self.root = Path(folder)
        self.entries = self.root / __version__ / fingerprint
        self._digests: Dict[str, Optional[str]] = {}

    @classmethod
    def for_run(cls, settings: Settings, cwd: Path) -> "Cache":
        return cls(cache_folder(settings), settings_fingerprint(settings, cwd))

    # ----------------------------------------------------------------- reading

    def load(self, path: Path, content: str) -> Optional[List[Diagnostic]]:
        """The diagnostics stored for ``path`` with content hash ``content``, if nothing they
        depend on changed (their ``path`` is filled in by the caller); else None."""
        key = str(path.resolve())
        try:
            with open(self._entry(key), "rb") as handle:
                entry = json.loads(handle.read())
            if entry.get("format") != _FORMAT or entry.get("path") != key or entry.get("content") != content:
                return None
            self._digests.setdefault(key, content)
            for dependency, expected in entry["dependencies"].items():
                if self.file_digest(dependency) != expected:
                    return None
            return [_diagnostic(item) for item in entry["diagnostics"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None

    def file_digest(self, path: str) -> Optional[str]:
        """The content hash of the file at ``path``, ``"folder"`` for a folder, None if there is
        nothing there; once per run."""
        if path not in self._digests:
            try:
                with open(path, "rb") as handle:
                    self._digests[path] = digest(handle.read())
            except OSError:
                self._digests[path] = "folder" if os.path.isdir(path) else None
        return self._digests[path]

    # ----------------------------------------------------------------- writing

    def store(self, path: Path, content: str, dependencies: Iterable[str], diagnostics: List[Diagnostic]) -> None:
        """Record the result of linting ``path`` (content hash ``content``); failures to write
        are ignored (a read-only checkout lints as well, only more slowly)."""
        key = str(path.resolve())
        self._digests.setdefault(key, content)
        entry = {
            "format": _FORMAT,
            "path": key,
            "content": content,
            "dependencies": {str(dependency): self.file_digest(str(dependency))
                             for dependency in sorted(set(dependencies)) if str(dependency) != key},
            "diagnostics": [_plain(diagnostic) for diagnostic in diagnostics],
        }
        try:
            self._prepare()
            _write_atomically(self._entry(key), json.dumps(entry, separators=(",", ":")).encode())
        except OSError:
            pass

    def _entry(self, key: str) -> Path:
        return self.entries / f"{digest(key.encode())}.json"

    def _prepare(self) -> None:
        if self.entries.is_dir():
            return
        self.entries.mkdir(parents=True, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", _CACHEDIR_TAG), (".gitignore", "# Created by convlint.\n*\n")):
            marker = self.root / name
            if not marker.exists():
                _write_atomically(marker, text.encode())


def _write_atomically(target: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(handle, 0o644)  # as any file this user writes (mkstemp's 0600 is for secrets)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _plain(diagnostic: Diagnostic) -> List[Any]:
    fix = diagnostic.fix
    plain_fix = None if fix is None else [fix.message, fix.applicability,
                                          [dataclasses.astuple(edit) for edit in fix.edits]]
    return [diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column, diagnostic.code,
            diagnostic.message, diagnostic.severity, plain_fix]


def _diagnostic(item: List[Any]) -> Diagnostic:
    line, column, end_line, end_column, code, message, severity, plain_fix = item
    fix = None
    if plain_fix is not None:
        fix = Fix(plain_fix[0], plain_fix[1], tuple(Edit(*edit) for edit in plain_fix[2]))
    for number in (line, column, end_line, end_column):
        if not isinstance(number, int):
            raise TypeError("not a position")
    if code not in RULES_BY_CODE or severity not in (ERROR, WARNING) or not isinstance(message, str):
        raise TypeError("not a diagnostic of this convlint")  # the report formats would fail on it
    return Diagnostic("", line, column, end_line, end_column, code, message, severity, fix)
