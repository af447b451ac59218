"""Reading ``[tool.convlint]``: discovery, validation with one-line errors, and rule selection
with ruff's semantics."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from convlint.config import DEFAULT_EXCLUDE, ConfigError, Settings, find_config, load_settings

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(autouse=True)
def no_repo_above(tmp_path, monkeypatch):
    """Keep git from finding a work tree above tmp_path, so 'outside a repo' is really outside."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def pyproject(folder: Path, body: str) -> Path:
    return write(folder / "pyproject.toml", "[tool.convlint]\n" + textwrap.dedent(body))


def error_text(cwd: Path, **kwargs) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(cwd, **kwargs)
    text = str(caught.value)
    assert "\n" not in text
    return text


# --- discovery -------------------------------------------------------------------------------


def test_defaults_without_config(tmp_path):
    settings = load_settings(tmp_path)
    assert settings == Settings(root=tmp_path)
    assert settings.select == ("CL",)
    assert settings.exclude == DEFAULT_EXCLUDE
    assert {".git", ".venv", "__pycache__", "*.egg-info", ".convlint_cache"} <= set(DEFAULT_EXCLUDE)
    assert settings.output_format == "text"
    assert settings.config_path is None
    assert settings.models == {}


@needs_git
def test_root_without_config_is_the_git_top_level(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    assert load_settings(deep).root == tmp_path


def test_root_without_config_outside_git_is_cwd(tmp_path):
    deep = tmp_path / "src"
    deep.mkdir()
    assert load_settings(deep).root == deep


def test_find_config_takes_the_nearest_pyproject_with_the_table(tmp_path):
    outer = pyproject(tmp_path, 'select = ["CL001"]\n')
    write(tmp_path / "pkg" / "pyproject.toml", "[tool.black]\nline-length = 100\n")
    deep = tmp_path / "pkg" / "sub"
    deep.mkdir()
    assert find_config(deep) == outer
    inner = pyproject(tmp_path / "pkg", 'select = ["CL002"]\n')
    assert find_config(deep) == inner
    assert find_config(tmp_path / "pkg") == inner


def test_find_config_returns_none_without_any(tmp_path):
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    assert find_config(tmp_path) is None


def test_load_reads_every_key(tmp_path):
    path = pyproject(tmp_path, """
        select = ["CL0"]
        extend-select = ["CL004"]
        ignore = ["CL002"]
        exclude = ["generated"]
        extend-exclude = ["legacy/*.py"]
        output-format = "json"
        cache-dir = ".cache/convlint"

        [tool.convlint.per-file-ignores]
        "tests/**" = ["CL001"]
        "!src/**" = ["CL003", "CL002"]

        [tool.convlint.models]
        "models/resnet.py:resnet18()" = { params = 11689512, input-shape = [1, 3, 224, 224] }
    """)
    (tmp_path / "src").mkdir()
    settings = load_settings(tmp_path / "src")
    assert settings == Settings(
        select=("CL0",),
        extend_select=("CL004",),
        ignore=("CL002",),
        per_file_ignores=(("tests/**", ("CL001",)), ("!src/**", ("CL003", "CL002"))),
        exclude=("generated",),
        extend_exclude=("legacy/*.py",),
        output_format="json",
        cache_dir=str(tmp_path / ".cache" / "convlint"),
        models={"models/resnet.py:resnet18()": {"params": 11689512, "input-shape": [1, 3, 224, 224]}},
        config_path=path,
        root=tmp_path,
    )


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().select = ("CL001",)  # type: ignore[misc]


def test_explicit_config_overrides_discovery(tmp_path):
    pyproject(tmp_path, 'select = ["CL001"]\n')
    other = write(tmp_path / "conf" / "convlint.toml", '[tool.convlint]\nselect = ["CL002"]\n')
    settings = load_settings(tmp_path, config_file=Path("conf/convlint.toml"))
    assert settings.select == ("CL002",)
    assert settings.config_path == other
    assert settings.root == other.parent


def test_explicit_config_without_the_table_gives_defaults(tmp_path):
    pyproject(tmp_path, 'select = ["CL001"]\n')
    other = write(tmp_path / "empty.toml", "[tool.other]\nx = 1\n")
    settings = load_settings(tmp_path, config_file=other)
    assert settings.select == ("CL",)
    assert settings.config_path == other


def test_missing_config_file(tmp_path):
    assert error_text(tmp_path, config_file=Path("nope.toml")) == "config file `nope.toml` does not exist"


def test_isolated_ignores_config_files(tmp_path):
    pyproject(tmp_path, 'select = ["CL001"]\nselcet = 1\n')
    settings = load_settings(tmp_path, isolated=True)
    assert settings.select == ("CL",)
    assert settings.config_path is None


def test_isolated_and_config_are_exclusive(tmp_path):
    other = pyproject(tmp_path, "")
    assert "--isolated" in error_text(tmp_path, config_file=other, isolated=True)


# --- errors ----------------------------------------------------------------------------------


def test_unknown_key(tmp_path):
    path = pyproject(tmp_path, 'selcet = ["CL"]\n')
    assert error_text(tmp_path) == f"unknown key `selcet` in [tool.convlint] of {path}"


def test_snake_case_key_is_unknown(tmp_path):
    path = pyproject(tmp_path, 'extend_select = ["CL"]\n')
    assert error_text(tmp_path) == f"unknown key `extend_select` in [tool.convlint] of {path}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("select = 3", "`select` must be a list of rule codes, got 3"),
        ('select = "CL"', "`select` must be a list of rule codes, got 'CL'"),
        ("ignore = [1]", "`ignore` must be a list of rule codes, got [1]"),
        ('exclude = "build"', "`exclude` must be a list of glob patterns, got 'build'"),
        ("extend-exclude = [true]", "`extend-exclude` must be a list of glob patterns, got [True]"),
        ('output-format = "xml"', "`output-format` must be one of text, json, json-lines, sarif, github, got 'xml'"),
        ("cache-dir = 1", "`cache-dir` must be a path, got 1"),
        ('per-file-ignores = ["x"]', "`per-file-ignores` must be a table of globs to lists of rule codes, got ['x']"),
        ('per-file-ignores = {"x.py" = "CL001"}', "`per-file-ignores` must be a list of rule codes, got 'CL001'"),
        ("models = 3", "`models` must be a table of tables, got 3"),
        ("models = {resnet = 3}", "`models.resnet` must be a table, got 3"),
        ("models = {resnet = {params = 3}}", '`models` keys name a file and a call, as "models/net.py:Net()", got \'resnet\''),
        ('models = {"a.py:Net(" = {params = 3}}', "`models.a.py:Net(`: `Net(` is not a Python expression"),
        ('models = {"a.py:Net()" = {parms = 3}}', "unknown key `parms` in `models.a.py:Net()`"),
        ('models = {"a.py:Net()" = {params = -1}}', "`models.a.py:Net().params` must be a whole number of parameters, got -1"),
        ('exclude = ["a{b"]', "invalid glob `a{b` in `exclude`: unclosed `{`"),
        ('per-file-ignores = {"!x[" = ["CL001"]}', "invalid glob `x[` in `per-file-ignores`: unclosed `[`"),
    ],
)
def test_wrong_type(tmp_path, body, message):
    path = pyproject(tmp_path, body + "\n")
    assert error_text(tmp_path) == f"{message} (in {path})"


