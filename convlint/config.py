"""Settings from ``[tool.convlint]`` in pyproject.toml, with ruff's conventions: kebab-case keys,
rule selection by code prefix, per-file ignores and excludes as globs relative to the config's
folder. Any mistake is a :class:`ConfigError`, because a misspelt key silently ignored would
leave a project less checked than its authors believe.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from convlint.rules import ALL_RULES, RULES_BY_CODE

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

OUTPUT_FORMATS = ("text", "json", "json-lines", "sarif", "github")
DEFAULT_EXCLUDE = (
    ".git", ".venv", "venv", "build", "dist", "__pycache__", ".tox", "node_modules", "site-packages",
    ".convlint_cache", ".mypy_cache", ".pytest_cache", ".eggs", "*.egg-info",
)
ALL_SELECTOR = "ALL"
#: Keys whose command-line value adds to the file's instead of replacing it, as in ruff.
_EXTENDING_KEYS = ("extend-select", "ignore", "extend-exclude")


class ConfigError(Exception):
    """A configuration that cannot be used; its text is one line naming the key and the file."""


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of a run. Globs are relative to ``root``."""

    select: Tuple[str, ...] = ("CL",)
    extend_select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    output_format: str = "text"
    cache_dir: Optional[str] = None
    models: Mapping[str, Any] = field(default_factory=dict)
    #: CL302: the share of a model's parameters above which one layer is reported.
    dominant_layer_share: float = 0.5
    #: ruff's fix settings: apply fixes; apply them and report nothing else; include unsafe
    #: fixes (None: not said, so hidden unsafe fixes are hinted at); list what was fixed.
    fix: bool = False
    fix_only: bool = False
    unsafe_fixes: Optional[bool] = None
    show_fixes: bool = False
    config_path: Optional[Path] = None
    root: Path = field(default_factory=Path.cwd)

    def is_enabled(self, code: str, path: Path) -> bool:
        """Whether rule ``code`` runs on ``path`` (relative paths are taken from the process's cwd)."""
        if not _is_selected(code, self.select, self.extend_select, self.ignore):
            return False
        ignored = _per_file_ignored(self.per_file_ignores, _absolute(self.root), _absolute(path))
        return not any(_selects(selector, code) for selector in ignored)

    def is_ignored(self, code: str, path: Path) -> bool:
        """Whether ``ignore`` or ``per-file-ignores`` name rule ``code`` for ``path`` (by a prefix
        or ``ALL`` too): said outright, which not selecting a rule does not."""
        ignored = self.ignore + _per_file_ignored(self.per_file_ignores, _absolute(self.root), _absolute(path))
        return any(_selects(selector, code) for selector in ignored)

    def models_for(self, path: Path) -> Tuple[Tuple[str, Mapping[str, Any]], ...]:
        """The ``[tool.convlint.models]`` entries of ``path``: (expression, entry)."""
        target = Path(_absolute(path))
        found = []
        for name, entry in self.models.items():
            file, _, expression = name.partition(":")
            if Path(_absolute(Path(self.root) / file)) == target:
                found.append((expression, entry))
        return tuple(found)

    def is_excluded(self, path: Path) -> bool:
        """Whether ``path`` itself (not the folders above it) matches ``exclude`` or ``extend-exclude``."""
        absolute, root = _absolute(path), _absolute(self.root)
        return any(_glob_matches(pattern, absolute, root) for pattern in self.exclude + self.extend_exclude)


