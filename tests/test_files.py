"""Finding the files to lint: walking folders, excludes, named files, git-ignored files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable

import pytest

from convlint.config import Settings
from convlint.files import UsageError, discover

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Run from tmp_path, with no git work tree above it."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)


def touch(root: Path, names: Iterable[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def git_init(root: Path, gitignore: str) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text(gitignore, encoding="utf-8")


def test_walks_folders_for_py_files_sorted_and_relative(tmp_path):
    touch(tmp_path, ["pkg/b.py", "pkg/a.py", "pkg/sub/c.py", "top.py", "notes.txt", "pkg/stub.pyi", "pkg/x.pyc"])
    assert discover([Path(".")], Settings(root=tmp_path)) == [
        Path("pkg/a.py"), Path("pkg/b.py"), Path("pkg/sub/c.py"), Path("top.py"),
    ]
    assert discover([Path("pkg")], Settings(root=tmp_path)) == [
        Path("pkg/a.py"), Path("pkg/b.py"), Path("pkg/sub/c.py"),
    ]
    assert discover([tmp_path / "pkg" / "sub"], Settings(root=tmp_path)) == [tmp_path / "pkg" / "sub" / "c.py"]


def test_default_excludes_prune_folders(tmp_path):
    touch(tmp_path, [
        "src/m.py", ".venv/lib/site.py", "venv/x.py", "build/lib/m.py", "dist/m.py", "src/__pycache__/m.py",
        ".tox/py/x.py", "node_modules/x.py", "lib/site-packages/torch/nn.py", "convlint.egg-info/x.py",
        ".git/hooks/x.py", ".mypy_cache/x.py",
    ])
    assert discover([Path(".")], Settings(root=tmp_path)) == [Path("src/m.py")]


def test_user_excludes_match_names_and_paths_from_root(tmp_path):
    touch(tmp_path, [
        "pkg/gen/a.py", "other/pkg/gen/b.py", "data/c.py", "deep/data/d.py", "pkg/m_pb2.py", "pkg/m.py",
        "build/e.py",
    ])
    settings = Settings(exclude=("data", "pkg/gen"), extend_exclude=("*_pb2.py",), root=tmp_path)
    assert discover([Path(".")], settings) == [
        Path("build/e.py"), Path("other/pkg/gen/b.py"), Path("pkg/m.py"),
    ]


def test_excludes_are_relative_to_root_not_to_the_walked_folder(tmp_path):
    touch(tmp_path, ["proj/pkg/gen/a.py", "proj/pkg/m.py"])
    settings = Settings(exclude=("pkg/gen",), root=tmp_path / "proj")
    assert discover([Path("proj/pkg")], settings) == [Path("proj/pkg/m.py")]
    settings = Settings(exclude=("pkg/gen",), root=tmp_path)
    assert discover([Path("proj/pkg")], settings) == [Path("proj/pkg/gen/a.py"), Path("proj/pkg/m.py")]


def test_named_files_are_always_linted(tmp_path):
    touch(tmp_path, ["build/gen.py", "script", "notes.txt", "src/m.py"])
    settings = Settings(extend_exclude=("script",), root=tmp_path)
    named = [Path("build/gen.py"), Path("script"), Path("notes.txt"), Path("src")]
    assert discover(named, settings) == [Path("build/gen.py"), Path("notes.txt"), Path("script"), Path("src/m.py")]


def test_named_excluded_folder_is_walked(tmp_path):
    touch(tmp_path, ["build/a.py", "build/dist/b.py"])
    assert discover([Path("build")], Settings(root=tmp_path)) == [Path("build/a.py")]


def test_force_exclude_drops_named_excluded_paths(tmp_path):
    touch(tmp_path, ["build/gen.py", "build/deep/more.py", "script", "src/m.py", "build.py"])
    settings = Settings(extend_exclude=("script",), root=tmp_path)
    named = [Path("build/gen.py"), Path("build/deep/more.py"), Path("script"), Path("build"), Path("src/m.py")]
    assert discover(named, settings, force_exclude=True) == [Path("src/m.py")]
    assert discover([Path("build.py")], settings, force_exclude=True) == [Path("build.py")]


def test_force_exclude_ignores_folders_above_the_root(tmp_path):
    touch(tmp_path, ["build/proj/m.py"])
    settings = Settings(root=tmp_path / "build" / "proj")
    assert discover([Path("build/proj/m.py")], settings, force_exclude=True) == [Path("build/proj/m.py")]


def test_duplicates_are_removed(tmp_path):
    touch(tmp_path, ["pkg/a.py", "pkg/b.py", "pkg/sub/c.py"])
    settings = Settings(root=tmp_path)
    named = [Path("pkg"), Path("pkg/a.py"), Path("./pkg/b.py"), Path("pkg/sub/../a.py")]
    assert discover(named, settings) == [Path("pkg/a.py"), Path("pkg/b.py"), Path("pkg/sub/c.py")]
    absolute = tmp_path / "pkg" / "a.py"
    assert discover([Path("pkg"), absolute], settings) == [absolute, Path("pkg/b.py"), Path("pkg/sub/c.py")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlinked_folders_are_not_entered(tmp_path):
    touch(tmp_path, ["pkg/a.py"])
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "loop")
    os.symlink("self.py", tmp_path / "pkg" / "self.py")
    os.symlink(tmp_path / "pkg" / "a.py", tmp_path / "pkg" / "z_alias.py")
    touch(tmp_path, ["outside/b.py"])
    os.symlink(tmp_path / "outside", tmp_path / "pkg" / "linked")
    found = discover([Path("pkg")], Settings(root=tmp_path))
    assert found == [Path("pkg/a.py"), Path("pkg/self.py")]  # z_alias.py is a.py again
    assert discover([Path("pkg/loop")], Settings(root=tmp_path)) == [Path("pkg/loop/a.py"), Path("pkg/loop/self.py")]


def test_nonexistent_path(tmp_path):
    touch(tmp_path, ["a.py"])
    with pytest.raises(UsageError) as caught:
        discover([Path("a.py"), Path("foo.py")], Settings(root=tmp_path))
    assert str(caught.value) == "path `foo.py` does not exist"


@needs_git
def test_git_ignored_files_are_skipped(tmp_path):
    git_init(tmp_path, "ignored.py\ngen/\n*.tmp.py\n")
    touch(tmp_path, ["keep.py", "ignored.py", "gen/a.py", "pkg/gen/b.py", "pkg/x.tmp.py", "pkg/y.py"])
    settings = Settings(root=tmp_path)
    assert discover([Path(".")], settings) == [Path("keep.py"), Path("pkg/y.py")]
    assert discover([Path("pkg")], settings) == [Path("pkg/y.py")]


@needs_git
def test_nested_gitignore_and_info_exclude(tmp_path):
    git_init(tmp_path, "")
    (tmp_path / ".git" / "info" / "exclude").write_text("secret.py\n", encoding="utf-8")
    touch(tmp_path, ["pkg/.gitignore", "pkg/local.py", "pkg/m.py", "secret.py", "local.py"])
    (tmp_path / "pkg" / ".gitignore").write_text("local.py\n", encoding="utf-8")
    assert discover([Path(".")], Settings(root=tmp_path)) == [Path("local.py"), Path("pkg/m.py")]


@needs_git
def test_named_git_ignored_paths_are_kept(tmp_path):
    git_init(tmp_path, "ignored.py\ngen/\n")
    touch(tmp_path, ["ignored.py", "gen/a.py", "keep.py"])
    settings = Settings(root=tmp_path)
    assert discover([Path("ignored.py"), Path("keep.py")], settings) == [Path("ignored.py"), Path("keep.py")]
    assert discover([Path("gen")], settings) == [Path("gen/a.py")]


@needs_git
def test_tracked_files_are_not_git_ignored(tmp_path):
    git_init(tmp_path, "")
    touch(tmp_path, ["tracked.py"])
    subprocess.run(["git", "add", "tracked.py"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text("tracked.py\n", encoding="utf-8")
    assert discover([Path(".")], Settings(root=tmp_path)) == [Path("tracked.py")]


def test_gitignore_outside_a_work_tree_is_not_read(tmp_path):
    (tmp_path / ".gitignore").write_text("ignored.py\n", encoding="utf-8")
    touch(tmp_path, ["ignored.py"])
    assert discover([Path(".")], Settings(root=tmp_path)) == [Path("ignored.py")]


@needs_git
def test_without_git_nothing_is_filtered(tmp_path, monkeypatch):
    git_init(tmp_path, "ignored.py\n")
    touch(tmp_path, ["ignored.py", "keep.py"])
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert discover([Path(".")], Settings(root=tmp_path)) == [Path("ignored.py"), Path("keep.py")]