def test_table_that_is_not_a_table(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool]\nconvlint = 3\n")
    assert error_text(tmp_path) == f"[tool.convlint] must be a table, got 3 (in {path})"


@pytest.mark.parametrize(
    ("body", "code", "key"),
    [
        ('select = ["CL999"]', "CL999", "select"),
        ('extend-select = ["CL0", "CL8"]', "CL8", "extend-select"),
        ('ignore = ["cl001"]', "cl001", "ignore"),
        ('ignore = [""]', "", "ignore"),
        ('ignore = ["CL0011"]', "CL0011", "ignore"),
        ('per-file-ignores = {"tests/*" = ["E501"]}', "E501", "per-file-ignores"),
    ],
)
def test_unknown_rule_code(tmp_path, body, code, key):
    path = pyproject(tmp_path, body + "\n")
    assert error_text(tmp_path) == f"unknown rule code `{code}` in `{key}` (in {path})"


@pytest.mark.parametrize("selector", ["ALL", "CL", "CL0", "CL00", "CL001", "CL004"])
def test_known_selectors(tmp_path, selector):
    pyproject(tmp_path, f'select = ["{selector}"]\nignore = ["{selector}"]\n')
    settings = load_settings(tmp_path)
    assert settings.select == settings.ignore == (selector,)