def find_config(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml at or above ``start`` that has a ``[tool.convlint]`` table."""
    folder = Path(os.path.abspath(start))
    for candidate in (folder / "pyproject.toml", *(parent / "pyproject.toml" for parent in folder.parents)):
        if candidate.is_file() and _has_convlint_table(_read_toml(candidate)):
            return candidate
    return None


def load_settings(
    cwd: Path,
    config_file: Optional[Path] = None,
    isolated: bool = False,
    overrides: Optional[Mapping[str, Any]] = None,
) -> Settings:
    """Settings for a run from ``cwd``: the defaults, then the config file (``config_file``, else
    the one found upward from ``cwd``, neither when ``isolated``), then ``overrides`` from the
    command line (kebab-case keys; a value of None means the option was not given)."""
    cwd = Path(os.path.abspath(cwd))
    if isolated and config_file is not None:
        raise ConfigError("`--config` cannot be used with `--isolated`")
    config_path = None if isolated else _config_path(cwd, config_file)
    from_file = _file_options(config_path) if config_path else {}
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    from_cli = _validated(given, _Origin("command-line arguments", "command-line arguments", cwd))
    options = _layered(from_file, from_cli)
    return Settings(
        **{key.replace("-", "_"): value for key, value in options.items()},
        config_path=config_path,
        root=config_path.parent if config_path else _project_root(cwd),
    )


@dataclass(frozen=True)
class _Origin:
    """Where options came from, for error messages and for resolving relative paths."""

    where: str
    table: str
    folder: Path

    def error(self, problem: str) -> ConfigError:
        return ConfigError(f"{problem} (in {self.where})")


def _config_path(cwd: Path, config_file: Optional[Path]) -> Optional[Path]:
    if config_file is None:
        return find_config(cwd)
    path = Path(os.path.abspath(cwd / config_file))
    if not path.exists():
        raise ConfigError(f"config file `{config_file}` does not exist")
    return path


def _read_toml(path: Path) -> Dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"invalid TOML in {path}: {error}") from None
    except RecursionError:
        raise ConfigError(f"invalid TOML in {path}: nested too deeply to read") from None
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None


def _has_convlint_table(document: Mapping[str, Any]) -> bool:
    tool = document.get("tool")
    return isinstance(tool, dict) and "convlint" in tool


def _file_options(path: Path) -> Dict[str, Any]:
    document = _read_toml(path)
    if not _has_convlint_table(document):
        return {}
    table = document["tool"]["convlint"]
    origin = _Origin(str(path), f"[tool.convlint] of {path}", path.parent)
    if not isinstance(table, dict):
        raise origin.error(f"[tool.convlint] must be a table, got {table!r}")
    return _validated(table, origin)


def _project_root(cwd: Path) -> Path:
    """The top of the git work tree holding ``cwd``, else ``cwd``. Asking for the way up
    (``--show-cdup``) keeps the spelling of ``cwd``, symlinks included."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree", "--show-cdup"],
            cwd=cwd, capture_output=True, text=True, check=False,
        )
    except OSError:
        return cwd
    lines = result.stdout.splitlines()
    if result.returncode != 0 or not lines or lines[0] != "true":
        return cwd
    return Path(os.path.normpath(cwd / (lines[1] if len(lines) > 1 else "")))


def _layered(from_file: Mapping[str, Any], from_cli: Mapping[str, Any]) -> Dict[str, Any]:
    """Command-line values over the file's, as ruff layers them: a command-line ``select``
    starts the selection afresh, and ``extend-select``, ``ignore`` and ``extend-exclude`` add."""
    options = dict(from_file)
    if "select" in from_cli:
        options.pop("extend-select", None)
        options.pop("ignore", None)
    for key, value in from_cli.items():
        options[key] = options.get(key, ()) + value if key in _EXTENDING_KEYS else value
    return options


def _validated(table: Mapping[str, Any], origin: _Origin) -> Dict[str, Any]:
    """The options of ``table`` checked and normalised (lists become tuples)."""
    options = {}
    for key, value in table.items():
        check = _CHECKS.get(key)
        if check is None:
            raise ConfigError(f"unknown key `{key}` in {origin.table}")
        options[key] = check(key, value, origin)
    return options


def _string_list(key: str, value: Any, origin: _Origin, what: str) -> Tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise origin.error(f"`{key}` must be a list of {what}, got {value!r}")
    return tuple(value)


def _rule_codes(key: str, value: Any, origin: _Origin) -> Tuple[str, ...]:
    codes = _string_list(key, value, origin, "rule codes")
    for code in codes:
        if not _is_known_selector(code):
            raise origin.error(f"unknown rule code `{code}` in `{key}`")
    return codes


def _globs(key: str, value: Any, origin: _Origin) -> Tuple[str, ...]:
    patterns = _string_list(key, value, origin, "glob patterns")
    for pattern in patterns:
        _check_glob(pattern, key, origin)
    return patterns


