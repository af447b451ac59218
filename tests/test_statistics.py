"""``convlint --statistics``: ruff's per-rule counts, and the files skipped at the time limit
counted under CL005 even though CL005 is off by default (without changing the exit code)."""

from __future__ import annotations

import json
import textwrap

import pytest

import convlint.runner as runner
from convlint.cli import main
from convlint.diagnostics import Diagnostic, Fix
from convlint.report import statistics

#: Two CL101, one CL102 and one CL301.
MODEL = textwrap.dedent("""\
    import torch.nn as nn
    a = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(4, 8, 3))
    b = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(4, 8, 3), nn.BatchNorm2d(3))
    """)
SKIP_NOTE = "1 skipped file counted under CL005, which is not selected: `--extend-select CL005` reports it."


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "slow.py").write_text("import torch\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    return tmp_path


def run(capsys, *args: str):
    code = main(["--no-cache", *args])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def test_one_line_per_rule_most_frequent_first(project, capsys):
    assert run(capsys, "--statistics", ".") == (1, (
        "2\tCL101\t[*] channel-mismatch\n"
        "1\tCL102\t[*] norm-channel-mismatch\n"
        "1\tCL301\t[*] conv-bias-before-norm\n"
        "Found 4 errors.\n"
        "[*] 3 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option).\n"))
    assert run(capsys, "--statistics", "--exit-zero", ".")[0] == 0
    assert run(capsys, "--statistics", "--select", "CL102", ".") == (
        1, "1\tCL102\t[*] norm-channel-mismatch\nFound 1 error.\n[*] 1 fixable with the `--fix` option.\n")


def test_json_has_ruffs_fields(project, capsys):
    code, out = run(capsys, "--statistics", "--output-format", "json", ".")
    assert code == 1
    assert json.loads(out) == [
        {"code": "CL101", "name": "channel-mismatch", "count": 2, "fixable": True, "fixable_count": 2},
        {"code": "CL102", "name": "norm-channel-mismatch", "count": 1, "fixable": True, "fixable_count": 1},
        {"code": "CL301", "name": "conv-bias-before-norm", "count": 1, "fixable": True, "fixable_count": 1},
    ]


def test_nothing_found_prints_nothing_as_ruff(project, capsys):
    assert run(capsys, "--statistics", "slow.py") == (0, "")
    assert run(capsys, "--statistics", "--output-format", "json", "slow.py") == (0, "[]\n")


@pytest.mark.parametrize("fmt", ["json-lines", "sarif", "github"])
def test_other_formats_are_a_usage_error(project, capsys, fmt):
    assert main(["--statistics", "--output-format", fmt, "."]) == 2
    assert capsys.readouterr() == ("", f"convlint: error: `--statistics` prints text or json, not `{fmt}`\n")


def test_a_skipped_file_is_counted_though_cl005_is_off(project, slow_file, capsys):
    # four errors, the total and the fixable line: no CL005
    assert run(capsys, "--timeout", "0.3", ".")[1].count("\n") == 6
    assert run(capsys, "--statistics", "--timeout", "0.3", ".") == (1, (
        "2\tCL101\t[*] channel-mismatch\n"
        "1\tCL005\t[ ] analysis-timeout\n"
        "1\tCL102\t[*] norm-channel-mismatch\n"
        "1\tCL301\t[*] conv-bias-before-norm\n"
        "Found 4 errors.\n"
        "[*] 3 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option).\n" + SKIP_NOTE + "\n"))


def test_a_counted_skip_does_not_fail_the_run(project, slow_file, capsys):
    assert run(capsys, "--statistics", "--timeout", "0.3", "slow.py") == (0, "1\tCL005\tanalysis-timeout\n" + SKIP_NOTE + "\n")
    code, out = run(capsys, "--statistics", "--output-format", "json", "--timeout", "0.3", "slow.py")
    assert (code, json.loads(out)) == (0, [
        {"code": "CL005", "name": "analysis-timeout", "count": 1, "fixable": False, "fixable_count": 0}])


def test_selected_cl005_is_reported_and_counted_as_an_error(project, slow_file, capsys):
    assert run(capsys, "--statistics", "--extend-select", "CL005", "--timeout", "0.3", "slow.py") == (
        1, "1\tCL005\tanalysis-timeout\nFound 1 error.\n")


@pytest.mark.parametrize("options", [["--ignore", "CL005"], ["--ignore", "CL0"], ["--ignore", "ALL"]])
def test_ignoring_cl005_stops_the_count(project, slow_file, capsys, options):
    assert run(capsys, "--statistics", *options, "--timeout", "0.3", "slow.py") == (0, "")


def test_per_file_ignores_stop_the_count(project, slow_file, capsys):
    (project / "pyproject.toml").write_text('[tool.convlint.per-file-ignores]\n"slow.py" = ["CL005"]\n')
    assert run(capsys, "--statistics", "--timeout", "0.3", "slow.py") == (0, "")


def test_skips_in_the_workers_are_counted(project, slow_file, monkeypatch, capsys):
    if "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("needs fork: the workers inherit the slow analysis")
    monkeypatch.setattr(runner, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(runner, "POOL_MIN_CHARACTERS", 0)
    monkeypatch.setattr(runner, "CHUNK_FILES", 1)
    for index in range(3):
        (project / f"more{index}.py").write_text(MODEL)
    (project / "pkg").mkdir()
    (project / "pkg" / "slow.py").write_text("import torch\n")
    code, out = run(capsys, "--statistics", "--jobs", "2", "--timeout", "0.3", ".")
    assert (code, out) == (1, (
        "8\tCL101\t[*] channel-mismatch\n"
        "4\tCL102\t[*] norm-channel-mismatch\n"
        "4\tCL301\t[*] conv-bias-before-norm\n"
        "2\tCL005\t[ ] analysis-timeout\n"
        "Found 16 errors.\n"
        "[*] 12 fixable with the `--fix` option (4 hidden fixes can be enabled with the `--unsafe-fixes` option).\n"
        "2 skipped files counted under CL005, which is not selected: `--extend-select CL005` reports them.\n"))


def _diagnostic(code: str, fixable: bool) -> Diagnostic:
    return Diagnostic("a.py", 1, 1, 1, 2, code, "message", fix=Fix("fix it", "safe") if fixable else None)


def test_fixable_column_when_some_are_fixable():
    found = [_diagnostic("CL101", True), _diagnostic("CL101", True), _diagnostic("CL102", True),
             _diagnostic("CL102", False), *[_diagnostic("CL201", False)] * 10]
    assert statistics.render("text", found, []) == (
        "10\tCL201\t[ ] groups-not-divisible\n"
        " 2\tCL101\t[*] channel-mismatch\n"
        " 2\tCL102\t[-] norm-channel-mismatch\n"
        "Found 14 errors.\n"
        "[*] 3 fixable with the `--fix` option.\n")
    assert [(row["fixable"], row["fixable_count"]) for row in statistics.statistics(found)] == [
        (False, 0), (True, 2), (False, 1)]