def test_broken_toml(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.convlint]\nselect = [\"CL\"\nignore = 1\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    text = str(caught.value)
    assert text.startswith(f"invalid TOML in {path}: ")
    assert "(at line 3, column 1)" in text
    assert caught.value.__suppress_context__


def test_broken_toml_in_explicit_config(tmp_path):
    path = write(tmp_path / "c.toml", "x = = 1\n")
    assert error_text(tmp_path, config_file=path).startswith(f"invalid TOML in {path}: ")


def test_undecodable_toml(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"[tool.convlint]\nselect = ['\xff']\n")
    assert error_text(tmp_path).startswith(f"invalid TOML in {path}: ")


# --- command-line overrides ------------------------------------------------------------------


def test_overrides_win_over_the_file(tmp_path):
    pyproject(tmp_path, 'select = ["CL001"]\noutput-format = "json"\nexclude = ["a"]\n')
    settings = load_settings(
        tmp_path, overrides={"select": ["CL00"], "output-format": "sarif", "exclude": ("b",), "cache-dir": None}
    )
    assert settings.select == ("CL00",)
    assert settings.output_format == "sarif"
    assert settings.exclude == ("b",)
    assert settings.cache_dir is None


def test_override_cache_dir_is_relative_to_cwd(tmp_path):
    pyproject(tmp_path, 'cache-dir = "from-file"\n')
    cwd = tmp_path / "sub"
    cwd.mkdir()
    assert load_settings(cwd).cache_dir == str(tmp_path / "from-file")
    assert load_settings(cwd, overrides={"cache-dir": "c"}).cache_dir == str(cwd / "c")


def test_overrides_extend_and_ignore_add_to_the_file(tmp_path):
    pyproject(tmp_path, 'extend-select = ["CL004"]\nignore = ["CL001"]\nextend-exclude = ["a"]\n')
    settings = load_settings(
        tmp_path, overrides={"extend-select": ["CL0"], "ignore": ["CL002"], "extend-exclude": ["b"]}
    )
    assert settings.extend_select == ("CL004", "CL0")
    assert settings.ignore == ("CL001", "CL002")
    assert settings.extend_exclude == ("a", "b")


def test_override_select_starts_the_selection_afresh(tmp_path):
    pyproject(tmp_path, 'extend-select = ["CL004"]\nignore = ["CL001"]\n')
    settings = load_settings(tmp_path, overrides={"select": ["CL001"]})
    assert (settings.select, settings.extend_select, settings.ignore) == (("CL001",), (), ())
    assert settings.is_enabled("CL001", tmp_path / "m.py")


def test_overrides_are_validated(tmp_path):
    assert error_text(tmp_path, overrides={"selcet": ["CL"]}) == "unknown key `selcet` in command-line arguments"
    assert (
        error_text(tmp_path, overrides={"ignore": ["CL999"]})
        == "unknown rule code `CL999` in `ignore` (in command-line arguments)"
    )
    assert (
        error_text(tmp_path, overrides={"output-format": "xml"})
        == "`output-format` must be one of text, json, json-lines, sarif, github, got 'xml' (in command-line arguments)"
    )


# --- rule selection --------------------------------------------------------------------------


def enabled(settings: Settings, path: Path = Path("/project/model.py")) -> set:
    return {code for code in ("CL001", "CL002", "CL003", "CL004") if settings.is_enabled(code, path)}


@pytest.mark.parametrize(
    ("select", "extend_select", "ignore", "expected"),
    [
        (("CL",), (), (), {"CL001", "CL002", "CL003"}),
        (("ALL",), (), (), {"CL001", "CL002", "CL003"}),
        (("CL00",), (), (), {"CL001", "CL002", "CL003"}),
        (("CL001",), (), (), {"CL001"}),
        ((), (), (), set()),
        (("CL002",), ("CL003",), (), {"CL002", "CL003"}),
        (("CL",), (), ("CL002",), {"CL001", "CL003"}),
        (("CL",), (), ("CL0",), set()),
        (("ALL",), (), ("ALL",), set()),
        # off by default: only its full code turns it on
        (("CL004",), (), (), {"CL004"}),
        (("CL",), ("CL004",), (), {"CL001", "CL002", "CL003", "CL004"}),
        (("CL",), ("CL00",), (), {"CL001", "CL002", "CL003"}),
        (("CL004",), (), ("CL004",), set()),
        (("CL004",), (), ("CL",), {"CL004"}),
        # ruff: the most specific selector wins, and ignore wins a tie
        (("CL001",), (), ("CL",), {"CL001"}),
        (("CL",), (), ("ALL",), {"CL001", "CL002", "CL003"}),
        (("CL0",), (), ("CL00",), set()),
        (("CL00",), ("CL001",), ("CL00",), {"CL001"}),
        (("CL001",), (), ("CL001",), set()),
    ],
)
def test_rule_selection(select, extend_select, ignore, expected):
    settings = Settings(select=select, extend_select=extend_select, ignore=ignore, root=Path("/project"))
    assert enabled(settings) == expected


def test_per_file_ignores_globs(tmp_path):
    settings = Settings(
        per_file_ignores=(
            ("tests/**", ("CL001",)),
            ("__init__.py", ("CL002",)),
            ("**/conftest.py", ("CL003",)),
            ("{docs,examples}/*.py", ("ALL",)),
            ("scripts/[a-c]*.py", ("CL00",)),
        ),
        root=tmp_path,
    )
    every = {"CL001", "CL002", "CL003"}
    assert enabled(settings, tmp_path / "tests" / "unit" / "test_a.py") == every - {"CL001"}
    assert enabled(settings, tmp_path / "src" / "tests.py") == every
    assert enabled(settings, tmp_path / "pkg" / "deep" / "__init__.py") == every - {"CL002"}
    assert enabled(settings, tmp_path / "conftest.py") == every - {"CL003"}
    assert enabled(settings, tmp_path / "a" / "b" / "conftest.py") == every - {"CL003"}
    assert enabled(settings, tmp_path / "docs" / "x.py") == set()
    assert enabled(settings, tmp_path / "examples" / "x.py") == set()
    assert enabled(settings, tmp_path / "src" / "x.py") == every
    assert enabled(settings, tmp_path / "scripts" / "b1.py") == set()
    assert enabled(settings, tmp_path / "scripts" / "d1.py") == every


def test_per_file_ignores_are_relative_to_root(tmp_path, monkeypatch):
    root = tmp_path / "project"
    settings = Settings(per_file_ignores=(("tests/*.py", ("CL001",)),), root=root)
    assert not settings.is_enabled("CL001", root / "tests" / "a.py")
    assert settings.is_enabled("CL001", tmp_path / "tests" / "a.py")
    monkeypatch.chdir(tmp_path)
    assert not settings.is_enabled("CL001", Path("project/tests/a.py"))
    assert settings.is_enabled("CL001", Path("tests/a.py"))


def test_per_file_ignores_negated(tmp_path):
    settings = Settings(per_file_ignores=(("!src/**", ("CL002",)),), root=tmp_path)
    assert settings.is_enabled("CL002", tmp_path / "src" / "m.py")
    assert not settings.is_enabled("CL002", tmp_path / "tools" / "m.py")
    assert settings.is_enabled("CL001", tmp_path / "tools" / "m.py")


def test_per_file_ignores_from_config_use_the_config_folder(tmp_path):
    pyproject(tmp_path, '[tool.convlint.per-file-ignores]\n"models/*.py" = ["CL0"]\n')
    cwd = tmp_path / "models"
    cwd.mkdir()
    settings = load_settings(cwd)
    assert not settings.is_enabled("CL001", cwd / "net.py")
    assert settings.is_enabled("CL001", tmp_path / "net.py")


# --- excludes --------------------------------------------------------------------------------


def test_exclude_replaces_the_defaults_and_extend_exclude_adds(tmp_path):
    pyproject(tmp_path, 'exclude = ["generated"]\n')
    assert load_settings(tmp_path).exclude == ("generated",)
    pyproject(tmp_path, 'extend-exclude = ["generated"]\n')
    settings = load_settings(tmp_path)
    assert settings.exclude == DEFAULT_EXCLUDE
    assert settings.extend_exclude == ("generated",)


def test_is_excluded(tmp_path):
    settings = Settings(extend_exclude=("pkg/gen", "./legacy/", "*_pb2.py"), root=tmp_path)
    assert settings.is_excluded(tmp_path / "a" / ".venv")
    assert settings.is_excluded(tmp_path / "dist")
    assert settings.is_excluded(tmp_path / "x.egg-info")
    assert settings.is_excluded(tmp_path / "pkg" / "gen")
    assert not settings.is_excluded(tmp_path / "other" / "pkg" / "gen")
    assert settings.is_excluded(tmp_path / "legacy")
    assert settings.is_excluded(tmp_path / "deep" / "api_pb2.py")
    assert not settings.is_excluded(tmp_path / "src" / "model.py")
    assert not settings.is_excluded(tmp_path / "src" / "venv.py")