def _per_file_ignores(key: str, value: Any, origin: _Origin) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    if not isinstance(value, Mapping):
        raise origin.error(f"`{key}` must be a table of globs to lists of rule codes, got {value!r}")
    for pattern in value:
        _check_glob(pattern[1:] if pattern.startswith("!") else pattern, key, origin)
    return tuple((pattern, _rule_codes(key, codes, origin)) for pattern, codes in value.items())


def _output_format(key: str, value: Any, origin: _Origin) -> str:
    if value not in OUTPUT_FORMATS:
        raise origin.error(f"`{key}` must be one of {', '.join(OUTPUT_FORMATS)}, got {value!r}")
    return value


def _cache_dir(key: str, value: Any, origin: _Origin) -> str:
    """An absolute folder: a relative one is taken from the config's folder, or from the cwd
    when given on the command line."""
    if not isinstance(value, (str, os.PathLike)):
        raise origin.error(f"`{key}` must be a path, got {value!r}")
    return os.path.abspath(origin.folder / value)


def _boolean(key: str, value: Any, origin: _Origin) -> bool:
    if not isinstance(value, bool):
        raise origin.error(f"`{key}` must be true or false, got {value!r}")
    return value


def _share(key: str, value: Any, origin: _Origin) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise origin.error(f"`{key}` must be a number above 0 and at most 1, got {value!r}")
    return float(value)


def _count(value: Any, smallest: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= smallest


#: What an entry of ``[tool.convlint.models]`` may say, and what each value must be.
_MODEL_ENTRY = {
    "params": ("a whole number of parameters", lambda v: _count(v, 0)),
    "max-params": ("a positive whole number", lambda v: _count(v, 1)),
    "input-shape": ("a list of positive sizes", lambda v: isinstance(v, list) and all(_count(s, 1) for s in v)),
}


def _models(key: str, value: Any, origin: _Origin) -> Mapping[str, Any]:
    """``"models/net.py:Net()" = { params = 1199882, max-params = 2000000 }``: a file (relative
    to the config's folder), a call evaluated in it, and what its total must be."""
    import libcst as cst

    if not isinstance(value, Mapping):
        raise origin.error(f"`{key}` must be a table of tables, got {value!r}")
    for name, entry in value.items():
        if not isinstance(entry, Mapping):
            raise origin.error(f"`{key}.{name}` must be a table, got {entry!r}")
        file, _, expression = name.partition(":")
        if not file or not expression:
            raise origin.error(f"`{key}` keys name a file and a call, as \"models/net.py:Net()\", got {name!r}")
        try:
            cst.parse_expression(expression)
        except cst.ParserSyntaxError:
            raise origin.error(f"`{key}.{name}`: `{expression}` is not a Python expression") from None
        for field_name, field_value in entry.items():
            if field_name not in _MODEL_ENTRY:
                raise origin.error(f"unknown key `{field_name}` in `{key}.{name}`")
            what, valid = _MODEL_ENTRY[field_name]
            if not valid(field_value):
                raise origin.error(f"`{key}.{name}.{field_name}` must be {what}, got {field_value!r}")
    return value


_CHECKS: Dict[str, Callable[[str, Any, _Origin], Any]] = {
    "select": _rule_codes,
    "extend-select": _rule_codes,
    "ignore": _rule_codes,
    "per-file-ignores": _per_file_ignores,
    "exclude": _globs,
    "extend-exclude": _globs,
    "output-format": _output_format,
    "cache-dir": _cache_dir,
    "models": _models,
    "dominant-layer-share": lambda key, value, origin: _share(key, value, origin),
    "fix": _boolean,
    "fix-only": _boolean,
    "unsafe-fixes": _boolean,
    "show-fixes": _boolean,
}


def _is_known_selector(selector: str) -> bool:
    return selector == ALL_SELECTOR or any(selector and rule.code.startswith(selector) for rule in ALL_RULES)


def _selects(selector: str, code: str) -> bool:
    return selector == ALL_SELECTOR or code.startswith(selector)


def _specificity(selector: str) -> int:
    return 0 if selector == ALL_SELECTOR else len(selector)


@lru_cache(maxsize=None)
def _is_selected(code: str, select: Tuple[str, ...], extend_select: Tuple[str, ...], ignore: Tuple[str, ...]) -> bool:
    """ruff's resolution: the most specific matching selector decides, and at equal specificity
    ``ignore`` beats ``select``; a rule that is off by default is selected only by its full code."""
    rule = RULES_BY_CODE.get(code)
    by_prefix = rule is None or rule.enabled_by_default
    votes = [
        (_specificity(selector), False)
        for selector in select + extend_select
        if (_selects(selector, code) if by_prefix else selector == code)
    ]
    votes += [(_specificity(selector), True) for selector in ignore if _selects(selector, code)]
    return bool(votes) and not max(votes)[1]


@lru_cache(maxsize=4096)
def _per_file_ignored(
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...], root: str, path: str
) -> Tuple[str, ...]:
    """The selectors that ``per-file-ignores`` applies to ``path``; ``!glob`` applies where the glob does not match."""
    ignored = []
    for pattern, codes in per_file_ignores:
        negated = pattern.startswith("!")
        if _glob_matches(pattern[1:] if negated else pattern, path, root) != negated:
            ignored.extend(codes)
    return tuple(ignored)


