"""Each Keras fixture's label and parameter count, proved with real Keras (3.x, on the PyTorch
backend, so that the tests need no TensorFlow or JAX).

``expect=runs``: building the model (and calling it on ``input=`` when given) succeeds, and
convlint's summary gives Keras's own ``count_params()``, trainable part and per-layer counts.
``expect=fails``: Keras refuses the model with a ValueError (its shape errors), or the backend
raises a RuntimeError when a subclassed model runs.

keras is imported unconditionally: there is no skip when it is missing, on purpose.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import pytest  # noqa: E402

from convlint.analysis.imports import Project  # noqa: E402
from convlint.summary import summarize  # noqa: E402
from fixture_oracles import KERAS_FIXTURES, REPO_ROOT, all_oracles  # noqa: E402
from test_oracle import imported  # noqa: E402

ORACLES = all_oracles(KERAS_FIXTURES)
#: Keras's shape errors, and the backend's (PyTorch) when a subclassed model runs eagerly.
MODEL_ERRORS = (ValueError, RuntimeError)


def keras_model(oracle):
    """The oracle's model, built (and called on its input); or the ValueError Keras raised."""
    with imported(oracle.path) as module:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = eval(compile(oracle.build, oracle.id, "eval"), dict(vars(module)))
                if oracle.input is not None:
                    model(keras.ops.ones(oracle.input))
            except MODEL_ERRORS as error:
                return None, error
    return model, None


def test_both_labels_are_proved():
    assert {oracle.expect for oracle in ORACLES} == {"runs", "fails"}
    assert keras.backend.backend() == "torch"


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda oracle: oracle.id)
def test_label(oracle):
    model, error = keras_model(oracle)
    if oracle.expect == "runs":
        assert error is None, f"{oracle.id}: labelled runs, but Keras raised {error}"
    else:
        assert error is not None, f"{oracle.id}: labelled fails, but Keras built and ran it"


@pytest.mark.parametrize("oracle", [o for o in ORACLES if o.expect == "runs"], ids=lambda oracle: oracle.id)
def test_parameter_counts_are_keras_own(oracle):
    model, _ = keras_model(oracle)
    [summary] = summarize(Project([REPO_ROOT]), oracle.path, expression=oracle.build, input_shape=oracle.input)
    count = summary.count
    assert count.total == model.count_params(), count.unresolved
    assert count.trainable == sum(int(weight.numpy().size) for weight in model.trainable_weights)
    ours = sorted(row.count.params for row in count.rows if row.count.params)
    theirs = sorted(layer.count_params() for layer in model.layers if layer.count_params())
    assert ours == theirs, [(row.path, row.type_name, row.count.formula) for row in count.rows]
