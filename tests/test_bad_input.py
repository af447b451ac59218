"""Input a repository really holds, and that must neither crash nor hang convlint nor make it
lie: syntax errors, odd bytes and line ends, huge and deeply nested files, loops and recursion
that never end, odd files on disk, a broken configuration. Each gets a clear diagnostic or
message, and the rest of the run goes on.

What could kill the process (a native stack overflow in the parser) runs in a subprocess, so
that a regression fails its test instead of the whole session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Sequence, Tuple

import pytest

from convlint import cli
from convlint.analysis.imports import MAX_TOKENS
from convlint.config import Settings, load_settings
from convlint.files import discover
from convlint.runner import Linter

ROOT = Path(__file__).resolve().parent.parent
HEADER = "import torch.nn as nn\n"
#: One provable mismatch: CL101 at column 39 of its line.
BAD_MODEL = "m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(4, 8, 3))\n"
#: What the text output ends with when BAD_MODEL is among the files: its literal has a fix.
FIXABLE = "[*] 1 fixable with the `--fix` option."
BAD_COLUMN = 39


def lint(tmp_path: Path, data: bytes, name: str = "model.py",
         extend_select: Sequence[str] = ("CL004",)) -> List[Tuple[int, int, str, str]]:
    """(line, column, code, message) of every diagnostic on ``data`` written as ``name``."""
    path = tmp_path / name
    path.write_bytes(data)
    settings = load_settings(tmp_path, isolated=True, overrides={"extend-select": list(extend_select)})
    return [(d.line, d.column, d.code, d.message) for d in Linter(settings, tmp_path).lint_paths([path])]


def codes(found: List[Tuple[int, int, str, str]]) -> List[Tuple[int, int, str]]:
    return [(line, column, code) for line, column, code, _ in found]


def run_cli(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m convlint`` in a fresh process, from this checkout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), GIT_CEILING_DIRECTORIES=str(cwd.parent))
    return subprocess.run([sys.executable, "-m", "convlint", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=timeout)


# -- what does not parse --------------------------------------------------------------------------


def test_python_2_print_is_a_syntax_error_with_pythons_wording(tmp_path):
    found = lint(tmp_path, b'print "hello"\n')
    assert found == [(1, 1, "CL001", "The file does not parse: Missing parentheses in call to 'print'. "
                                     "Did you mean print(...)?")]


def test_python_2_leftovers_are_syntax_errors(tmp_path):
    assert codes(lint(tmp_path, b"raise ValueError, 'no'\n")) == [(1, 17, "CL001")]
    assert codes(lint(tmp_path, b"if 1 <> 2:\n    pass\n")) == [(1, 6, "CL001")]
    assert codes(lint(tmp_path, b"x = `1`\n")) == [(1, 5, "CL001")]
    assert codes(lint(tmp_path, b"x = 0777\n")) == [(1, 5, "CL001")]
    assert codes(lint(tmp_path, b"exec 'x = 1'\n")) == [(1, 1, "CL001")]


def test_half_typed_code_is_reported_where_python_stops(tmp_path):
    found = lint(tmp_path, (HEADER + "class Net(nn.Module):\n    def __init__(self:\n        pass\n").encode())
    assert codes(found) == [(3, 17, "CL001")]
    assert "'(' was never closed" in found[0][3]


def test_null_byte_is_reported_at_its_place(tmp_path):
    found = lint(tmp_path, b"x = 1\ny = '\0'\n")
    assert found == [(2, 6, "CL001", "The file does not parse: source code cannot contain null bytes")]


# -- bytes and line ends ------------------------------------------------------------------------


def test_non_utf8_bytes_without_a_cookie_are_reported_at_the_byte(tmp_path):
    found = lint(tmp_path, b'x = "caf\xe9"\n')
    assert found == [(1, 9, "CL002", "The file could not be read: byte 0xe9 is not valid utf-8, and no "
                                     "coding cookie declares another encoding")]
    # Past the first two lines, which are all that Python reads for a cookie.
    assert codes(lint(tmp_path, b"a = 1\nb = 2\nc = 3\nd = '\xff'\n")) == [(4, 6, "CL002")]


def test_non_utf8_bytes_with_a_coding_cookie_are_decoded_and_analysed(tmp_path):
    source = b"# -*- coding: latin-1 -*-\n" + HEADER.encode() + b"name = '\xe9'\n" + BAD_MODEL.encode()
    assert codes(lint(tmp_path, source)) == [(4, BAD_COLUMN, "CL101")]


def test_bytes_invalid_in_the_declared_encoding(tmp_path):
    found = lint(tmp_path, b"# coding: utf-8\nx = '\xe9'\n")
    assert found == [(2, 6, "CL002", "The file could not be read: byte 0xe9 is not valid utf-8")]
    found = lint(tmp_path, b"# coding: no-such-codec\nx = 1\n")
    assert codes(found) == [(1, 1, "CL002")] and "unknown encoding: no-such-codec" in found[0][3]
    assert codes(lint(tmp_path, b"# coding: rot13\nx = 1\n")) == [(1, 1, "CL002")]


def test_byte_order_mark_is_skipped_and_columns_stay_right(tmp_path):
    assert codes(lint(tmp_path, b"\xef\xbb\xbf" + HEADER.encode() + BAD_MODEL.encode())) == [(2, BAD_COLUMN, "CL101")]
    source = b"\xef\xbb\xbfimport torch.nn as nn; " + BAD_MODEL.encode()
    assert codes(lint(tmp_path, source)) == [(1, BAD_COLUMN + len("import torch.nn as nn; "), "CL101")]
    # A BOM that contradicts the cookie is what Python rejects too.
    assert codes(lint(tmp_path, b"\xef\xbb\xbf# coding: latin-1\nx = 1\n")) == [(1, 1, "CL002")]


@pytest.mark.parametrize("end", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_crlf_and_cr_line_ends_give_the_same_lines_and_suppressions(tmp_path, end):
    source = (HEADER + "\n" + BAD_MODEL + BAD_MODEL.rstrip("\n") + "  # noqa: CL101\n").replace("\n", end)
    assert codes(lint(tmp_path, source.encode())) == [(3, BAD_COLUMN, "CL101")]


def test_form_feeds_and_other_separators_do_not_shift_suppressions(tmp_path):
    """``str.splitlines`` splits at \\x0c and \\x1c; Python does not. A bare ``# noqa`` on the
    line of such a string once silenced the error on the next line."""
    source = HEADER + "\x0c\nnote = '\x1c'  # noqa\n" + BAD_MODEL + BAD_MODEL.rstrip("\n") + "  # noqa: CL101\n"
    assert codes(lint(tmp_path, source.encode())) == [(4, BAD_COLUMN, "CL101")]


@pytest.mark.parametrize("data", [b"", b"\n\n\n", b"   \t", b"\xef\xbb\xbf", b"# only a comment", b"\r"],
                         ids=["empty", "newlines", "blanks", "only-bom", "comment-no-newline", "lone-cr"])
def test_empty_files_are_clean(tmp_path, data):
    assert lint(tmp_path, data) == []


# -- size ---------------------------------------------------------------------------------------


def test_fifty_thousand_line_file_is_analysed_within_its_budget_and_says_where_it_stopped(tmp_path):
    """Module-level statements share one step budget. A model above a 50,000-line table is
    checked; one below it is not, and CL004 names the statement where the analysis stopped
    (this used to be silent: the module body swallowed its budget)."""
    table = "".join(f"width_{i} = {i % 97 + 1}\n" for i in range(50_000))
    (tmp_path / "big.py").write_text(HEADER + BAD_MODEL + table + BAD_MODEL)
    (tmp_path / "model.py").write_text(HEADER + BAD_MODEL)
    started = time.perf_counter()
    result = run_cli(tmp_path, "--extend-select", "CL004", ".")
    elapsed = time.perf_counter() - started
    assert (result.stderr, result.returncode) == ("", 1)
    model, budget, after, total, fixable = result.stdout.splitlines()
    assert fixable == "[*] 2 fixable with the `--fix` option."
    assert model.startswith(f"big.py:2:{BAD_COLUMN}: CL101 ")
    place, note = budget.split(": ", 1)
    assert note == "CL004 Analysis stopped early: more than 150000 interpreter steps"
    assert place.startswith("big.py:") and 2 < int(place.split(":")[1]) < 50_003
    assert after.startswith(f"model.py:2:{BAD_COLUMN}: CL101 ") and total == "Found 3 errors."
    assert elapsed < 40, f"{elapsed:.1f} s for 50,000 lines"


def test_list_of_a_million_elements_is_skipped_quickly_with_a_budget_note(tmp_path):
    source = HEADER + "table = [" + ",".join(["0"] * 1_000_000) + "]\n" + BAD_MODEL
    started = time.perf_counter()
    found = lint(tmp_path, source.encode())
    assert time.perf_counter() - started < 10
    assert found == [(1, 1, "CL004", f"Analysis stopped early: the file has more than {MAX_TOKENS:,} tokens "
                                     f"({len(source):,} characters); files this large are not analysed")]
    assert lint(tmp_path, source.encode(), extend_select=()) == []


def test_long_but_thin_file_is_not_counted_as_large(tmp_path):
    """The token count is only taken past MAX_TOKENS characters, and a long string is few tokens
    for the parser, but many words: the estimate errs on the side of skipping, never of crashing."""
    source = HEADER + "DOC = '''" + "word " * 20_000 + "'''\n" + BAD_MODEL
    assert codes(lint(tmp_path, source.encode())) == [(3, BAD_COLUMN, "CL101")]


# -- nesting: in a subprocess, as a crash would take the test session down --------------------------


def _deep(kind: str, depth: int) -> str:
    return {
        "parens": "x = " + "(" * depth + "1" + ")" * depth,
        "lists": "x = " + "[" * depth + "]" * depth,
        "calls": "x = f" + "()" * depth,
        "subscripts": "x = a" + "[0]" * depth,
        "attributes": "x = a" + ".b" * depth,
        "sums": "x = " + " + ".join(["1"] * depth),
        "unary": "x = " + "-" * depth + "1",
        "lambdas": "x = " + "lambda: " * depth + "1",
        "conditionals": "x = " + "1 if c else " * depth + "1",
        "and": "x = " + " and ".join(["a"] * depth),
        "strings": "x = " + " ".join(['"a"'] * depth),
        "elifs": "if x:\n    pass\n" + "elif x:\n    pass\n" * depth,
    }[kind] + "\n"


@pytest.mark.parametrize("kind, depth, expected", [
    ("parens", 3000, "CL001 The file does not parse: too many nested parentheses"),
    ("lists", 100_000, "CL001 The file does not parse: too many nested parentheses"),
    ("calls", 10_000, "CL001 The file does not parse: nested too deeply for Python to compile"),
    ("subscripts", 10_000, "CL001 The file does not parse: nested too deeply for Python to compile"),
    ("attributes", 10_000, "CL001 The file does not parse: nested too deeply for Python to compile"),
    ("sums", 10_000, "CL001 The file does not parse: nested too deeply for Python to compile"),
    ("unary", 10_000, "CL001 The file does not parse: nested too deeply for Python to compile"),
    ("lambdas", 10_000, "CL001 The file does not parse: nested too deeply for Python to compile"),
    ("conditionals", 10_000, "CL001 The file does not parse: nested too deeply for Python to compile"),
    ("elifs", 10_000, "CL001 The file does not parse: nested too deeply for Python to compile"),
])
def test_nesting_python_cannot_compile_is_a_syntax_error(tmp_path, kind, depth, expected):
    (tmp_path / "deep.py").write_text(_deep(kind, depth))
    (tmp_path / "model.py").write_text(HEADER + BAD_MODEL)
    started = time.perf_counter()
    result = run_cli(tmp_path, ".")
    assert time.perf_counter() - started < 20
    assert (result.returncode, result.stderr) == (1, "")
    deep, model, total, hint = result.stdout.splitlines()
    assert deep.startswith("deep.py:") and deep.split(": ", 1)[1] == expected
    assert model.startswith(f"model.py:2:{BAD_COLUMN}: CL101 [*] ") and total == "Found 2 errors."
    assert hint == FIXABLE


@pytest.mark.parametrize("kind, depth", [("and", 20_000), ("strings", 20_000), ("parens", 200), ("sums", 2000)])
def test_nesting_python_accepts_never_crashes(tmp_path, kind, depth):
    """``a and b and …`` is flat for Python but nested for libcst, whose native parser once
    overflowed the stack on 10,000 operands (a segmentation fault, the whole run lost)."""
    (tmp_path / "deep.py").write_text(_deep(kind, depth))
    (tmp_path / "model.py").write_text(HEADER + BAD_MODEL)
    result = run_cli(tmp_path, ".", "--extend-select", "CL004")
    assert result.stderr == "" and result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("model.py:")] == [
        f"model.py:2:{BAD_COLUMN}: CL101 [*] Conv2d expects 4 input channels but receives 8 from Conv2d(3, 8) on line 2"]
    assert lines[-1] == FIXABLE
    others = [line for line in lines[:-2] if not line.startswith("model.py:")]
    # Valid Python may be beyond what convlint analyses (said so), never reported as invalid.
    assert all(" CL004 " in line or " CL003 " in line for line in others), others


def test_model_inside_moderate_nesting_is_still_analysed(tmp_path):
    source = HEADER + "m = " + "(" * 150 + BAD_MODEL.strip()[len("m = "):] + ")" * 150 + "\n"
    assert codes(lint(tmp_path, source.encode())) == [(2, BAD_COLUMN + 150, "CL101")]


# -- programs that never end ------------------------------------------------------------------------


def test_loops_of_a_billion_iterations_end_and_what_follows_is_checked(tmp_path):
    source = HEADER + (
        "total = 0\n"
        "for i in range(10**9):\n"
        "    total += i\n"
        "layers = []\n"
        "for i in range(10**9):\n"
        "    layers.append(nn.Conv2d(3, 3, 3))\n"
        "while True:\n"
        "    total += 1\n"
        "net = nn.Sequential(*layers)\n"
    ) + BAD_MODEL
    started = time.perf_counter()
    found = lint(tmp_path, source.encode())
    assert time.perf_counter() - started < 10
    assert [code for code in codes(found) if code[2] != "CL004"] == [(11, BAD_COLUMN, "CL101")]


def test_recursion_between_helpers_ends_without_a_guess(tmp_path):
    source = HEADER + (
        "def make(n):\n"
        "    return [nn.Conv2d(n, n, 3)] + other(n + 1)\n"
        "def other(n):\n"
        "    return make(n * 2) + [nn.Conv2d(n, 2 * n, 1)]\n"
        "def forever(x):\n"
        "    return forever(x + 1)\n"
        "net = nn.Sequential(*make(3))\n"
        "y = forever(0)\n"
        "class Loop(nn.Module):\n"
        "    def __init__(self, c=8):\n"
        "        super().__init__()\n"
        "        self.body = Loop(c + 1)\n"
    ) + BAD_MODEL
    started = time.perf_counter()
    found = lint(tmp_path, source.encode())
    assert time.perf_counter() - started < 10
    assert [code for code in codes(found) if code[2] != "CL004"] == [(14, BAD_COLUMN, "CL101")]
    assert any(code == "CL004" for _, _, code in codes(found)), "the recursion budget was hit: say so"


@pytest.mark.parametrize("classes", [
    "class A(nn.Module):\n    pass\nB = A\nclass A(B):\n    pass\nC = A\nclass A(C, A):\n    pass\n",
    "class A(nn.Module):\n    pass\nclass B(A):\n    pass\nA.__bases__ = (B,)\nA = B\nclass A(A):\n    pass\n",
    "class A(A):\n    pass\n",
    "X = nn.Module\nclass A(X):\n    pass\nX = A\nclass X(X):\n    def forward(self, x):\n        return super().forward(x)\n",
], ids=["alias-chain", "bases-assigned", "undefined-self", "shadowed-base"])
def test_class_inheriting_from_itself_through_aliases(tmp_path, classes):
    source = HEADER + classes + "a = A()\na(1)\n" + BAD_MODEL
    line = source.count("\n")
    assert [code for code in codes(lint(tmp_path, source.encode())) if code[2] != "CL004"] == [
        (line, BAD_COLUMN, "CL101")]


# -- files on disk ----------------------------------------------------------------------------------


def test_directory_symlink_loop_is_walked_once(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "model.py").write_text(HEADER + BAD_MODEL)
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "sub" / "loop")
    os.symlink("self", tmp_path / "pkg" / "self")  # a link to itself
    os.symlink("b.py", tmp_path / "pkg" / "a.py")  # a loop of file links
    os.symlink("a.py", tmp_path / "pkg" / "b.py")
    result = run_cli(tmp_path, "pkg", "pkg/sub/loop/sub", timeout=30)
    assert result.returncode == 1 and result.stderr == ""
    # The file is linted once, under the first of its spellings in sorted order.
    assert result.stdout.splitlines() == [
        "pkg/a.py:1:1: CL002 The file could not be read: Too many levels of symbolic links",
        "pkg/b.py:1:1: CL002 The file could not be read: Too many levels of symbolic links",
        f"pkg/sub/loop/sub/model.py:2:{BAD_COLUMN}: CL101 [*] Conv2d expects 4 input channels but receives 8 from "
        "Conv2d(3, 8) on line 2",
        "Found 3 errors.",
        FIXABLE,
    ]


def test_fifo_found_on_the_walk_is_skipped_not_read(tmp_path):
    (tmp_path / "model.py").write_text(HEADER + BAD_MODEL)
    os.mkfifo(tmp_path / "pipe.py")
    assert discover([tmp_path], Settings(root=tmp_path)) == [tmp_path / "model.py"]


def test_dangling_symlink_is_reported_unreadable(tmp_path):
    os.symlink(tmp_path / "gone.py", tmp_path / "link.py")
    files = discover([tmp_path], Settings(root=tmp_path))
    assert files == [tmp_path / "link.py"]
    found = Linter(load_settings(tmp_path, isolated=True), tmp_path).lint_paths(files)
    assert [(d.path, d.code, d.message) for d in found] == [
        ("link.py", "CL002", "The file could not be read: No such file or directory")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_on_disk(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("x = 1\n")
    secret.chmod(0)
    result = run_cli(tmp_path, ".")
    assert (result.stdout, result.returncode) == (
        "secret.py:1:1: CL002 The file could not be read: Permission denied\nFound 1 error.\n", 1)


def test_file_deleted_during_the_run(tmp_path):
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text(HEADER + BAD_MODEL)
    files = discover([tmp_path], Settings(root=tmp_path))
    (tmp_path / "b.py").unlink()
    found = Linter(load_settings(tmp_path, isolated=True), tmp_path).lint_paths(files)
    assert [(d.path, d.code) for d in found] == [("a.py", "CL101"), ("b.py", "CL002"), ("c.py", "CL101")]
    assert found[1].message == "The file could not be read: No such file or directory"


def test_imported_file_deleted_during_the_run_is_unknown(tmp_path):
    (tmp_path / "blocks.py").write_text(HEADER + "def block(c):\n    return nn.Conv2d(c, 8, 3)\n")
    (tmp_path / "model.py").write_text(HEADER + "from blocks import block\n"
                                       "m = nn.Sequential(nn.Conv2d(3, 4, 3), block(4))\n" + BAD_MODEL)
    linter = Linter(load_settings(tmp_path, isolated=True), tmp_path)
    (tmp_path / "blocks.py").unlink()
    assert [(d.line, d.code) for d in linter.lint_paths([tmp_path / "model.py"])] == [(4, "CL101")]


# -- configuration ----------------------------------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    (b"[tool.convlint\nselect = []\n", "invalid TOML in {path}: "),
    (b"[tool.convlint]\nselect = ['CL1'\n", "invalid TOML in {path}: "),
    (b"[tool.convlint]\nselect = " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
     "invalid TOML in {path}: nested too deeply to read"),
    (b"\xff\xfe[tool.convlint]\n", "invalid TOML in {path}: "),
    (b"[tool]\nconvlint = 3\n", "[tool.convlint] must be a table, got 3 (in {path})"),
    (b"[tool.convlint]\nselect = 'CL1'\n", "`select` must be a list of rule codes, got 'CL1' (in {path})"),
], ids=["unclosed-table", "unclosed-array", "deep-array", "not-utf8", "not-a-table", "wrong-type"])
def test_broken_pyproject_is_one_line_and_exit_2(tmp_path, content, message):
    """The wording after ``invalid TOML in PATH:`` is the TOML reader's, which differs between
    tomllib and tomli; it must be one line, and never a traceback."""
    (tmp_path / "pyproject.toml").write_bytes(content)
    (tmp_path / "model.py").write_text(HEADER + BAD_MODEL)
    result = run_cli(tmp_path, "model.py")
    path = os.path.join(os.path.realpath(tmp_path), "pyproject.toml")
    expected = f"convlint: error: {message.format(path=path)}"
    assert (result.stdout, result.returncode) == ("", 2)
    assert result.stderr.count("\n") == 1
    assert result.stderr == expected + "\n" if not expected.endswith(": ") else result.stderr.startswith(expected)


def test_pyproject_that_is_a_folder_is_not_a_configuration(tmp_path):
    (tmp_path / "pyproject.toml").mkdir()
    (tmp_path / "model.py").write_text(HEADER + BAD_MODEL)
    result = run_cli(tmp_path, "model.py")
    assert result.returncode == 1 and result.stderr == ""


# -- one run over all of it -------------------------------------------------------------------------


def test_one_run_over_every_kind_of_bad_file_reports_each_and_finishes(tmp_path):
    """The command over a folder holding one file of each kind the list of bad input names (the
    50,000-line file has a run of its own, above): each gets its diagnostic or none, in one
    run that exits 1 because of the files that have errors, and 0 with ``--exit-zero``."""
    files = {
        "py2.py": b'print "hello"\n',
        "null.py": b"x = 1\0\n",
        "latin.py": b"x = '\xe9'\n",
        "cookie.py": b"# -*- coding: latin-1 -*-\n" + HEADER.encode() + b"name = '\xe9'\n" + BAD_MODEL.encode(),
        "bom.py": b"\xef\xbb\xbf" + (HEADER + BAD_MODEL).encode(),
        "crlf.py": (HEADER + BAD_MODEL).replace("\n", "\r\n").encode(),
        "cr.py": (HEADER + BAD_MODEL).replace("\n", "\r").encode(),
        "empty.py": b"",
        "deep.py": _deep("parens", 5000).encode(),
        "million.py": (HEADER + "table = [" + ",".join(["0"] * 1_000_000) + "]\n" + BAD_MODEL).encode(),
        "loop.py": (HEADER + "total = 0\nfor i in range(10**9):\n    total += i\n" + BAD_MODEL).encode(),
        "recursion.py": (HEADER + "def make(n):\n    return [nn.Conv2d(n, n, 3)] + other(n + 1)\n"
                         "def other(n):\n    return make(n * 2)\nnet = nn.Sequential(*make(3))\n" + BAD_MODEL).encode(),
        "itself.py": (HEADER + "class A(nn.Module):\n    pass\nB = A\nclass A(B):\n    pass\nC = A\n"
                      "class A(C, A):\n    pass\na = A()\na(1)\n" + BAD_MODEL).encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(HEADER + BAD_MODEL)
    os.symlink("..", tmp_path / "pkg" / "loop")  # a directory symlink loop
    result = run_cli(tmp_path, ".", "--extend-select", "CL004", timeout=60)
    assert result.stderr == "" and result.returncode == 1
    mismatch = "CL101 [*] Conv2d expects 4 input channels but receives 8 from Conv2d(3, 8) on line {0}"
    assert result.stdout.splitlines() == [
        f"bom.py:2:{BAD_COLUMN}: " + mismatch.format(2),
        f"cookie.py:4:{BAD_COLUMN}: " + mismatch.format(4),
        # No fix is offered in a file with CR line endings (libcst reads them as one line).
        f"cr.py:2:{BAD_COLUMN}: " + mismatch.format(2).replace("[*] ", ""),
        f"crlf.py:2:{BAD_COLUMN}: " + mismatch.format(2),
        "deep.py:1:205: CL001 The file does not parse: too many nested parentheses",
        f"itself.py:12:{BAD_COLUMN}: " + mismatch.format(12),
        "latin.py:1:6: CL002 The file could not be read: byte 0xe9 is not valid utf-8, and no coding cookie "
        "declares another encoding",
        f"loop.py:5:{BAD_COLUMN}: " + mismatch.format(5),
        f"million.py:1:1: CL004 Analysis stopped early: the file has more than {MAX_TOKENS:,} tokens "
        f"({len(files['million.py']):,} characters); files this large are not analysed",
        "null.py:1:6: CL001 The file does not parse: source code cannot contain null bytes",
        f"pkg/model.py:2:{BAD_COLUMN}: " + mismatch.format(2),
        "py2.py:1:1: CL001 The file does not parse: Missing parentheses in call to 'print'. Did you mean print(...)?",
        "recursion.py:3:35: CL004 Analysis stopped early: call depth limit",
        "recursion.py:5:12: CL004 Analysis stopped early: call depth limit",
        f"recursion.py:7:{BAD_COLUMN}: " + mismatch.format(7),
        "Found 15 errors.",
        "[*] 7 fixable with the `--fix` option.",
    ]
    assert run_cli(tmp_path, ".", "--exit-zero").returncode == 0
    empty = run_cli(tmp_path, "empty.py")
    assert (empty.stdout, empty.returncode) == ("All checks passed!\n", 0)


def test_files_unreadable_or_deleted_during_the_run_of_the_command(tmp_path, monkeypatch, capsys):
    """What the command prints and returns when, between the walk and the reading, one file
    becomes unreadable and another disappears (as root, no permission keeps a file from being
    read: the reading is made to fail instead)."""
    for name in ("a.py", "gone.py", "secret.py", "z.py"):
        (tmp_path / name).write_text(HEADER + BAD_MODEL)
    walked = cli.discover

    def walk_then_delete(*args, **options):
        found = walked(*args, **options)
        (tmp_path / "gone.py").unlink()
        return found

    original = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(cli, "discover", walk_then_delete)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert cli.main(["--no-cache", "."]) == 1
    out, err = capsys.readouterr()
    mismatch = f"2:{BAD_COLUMN}: CL101 [*] Conv2d expects 4 input channels but receives 8 from Conv2d(3, 8) on line 2"
    assert (out.splitlines(), err) == ([
        f"a.py:{mismatch}",
        "gone.py:1:1: CL002 The file could not be read: No such file or directory",
        "secret.py:1:1: CL002 The file could not be read: Permission denied",
        f"z.py:{mismatch}",
        "Found 4 errors.",
        "[*] 2 fixable with the `--fix` option.",
    ], "")


def test_the_files_own_warnings_are_neither_printed_nor_fatal(tmp_path):
    """Invalid escapes and ``is`` with a literal make Python warn while compiling: Python 3.12
    prints a SyntaxWarning, and under ``-W error`` (common in test set-ups) it is a SyntaxError
    that once failed the file with CL003."""
    (tmp_path / "model.py").write_text(HEADER + 'PATTERN = "\\d+"\nif PATTERN is 1:\n    pass\nx = 1(2)\n' + BAD_MODEL)
    env = dict(os.environ, PYTHONPATH=str(ROOT), GIT_CEILING_DIRECTORIES=str(tmp_path.parent))
    for warnings in (["-W", "error"], ["-W", "default"]):
        result = subprocess.run([sys.executable, *warnings, "-m", "convlint", "model.py"], cwd=tmp_path,
                                capture_output=True, text=True, env=env, timeout=60)
        assert (result.stderr, result.returncode) == ("", 1)
        assert result.stdout.splitlines()[0].startswith(f"model.py:6:{BAD_COLUMN}: CL101 ")


# -- found by linting the standard library and the corpora ------------------------------------------


def test_star_imports_that_branches_disagree_on(tmp_path):
    """keras/src/backend/__init__.py picks its backend's ``import *`` in an if/elif chain whose
    ``else`` raises: the joined star imports were unknown, and looking a name up crashed."""
    source = HEADER + (
        "import os\n"
        "if os.environ.get('A'):\n"
        "    from torch.nn import *\n"
        "    from torch.nn import Conv2d as Base\n"
        "elif os.environ.get('B'):\n"
        "    from torch.nn.modules import *\n"
        "    from torch.nn import Conv2d as Base\n"
        "else:\n"
        "    raise ValueError('no backend')\n"
        "class Net(Base):\n"
        "    pass\n"
        "head = Linear(3, 4)\n"
        "from math import *\n"
    ) + BAD_MODEL
    assert codes(lint(tmp_path, source.encode())) == [(15, BAD_COLUMN, "CL101")]


def test_matrix_multiply_assignment(tmp_path):
    """``x @= w`` (operator.py's ``imatmul``) was a KeyError; its result is not modelled."""
    source = HEADER + (
        "class Net(nn.Module):\n"
        "    def __init__(self, table):\n"
        "        super().__init__()\n"
        "        self.fc1 = nn.Linear(32, 64)\n"
        "        self.table = table\n"
        "        self.fc2 = nn.Linear(10, 5)\n"
        "    def forward(self, x):\n"
        "        x = self.fc1(x)\n"
        "        x @= self.table\n"
        "        return self.fc2(x)\n"
        "def imatmul(a, b):\n"
        "    a @= b\n"
        "    return a\n"
    ) + BAD_MODEL
    assert codes(lint(tmp_path, source.encode())) == [(15, BAD_COLUMN, "CL101")]


def test_long_implicit_string_concatenation_is_positioned(tmp_path):
    """pydoc_data/topics.py: thousands of adjacent string literals are one deep tree. The
    interpreter stops there (CL004), and resolving the note's position once overflowed
    Python's recursion limit (CL003)."""
    pieces = "\n".join(f"    'line {i}\\n'" for i in range(2000))
    found = lint(tmp_path, (HEADER + "TOPICS = {'assert': (\n" + pieces + "\n)}\n" + BAD_MODEL).encode())
    assert [(line, code, message) for line, _, code, message in found] == [
        (2, "CL004", "Analysis stopped early: nesting too deep for the interpreter")]


#: Expressions whose value would take hours or gigabytes to compute; the analysis must give up
#: on each at once (the first three hung or allocated a gigabyte).
BOMBS = (
    "pow(2, 10**10)", '"{:>1000000000}".format(1)', '"%0*d" % (10**9, 1)', "2 ** 10**10", "10 ** 10 ** 10",
    "1 << 10**10", "'x' * 10**10", "[0] * 10**10", "(1,) * 10**10", "list(range(10**10))", "sum(range(10**12))",
    "sorted(range(10**9))", "math.factorial(10**7)", "int('9' * 10**6)", "pow(3, 10**8, 7)",
    "math.comb(10**6, 5 * 10**5)", 'f"{1:>{10**9}}"', '"a".center(10**10)', '" ".join(["a"] * 10**9)',
    '"-".join(["a" * 9999] * 9999)', '("a" * 9999 + "a" * 9999).replace("a", "b" * 9999)',
    "str(10 ** 4000)", "[[0] * 10**4 for _ in range(10**4)]", "{i: i for i in range(10**9)}",
    "list(zip(range(10**9), range(10**9)))", "[*range(10**9)]", "abs(-10**10**5)", "bytes(10**10)",
    "bytearray(10**10)", "round(1.5, 10**9)",
)


def test_expressions_that_would_take_hours_or_gigabytes(tmp_path):
    source = HEADER + "import math\n" + "".join(f"x{i} = {bomb}\n" for i, bomb in enumerate(BOMBS)) + BAD_MODEL
    (tmp_path / "bombs.py").write_text(source)
    env = dict(os.environ, PYTHONPATH=str(ROOT), GIT_CEILING_DIRECTORIES=str(tmp_path.parent))
    # A memory limit, so that a regression fails here instead of taking the machine down.
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", limit + "from convlint.cli import main; raise SystemExit(main())",
                             "bombs.py"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert time.perf_counter() - started < 30
    assert (result.stderr, result.returncode) == ("", 1)
    assert result.stdout.splitlines()[0].startswith(f"bombs.py:{len(BOMBS) + 3}:{BAD_COLUMN}: CL101 ")
