"""Autofixes: which findings get one, that applying them loses nothing, that the command line
behaves as ruff's does, and that the fixed models work in real PyTorch."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fixture_oracles import FIXTURES_DIR, fixture_files, markers, oracles  # noqa: E402
from test_cli import SCRIPTS, _environment, expect, run  # noqa: E402

from convlint.config import load_settings  # noqa: E402
from convlint.fix import SourceFile, apply_edits, fix_paths, fix_text, unified_diff, write_fixed  # noqa: E402
from convlint.rules import ALL_RULES  # noqa: E402
from convlint.rules.base import expected_lines  # noqa: E402
from convlint.runner import Linter  # noqa: E402

pytestmark = pytest.mark.skipif(SCRIPTS is None, reason="the convlint console script is not installed")

HEADER = "import torch.nn as nn\n"
#: CL101 on line 2, with a safe fix: 16 becomes 32.
BAD = HEADER + "m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.Conv2d(16, 8, 3))\n"
GOOD = HEADER + "m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.Conv2d(32, 8, 3))\n"
#: CL301 on line 5, with an unsafe fix only.
BIASED = HEADER + (
    "class Stem(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.conv = nn.Conv2d(3, 16, 3,  # keep this comment\n"
    "        )\n"
    "        self.bn = nn.BatchNorm2d(16)\n"
    "    def forward(self, x):\n"
    "        return self.bn(self.conv(x))\n"
)


def snapshot(folder: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.py"))}


def diagnostics_of(folder: Path, *paths: Path) -> list:
    settings = load_settings(folder, isolated=True)
    return Linter(settings, folder).lint_paths(list(paths) or sorted(folder.rglob("*.py")))


# -- which findings get a fix --------------------------------------------------------------------


@pytest.mark.parametrize("source, fixed", [
    (BAD, HEADER + "m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.Conv2d(32, 8, 3))\n"),
    (HEADER + "head = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Linear(0x80, 10))\n",
     HEADER + "head = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))\n"),
    (HEADER + "s = nn.Sequential(nn.Conv2d(3, 64, 3, bias=False), nn.BatchNorm2d(num_features=32))\n",
     HEADER + "s = nn.Sequential(nn.Conv2d(3, 64, 3, bias=False), nn.BatchNorm2d(num_features=64))\n"),
    (HEADER + "s = nn.Sequential(nn.Linear(10, 20), nn.LayerNorm(32))\n",
     HEADER + "s = nn.Sequential(nn.Linear(10, 20), nn.LayerNorm(20))\n"),
    # GroupNorm's groups divide the new count.
    (HEADER + "s = nn.Sequential(nn.Conv2d(3, 64, 3), nn.GroupNorm(8, 32))\n",
     HEADER + "s = nn.Sequential(nn.Conv2d(3, 64, 3), nn.GroupNorm(8, 64))\n"),
], ids=["conv", "hex-linear", "keyword-norm", "layernorm", "groupnorm"])
def test_safe_fix_replaces_the_literal(tmp_path, source, fixed):
    (tmp_path / "m.py").write_text(source)
    result = run(tmp_path, "--fix", "--no-cache", "m.py")
    assert (tmp_path / "m.py").read_text() == fixed
    expect(result, "Found 1 error (1 fixed, 0 remaining).\n", 0)


@pytest.mark.parametrize("source", [
    # A name, an expression, a spread list: not a plain literal.
    HEADER + "c = 16\nm = nn.Sequential(nn.Conv2d(3, 32, 3), nn.Conv2d(c, 8, 3))\n",
    HEADER + "m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.Conv2d(8 * 2, 8, 3))\n",
    HEADER + "m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.Conv2d(*[16, 8, 3]))\n",
    # The same call receives 32 on the first iteration and 64 after: no single right value.
    HEADER + "layers = [nn.Conv2d(3, 32, 3)]\nfor _ in range(3):\n    layers.append(nn.Conv2d(64, 64, 3))\n"
             "m = nn.Sequential(*layers)\n",
    # A helper's layer used after 32 channels here and after 16 there.
    HEADER + "def head():\n    return nn.Conv2d(16, 8, 1)\n"
             "a = nn.Sequential(nn.Conv2d(3, 32, 3), head())\nb = nn.Sequential(nn.Conv2d(3, 16, 3), head())\n",
    # The count comes from a parameter's default: Net(width=32) elsewhere would need 32.
    HEADER + "class Net(nn.Module):\n    def __init__(self, width=64):\n        super().__init__()\n"
             "        self.conv = nn.Conv2d(3, width, 3, bias=False)\n        self.bn = nn.BatchNorm2d(32)\n"
             "    def forward(self, x):\n        return self.bn(self.conv(x))\n",
    # Depthwise: the groups would have to change with the channels.
    HEADER + "m = nn.Sequential(nn.Conv2d(3, 64, 3), nn.Conv2d(32, 32, 3, groups=32))\n",
    # GroupNorm(5, ·) cannot take 64 channels.
    HEADER + "s = nn.Sequential(nn.Conv2d(3, 64, 3), nn.GroupNorm(5, 30))\n",
    # The count that arrives is symbolic.
    HEADER + "class N(nn.Module):\n    def __init__(self, c):\n        super().__init__()\n"
             "        self.b = nn.Sequential(nn.Conv2d(c, c + 64, 3, bias=False), nn.BatchNorm2d(64))\n",
], ids=["name", "expression", "spread", "loop", "helper-used-twice", "default", "depthwise", "groupnorm-indivisible",
        "symbolic"])
def test_no_fix_when_the_repair_is_not_obvious(tmp_path, source):
    (tmp_path / "m.py").write_text(source)
    found = diagnostics_of(tmp_path)
    assert any(d.code in ("CL101", "CL102") for d in found), found
    assert all(d.fix is None for d in found if d.code in ("CL101", "CL102"))
    result = run(tmp_path, "--fix", "--unsafe-fixes", "--no-cache", "m.py")
    assert (tmp_path / "m.py").read_text() == source and result.returncode == 1
    assert "fixed" not in result.stdout


def test_bias_fix_is_unsafe_and_keeps_comments_and_lines(tmp_path):
    path = tmp_path / "stem.py"
    path.write_text(BIASED)
    result = run(tmp_path, "--fix", "--no-cache", "stem.py")
    assert path.read_text() == BIASED
    expect(result, f"stem.py:5:21: CL301 {_bias_message()}\nFound 1 error.\n"
                   "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).\n", 1)
    result = run(tmp_path, "--fix", "--unsafe-fixes", "--no-cache", "stem.py")
    expect(result, "Found 1 error (1 fixed, 0 remaining).\n", 0)
    assert path.read_text() == BIASED.replace("nn.Conv2d(3, 16, 3,  # keep", "nn.Conv2d(3, 16, 3, bias=False,  # keep")


def test_no_bias_fix_when_the_norm_depends_on_a_default(tmp_path):
    """The norm is chosen by a parameter's default: with norm="none" the bias is needed."""
    source = HEADER + (
        "class Block(nn.Module):\n"
        "    def __init__(self, norm=\"batch\"):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 16, 3)\n"
        "        self.norm = nn.BatchNorm2d(16) if norm == \"batch\" else nn.Identity()\n"
        "    def forward(self, x):\n"
        "        return self.norm(self.conv(x))\n")
    (tmp_path / "m.py").write_text(source)
    assert [d.code for d in diagnostics_of(tmp_path)] == ["CL301"]
    result = run(tmp_path, "--fix", "--unsafe-fixes", "--no-cache", "m.py")
    assert (tmp_path / "m.py").read_text() == source and "fixed" not in result.stdout


