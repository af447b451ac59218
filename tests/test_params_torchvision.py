"""``convlint summary`` on torchvision 0.29.1's classification builders: every total equals the
published ``num_params`` of the builder's weights, or is null — never wrong."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import params_score  # noqa: E402

#: Measured 79 of 80 once RegNet's float32 width arithmetic was followed (MaxViT is the null one).
EXACT_FLOOR = 79


@pytest.mark.real_code
def test_no_wrong_total_and_most_exact() -> None:
    rows = params_score.score()
    wrong = [(name, reference, total) for name, reference, total in rows if total is not None and total != reference]
    exact = [name for name, reference, total in rows if total == reference]
    assert not wrong
    assert len(rows) == 80
    assert len(exact) >= EXACT_FLOOR, sorted(set(name for name, _, _ in rows) - set(exact))
    for must in ("alexnet", "vgg16_bn", "resnet50", "densenet121", "squeezenet1_1", "mobilenet_v2",
                 "mobilenet_v3_large", "shufflenet_v2_x1_0"):
        assert must in exact
