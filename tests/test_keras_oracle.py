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
import random
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


def _sequence_model(seed: int) -> str:
    """A random functional model of Keras's sequence layers, valid by construction: recurrent
    layers (plain or Bidirectional, every merge mode), MultiHeadAttention (self or cross, with
    value_dim, output_shape, use_bias), Attention, TimeDistributed, Conv1D, LayerNormalization."""
    pick = random.Random(seed)
    lines = ["import keras", "from keras import layers", "def build():",
             f"    x = inputs = keras.Input(shape=({pick.randint(3, 12)}, {pick.randint(2, 20)}))"]
    steps = True
    for _ in range(pick.randint(2, 6)):
        kind = pick.choice(["rnn", "bidirectional", "mha", "attention", "time", "conv", "norm"]) if steps else "dense"
        if kind in ("rnn", "bidirectional"):
            name = pick.choice(["LSTM", "GRU", "SimpleRNN"])
            steps = pick.random() < 0.7
            options = ", reset_after=False" if name == "GRU" and pick.random() < 0.3 else ""
            options += ", use_bias=False" if pick.random() < 0.2 else ""
            layer = f"layers.{name}({pick.randint(1, 16)}, return_sequences={steps}{options})"
            if kind == "bidirectional":
                mode = pick.choice(["concat", "sum", "mul", "ave"])
                layer = f"layers.Bidirectional({layer}, merge_mode={mode!r})"
            lines.append(f"    x = {layer}(x)")
        elif kind == "mha":
            options = f"{pick.randint(1, 4)}, {pick.randint(1, 8)}"
            options += f", value_dim={pick.randint(1, 8)}" if pick.random() < 0.4 else ""
            options += f", output_shape={pick.randint(1, 10)}" if pick.random() < 0.3 else ""
            options += ", use_bias=False" if pick.random() < 0.3 else ""
            lines.append(f"    memory = layers.Dense({pick.randint(1, 9)})(x)" if pick.random() < 0.5 else "    memory = x")
            lines.append(f"    x = layers.MultiHeadAttention({options})(x, memory)")
        elif kind == "attention":
            lines.append(f"    v = layers.Dense({pick.randint(1, 9)})(x)")
            lines.append(f"    x = layers.{pick.choice(['Attention', 'AdditiveAttention'])}()([v, v])")
        elif kind == "time":
            lines.append(f"    x = layers.TimeDistributed(layers.Dense({pick.randint(1, 12)}))(x)")
        elif kind == "conv":
            lines.append(f"    x = layers.Conv1D({pick.randint(1, 12)}, 1, padding='same')(x)")
        elif kind == "norm":
            lines.append("    x = layers.LayerNormalization()(x)")
        else:
            lines.append(f"    x = layers.Dense({pick.randint(1, 9)})(x)")
    return "\n".join(lines + ["    return keras.Model(inputs, x)"]) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_random_sequence_models_are_counted_as_keras_counts_them(tmp_path, seed):
    source = _sequence_model(seed)
    path = tmp_path / "model.py"
    path.write_text(source)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(source, str(path), "exec"), namespace)
        model = namespace["build"]()
    [summary] = summarize(Project([tmp_path]), path, expression="build()")
    assert summary.count.total == model.count_params(), (source, summary.count.unresolved)
    ours = sorted(row.count.params for row in summary.count.rows if row.count.params)
    assert ours == sorted(layer.count_params() for layer in model.layers if layer.count_params()), source
