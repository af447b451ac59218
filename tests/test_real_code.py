"""convlint on torchvision, timm, Keras's applications and torchaudio's models as released: no error,
no crash, and floors on coverage.

A pinned release is taken to be correct, so anything convlint reports there is a false
positive until shown to be a real bug of that release (then it goes into KNOWN_REAL_BUGS with
the proof). The wheels are fetched by pip on first use, which takes seconds; there is no skip
when offline, on purpose: a check that quietly stops running protects nothing.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import libcst as cst
import pytest

from convlint.diagnostics import ERROR, Diagnostic
from convlint.report.text import concise
from convlint.runner import Linter

_BENCHMARKS = str(Path(__file__).resolve().parents[1] / "benchmarks")
if _BENCHMARKS not in sys.path:
    sys.path.insert(0, _BENCHMARKS)

import real_code  # noqa: E402

#: Diagnostics that are real bugs of the pinned release, each with its proof:
#: (corpus, path in the unpacked release, line, code) -> why PyTorch fails there.
KNOWN_REAL_BUGS: Dict[Tuple[str, str, int, str], str] = {}

#: Measured 91.1% (185 of 203 layer calls) on torchvision 0.29.1 at commit 8ab2d7e, less a
#: margin of about six calls; raise it when the analysis understands more.
TORCHVISION_COVERAGE_FLOOR = 0.88
#: Measured 92.9% (13 of 14 recurrent, embedding and attention layer calls) on torchaudio 2.11.0's
#: models, less one call.
TORCHAUDIO_SEQUENCE_COVERAGE_FLOOR = 0.85


@pytest.fixture(scope="module")
def lint_run() -> Callable[[str], Tuple[Linter, List[Path], List[Diagnostic]]]:
    """Lints a corpus once per module: coverage then reuses the linter's parses and imports."""
    runs: Dict[str, Tuple[Linter, List[Path], List[Diagnostic]]] = {}

    def run(name: str) -> Tuple[Linter, List[Path], List[Diagnostic]]:
        if name not in runs:
            root, paths = real_code.corpus_files(name)
            linter = real_code.new_linter(root)
            runs[name] = (linter, paths, linter.lint_paths(paths))
        return runs[name]

    return run


@pytest.mark.real_code
@pytest.mark.parametrize("name", real_code.DEFAULT_CORPORA)
def test_release_has_no_errors(lint_run, name):
    _, _, diagnostics = lint_run(name)

    internal = [concise(d) for d in diagnostics if d.code == real_code.INTERNAL_ERROR]
    assert not internal, f"convlint crashed on {len(internal)} files of {name}:\n" + "\n".join(internal)

    errors = {(name, d.path, d.line, d.code): d for d in diagnostics if d.severity == ERROR}
    unexplained = [concise(d) for key, d in errors.items() if key not in KNOWN_REAL_BUGS]
    assert not unexplained, (
        f"false positives on {name} (or real bugs, to list in KNOWN_REAL_BUGS with the proof):\n"
        + "\n".join(unexplained)
    )
    stale = sorted(key for key in KNOWN_REAL_BUGS if key[0] == name and key not in errors)
    assert not stale, f"listed in KNOWN_REAL_BUGS but no longer reported: {stale}"


@pytest.mark.real_code
@pytest.mark.parametrize("name, family, least_calls, floor", [
    ("torchvision", "conv", 150, TORCHVISION_COVERAGE_FLOOR),
    ("torchaudio", "sequence", 12, TORCHAUDIO_SEQUENCE_COVERAGE_FLOOR),
])
def test_coverage_floor(lint_run, name, family, least_calls, floor):
    linter, paths, _ = lint_run(name)
    coverage = real_code.count_coverage(linter, paths)[family]
    print(f"{name} {family} coverage {coverage} ({coverage.evaluated} evaluated)")
    assert coverage.layer_calls >= least_calls, f"the syntactic count lost most of {name}'s {family} layers"
    assert coverage.share >= floor, f"{family} coverage fell to {coverage}"


def test_layer_calls_counts_channel_layers_built_by_name():
    source = textwrap.dedent(
        """
        import torch
        from torch import nn
        from torch.nn import BatchNorm2d, GroupNorm as GN, MultiheadAttention, ReLU
        from mylib import Linear

        a = nn.Conv2d(3, 8, 3)
        b = torch.nn.ConvTranspose1d(8, 4, 2)
        c = BatchNorm2d(8)
        d = GN(2, 8)
        e = nn.LayerNorm(8)
        f = nn.ReLU()                 # no channel parameters
        g = ReLU()
        h = Linear(8, 2)              # not torch's
        i = layers.nn.Conv2d(3, 8, 3)  # some other ``nn``
        j = norm_layer(8)             # built through a variable
        k = nn.LazyLinear(4)          # only an out_param, still a channel layer
        l = nn.LSTM(8, 16)
        m = MultiheadAttention(8, 2)  # no in or out features: sized by embed_dim and num_heads
        n = nn.Embedding(10, 8)
        o = nn.Bilinear(2, 3, 4)      # no size arguments the analysis resolves
        """
    )
    module = cst.parse_module(source)

    def names(family):
        found = real_code.layer_calls(module, family)
        return sorted(cst.Module([]).code_for_node(call).split("(")[0] for call in found)

    assert names("conv") == [
        "BatchNorm2d", "GN", "nn.Conv2d", "nn.LayerNorm", "nn.LazyLinear", "torch.nn.ConvTranspose1d",
    ]
    assert names("sequence") == ["MultiheadAttention", "nn.Embedding", "nn.LSTM"]
