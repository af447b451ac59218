"""convlint reads; it never writes anything but its cache (and, with ``--fix``, the files it
fixes). A linter run by pre-commit on every commit must leave the work tree, the home folder
and the temporary folder exactly as it found them, whatever the output format or the input.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "torch"
#: Where convlint may write: its cache, by default in the project.
CACHE_DIR = ".convlint_cache"

Snapshot = Dict[str, Tuple[str, int, str]]


def snapshot(folder: Path) -> Snapshot:
    """Every entry under ``folder``: kind, permission bits and content hash (or link target)."""
    found: Snapshot = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if relative.split("/")[0] == CACHE_DIR:
            continue
        mode = path.lstat().st_mode & 0o7777
        if path.is_symlink():
            found[relative] = ("link", mode, os.readlink(path))
        elif path.is_dir():
            found[relative] = ("dir", mode, "")
        elif path.is_file():
            found[relative] = ("file", mode, hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            found[relative] = ("other", mode, "")
    return found


@pytest.fixture
def world(tmp_path: Path) -> Dict[str, Path]:
    """A git project with good, bad and broken files, a config, a package that imports a
    sibling, a symlink; and empty HOME and TMPDIR folders for the run."""
    project = tmp_path / "project"
    (project / "models" / "blocks").mkdir(parents=True)
    for source in sorted(FIXTURES.glob("*.py"))[:12]:
        shutil.copy(source, project / "models" / source.name)
    (project / "models" / "blocks" / "__init__.py").write_text("")
    (project / "models" / "blocks" / "conv.py").write_text(
        "import torch.nn as nn\n\ndef block(c):\n    return nn.Conv2d(c, 2 * c, 3)\n")
    (project / "models" / "net.py").write_text(
        "import torch.nn as nn\nfrom models.blocks.conv import block\n\n"
        "m = nn.Sequential(block(8), nn.Conv2d(8, 4, 1))\n")
    (project / "models" / "broken.py").write_bytes(b'print "python 2"\n\xff\0')
    (project / "models" / "link.py").symlink_to("net.py")
    (project / "pyproject.toml").write_text('[tool.convlint]\nextend-select = ["CL004"]\n')
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / ".gitignore").write_text("ignored/\n")
    home, temporary = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temporary.mkdir()
    return {"project": project, "home": home, "tmp": temporary}


COMMANDS = [
    ["."],
    ["--output-format", "json", "models"],
    ["--output-format", "sarif", "."],
    ["--output-format", "github", "."],
    ["--force-exclude", "models/net.py", "models/broken.py"],
    ["--isolated", "--select", "CL", "--extend-select", "CL004", "."],
    ["--stdin-filename", "models/net.py", "-"],
    ["rules"],
    ["rule", "CL101"],
    ["--no-such-option"],
    ["missing.py"],
]


def _changes(world: Dict[str, Path], before: Dict[str, Snapshot]) -> Dict[str, list]:
    after = {name: snapshot(folder) for name, folder in world.items()}
    return {name: sorted(set(before[name].items()) ^ set(after[name].items())) for name in world
            if before[name] != after[name]}


def test_runs_in_every_output_format_change_no_file(world, monkeypatch, capsys):
    """In process, for speed: every command of COMMANDS, each checked on its own."""
    import io
    import tempfile

    from convlint.cli import main

    monkeypatch.chdir(world["project"])
    monkeypatch.setenv("HOME", str(world["home"]))
    monkeypatch.setenv("TMPDIR", str(world["tmp"]))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(world["project"].parent))
    monkeypatch.setattr(tempfile, "tempdir", str(world["tmp"]))
    stdin = (world["project"] / "models" / "net.py").read_bytes()
    for arguments in COMMANDS:
        before = {name: snapshot(folder) for name, folder in world.items()}
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        try:
            code = main(arguments)
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
        capsys.readouterr()
        assert code in (0, 1, 2)
        assert not _changes(world, before), f"convlint {' '.join(arguments)} changed {_changes(world, before)}"


def test_the_installed_command_changes_no_file(world):
    """Once as users run it, in a fresh process (bytecode writing on, as by default)."""
    before = {name: snapshot(folder) for name, folder in world.items()}
    env = dict(os.environ, HOME=str(world["home"]), TMPDIR=str(world["tmp"]), PYTHONPATH=str(ROOT),
               GIT_CEILING_DIRECTORIES=str(world["project"].parent))
    result = subprocess.run([sys.executable, "-m", "convlint", "--output-format", "sarif", "."], cwd=world["project"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert not _changes(world, before), _changes(world, before)
