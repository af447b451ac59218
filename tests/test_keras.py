"""Keras as convlint reads it: the spellings of its modules, its layouts, and the models whose
parameters can and cannot be counted. Labels and counts against Keras itself are in
``test_keras_oracle.py``; these are the cases around them, where unknown must stay silent."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from convlint.analysis.imports import Project
from convlint.summary import summarize
from test_constructs import check

ADD_MISMATCH = """
    def build():
        inputs = {module}.Input(shape=(8, 8, 3))
        a = {layers}.Conv2D(16, 1)(inputs)
        b = {layers}.Conv2D(32, 1)(inputs)
        return {layers}.add([a, b])  # error: CL104
"""


@pytest.mark.parametrize("imports, module, layers", [
    ("import keras\nfrom keras import layers", "keras", "layers"),
    ("import tensorflow as tf", "tf.keras", "tf.keras.layers"),
    ("from tensorflow import keras\nfrom tensorflow.keras import layers", "keras", "layers"),
    ("import tf_keras as keras", "keras", "keras.layers"),
    ("from keras.src import layers\nfrom keras.src.layers import Input as _Input\nimport types\n"
     "keras = types.SimpleNamespace(Input=_Input)", "keras", "layers"),
])
def test_every_spelling_of_keras_is_keras(tmp_path: Path, imports: str, module: str, layers: str) -> None:
    check(tmp_path, imports + "\n" + textwrap.dedent(ADD_MISMATCH).format(module=module, layers=layers))


def test_channels_first_is_read_from_data_format(tmp_path: Path) -> None:
    check(tmp_path, """
        from keras import layers, Input
        def build():
            x = Input(shape=(3, 32, 32))
            a = layers.Conv2D(16, 3, padding="same", data_format="channels_first")(x)
            b = layers.Conv2D(16, 3, strides=2, padding="same", data_format="channels_first")(x)
            return layers.Concatenate(axis=1)([a, b])  # error: CL103
    """)


def test_a_layout_it_cannot_read_is_silent(tmp_path: Path) -> None:
    check(tmp_path, """
        import os
        from keras import layers, Input
        def build():
            x = Input(shape=(3, 32, 32))
            layout = os.environ["LAYOUT"]
            a = layers.Conv2D(16, 3, padding="same", data_format=layout)(x)
            b = layers.Conv2D(16, 3, strides=2, padding="same", data_format=layout)(x)
            return layers.Concatenate(axis=1)([a, b])
    """)


def test_a_same_conv_with_stride_is_valid_keras(tmp_path: Path) -> None:
    """PyTorch refuses padding='same' with a stride (CL202); Keras rounds the size up."""
    check(tmp_path, """
        from keras import layers, Input
        def build():
            x = Input(shape=(33, 33, 3))
            a = layers.Conv2D(8, 3, strides=2, padding="same")(x)
            b = layers.MaxPooling2D(3, strides=2, padding="same")(layers.Conv2D(8, 1)(x))
            return layers.add([a, b])
    """)


def _total(tmp_path: Path, source: str, expression: str):
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(source))
    [summary] = summarize(Project([tmp_path]), path, expression=expression)
    return summary.count


def test_a_functional_model_through_an_operation_it_cannot_trace_has_no_total(tmp_path: Path) -> None:
    count = _total(tmp_path, """
        import keras
        from keras import layers
        def build():
            inputs = keras.Input(shape=(16,))
            x = layers.Dense(8)(inputs)
            x = keras.ops.relu(x)
            return keras.Model(inputs, layers.Dense(2)(x))
    """, "build()")
    assert count.total is None


def test_a_layer_called_on_two_widths_has_no_count(tmp_path: Path) -> None:
    count = _total(tmp_path, """
        import keras
        from keras import layers
        def build():
            a, b = keras.Input(shape=(4,)), keras.Input(shape=(6,))
            shared = layers.Dense(3)
            return keras.Model([a, b], layers.concatenate([shared(a), shared(b)]))
    """, "build()")
    assert count.total is None


def test_input_shape_on_the_first_layer_builds_a_sequential(tmp_path: Path) -> None:
    count = _total(tmp_path, """
        import keras
        from keras import layers
        model = keras.Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(2, use_bias=False)])
    """, "model")
    assert count.total == 4 * 8 + 8 + 8 * 2


def test_an_unbuilt_sequential_has_no_total(tmp_path: Path) -> None:
    count = _total(tmp_path, """
        import keras
        from keras import layers
        model = keras.Sequential([layers.Dense(8), layers.Dense(2)])
    """, "model")
    assert count.total is None


def test_a_layer_time_distributed_and_used_alone_has_no_total(tmp_path: Path) -> None:
    """Keras counts the weights of the layer a TimeDistributed holds once; adding the wrapper's
    count to the layer's own would count them twice."""
    count = _total(tmp_path, """
        import keras
        from keras import layers
        def build():
            x = keras.Input(shape=(6, 5))
            dense = layers.Dense(5)
            return keras.Model(x, layers.TimeDistributed(dense)(dense(x)))
    """, "build()")
    assert count.total is None
    assert count.known == 5 * 5 + 5


def test_a_call_argument_it_cannot_see_leaves_the_functional_model_without_total(tmp_path: Path) -> None:
    """``initial_state=`` may carry tensors made by layers on no other path to the output."""
    count = _total(tmp_path, """
        import keras
        from keras import layers
        def build(states):
            x = keras.Input(shape=(6, 5))
            return keras.Model(x, layers.LSTM(4)(x, initial_state=states))
    """, "build(unknown_states)")
    assert count.total is None
    assert count.known == 4 * 4 * (5 + 4) + 4 * 4  # the LSTM itself is counted


def test_wrapped_layers_it_does_not_know_are_silent(tmp_path: Path) -> None:
    """A Bidirectional layer takes the ranks of the layer it wraps: one convlint does not know
    (a recurrent layer of another package, which may take 5-D clips) accepts any."""
    check(tmp_path, """
        import keras
        from keras import layers
        from video_layers import ConvGRU2D
        def build(mode):
            clips = keras.Input(shape=(8, 32, 32, 3))
            a = layers.Bidirectional(ConvGRU2D(4, 3, return_sequences=True))(clips)
            b = layers.Bidirectional(layers.LSTM(4), merge_mode=mode)(layers.Reshape((8, -1))(clips))
            return keras.Model(clips, [a, layers.add([b, layers.Dense(3)(b)])])
    """)


def test_directions_of_different_widths_give_an_unknown_width(tmp_path: Path) -> None:
    """Keras's symbolic shape doubles the forward layer's width, its real output does not: a
    backward layer of another width makes the width unknown, and nothing after it is checked."""
    check(tmp_path, """
        import keras
        from keras import layers
        def build():
            x = keras.Input(shape=(6, 5))
            y = layers.Bidirectional(layers.LSTM(4, return_sequences=True),
                                     backward_layer=layers.LSTM(6, return_sequences=True, go_backwards=True))(x)
            return keras.Model(x, layers.add([y, layers.Dense(8)(x)]))
    """)