def _absolute(path: Path) -> str:
    """``path`` made absolute without resolving symlinks, in ``/`` form for glob matching."""
    return Path(os.path.abspath(path)).as_posix()


def _glob_matches(pattern: str, path: str, root: str) -> bool:
    """ruff's rule: the glob, anchored at ``root``, matches the absolute ``path``, or it
    matches the path's last component."""
    anchored, bare = _compiled_glob(pattern, root)
    return bool(anchored.fullmatch(path) or bare.fullmatch(path.rsplit("/", 1)[-1]))


def _check_glob(pattern: str, key: str, origin: _Origin) -> None:
    try:
        re.compile(_glob_regex(pattern))
    except (ValueError, re.error) as error:
        raise origin.error(f"invalid glob `{pattern}` in `{key}`: {error}") from None


@lru_cache(maxsize=None)
def _compiled_glob(pattern: str, root: str) -> Tuple[re.Pattern[str], re.Pattern[str]]:
    pattern = _normalised_glob(pattern)
    bare = _glob_regex(pattern)
    if pattern.startswith("/"):
        return re.compile(bare, re.DOTALL), re.compile(bare, re.DOTALL)
    anchored = re.escape(root.rstrip("/") + "/") + bare
    return re.compile(anchored, re.DOTALL), re.compile(bare, re.DOTALL)


def _normalised_glob(pattern: str) -> str:
    """Drop a leading ``./`` and a trailing ``/``, which users write but paths never carry."""
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern.rstrip("/") or pattern


def _glob_regex(pattern: str) -> str:
    """A regex for a glob as ruff's globset reads it by default: ``*`` and ``?`` also match
    ``/``, ``**/`` matches zero or more folders, ``[...]`` is a class and ``{a,b}`` alternates."""
    parts = []
    index, in_braces = 0, False
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index) and (index == 0 or pattern[index - 1] == "/"):
            parts.append("(?:.*/)?")
            index += 3
            continue
        if char == "*":
            parts.append(".*")
            while index < len(pattern) and pattern[index] == "*":
                index += 1
            continue
        if char == "[":
            end = _class_end(pattern, index)
            parts.append(_class_regex(pattern[index + 1:end]))
            index = end + 1
            continue
        if char == "{" and in_braces or char == "}" and not in_braces:
            raise ValueError(f"unbalanced `{char}`")
        if char == "{" or char == "}":
            parts.append("(?:" if char == "{" else ")")
            in_braces = char == "{"
        elif char == "," and in_braces:
            parts.append("|")
        else:
            parts.append("." if char == "?" else re.escape(char))
        index += 1
    if in_braces:
        raise ValueError("unclosed `{`")
    return "".join(parts)


def _class_end(pattern: str, start: int) -> int:
    """The index of the ``]`` closing the class opened at ``start``; a ``]`` first in the class is literal."""
    index = start + 1
    if pattern.startswith(("!", "^"), index):
        index += 1
    end = pattern.find("]", index + 1)
    if end < 0:
        raise ValueError("unclosed `[`")
    return end


def _class_regex(body: str) -> str:
    negated = body.startswith(("!", "^"))
    members = body[1:] if negated else body
    escaped = "".join(char if char == "-" else re.escape(char) for char in members)
    return f"[{'^' if negated else ''}{escaped}]"