def test_bias_true_becomes_false(tmp_path):
    path = tmp_path / "stem.py"
    path.write_text(BIASED.replace("nn.Conv2d(3, 16, 3,", "nn.Conv2d(3, 16, 3, bias=True,"))
    run(tmp_path, "--fix", "--unsafe-fixes", "--no-cache", "stem.py")
    assert path.read_text() == BIASED.replace("nn.Conv2d(3, 16, 3,", "nn.Conv2d(3, 16, 3, bias=False,")


def _bias_message() -> str:
    return ("Conv2d(3, 16) has a bias of 16 parameters that BatchNorm2d on line 7 cancels "
            "(it subtracts each channel's mean): pass bias=False")


def test_a_fix_that_brings_a_new_finding_is_not_applied(tmp_path):
    """Dropping the bias changes the model's total, which CL303 guards: the fix is refused."""
    (tmp_path / "stem.py").write_text(BIASED)
    (tmp_path / "pyproject.toml").write_text('[tool.convlint]\n[tool.convlint.models]\n'
                                             '"stem.py:Stem()" = { params = 480 }\n')
    assert [d.code for d in diagnostics_of(tmp_path, tmp_path / "stem.py")] == ["CL301"]
    result = run(tmp_path, "--fix", "--unsafe-fixes", "--no-cache", "stem.py")
    assert (tmp_path / "stem.py").read_text() == BIASED
    # The finding stays, without the fix that failed its check.
    expect(result, f"stem.py:5:21: CL301 {_bias_message()}\nFound 1 error.\n", 1)


