"""The command line: ``convlint [check] [PATH ...]``, ``convlint rules``, ``convlint rule CODE``,
``convlint summary``, ``convlint server``.

Exit codes follow ruff: 0 when nothing is found, 1 when diagnostics are found, 2 for a usage,
configuration or internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from convlint import __version__
from convlint.config import OUTPUT_FORMATS, ConfigError, Settings, find_config, load_settings
from convlint.files import UsageError, discover
from convlint.diagnostics import Diagnostic
from convlint.fix import FileFix, RunFixes, applies, fix_paths, fix_text, source_encoding, summary_by_file, unified_diff
from convlint.report import render, statistics
from convlint.report.text import FixState, render_fix_only
from convlint.rules import ALL_RULES, RULES_BY_CODE
from convlint.cache import Cache
from convlint.runner import DEFAULT_TIMEOUT, Linter, display_path

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def _codes(text: str) -> List[str]:
    return [code.strip().upper() for code in text.split(",") if code.strip()]


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convlint",
        description="Lint neural-network model code for channel mismatches and invalid layer arguments, "
        "without importing it.",
        epilog="Other commands: `convlint rules` lists the rules, `convlint rule CODE` explains one, "
        "`convlint summary FILE` counts parameters, `convlint server` is the language server.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders to lint (default: .)")
    parser.add_argument("--version", action="version", version=f"convlint {__version__}")
    parser.add_argument("--config", type=Path, help="read settings from this TOML file")
    parser.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    parser.add_argument("--select", type=_codes, help="rule codes or prefixes to enable (comma-separated)")
    parser.add_argument("--extend-select", type=_codes, help="rule codes or prefixes to enable as well")
    parser.add_argument("--ignore", type=_codes, help="rule codes or prefixes to disable")
    parser.add_argument("--exclude", type=lambda t: [g for g in t.split(",") if g], help="globs to exclude")
    parser.add_argument("--extend-exclude", type=lambda t: [g for g in t.split(",") if g],
                        help="globs to exclude in addition to the configured ones")
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS, help="how to print diagnostics (default: text)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when diagnostics are found")
    parser.add_argument("--statistics", action="store_true",
                        help="print the number of diagnostics per rule instead of the diagnostics (text or json); "
                        "files skipped at the time limit are counted under CL005 even when it is not selected")
    parser.add_argument("--force-exclude", action="store_true",
                        help="apply excludes to files named on the command line too (for pre-commit)")
    parser.add_argument("--stdin-filename", type=Path,
                        help="lint source read from standard input as if it were this file")
    fixing = parser.add_argument_group("fixes")
    fixing.add_argument("--fix", action=argparse.BooleanOptionalAction, default=None,
                        help="apply fixes to resolve findings (with --stdin-filename: print the fixed source)")
    fixing.add_argument("--unsafe-fixes", action=argparse.BooleanOptionalAction, default=None,
                        help="include fixes that may change more than the finding (conv bias=False)")
    fixing.add_argument("--fix-only", action=argparse.BooleanOptionalAction, default=None,
                        help="apply fixes and report nothing else; exit 0 unless --exit-non-zero-on-fix")
    fixing.add_argument("--show-fixes", action=argparse.BooleanOptionalAction, default=None,
                        help="list the findings fixed, per file")
    fixing.add_argument("--diff", action="store_true",
                        help="print the fixes as a unified diff and write nothing (exit 1 if there is one)")
    fixing.add_argument("--exit-non-zero-on-fix", action="store_true",
                        help="exit 1 when something was fixed, even if nothing remains")
    speed = parser.add_argument_group("speed")
    speed.add_argument("--no-cache", action="store_true",
                       help="neither read nor write the cache (also: CONVLINT_NO_CACHE=1)")
    speed.add_argument("--cache-dir", help="the cache folder (default: .convlint_cache beside the configuration)")
    speed.add_argument("-j", "--jobs", type=_positive_int,
                       help="processes to analyse files in (default: one per core; small runs use one)")
    speed.add_argument("--timeout", type=_positive_float, default=DEFAULT_TIMEOUT,
                       help=f"seconds one file's analysis may take before it is skipped, CL005 "
                       f"(default: {DEFAULT_TIMEOUT:g})")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def _settings(args: argparse.Namespace, cwd: Path) -> Settings:
    overrides = {
        "select": args.select,
        "extend-select": args.extend_select,
        "ignore": args.ignore,
        "exclude": args.exclude,
        "extend-exclude": args.extend_exclude,
        "output-format": args.output_format,
        "cache-dir": args.cache_dir,
        "fix": args.fix,
        "unsafe-fixes": args.unsafe_fixes,
        "fix-only": args.fix_only,
        "show-fixes": args.show_fixes,
    }
    config = args.config
    if config is None and not args.isolated and args.stdin_filename is not None:
        config = find_config((cwd / args.stdin_filename).parent)
    return load_settings(cwd, config_file=config, isolated=args.isolated, overrides=overrides)


def check(argv: Sequence[str]) -> int:
    args = _check_parser().parse_args(argv)
    cwd = Path.cwd()
    settings = _settings(args, cwd)
    if args.statistics and settings.output_format not in statistics.FORMATS:
        raise UsageError(f"`--statistics` prints {' or '.join(statistics.FORMATS)}, not "
                         f"`{settings.output_format}`")
    use_cache = not args.no_cache and os.environ.get("CONVLINT_NO_CACHE", "") in ("", "0", "false")
    cache = Cache.for_run(settings, cwd) if use_cache else None
    linter = Linter(settings, cwd, jobs=args.jobs, cache=cache, timeout=args.timeout)
    mode = "diff" if args.diff else "apply" if settings.fix or settings.fix_only else "generate"
    unsafe = bool(settings.unsafe_fixes)
    # ruff's streams: with standard input, the fixed source (or the diff) is the output, and
    # the findings and summary go to stderr.
    report = sys.stdout
    if args.stdin_filename is not None:
        if args.paths and args.paths != [Path("-")]:
            raise UsageError("`--stdin-filename` lints standard input; do not name other paths")
        data = sys.stdin.buffer.read()
        diagnostics = linter.lint_bytes(args.stdin_filename, data)
        fixes = RunFixes(diagnostics)
        if mode != "generate":
            fixes = _fix_stdin(linter, args.stdin_filename, data, diagnostics, unsafe, mode, cwd)
            report = sys.stderr
    else:
        files = discover(args.paths or [Path(".")], settings, force_exclude=args.force_exclude)
        diagnostics = linter.lint_paths(files)
        fixes = RunFixes(diagnostics)
        if mode != "generate":
            shown = {display_path(path, cwd): path for path in files}
            fixes = fix_paths(linter, shown, diagnostics, unsafe, write=mode == "apply")
            sys.stdout.write("".join(fixes.diffs))
    for path, problem in fixes.not_written:
        print(f"convlint: warning: {path} {problem}; left as it is", file=sys.stderr)
    state = FixState(settings.unsafe_fixes, mode, fixes.count,
                     tuple(summary_by_file(fixes.fixed)) if settings.show_fixes else ())
    remaining = fixes.diagnostics
    if args.statistics:
        report.write(statistics.render(settings.output_format, remaining, linter.unreported_skips))
    elif mode == "diff" or settings.fix_only:
        if settings.output_format == "text":
            report.write(render_fix_only(remaining, state))
    else:
        report.write(render(settings.output_format, remaining, cwd, state))
    return _exit_code(args, settings, mode, fixes)


def _fix_stdin(linter: Linter, name: Path, data: bytes, diagnostics: List[Diagnostic], unsafe: bool, mode: str,
               cwd: Path) -> RunFixes:
    """Fix source read from standard input: print it fixed (``--fix``, always, as ruff does)
    or its diff (``--diff``) on stdout."""
    encoding = source_encoding(data)
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        text = None
    if text is None or not any(applies(d, unsafe) for d in diagnostics):
        outcome = FileFix(text or "", diagnostics)
    else:
        outcome = fix_text(linter, name, text, linter.lint_text(name, text), unsafe)
    shown = display_path(name, cwd)
    if mode == "diff":
        sys.stdout.write(unified_diff(text, outcome.text, shown) if text is not None else "")
    else:
        sys.stdout.buffer.write(outcome.text.encode(encoding) if text is not None else data)
    sys.stdout.flush()
    return RunFixes(outcome.diagnostics, {shown: outcome.fixed} if outcome.fixed else {})


def _exit_code(args: argparse.Namespace, settings: Settings, mode: str, fixes: RunFixes) -> int:
    """ruff's: ``--diff`` fails when there is something to fix, ``--fix-only`` only with
    ``--exit-non-zero-on-fix``, and a check when findings remain (or were fixed, with it)."""
    if args.exit_zero:
        return EXIT_CLEAN
    if mode == "diff":
        failed = fixes.count > 0
    elif settings.fix_only:
        failed = args.exit_non_zero_on_fix and fixes.count > 0
    else:
        failed = bool(fixes.diagnostics) or args.exit_non_zero_on_fix and fixes.count > 0
    return EXIT_FOUND if failed else EXIT_CLEAN


def list_rules(argv: Sequence[str]) -> int:
    argparse.ArgumentParser(prog="convlint rules", description="List every rule.").parse_args(argv)
    for rule in ALL_RULES:
        state = "" if rule.enabled_by_default else "  (off by default)"
        paragraph = rule.documentation().split("## What it does", 1)[-1].strip().split("\n\n")[0]
        summary = " ".join(paragraph.split()).split(". ")[0].rstrip(".")
        print(f"{rule.code}  {rule.name:<26} {rule.severity:<8} {summary}{state}")
    return EXIT_CLEAN


def explain_rule(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="convlint rule", description="Explain one rule.")
    parser.add_argument("code")
    args = parser.parse_args(argv)
    rule = RULES_BY_CODE.get(args.code.upper())
    if rule is None:
        raise UsageError(f"unknown rule `{args.code}`; `convlint rules` lists them")
    print(f"# {rule.code} {rule.name} ({rule.severity}{'' if rule.enabled_by_default else ', off by default'})\n")
    print(rule.documentation())
    fixed = [rule.fixed[index] for index in sorted(rule.fixed)]
    for title, examples in (("Accepted", rule.valid), ("Rejected", rule.invalid), ("Fixed by --fix", fixed)):
        for example in examples:
            print(f"\n## {title}\n```python\n{example.rstrip()}\n```")
    return EXIT_CLEAN


def serve(argv: Sequence[str]) -> int:
    argparse.ArgumentParser(
        prog="convlint server",
        description="Run the language server (LSP over stdio) for editors; needs `pip install 'convlint[server]'`.",
    ).parse_args(argv)
    try:
        from convlint import server
    except ImportError as error:
        if (error.name or "").split(".")[0] not in ("pygls", "lsprotocol"):
            raise
        print("convlint: error: `convlint server` needs pygls: pip install 'convlint[server]'", file=sys.stderr)
        return EXIT_ERROR
    return server.serve()


def summarize(argv: Sequence[str]) -> int:
    # Imported here: the interpreter is not needed by a check served from the cache.
    from convlint import summary

    return summary.command(argv)


COMMANDS: Dict[str, Callable[[Sequence[str]], int]] = {
    "check": check, "rules": list_rules, "rule": explain_rule, "summary": summarize, "server": serve,
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = COMMANDS.get(arguments[0]) if arguments else None
    try:
        if command is not None:
            return command(arguments[1:])
        return check(arguments)
    except (ConfigError, UsageError) as error:
        print(f"convlint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as error:  # a bug in convlint: say so plainly, exit 2 as ruff does
        print(f"convlint: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR
