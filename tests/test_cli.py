"""The installed ``convlint`` command, run as users, CI and pre-commit run it: in a subprocess,
from a folder of real fixtures, checking the exact output and exit code.

These tests need convlint installed (``python -m pip install -e ".[test]"``): they run the
console script that pip wrote, not the package imported into this process.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from convlint import DOCS_URL, __version__
from convlint.report import rule_url
from convlint.rules import ALL_RULES, RULES_BY_CODE

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "torch"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def _script_folder() -> Optional[Path]:
    """Where pip put this interpreter's console scripts, or where ``convlint`` is on PATH."""
    name = "convlint.exe" if os.name == "nt" else "convlint"
    scripts = Path(sysconfig.get_path("scripts"))
    if (scripts / name).exists():
        return scripts
    found = shutil.which("convlint")
    return Path(found).parent if found else None


SCRIPTS = _script_folder()
pytestmark = pytest.mark.skipif(SCRIPTS is None, reason="the convlint console script is not installed")

BAD_CNN = "tutorial_cnn_bad_linear.py"  # CL101 on line 15
BAD_NORM = "batchnorm_mismatch_bad.py"  # CL102 on line 12
GOOD = "mlp_good.py"

CNN_LINE = (
    "models/tutorial_cnn_bad_linear.py:15:20: CL101 Linear expects 120 input features but receives 128 "
    "from Linear(400, 128) on line 14"
)
NORM_LINE = (
    "models/batchnorm_mismatch_bad.py:12:13: CL102 BatchNorm2d expects 64 channels (num_features) but "
    "receives 32 from Conv2d(3, 32) on line 11"
)
CNN_MESSAGE = CNN_LINE.split(" CL101 ", 1)[1]
NORM_MESSAGE = NORM_LINE.split(" CL102 ", 1)[1]
# The text format marks a finding --fix can repair with [*], as ruff does; both are.
CNN_TEXT = CNN_LINE.replace(" CL101 ", " CL101 [*] ")
NORM_TEXT = NORM_LINE.replace(" CL102 ", " CL102 [*] ")


def fixable(count: int) -> str:
    return f"[*] {count} fixable with the `--fix` option.\n"


def _environment(tmp_path: Path) -> Dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{SCRIPTS}{os.pathsep}{env.get('PATH', '')}"
    # No git work tree above tmp_path may decide the project root.
    env["GIT_CEILING_DIRECTORIES"] = str(tmp_path.parent)
    for name in ("PRE_COMMIT", "GITHUB_ACTIONS"):
        env.pop(name, None)
    return env


