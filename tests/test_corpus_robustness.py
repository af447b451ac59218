"""Every kind of Python a repository holds, linted without an internal error: the pinned
real-code corpus (benchmarks/corpus.py: torchvision, timm, keras, torchaudio,
segmentation-models-pytorch, monai, each whole package) and Python's own standard library
(tests, Python 2 test data and deliberately broken files included).

All of it is about 3,800 files and 1.5 million lines, which takes a quarter of an hour on one
core; CI lints a deterministic sample (about 200 files, a minute and a half) (one file in SAMPLE_EVERY, by a hash of its path) plus the
files where convlint once failed. ``CONVLINT_CORPUS_SAMPLE=1`` lints everything.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import time
import zlib
from pathlib import Path
from typing import List, Tuple

import pytest

from convlint.config import Settings
from convlint.runner import Linter

_BENCHMARKS = str(Path(__file__).resolve().parents[1] / "benchmarks")
if _BENCHMARKS not in sys.path:
    sys.path.insert(0, _BENCHMARKS)

import corpus  # noqa: E402

SAMPLE_EVERY = int(os.environ.get("CONVLINT_CORPUS_SAMPLE", "20"))
#: A file that takes longer than this is a hang, even on a slow CI machine.
FILE_SECONDS = 120
#: Files where convlint once failed; always linted. (root, path relative to it)
REGRESSIONS = (
    ("stdlib", "operator.py"),  # ``a @= b``
    ("stdlib", "pydoc_data/topics.py"),  # positions of a 15,000-piece implicit string concatenation
    ("stdlib", "test/libregrtest/testresult.py"),  # star imports branches disagree on
    ("stdlib", "xml/etree/ElementTree.py"),
    ("stdlib", "test/test_grammar.py"),
    ("keras", "keras/__init__.py"),
    ("keras", "keras/src/backend/__init__.py"),
)
#: Valid Python that libcst cannot parse: convlint says so (CL003), and nothing else can be done
#: short of another parser. (root, path, the start of the message)
LIBCST_LIMITS = {
    # ``(name): int = 1``, an annotated assignment to a parenthesized name.
    ("stdlib", "test/test_grammar.py"): "convlint failed on this file: its parser (libcst) stops where Python does not",
    ("stdlib", "test/typinganndata/ann_module.py"):
        "convlint failed on this file: its parser (libcst) stops where Python does not",
}


def _root(name: str) -> Path:
    return Path(sysconfig.get_paths()["stdlib"]) if name == "stdlib" else corpus.prepare(name)


def _files(name: str, root: Path) -> List[Path]:
    every = sorted(path for path in root.rglob("*.py")
                   if "site-packages" not in path.relative_to(root).parts and path.is_file())
    chosen = {path for path in every
              if zlib.crc32(path.relative_to(root).as_posix().encode()) % SAMPLE_EVERY == 0}
    short = "keras" if name.startswith("keras") else name
    chosen |= {root / relative for where, relative in REGRESSIONS if where == short and (root / relative).is_file()}
    return sorted(chosen)


@pytest.mark.real_code
@pytest.mark.parametrize("name", [*corpus.CORPUS, "stdlib"])
def test_no_internal_error_on_real_python(name):
    root = _root(name)
    short = "keras" if name.startswith("keras") else name
    linter = Linter(Settings(select=("CL",), extend_select=("CL004",), root=root), root)
    failures: List[str] = []
    slowest: Tuple[float, str] = (0.0, "")
    files = _files(name, root)
    started = time.perf_counter()
    for path in files:
        relative = path.relative_to(root).as_posix()
        began = time.perf_counter()
        diagnostics = linter.lint_file(path)
        seconds = time.perf_counter() - began
        slowest = max(slowest, (seconds, relative))
        if seconds > FILE_SECONDS:
            failures.append(f"{relative}: {seconds:.0f} s")
        for d in diagnostics:
            expected = LIBCST_LIMITS.get((short, relative))
            if d.code == "CL003" and not (expected and d.message.startswith(expected)):
                failures.append(f"{relative}:{d.line}: {d.message}")
    print(f"{name}: {len(files)} files in {time.perf_counter() - started:.1f} s, "
          f"slowest {slowest[1]} ({slowest[0]:.1f} s), {len(failures)} internal errors")
    assert not failures, "\n".join(failures)
