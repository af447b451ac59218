"""CL105: a layer receiving a tensor of a rank it does not accept."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts
from convlint.analysis.flow import accepted_ranks
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import origin, provenance, subject


class WrongRank(Rule):
    """
    ## What it does
    Checks that a convolution, pooling or normalization layer receives a tensor of a rank it
    accepts: `Conv2d` 3-D or 4-D, `BatchNorm2d` 4-D, `BatchNorm1d` 2-D or 3-D, Keras's `Conv2D`
    4-D and `LSTM` 3-D (a `Bidirectional` one too, and one more axis under `TimeDistributed`).
    Reported only
    when the rank is proven, after a flatten or from a given input shape, never from the
    batched-input convention.

    ## Why is this bad?
    `ValueError: expected 4D input (got 2D input)`: a `BatchNorm2d` left after a `Flatten`, or a
    `Conv2d` placed after the classifier's first `Linear`.

    ## Example
    ```python
    head = nn.Sequential(nn.Flatten(), nn.Linear(512, 256), nn.BatchNorm2d(256))
    ```

    ## Use instead
    ```python
    head = nn.Sequential(nn.Flatten(), nn.Linear(512, 256), nn.BatchNorm1d(256))
    ```
    """

    code = "CL105"
    name = "wrong-rank"
    summary = "{layer} does not accept a {rank}-D input"
    valid = (
        "import torch.nn as nn\n"
        "head = nn.Sequential(nn.Flatten(), nn.Linear(512, 256), nn.BatchNorm1d(256))\n",
        "import torch.nn as nn\n"
        "body = nn.Sequential(nn.Conv1d(4, 8, 3), nn.BatchNorm1d(8))\n",
        "import keras\n"
        "from keras import layers\n"
        "model = keras.Sequential([keras.Input(shape=(8, 32, 32, 3)), layers.TimeDistributed(layers.Conv2D(8, 3)),\n"
        "                          layers.TimeDistributed(layers.Flatten()), layers.Bidirectional(layers.LSTM(4))])\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "head = nn.Sequential(nn.Flatten(), nn.Linear(512, 256), nn.BatchNorm2d(256))  # error: CL105\n",
        "import keras\n"
        "from keras import layers\n"
        "model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),\n"
        "                          layers.Conv2D(8, 3)])  # error: CL105\n",
        "import keras\n"
        "from keras import layers\n"
        "model = keras.Sequential([keras.Input(shape=(100, 12)), layers.Bidirectional(layers.LSTM(32)),\n"
        "                          layers.Bidirectional(layers.LSTM(16))])  # error: CL105\n",
        "import keras\n"
        "from keras import layers\n"
        "model = keras.Sequential([keras.Input(shape=(32, 32, 3)),\n"
        "                          layers.TimeDistributed(layers.Conv2D(8, 3))])  # error: CL105\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.wrong_ranks:
            ranks = " or ".join(f"{rank}-D" for rank in accepted_ranks(fact.consumer))
            yield Finding(fact.anchor, (
                f"{subject(facts, fact.consumer, fact.anchor)} accepts a {ranks} input but receives a "
                f"{fact.rank}-D tensor{origin(facts, fact.producer)}"
                f"{provenance(facts, fact.consumer, fact.anchor, fact.context)}"
            ))