def run(cwd: Path, *args: str, stdin: str = "", program: Optional[List[str]] = None,
        env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    command = (program or ["convlint"]) + list(args)
    # PATH has the script folder first, so "convlint" is the installed script, as in a shell.
    executable = shutil.which(command[0], path=(env or _environment(cwd))["PATH"])
    assert executable, f"{command[0]} not found"
    return subprocess.run(
        [executable, *command[1:]], cwd=cwd, input=stdin, capture_output=True, text=True,
        encoding="utf-8", env=env or _environment(cwd), timeout=60,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with ``models/`` holding two bad fixtures and a good one; runs start here."""
    models = tmp_path / "models"
    models.mkdir()
    for name in (BAD_CNN, BAD_NORM, GOOD):
        shutil.copy(FIXTURES / name, models / name)
    return tmp_path


def expect(result: subprocess.CompletedProcess, stdout: str, code: int, stderr: str = "") -> None:
    assert (result.stdout, result.stderr, result.returncode) == (stdout, stderr, code)


# -- text --------------------------------------------------------------------------------------


def test_text_on_bad_files(project):
    expect(run(project, "models"), f"{NORM_TEXT}\n{CNN_TEXT}\nFound 2 errors.\n{fixable(2)}", 1)


def test_text_on_one_bad_file(project):
    expect(run(project, f"models/{BAD_CNN}"), f"{CNN_TEXT}\nFound 1 error.\n{fixable(1)}", 1)


def test_text_on_a_good_file(project):
    expect(run(project, f"models/{GOOD}"), "All checks passed!\n", 0)


def test_check_subcommand_and_default_path(project):
    """``convlint check`` is ``convlint``; with no path the current folder is linted."""
    expected = f"{NORM_TEXT}\n{CNN_TEXT}\nFound 2 errors.\n{fixable(2)}"
    expect(run(project, "check", "models"), expected, 1)
    expect(run(project), expected, 1)


def test_exit_zero(project):
    expect(run(project, "--exit-zero", "models"), f"{NORM_TEXT}\n{CNN_TEXT}\nFound 2 errors.\n{fixable(2)}", 0)


# -- machine-readable formats ------------------------------------------------------------------


def _json_object(project: Path, name: str, code: str, rule: str, message: str, line: int, column: int,
                 end_column: int, fix: Optional[dict] = None) -> dict:
    return {
        "cell": None,
        "code": code,
        "end_location": {"column": end_column, "row": line},
        "filename": os.path.join(os.path.realpath(project), "models", name),
        "fix": fix,
        "location": {"column": column, "row": line},
        "message": message,
        "name": rule,
        "noqa_row": line,
        "severity": "error",
        "url": f"{DOCS_URL}#{code.lower()}-{rule}",
    }


def _literal_fix(parameter: str, old: str, new: str, line: int, column: int) -> dict:
    """ruff's fix object: the literal replaced by the count that arrives."""
    return {
        "applicability": "safe",
        "message": f"Replace {parameter}={old} with {new}",
        "edits": [{"content": new, "location": {"column": column, "row": line},
                   "end_location": {"column": column + len(old), "row": line}}],
    }


def _expected_objects(project: Path) -> List[dict]:
    return [
        _json_object(project, BAD_NORM, "CL102", "norm-channel-mismatch", NORM_MESSAGE, 12, 13, 31,
                     _literal_fix("num_features", "64", "32", 12, 28)),
        _json_object(project, BAD_CNN, "CL101", "channel-mismatch", CNN_MESSAGE, 15, 20, 38,
                     _literal_fix("in_features", "120", "128", 15, 30)),
    ]


def test_json(project):
    result = run(project, "--output-format", "json", "models")
    objects = _expected_objects(project)
    expect(result, json.dumps(objects, indent=2, sort_keys=True) + "\n", 1)
    parsed = json.loads(result.stdout)
    assert parsed == objects
    for item in parsed:
        assert os.path.isabs(item["filename"]) and os.path.isfile(item["filename"])
        assert item["url"] == rule_url(item["code"])


def test_json_when_clean(project):
    expect(run(project, "--output-format", "json", f"models/{GOOD}"), "[]\n", 0)


def test_json_lines(project):
    result = run(project, "--output-format", "json-lines", "models")
    expected = "".join(json.dumps(o, sort_keys=True, separators=(",", ":")) + "\n" for o in _expected_objects(project))
    expect(result, expected, 1)
    assert [json.loads(line) for line in result.stdout.splitlines()] == _expected_objects(project)


def test_sarif(project):
    result = run(project, "--output-format", "sarif", "models")
    assert (result.stderr, result.returncode) == ("", 1)
    assert result.stdout.endswith("}\n")
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    (sarif_run,) = log["runs"]
    driver = sarif_run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("convlint", __version__)
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == [rule.code for rule in ALL_RULES]
    for descriptor, rule in zip(rules, ALL_RULES):
        assert descriptor["name"] == rule.name
        assert descriptor["helpUri"] == rule_url(rule.code)
        for key in ("shortDescription", "fullDescription", "help"):
            assert descriptor[key]["text"].strip()
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    found = []
    for item in sarif_run["results"]:
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]
        assert item["level"] == "error"
        assert item["partialFingerprints"]
        (location,) = item["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")), "GitHub wants URIs relative to the checkout"
        region = physical["region"]
        assert min(region.values()) >= 1, "SARIF lines and columns are 1-based"
        found.append((item["ruleId"], uri, region, item["message"]["text"]))
    assert found == [
        ("CL102", "models/batchnorm_mismatch_bad.py",
         {"startLine": 12, "startColumn": 13, "endLine": 12, "endColumn": 31}, NORM_MESSAGE),
        ("CL101", "models/tutorial_cnn_bad_linear.py",
         {"startLine": 15, "startColumn": 20, "endLine": 15, "endColumn": 38}, CNN_MESSAGE),
    ]


def test_sarif_when_clean_still_describes_every_rule(project):
    result = run(project, "--output-format", "sarif", f"models/{GOOD}")
    assert result.returncode == 0
    (sarif_run,) = json.loads(result.stdout)["runs"]
    assert sarif_run["results"] == []
    assert len(sarif_run["tool"]["driver"]["rules"]) == len(ALL_RULES)