# -- nothing is lost -------------------------------------------------------------------------------


def test_crlf_bom_and_comments_are_kept(tmp_path):
    path = tmp_path / "m.py"
    path.write_bytes(b"\xef\xbb\xbf# a comment\r\n" + BAD.replace("\n", "\r\n").encode())
    run(tmp_path, "--fix", "--no-cache", "m.py")
    assert path.read_bytes() == b"\xef\xbb\xbf# a comment\r\n" + BAD.replace("\n", "\r\n").replace(
        "Conv2d(16, 8", "Conv2d(32, 8").encode()


def test_coding_cookie_encoding_is_kept(tmp_path):
    path = tmp_path / "m.py"
    source = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + BAD
    path.write_bytes(source.encode("latin-1"))
    run(tmp_path, "--fix", "--no-cache", "m.py")
    assert path.read_bytes() == source.replace("Conv2d(16, 8", "Conv2d(32, 8").encode("latin-1")


def test_permissions_are_kept_and_no_temporary_file_stays(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(BAD)
    os.chmod(path, 0o640)
    run(tmp_path, "--fix", "--no-cache", "m.py")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


def test_symlinked_file_is_fixed_through_the_link(tmp_path):
    (tmp_path / "real.py").write_text(BAD)
    os.symlink("real.py", tmp_path / "link.py")
    run(tmp_path, "--fix", "--no-cache", "link.py")
    assert (tmp_path / "link.py").is_symlink()
    assert (tmp_path / "real.py").read_text() == GOOD


def test_a_file_changed_on_disk_is_not_overwritten(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(BAD)
    source = SourceFile.read(path)
    path.write_text(BAD + "# edited in the editor meanwhile\n")
    assert write_fixed(source, GOOD) is False
    assert path.read_text() == BAD + "# edited in the editor meanwhile\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


def test_fix_paths_reports_a_file_changed_during_the_run(tmp_path):
    """The edit lands between the read and the write (inside the re-lint)."""
    path = tmp_path / "m.py"
    path.write_text(BAD)
    settings = load_settings(tmp_path, isolated=True)
    linter = Linter(settings, tmp_path)
    found = linter.lint_paths([path])

    class Meddling:
        def lint_text(self, lint_path: Path, text: str, unknown_defaults: bool = False) -> list:
            if path.read_text() == BAD:
                path.write_text(BAD + "# meanwhile\n")
            return linter.lint_text(lint_path, text, unknown_defaults)

    outcome = fix_paths(Meddling(), {"m.py": path}, found, unsafe=False, write=True)
    assert outcome.not_written == [("m.py", "changed on disk while it was being fixed")] and outcome.count == 0
    assert [d.code for d in outcome.diagnostics] == ["CL101"]
    assert path.read_text() == BAD + "# meanwhile\n"


def test_a_file_that_cannot_be_written_is_a_warning(tmp_path, monkeypatch):
    path = tmp_path / "m.py"
    path.write_text(BAD)
    settings = load_settings(tmp_path, isolated=True)
    linter = Linter(settings, tmp_path)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("convlint.fix.tempfile.mkstemp", refuse)
    outcome = fix_paths(linter, {"m.py": path}, linter.lint_paths([path]), unsafe=False, write=True)
    assert outcome.not_written == [("m.py", "cannot be written (Permission denied)")]
    assert [d.code for d in outcome.diagnostics] == ["CL101"] and path.read_text() == BAD


def test_edits_apply_together_and_identical_edits_once():
    from convlint.diagnostics import Edit

    text = "ab\r\ncd\n"
    edits = [Edit("X", 1, 1, 1, 2), Edit("Y", 2, 2, 2, 3), Edit("Y", 2, 2, 2, 3), Edit("!", 1, 3, 1, 3)]
    assert apply_edits(text, edits) == "Xb!\r\ncY\n"


def test_unified_diff_matches_ruffs_shape():
    assert unified_diff("a\nb\n", "a\nc", "m.py") == (
        "--- m.py\n+++ m.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n\n")
    assert unified_diff("same\n", "same\n", "m.py") == ""


# -- the rules' own examples ----------------------------------------------------------------------

REJECTED = [
    pytest.param(rule, index, source, id=f"{rule.code}-rejected-{index}")
    for rule in ALL_RULES
    for index, source in enumerate(rule.invalid)
]


@pytest.mark.parametrize("rule, index, source", REJECTED)
def test_rule_example_fixes(rule, index, source, tmp_path):
    """A rejected example reads as the rule's ``fixed`` says after ``--fix --unsafe-fixes``
    (unchanged when it names none), and the fixed text no longer has the finding."""
    path = tmp_path / "example.py"
    settings = load_settings(tmp_path, isolated=True, overrides={"select": [rule.code], **rule.example_settings})
    linter = Linter(settings, tmp_path)
    outcome = fix_text(linter, path, source, linter.lint_text(path, source), unsafe=True)
    assert outcome.text == rule.fixed.get(index, source)
    if index in rule.fixed:
        assert outcome.fixed == {rule.code: len(expected_lines(source))} and not outcome.diagnostics


# -- every fixture -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixed_fixtures(tmp_path_factory) -> Path:
    """A copy of fixtures/ after ``--fix --unsafe-fixes``."""
    folder = tmp_path_factory.mktemp("fixed") / "fixtures"
    shutil.copytree(FIXTURES_DIR, folder)
    run(folder, "--fix", "--unsafe-fixes", "--no-cache", "--isolated", ".")
    return folder


def test_fixing_every_fixture_converges(fixed_fixtures):
    before = snapshot(fixed_fixtures)
    second = run(fixed_fixtures, "--fix", "--unsafe-fixes", "--no-cache", "--isolated", ".")
    assert snapshot(fixed_fixtures) == before
    assert "fixed" not in second.stdout and "fixable" not in second.stdout
    diff = run(fixed_fixtures, "--diff", "--unsafe-fixes", "--no-cache", "--isolated", ".")
    expect(diff, "", 0)


def test_fixes_touch_only_the_marked_lines_and_leave_no_fix_behind(fixed_fixtures):
    changed = 0
    for path in fixture_files():
        relative = path.relative_to(FIXTURES_DIR)
        old = path.read_text(encoding="utf-8").splitlines()
        new = (fixed_fixtures / relative).read_text(encoding="utf-8").splitlines()
        assert len(old) == len(new), relative
        marked = {line for line, _ in markers(path)}
        for number, (a, b) in enumerate(zip(old, new), start=1):
            if a != b:
                changed += 1
                assert number in marked, f"{relative}:{number} changed but carries no '# error:' mark"
    assert changed > 0
    assert all(d.fix is None for d in diagnostics_of(fixed_fixtures))


def _oracle_outcomes(fixed_fixtures: Path) -> List[tuple]:
    from test_oracle import run_oracle

    remaining = {}
    for d in diagnostics_of(fixed_fixtures):
        remaining.setdefault(d.path, []).append(d)
    outcomes = []
    for path in fixture_files():
        copy = fixed_fixtures / path.relative_to(FIXTURES_DIR)
        if copy.read_bytes() == path.read_bytes():
            continue
        errors = [d for d in remaining.get(copy.relative_to(fixed_fixtures).as_posix(), []) if d.severity == "error"]
        for oracle in oracles(copy):
            outcomes.append((oracle, errors, run_oracle(oracle)))
    return outcomes


def test_fixed_models_build_and_run_in_pytorch(fixed_fixtures):
    """A broken fixture whose every error was fixed now builds and runs; one that ran still runs."""
    outcomes = _oracle_outcomes(fixed_fixtures)
    repaired = 0
    for oracle, errors, error in outcomes:
        if oracle.expect == "runs" or not errors:
            assert error is None, f"{oracle.id}: fixed, but {type(error).__name__}: {error}"
            repaired += oracle.expect == "fails"
    assert repaired >= 5


# -- command line ---------------------------------------------------------------------------------


def test_diff_writes_nothing_and_exits_1(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    result = run(tmp_path, "--diff", "--no-cache", "m.py")
    expect(result, unified_diff(BAD, GOOD, "m.py") + "Would fix 1 error.\n", 1)
    assert (tmp_path / "m.py").read_text() == BAD
    (tmp_path / "m.py").write_text(GOOD)
    expect(run(tmp_path, "--diff", "--no-cache", "m.py"), "", 0)


def test_diff_hints_at_unsafe_fixes(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    (tmp_path / "stem.py").write_text(BIASED)
    result = run(tmp_path, "--diff", "--no-cache", ".")
    expect(result, unified_diff(BAD, GOOD, "m.py") +
           "Would fix 1 error (1 additional fix available with `--unsafe-fixes`).\n", 1)


def test_show_fixes_and_remaining_summary(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    (tmp_path / "stem.py").write_text(BIASED)
    result = run(tmp_path, "--fix", "--show-fixes", "--no-cache", ".")
    expect(result, f"stem.py:5:21: CL301 {_bias_message()}\n\nFixed 1 error:\n- m.py:\n    1 × CL101 (channel-mismatch)\n\n"
                   "Found 2 errors (1 fixed, 1 remaining).\n"
                   "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).\n", 1)


def test_check_hints_at_hidden_unsafe_fixes(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    (tmp_path / "stem.py").write_text(BIASED)
    result = run(tmp_path, "--no-cache", ".")
    assert result.stdout.endswith(
        "Found 2 errors.\n[*] 1 fixable with the `--fix` option (1 hidden fix can be enabled with the "
        "`--unsafe-fixes` option).\n")
    result = run(tmp_path, "--no-cache", "--unsafe-fixes", ".")
    assert " CL301 [*] " in result.stdout and result.stdout.endswith("[*] 2 fixable with the --fix option.\n")


def test_fix_only_and_exit_non_zero_on_fix(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    (tmp_path / "stem.py").write_text(BIASED)
    expect(run(tmp_path, "--fix-only", "--no-cache", "."),
           "Fixed 1 error (1 additional fix available with `--unsafe-fixes`).\n", 0)
    expect(run(tmp_path, "--fix-only", "--no-cache", "."), "No errors fixed (1 fix available with `--unsafe-fixes`).\n", 0)
    expect(run(tmp_path, "--fix-only", "--unsafe-fixes", "--exit-non-zero-on-fix", "--no-cache", "."),
           "Fixed 1 error.\n", 1)
    expect(run(tmp_path, "--fix", "--no-cache", "."), "All checks passed!\n", 0)


def test_fix_from_the_configuration_and_no_fix_on_the_command_line(tmp_path):
    (tmp_path / "m.py").write_text(BAD)
    (tmp_path / "pyproject.toml").write_text("[tool.convlint]\nfix = true\n")
    assert run(tmp_path, "--no-fix", "--no-cache", "m.py").returncode == 1
    assert (tmp_path / "m.py").read_text() == BAD
    expect(run(tmp_path, "--no-cache", "m.py"), "Found 1 error (1 fixed, 0 remaining).\n", 0)
    assert (tmp_path / "m.py").read_text() == GOOD
    (tmp_path / "pyproject.toml").write_text('[tool.convlint]\nfix = "yes"\n')
    result = run(tmp_path, "m.py")
    assert result.returncode == 2 and "`fix` must be true or false" in result.stderr


def test_stdin_fix_prints_the_fixed_source_and_reports_on_stderr(tmp_path):
    result = run(tmp_path, "--fix", "--no-cache", "--stdin-filename", "m.py", "-", stdin=BAD)
    expect(result, GOOD, 0, "Found 1 error (1 fixed, 0 remaining).\n")
    result = run(tmp_path, "--fix", "--no-cache", "--stdin-filename", "stem.py", "-", stdin=BIASED)
    expect(result, BIASED, 1, f"stem.py:5:21: CL301 {_bias_message()}\nFound 1 error.\n"
                              "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).\n")
    result = run(tmp_path, "--diff", "--no-cache", "--stdin-filename", "m.py", "-", stdin=BAD)
    expect(result, unified_diff(BAD, GOOD, "m.py"), 1, "Would fix 1 error.\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_stdin_fix_keeps_crlf(tmp_path):
    data = BAD.replace("\n", "\r\n").encode()
    result = subprocess.run([str(SCRIPTS / "convlint"), "--fix", "--no-cache", "--stdin-filename", "m.py", "-"],
                            cwd=tmp_path, input=data, capture_output=True, env=_environment(tmp_path), timeout=60)
    assert result.stdout == GOOD.replace("\n", "\r\n").encode() and result.returncode == 0


def test_cache_serves_no_stale_result_after_a_fix(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(BAD)
    first = run(tmp_path, "m.py")
    assert " CL101 [*] " in first.stdout and (tmp_path / ".convlint_cache").is_dir()
    expect(run(tmp_path, "--fix", "m.py"), "Found 1 error (1 fixed, 0 remaining).\n", 0)
    expect(run(tmp_path, "m.py"), "All checks passed!\n", 0)
    path.write_text(BAD)  # back again: the first entry is still right for this content
    assert run(tmp_path, "m.py").stdout == first.stdout


def test_json_output_after_fix_lists_what_remains(tmp_path):
    import json

    (tmp_path / "m.py").write_text(BAD)
    (tmp_path / "stem.py").write_text(BIASED)
    result = run(tmp_path, "--fix", "--no-cache", "--output-format", "json", ".")
    (remaining,) = json.loads(result.stdout)
    assert remaining["code"] == "CL301" and remaining["fix"]["applicability"] == "unsafe"
    assert result.returncode == 1

