"""CL107: a layer that sizes its weights by an axis the model leaves open (Keras's ``None``)."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import origin, provenance, subject


class UndefinedInputSize(Rule):
    """
    ## What it does
    Checks that a Keras layer that creates its weights from its input (`Dense`, `LSTM` and
    `MultiHeadAttention` from the last axis, `Conv2D` from the channels) receives that axis with a
    defined size. Reported when the
    model's own input shape leaves it open: `keras.Input(shape=(None, None, 3))` followed by a
    `Flatten`, whose output size then depends on each batch.

    ## Why is this bad?
    Keras cannot create a weight matrix of unknown size and refuses the model: `ValueError: The
    last dimension of the inputs to a Dense layer should be defined. Found None.` A network meant
    for images of any size needs a global pooling, not a flatten, before its classifier.

    ## Example
    ```python
    inputs = keras.Input(shape=(None, None, 3))
    x = layers.Flatten()(layers.Conv2D(32, 3)(inputs))
    outputs = layers.Dense(10)(x)
    ```

    ## Use instead
    ```python
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(32, 3)(inputs))
    outputs = layers.Dense(10)(x)
    ```
    """

    code = "CL107"
    name = "undefined-input-size"
    summary = "{layer} needs a defined size on the axis it builds its weights from"
    valid = (
        "import keras\n"
        "from keras import layers\n"
        "def build():\n"
        "    inputs = keras.Input(shape=(None, None, 3))\n"
        "    x = layers.GlobalAveragePooling2D()(layers.Conv2D(32, 3)(inputs))\n"
        "    return keras.Model(inputs, layers.Dense(10)(x))\n",
    )
    invalid = (
        "import keras\n"
        "from keras import layers\n"
        "def build():\n"
        "    inputs = keras.Input(shape=(None, None, 3))\n"
        "    x = layers.Flatten()(layers.Conv2D(32, 3)(inputs))\n"
        "    return keras.Model(inputs, layers.Dense(10)(x))  # error: CL107\n",
        "import keras\n"
        "from keras import layers\n"
        "model = keras.Sequential([keras.Input(shape=(None, 32)),\n"
        "                          layers.Conv1D(8, 3, data_format='channels_first')])  # error: CL107\n",
        "import keras\n"
        "from keras import layers\n"
        "model = keras.Sequential([keras.Input(shape=(None, None)),\n"
        "                          layers.Bidirectional(layers.LSTM(8))])  # error: CL107\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.undefined_sizes:
            axis = "the last axis" if fact.axis == -1 else f"axis {fact.axis}"
            yield Finding(fact.anchor, (
                f"{subject(facts, fact.consumer, fact.anchor)} builds its weights from {axis} of its input, "
                f"which the model's input shape leaves undefined (None){origin(facts, fact.producer)}"
                f"{provenance(facts, fact.consumer, fact.anchor, fact.context)}"
            ))
