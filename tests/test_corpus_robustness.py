"""Every kind of Python a repository holds, linted without an internal error: the pinned
real-code corpus (benchmarks/corpus.py: torchvision, timm, keras, torchaudio,
segmentation-models-pytorch, monai, each whole package) and Python's own standard library
(tests, Python 2 test data and deliberately broken files included).

Each is linted as a user's run would lint it: with the process pool, and the per-file time
limit, whose skips (CL005) count as hangs here. All of it is 3,790 files (2,000 of the model
libraries, 1,790 of the standard library): 10 minutes of CPU, 13 minutes with two processes on
a busy two-core machine. CI lints all of the model libraries and a deterministic tenth of the
standard library (one file in ten by a hash of its path) plus the files where convlint once
failed: 5 minutes of CPU, 6.5 minutes there. ``CONVLINT_CORPUS_SAMPLE=N`` lints one file in N
of both (``1``: everything).
"""

from __future__ import annotations

import os
import sys
import sysconfig
import time
import zlib
from pathlib import Path
from typing import List

import pytest

from convlint.config import Settings
from convlint.runner import Linter

_BENCHMARKS = str(Path(__file__).resolve().parents[1] / "benchmarks")
if _BENCHMARKS not in sys.path:
    sys.path.insert(0, _BENCHMARKS)

import corpus  # noqa: E402

_SAMPLE = os.environ.get("CONVLINT_CORPUS_SAMPLE")
#: One file in this many is linted: every file of the model libraries, a tenth of the stdlib.
SAMPLE_EVERY = {"stdlib": int(_SAMPLE or 10)}
CORPUS_EVERY = int(_SAMPLE or 1)
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
              if zlib.crc32(path.relative_to(root).as_posix().encode()) % SAMPLE_EVERY.get(name, CORPUS_EVERY) == 0}
    short = "keras" if name.startswith("keras") else name
    chosen |= {root / relative for where, relative in REGRESSIONS if where == short and (root / relative).is_file()}
    return sorted(chosen)


@pytest.mark.real_code
@pytest.mark.parametrize("name", [*corpus.CORPUS, "stdlib"])
def test_no_internal_error_on_real_python(name):
    """Linted as a user's run would: the process pool, and the per-file time limit, whose skips
    (CL005) are hangs here."""
    root = _root(name)
    short = "keras" if name.startswith("keras") else name
    settings = Settings(select=("CL",), extend_select=("CL004", "CL005"), root=root)
    linter = Linter(settings, root, jobs=None, timeout=FILE_SECONDS)
    files = _files(name, root)
    started = time.perf_counter()
    diagnostics = linter.lint_paths(files)
    failures: List[str] = []
    for d in diagnostics:
        expected = LIBCST_LIMITS.get((short, d.path))
        if d.code == "CL005" or (d.code == "CL003" and not (expected and d.message.startswith(expected))):
            failures.append(f"{d.path}:{d.line}: {d.code} {d.message}")
    print(f"{name}: {len(files)} files in {time.perf_counter() - started:.1f} s "
          f"({linter.stats['processes']} processes), {len(failures)} internal errors or skips")
    assert not failures, "\n".join(failures)
