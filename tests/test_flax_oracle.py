"""Each Flax fixture's label and parameter count, proved with real Flax (linen, on JAX's CPU).

``expect=runs``: ``model.init`` on ``input=`` succeeds, and convlint's summary gives the size of
the ``params`` collection, in total and module by module. ``expect=fails``: ``init`` raises the
error JAX gives for shapes that do not fit (a TypeError for operands that do not broadcast, a
ValueError from Flax's own checks).

flax is imported unconditionally: there is no skip when it is missing, on purpose.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from convlint.analysis.imports import Project
from convlint.summary import summarize
from fixture_oracles import FLAX_FIXTURES, REPO_ROOT, all_oracles
from test_oracle import imported

ORACLES = all_oracles(FLAX_FIXTURES)
MODEL_ERRORS = (TypeError, ValueError)


def init(oracle):
    """The oracle's ``params`` collection, or the error ``init`` raised."""
    with imported(oracle.path) as module:
        model = eval(compile(oracle.build, oracle.id, "eval"), dict(vars(module)))
        try:
            variables = model.init(jax.random.PRNGKey(0), jnp.ones(oracle.input))
        except MODEL_ERRORS as error:
            return None, error
    return variables["params"], None


def module_sizes(tree):
    """The number of parameters of each module of a params tree (a dict holding arrays)."""
    arrays = [leaf for leaf in tree.values() if not isinstance(leaf, dict)]
    own = [sum(int(leaf.size) for leaf in arrays)] if arrays else []
    return own + [size for child in tree.values() if isinstance(child, dict) for size in module_sizes(child)]


def test_both_labels_are_proved():
    assert {oracle.expect for oracle in ORACLES} == {"runs", "fails"}
    assert all(oracle.input is not None for oracle in ORACLES)


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda oracle: oracle.id)
def test_label(oracle):
    _, error = init(oracle)
    if oracle.expect == "runs":
        assert error is None, f"{oracle.id}: labelled runs, but Flax raised {error}"
    else:
        assert error is not None, f"{oracle.id}: labelled fails, but Flax initialized it"


@pytest.mark.parametrize("oracle", [o for o in ORACLES if o.expect == "runs"], ids=lambda oracle: oracle.id)
def test_parameter_counts_are_flax_own(oracle):
    params, _ = init(oracle)
    [summary] = summarize(Project([REPO_ROOT]), oracle.path, expression=oracle.build, input_shape=oracle.input)
    count = summary.count
    assert count.total == sum(int(leaf.size) for leaf in jax.tree_util.tree_leaves(params)), count.unresolved
    ours = sorted(row.count.params for row in count.rows if row.count.params)
    assert ours == sorted(size for size in module_sizes(params) if size), [
        (row.path, row.type_name, row.count.formula) for row in count.rows]