def test_github(project):
    expect(
        run(project, "--output-format", "github", "models"),
        "::error title=convlint (CL102),file=models/batchnorm_mismatch_bad.py,line=12,col=13,endLine=12,"
        f"endColumn=31::{NORM_LINE}\n"
        "::error title=convlint (CL101),file=models/tutorial_cnn_bad_linear.py,line=15,col=20,endLine=15,"
        f"endColumn=38::{CNN_LINE}\n",
        1,
    )


def test_output_format_from_config(project):
    (project / "pyproject.toml").write_text('[tool.convlint]\noutput-format = "json-lines"\n', encoding="utf-8")
    result = run(project, f"models/{BAD_CNN}")
    assert result.returncode == 1
    assert [json.loads(line)["code"] for line in result.stdout.splitlines()] == ["CL101"]


# -- selection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, stdout, code",
    [
        (["--select", "CL102"], f"{NORM_TEXT}\nFound 1 error.\n{fixable(1)}", 1),
        (["--select", "CL1", "--ignore", "CL102"], f"{CNN_TEXT}\nFound 1 error.\n{fixable(1)}", 1),
        (["--ignore", "CL1"], "All checks passed!\n", 0),
        (["--select", "CL2"], "All checks passed!\n", 0),
        (["--select", "cl101,CL102"], f"{NORM_TEXT}\n{CNN_TEXT}\nFound 2 errors.\n{fixable(2)}", 1),
    ],
    ids=["select-code", "select-prefix-ignore-code", "ignore-prefix", "select-other-group", "comma-list"],
)
def test_select_and_ignore(project, options, stdout, code):
    expect(run(project, *options, "models"), stdout, code)


def test_ignore_from_config_and_select_on_the_command_line(project):
    (project / "pyproject.toml").write_text('[tool.convlint]\nignore = ["CL101"]\n', encoding="utf-8")
    expect(run(project, "models"), f"{NORM_TEXT}\nFound 1 error.\n{fixable(1)}", 1)
    # A command-line --select starts the selection afresh, as in ruff.
    expect(run(project, "--select", "CL1", "models"), f"{NORM_TEXT}\n{CNN_TEXT}\nFound 2 errors.\n{fixable(2)}", 1)


def test_unknown_rule_code_on_the_command_line(project):
    expect(run(project, "--select", "CL9", "models"), "", 2,
           "convlint: error: unknown rule code `CL9` in `select` (in command-line arguments)\n")


# -- suppression -------------------------------------------------------------------------------


SUPPRESSIONS = (
    # (file, fixture, comment replacing its "# error: CODE", still reported?)
    ("bare.py", BAD_NORM, "# noqa", False),
    ("same_code.py", BAD_NORM, "# noqa: CL102", False),
    ("cl101.py", BAD_CNN, "# noqa: CL101", False),
    ("code_list.py", BAD_CNN, "# NOQA:CL101,CL102", False),
    ("other_code.py", BAD_NORM, "# noqa: CL101", True),  # another rule's code: still reported
    ("not_a_code.py", BAD_CNN, "# noqa: banana", True),  # not a code: suppresses nothing
)


def test_noqa_on_the_line(project):
    """One run over a file per spelling (a subprocess each would be slow)."""
    folder = project / "suppressed"
    folder.mkdir()
    for name, fixture, comment, _ in SUPPRESSIONS:
        text = (FIXTURES / fixture).read_text(encoding="utf-8")
        (folder / name).write_text(re.sub(r"# error: CL\d+", comment, text), encoding="utf-8")
    reported = sorted(
        (NORM_TEXT if fixture == BAD_NORM else CNN_TEXT).replace(f"models/{fixture}", f"suppressed/{name}")
        for name, fixture, _, still in SUPPRESSIONS
        if still
    )
    expect(run(project, "suppressed"), "\n".join(reported) + f"\nFound {len(reported)} errors.\n{fixable(len(reported))}", 1)


