"""Which files a run lints: the named files, and the ``.py`` files under the named folders that
neither ``exclude`` nor git ignores. Named files are always linted unless ``--force-exclude``
asks otherwise, because pre-commit and editors name exactly the files they want checked.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import FrozenSet, Iterable, Iterator, List, Sequence, Set

from convlint.config import Settings


class UsageError(Exception):
    """A command-line path that cannot be linted; its text is one line."""


def discover(paths: Sequence[Path], settings: Settings, force_exclude: bool = False) -> List[Path]:
    """The files to lint, sorted, each once (by resolved path), spelt as they were given."""
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"path `{path}` does not exist")
    candidates = []
    for path in paths:
        if not (force_exclude and force_excluded(path, settings)):
            candidates.extend(_walk(path, settings) if path.is_dir() else (path,))
    return _unique(sorted(candidates))


def _unique(paths: Iterable[Path]) -> List[Path]:
    """``paths`` without those that resolve to a file already listed, so the order decides
    which spelling of a file is kept."""
    seen: Set[str] = set()
    unique = []
    for path in paths:
        resolved = os.path.realpath(path)
        if resolved not in seen:
            seen.add(resolved)
            unique.append(path)
    return unique


def force_excluded(path: Path, settings: Settings) -> bool:
    """As ruff's ``--force-exclude``: the path, or a folder above it below the project root,
    matches an exclude. Folders above the root are not the project's business."""
    absolute = Path(os.path.abspath(path))
    folders = [folder for folder in absolute.parents if settings.root in folder.parents]
    return any(settings.is_excluded(candidate) for candidate in (absolute, *folders))


def _walk(top: Path, settings: Settings) -> Iterator[Path]:
    """The ``.py`` files under ``top``, pruning excluded and git-ignored folders. Symlinked
    folders are not entered, so a symlink loop cannot hang the walk."""
    ignored = _git_ignored(top)
    for folder, subfolders, names in os.walk(top, followlinks=False):
        prefix = _relative_prefix(Path(folder), top)
        subfolders[:] = [
            name for name in subfolders
            if f"{prefix}{name}/" not in ignored and not settings.is_excluded(Path(folder, name))
        ]
        for name in names:
            path = Path(folder, name)
            if (name.endswith(".py") and prefix + name not in ignored and not settings.is_excluded(path)
                    and _may_hold_source(path)):
                yield path


def _may_hold_source(path: Path) -> bool:
    """Not a FIFO, socket or device found on the walk: reading a FIFO waits forever for a
    writer. A name that cannot be followed (a dangling link, a link loop) is kept, so that the
    run reports it as unreadable."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True


def _relative_prefix(folder: Path, top: Path) -> str:
    """``folder`` relative to ``top`` in git's spelling, ending with ``/`` (empty for ``top``)."""
    relative = folder.relative_to(top).as_posix()
    return "" if relative == "." else relative + "/"


def _git_ignored(top: Path) -> FrozenSet[str]:
    """What git ignores under ``top``, relative to it, folders ending with ``/``: one git call
    per named folder. Outside a work tree, or without git, nothing is ignored."""
    try:
        result = subprocess.run(
            ["git", "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"],
            cwd=top, capture_output=True, check=False,
        )
    except OSError:
        return frozenset()
    if result.returncode != 0:
        return frozenset()
    return frozenset(os.fsdecode(entry) for entry in result.stdout.split(b"\0") if entry)
