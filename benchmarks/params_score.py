"""Score ``convlint summary`` against torchvision 0.29.1's published parameter counts.

Every classification builder at the top of ``torchvision/models/`` is summarized with
``--model "<builder>()"``; its total must equal the ``num_params`` of its weights metadata
(the count of the default build) or be null. Wrong must be 0. GoogLeNet's metadata counts the
model without its auxiliary heads, which the default build has, so its reference is the
default build's count, measured with real PyTorch once: see ``BUILD_DIFFERS``.

Run: ``python benchmarks/params_score.py`` (prints one line per builder and the score).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402

from convlint.analysis.imports import Project  # noqa: E402
from convlint.summary import SummaryError, summarize  # noqa: E402

#: Builders whose default build differs from the model their weights describe, with the count
#: of the default build from ``sum(p.numel() for p in torchvision.models.googlenet().parameters())``.
BUILD_DIFFERS = {"googlenet": 13004888}


def reference_counts() -> Dict[str, int]:
    counts = corpus.torchvision_reference_params()
    counts.update(BUILD_DIFFERS)
    return counts


def builder_files(models: Path) -> Dict[str, Path]:
    found = {}
    for path in sorted(models.glob("*.py")):
        for name in re.findall(r"^def ([a-z]\w*)\(", path.read_text(encoding="utf-8"), re.MULTILINE):
            found.setdefault(name, path)
    return found


def score() -> List[Tuple[str, int, Optional[int]]]:
    """(builder, reference, convlint's total or None) for every referenced builder."""
    models = corpus.prepare("torchvision") / "torchvision" / "models"
    files = builder_files(models)
    project = Project([models.parent.parent])
    rows = []
    for name, reference in sorted(reference_counts().items()):
        try:
            [summary] = summarize(project, files[name], f"{name}()")
            total = summary.count.total
        except SummaryError:
            total = None
        rows.append((name, reference, total))
    return rows


def main() -> int:
    started = time.perf_counter()
    rows = score()
    exact = sum(1 for _, reference, total in rows if total == reference)
    null = sum(1 for _, _, total in rows if total is None)
    wrong = [(name, reference, total) for name, reference, total in rows if total is not None and total != reference]
    for name, reference, total in rows:
        verdict = "exact" if total == reference else "null" if total is None else "WRONG"
        print(f"{name:<28} {reference:>12,} {'-' if total is None else format(total, ','):>14}  {verdict}")
    print(f"torchvision 0.29.1 builders: {len(rows)}; exact {exact} ({exact / len(rows):.0%}), null {null}, "
          f"wrong {len(wrong)}; {time.perf_counter() - started:.1f} s")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