def test_convlint_noqa_exempts_the_whole_file(project):
    path = project / "models" / BAD_NORM
    path.write_text("# convlint: noqa\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    expect(run(project, "models"), f"{CNN_TEXT}\nFound 1 error.\n{fixable(1)}", 1)


# -- errors ------------------------------------------------------------------------------------


def test_nonexistent_path(project):
    expect(run(project, "models", "missing.py"), "", 2, "convlint: error: path `missing.py` does not exist\n")


def test_unknown_config_key(project):
    config = project / "pyproject.toml"
    config.write_text("[tool.convlint]\ntab-size = 4\n", encoding="utf-8")
    shown = os.path.join(os.path.realpath(project), "pyproject.toml")
    result = run(project, "models")
    expect(result, "", 2, f"convlint: error: unknown key `tab-size` in [tool.convlint] of {shown}\n")
    assert "Traceback" not in result.stderr


def test_invalid_toml(project):
    (project / "pyproject.toml").write_text("[tool.convlint\n", encoding="utf-8")
    result = run(project, "models")
    assert (result.stdout, result.returncode) == ("", 2)
    assert result.stderr.startswith("convlint: error: invalid TOML in ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_syntax_error_is_a_diagnostic_and_the_other_files_are_linted(project):
    (project / "models" / "broken.py").write_text("import torch.nn as nn\ndef f(:\n    pass\n", encoding="utf-8")
    result = run(project, "models")
    assert (result.stderr, result.returncode) == ("", 1)
    norm, broken, cnn, found, hint = result.stdout.splitlines()
    assert (norm, cnn, found, hint + "\n") == (NORM_TEXT, CNN_TEXT, "Found 3 errors.", fixable(2))
    # The position and wording come from libcst's parser error, so only the shape is pinned.
    assert re.fullmatch(r"models/broken\.py:\d+:\d+: CL001 The file does not parse: .+", broken)


def test_unknown_option_is_a_usage_error(project):
    result = run(project, "--no-such-option", "models")
    assert (result.stdout, result.returncode) == ("", 2)
    assert "unrecognized arguments: --no-such-option" in result.stderr


# -- standard input ----------------------------------------------------------------------------


def test_stdin_filename(project):
    source = (FIXTURES / BAD_CNN).read_text(encoding="utf-8")
    line = CNN_TEXT.replace("models/tutorial_cnn_bad_linear.py", "models/net.py")
    expect(run(project, "--stdin-filename", "models/net.py", "-", stdin=source),
           f"{line}\nFound 1 error.\n{fixable(1)}", 1)


def test_stdin_filename_json_for_editors(project):
    """The editor integration: the buffer on stdin, named as the file it will be saved as."""
    source = (FIXTURES / BAD_CNN).read_text(encoding="utf-8")
    result = run(project, "--output-format", "json", "--stdin-filename", "models/net.py", "-", stdin=source)
    assert result.returncode == 1
    (item,) = json.loads(result.stdout)
    assert item["filename"] == os.path.join(os.path.realpath(project), "models", "net.py")
    assert (item["code"], item["location"], item["end_location"]) == (
        "CL101", {"row": 15, "column": 20}, {"row": 15, "column": 38})


def test_stdin_filename_finds_the_config_beside_the_file(project):
    (project / "sub").mkdir()
    (project / "sub" / "pyproject.toml").write_text('[tool.convlint]\nignore = ["CL101"]\n', encoding="utf-8")
    source = (FIXTURES / BAD_CNN).read_text(encoding="utf-8")
    expect(run(project, "--stdin-filename", "sub/net.py", "-", stdin=source), "All checks passed!\n", 0)


# -- other commands ----------------------------------------------------------------------------


def test_python_m_convlint_version(project):
    expect(run(project, "-m", "convlint", "--version", program=[sys.executable]), f"convlint {__version__}\n", 0)


def test_rules(project):
    result = run(project, "rules")
    assert (result.stderr, result.returncode) == ("", 0)
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [rule.code for rule in ALL_RULES]
    assert (
        "CL202  same-padding-with-stride   error    "
        "Reports a convolution built with `padding='same'` and a stride above 1"
    ) in lines
    assert lines[0] == (
        "CL001  syntax-error               error    "
        "Reports a file that does not parse as Python 3, at the place the parser stopped"
    )
    assert [line for line in lines if line.endswith("(off by default)")] == [
        line for line in lines for rule in ALL_RULES if not rule.enabled_by_default and line.startswith(rule.code)
    ]


def test_rule(project):
    result = run(project, "rule", "cl101")
    assert (result.stderr, result.returncode) == ("", 0)
    assert result.stdout.startswith(
        "# CL101 channel-mismatch (error)\n\n"
        "## What it does\n"
        "Checks that every convolution receives as many channels as its `in_channels`"
    )
    assert "\n## Use instead\n" in result.stdout
    rule = RULES_BY_CODE["CL101"]
    assert result.stdout.count("\n## Accepted\n```python\n") == len(rule.valid)
    assert result.stdout.count("\n## Rejected\n```python\n") == len(rule.invalid)
    assert result.stdout.count("\n## Fixed by --fix\n```python\n") == len(rule.fixed) > 0
    assert result.stdout.endswith(f"\n{rule.fixed[max(rule.fixed)].rstrip()}\n```\n")


def test_unknown_rule(project):
    expect(run(project, "rule", "CL999"), "", 2, "convlint: error: unknown rule `CL999`; `convlint rules` lists them\n")


# -- pre-commit --------------------------------------------------------------------------------


def read_hooks(path: Path) -> List[Dict[str, object]]:
    """The hooks of a ``.pre-commit-hooks.yaml`` written as a list of flat mappings (what this
    project's is): ``- id: x`` starts a hook, ``  key: value`` continues it; ``[a, b]`` is a list."""
    hooks: List[Dict[str, object]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"(- |  )([\w-]+):\s*(.*)", line)
        assert match, f"unexpected line in {path.name}: {raw!r}"
        start, key, value = match.groups()
        if start == "- ":
            hooks.append({})
        if value.startswith("[") and value.endswith("]"):
            hooks[-1][key] = [item.strip() for item in value[1:-1].split(",") if item.strip()]
        elif value in ("true", "false"):
            hooks[-1][key] = value == "true"
        else:
            hooks[-1][key] = value[1:-1] if value[:1] in "'\"" and value[-1:] == value[:1] and value else value
    return hooks


def test_hook_manifest():
    (hook,) = read_hooks(HOOKS)
    assert {key: hook[key] for key in ("id", "name", "entry", "language", "types_or", "require_serial",
                                       "minimum_pre_commit_version")} == {
        "id": "convlint",
        "name": "convlint",
        "entry": "convlint --force-exclude",
        "language": "python",
        "types_or": ["python", "pyi"],
        "require_serial": True,
        "minimum_pre_commit_version": "2.9.2",
    }
    try:
        import yaml
    except ImportError:
        return
    assert yaml.safe_load(HOOKS.read_text(encoding="utf-8")) == [hook]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    """A git repository with staged model files, one of them in a folder excluded by default."""
    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    (root / "build").mkdir()
    shutil.copy(FIXTURES / BAD_CNN, root / "models" / "bad.py")
    shutil.copy(FIXTURES / GOOD, root / "models" / "good.py")
    shutil.copy(FIXTURES / BAD_CNN, root / "build" / "generated.py")  # excluded by default
    shutil.copytree(FIXTURES / "pkg", root / "models" / "pkg")
    (root / "models" / "notes.txt").write_text("not python\n", encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    return root


def hook_run(root: Path, filenames: List[str]) -> subprocess.CompletedProcess:
    """What pre-commit does: chdir to the repo root, run ``shlex.split(entry) + filenames``
    with the hook's environment's scripts on PATH, and PRE_COMMIT=1 set."""
    (hook,) = read_hooks(HOOKS)
    env = _environment(root.parent)
    env["PRE_COMMIT"] = "1"
    return run(root, *filenames, program=shlex.split(str(hook["entry"])), env=env)


def staged_python_files(root: Path) -> List[str]:
    """The repo-relative names pre-commit passes for ``types_or: [python, pyi]``."""
    names = subprocess.run(["git", "diff", "--cached", "--name-only", "-z"], cwd=root, capture_output=True,
                           check=True, text=True).stdout.split("\0")
    return [name for name in names if name.endswith((".py", ".pyi"))]


def test_pre_commit_hook_on_staged_files(repo):
    filenames = staged_python_files(repo)
    assert "build/generated.py" in filenames and "models/notes.txt" not in filenames
    expect(
        hook_run(repo, filenames),
        "models/bad.py:15:20: CL101 [*] Linear expects 120 input features but receives 128 from Linear(400, 128) "
        "on line 14\n"
        "models/pkg/net_bad.py:14:13: CL101 The Conv2d on blocks.py:8 expects 128 input channels but receives 64 "
        "from Conv2d(32, 64) on blocks.py:8\n"
        f"Found 2 errors.\n{fixable(1)}",
        1,
    )


def test_pre_commit_hook_on_one_changed_file_sees_its_imports(repo):
    """pre-commit passes only the changed file; the block it imports is still read."""
    expect(
        hook_run(repo, ["models/pkg/net_bad.py"]),
        "models/pkg/net_bad.py:14:13: CL101 The Conv2d on blocks.py:8 expects 128 input channels but receives 64 "
        "from Conv2d(32, 64) on blocks.py:8\n"
        "Found 1 error.\n",
        1,
    )


def test_pre_commit_hook_passes_on_good_and_excluded_files(repo):
    expect(hook_run(repo, ["models/good.py", "build/generated.py"]), "All checks passed!\n", 0)
