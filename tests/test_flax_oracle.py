"""Each Flax fixture's label and parameter count, proved with real Flax (linen, on JAX's CPU).

``expect=runs``: ``model.init`` on ``input=`` succeeds, and convlint's summary gives the size of
the ``params`` collection, in total and module by module. ``expect=fails``: ``init`` raises the
error JAX gives for shapes that do not fit.

Flax runs in a process of its own (``flax_oracle_worker.py``): JAX's threads must not be
inherited by the worker processes other tests fork. flax is required: a missing one fails the
worker, on purpose.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from convlint.analysis.imports import Project
from convlint.summary import summarize
from fixture_oracles import FLAX_FIXTURES, REPO_ROOT, all_oracles

ORACLES = all_oracles(FLAX_FIXTURES)
WORKER = Path(__file__).with_name("flax_oracle_worker.py")


@pytest.fixture(scope="module")
def flax_results():
    requests = [(str(oracle.path), oracle.build, list(oracle.input)) for oracle in ORACLES]
    done = subprocess.run([sys.executable, str(WORKER)], input=json.dumps(requests), capture_output=True,
                          text=True, timeout=600, check=True)
    return {oracle.id: result for oracle, result in zip(ORACLES, json.loads(done.stdout))}


def test_both_labels_are_proved():
    assert {oracle.expect for oracle in ORACLES} == {"runs", "fails"}
    assert all(oracle.input is not None for oracle in ORACLES)


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda oracle: oracle.id)
def test_label(flax_results, oracle):
    error = flax_results[oracle.id]["error"]
    if oracle.expect == "runs":
        assert error is None, f"{oracle.id}: labelled runs, but Flax raised {error}"
    else:
        assert error is not None, f"{oracle.id}: labelled fails, but Flax initialized it"


@pytest.mark.parametrize("oracle", [o for o in ORACLES if o.expect == "runs"], ids=lambda oracle: oracle.id)
def test_parameter_counts_are_flax_own(flax_results, oracle):
    result = flax_results[oracle.id]
    [summary] = summarize(Project([REPO_ROOT]), oracle.path, expression=oracle.build, input_shape=oracle.input)
    count = summary.count
    assert count.total == result["total"], count.unresolved
    ours = sorted(row.count.params for row in count.rows if row.count.params)
    assert ours == sorted(size for size in result["modules"] if size), [
        (row.path, row.type_name, row.count.formula) for row in count.rows]
