"""A long file parsed in pieces gives exactly the module libcst's whole parse gives: the same
tree (``deep_equals``) and the same code, whatever lies at the places the scan might cut."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlint.analysis import piecewise

#: The size of the pieces convlint cuts (the tests below use smaller ones).
SHIPPED_PIECE = piecewise.PIECE_CHARACTERS

@pytest.fixture(autouse=True)
def short_pieces(monkeypatch):
    monkeypatch.setattr(piecewise, "PIECE_CHARACTERS", 200)


def block(index: int) -> str:
    return textwrap.dedent(f"""\
        class Block{index}(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c * {index + 1}, 3, padding=1)
                self.norm = nn.BatchNorm2d(c * {index + 1})

            def forward(self, x):
                return self.norm(self.conv(x))


        """)


def source(*middle: str) -> str:
    """Blocks enough for several pieces, with ``middle`` where the first cuts would fall."""
    return "import torch.nn as nn\n\n\n" + block(0) + "".join(middle) + "".join(block(i) for i in range(1, 6))


def assert_same_as_whole(text: str) -> None:
    parsed = piecewise.parse_module(text)
    assert parsed.deep_equals(cst.parse_module(text))
    assert parsed.code == text


def test_a_long_file_is_cut_and_joined_into_the_whole_parse():
    text = source()
    assert len(piecewise._pieces(text)) > 2
    assert_same_as_whole(text)


@pytest.mark.parametrize("middle", [
    # comments and blank lines between statements lead the next statement
    "x = 1\n# a comment at column 0\n\n# another\n" * 10,
    # a trailing comment indented in the block before
    "def f():\n    return 1\n    # still the block's\n\n" * 10,
    # lines of spaces or a form feed, which a piece's parse gives to the block before
    "def f():\n    return 1\n   \n\t\n" * 10,
    "def f():\n    return 1\n\x0c\n" * 10,
    # a string whose lines look like statements
    'DOC = """\n' + "x = 1\n" * 60 + 'def g():\n"""\n',
    # clauses that continue a statement
    "try:\n    import a\n" + "    b = 1\n" * 30 + "except ImportError:\n    a = None\nelse:\n    c = 2\nfinally:\n    d = 3\n",
    "if x:\n" + "    y = 1\n" * 40 + "elif z:\n    y = 2\nelse:\n    y = 3\n",
    # a decorator and its function
    "@decorator\n" * 20 + "def decorated():\n    pass\n",
    # a backslash continuation and brackets reaching column 0
    "total = 1 + \\\n" + "2 + \\\n" * 40 + "3\n",
    "table = [\n" + "item,\n" * 40 + "]\n",
], ids=["comments", "indented-comment", "spaces", "form-feed", "string", "try", "if", "decorators",
        "backslash", "brackets"])
def test_whatever_lies_at_a_cut_the_module_is_the_same(middle):
    assert_same_as_whole(source(middle))


def test_tab_indented_and_crlf_files_are_the_same():
    assert_same_as_whole(source().replace("    ", "\t"))
    # a first piece with no block would print the others' blocks with four spaces
    assert_same_as_whole(("x = 1\n" * 60 + "".join(block(i) for i in range(5))).replace("    ", "\t"))
    assert_same_as_whole(source().replace("\n", "\r\n"))


def test_a_file_without_a_final_newline_is_the_same():
    assert_same_as_whole(source().rstrip("\n"))


def test_a_syntax_error_is_libcst_verdict_on_the_whole_file():
    text = source("def broken(:\n    pass\n")
    with pytest.raises(cst.ParserSyntaxError) as piecewise_error:
        piecewise.parse_module(text)
    with pytest.raises(cst.ParserSyntaxError) as whole_error:
        cst.parse_module(text)
    assert (piecewise_error.value.raw_line, piecewise_error.value.raw_column) == \
        (whole_error.value.raw_line, whole_error.value.raw_column)


#: Lines and statements that may meet at a cut, as a file's author may write them: each is
#: whole, so that any sequence of them parses.
FRAGMENTS = [
    "x = 1\n", "import os\n", "\n", "   \n", "\t\n", "\x0c\n", "# comment\n", "    # indented\n",
    "def f(a):\n    return a\n", "def g():\n\tpass\n", "class C:\n  y = 2\n", "@dec\ndef d():\n    pass\n",
    "if a:\n    b = 1\nelse:\n    b = 2\n", "try:\n    pass\nexcept E:\n    pass\n",
    "s = '''\nx = 1\n'''\n", "t = (1,\n2)\n", "u = 1 + \\\n2\n", "async def h():\n    await z\n",
    "a = 1; b = 2\n", "with w as v:\n    pass\n", 'z = """\ndef k(): pass\n"""\n',
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=60))
def test_any_file_is_the_same_in_pieces(fragments):
    text = "".join(fragments)
    whole = cst.parse_module(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(piecewise, "PIECE_CHARACTERS", 20)
        parsed = piecewise.parse_module(text)
    assert parsed.deep_equals(whole) and parsed.code == whole.code


@pytest.mark.real_code
@pytest.mark.parametrize("name", ["torchvision", "timm", "monai"])
def test_long_files_of_a_real_library_parse_the_same(name, monkeypatch):
    monkeypatch.setattr(piecewise, "PIECE_CHARACTERS", SHIPPED_PIECE)
    benchmarks = str(Path(__file__).resolve().parents[1] / "benchmarks")
    if benchmarks not in sys.path:
        sys.path.insert(0, benchmarks)
    import corpus

    long_files = [path for path in sorted(corpus.prepare(name).rglob("*.py"))
                  if path.stat().st_size > 2 * SHIPPED_PIECE]
    assert long_files
    for path in long_files:
        assert_same_as_whole(path.read_text(encoding="utf-8"))
