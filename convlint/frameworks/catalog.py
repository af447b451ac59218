"""The shape of a catalog entry, shared by every framework table."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Dict, Optional, Tuple


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Marks a parameter without default in a signature.
REQUIRED = _Required()
#: Ends the positional parameters of a signature, as ``*`` does in Python: the parameters after it
#: are passed by keyword only, and positional arguments past it are not ones the table knows.
KEYWORD_ONLY = ("*", None)

# How a layer treats the tensor it receives. The interpreter's flow module gives each kind its
# meaning; the tables only say which kind a layer is.
CONV = "conv"  # checks channels on axis -(rank+1), produces out_param there
LINEAR = "linear"  # checks the last axis, produces out_param there
BATCH_NORM = "batch_norm"  # needs rank+2 dims, checks channels on axis 1
CHANNEL_NORM = "channel_norm"  # checks axis 1 (any rank >= 2), e.g. GroupNorm, InstanceNorm
LAYER_NORM = "layer_norm"  # checks the trailing dims against normalized_shape
PASS_THROUGH = "pass_through"  # same shape out as in (activations, dropout, Identity)
SPATIAL = "spatial"  # keeps batch and channels, changes the spatial sizes (pooling, padding)
POOL = "pool"  # keeps batch and channels, a window slides over the spatial axes
ADAPTIVE_POOL = "adaptive_pool"  # keeps batch and channels, spatial sizes become output_size
RESAMPLE = "resample"  # keeps batch and channels, spatial sizes become size or floor(size * scale_factor)
PIXEL_SHUFFLE = "pixel_shuffle"  # (C·r², H, W) -> (C, H·r, W·r); its argument is r
PIXEL_UNSHUFFLE = "pixel_unshuffle"  # (C, H·r, W·r) -> (C·r², H, W)
FLATTEN = "flatten"  # merges start_dim..end_dim
OPAQUE = "opaque"  # known layer whose output the analysis does not model
GLOBAL_POOL = "global_pool"  # the spatial axes are reduced (kept as size 1 with keepdims)
MERGE = "merge"  # a list of tensors combined elementwise (Keras ``Add``): shapes broadcast
CONCATENATE = "concatenate"  # a list of tensors joined along ``axis`` (Keras ``Concatenate``)
INPUT = "input"  # a placeholder of a given shape (Keras ``InputLayer``)
RESHAPE = "reshape"  # the batch axis kept, the rest becomes ``target_shape``
EMBEDDING = "embedding"  # a new last axis of ``out_param`` values
BAG_EMBEDDING = "bag_embedding"  # bags of indices, (N, L) or 1-D with offsets, to (bags, out_param)
RECURRENT = "recurrent"  # (N, T, F) to (N, T, units), or (N, units) without ``return_sequences``
SEQUENCE = "sequence"  # checks the features on the last axis; out_param (× 2 if bidirectional) there
ATTENTION = "attention"  # query, key and value checked on the last axis; (output, weights) returned
TRANSFORMER = "transformer"  # every input checked against the model width; out: the last input's shape
CONV_RECURRENT = "conv_recurrent"  # Keras ConvLSTM: a convolution on each step, a recurrence over the steps
BIDIRECTIONAL = "bidirectional"  # Keras: the wrapped recurrent layer run both ways, outputs merged
TIME_DISTRIBUTED = "time_distributed"  # Keras: the wrapped layer applied to each step of axis 1
REPEAT_VECTOR = "repeat_vector"  # Keras: (N, F) to (N, n, F)
PERMUTE = "permute"  # Keras: the axes after the batch in the order ``dims`` gives (counted from 1)
# Keras Attention/AdditiveAttention: called on [query, value(, key)]; the query's steps, the value's features out
QUERY_VALUE_ATTENTION = "query_value_attention"
MULTI_HEAD_ATTENTION = "multi_head_attention"  # Keras: query, value (and key) in; the query's shape out

#: The argument names of a sliding window: kernel, stride, padding, dilation (None: no dilation).
TORCH_WINDOW = ("kernel_size", "stride", "padding", "dilation")


@dataclass(frozen=True)
class LayerSpec:
    """One layer class: its constructor signature and how channels flow through it."""

    name: str
    signature: Tuple[Tuple[str, Any], ...]
    kind: str
    spatial_rank: Optional[int] = None
    in_param: Optional[str] = None
    out_param: Optional[str] = None
    #: Integer arguments (or tuples of them) that must be positive for the layer to work.
    positive_params: Tuple[str, ...] = field(default=())
    #: Integer arguments that may be zero but never negative.
    non_negative_params: Tuple[str, ...] = field(default=())
    #: For normalization layers: the flags of which one must be true for the layer to hold
    #: per-channel state; without weights or running stats PyTorch accepts any channel count.
    sized_by: Tuple[str, ...] = field(default=())
    #: How PyTorch counts the layer's parameters (a formula of ``analysis.params``); None when
    #: convlint does not know, which makes every total containing the layer unknown.
    parameters: Optional[str] = None
    #: Normalizes away a per-channel constant (subtracts the batch mean): a bias right before
    #: it is wasted.
    cancels_bias: bool = False
    #: (count, parts) argument pairs the framework requires to divide evenly: a conv's channels
    #: by its groups, attention's width by its heads.
    divisible: Tuple[Tuple[str, str], ...] = field(default=())
    #: The input ranks PyTorch accepts (batched and unbatched); empty: any.
    ranks: Tuple[int, ...] = field(default=())
    #: Channels on the last axis, as Keras lays out images unless ``data_format`` says otherwise.
    channels_last: bool = False
    #: The names this layer gives to its window's kernel, stride, padding and dilation.
    window: Tuple[Optional[str], ...] = TORCH_WINDOW
    #: The output has the input's channels times this argument (a depthwise conv's multiplier).
    channel_multiplier: Optional[str] = None
    #: The weights are created for the first input the layer is called on (Keras infers its input
    #: sizes): the parameter formula reads the shape it was built with.
    built_on_call: bool = False
    #: The framework the layer belongs to.
    framework: str = "torch"
    #: Calling the layer returns ``(output, state)`` (PyTorch's RNN, LSTM, GRU and LSTMCell).
    returns_state: bool = False
    #: When the number of spatial axes is not fixed by the layer but by the length of this
    #: argument (Flax's ``Conv(kernel_size=(3, 3))``, ``avg_pool(window_shape=...)``).
    rank_from: Optional[str] = None
    #: Arguments whose effect on the output is not modelled: any value but this default makes
    #: the output unknown.
    unmodelled: Tuple[Tuple[str, Any], ...] = field(default=())
    #: The signature of the layer's ``forward`` when it takes more than one tensor (attention's
    #: query, key and value): calls are bound to it, and the flow reads the inputs by name.
    forward: Tuple[Tuple[str, Any], ...] = field(default=())
    #: An argument holding a layer the output goes through last (a transformer stack's ``norm``).
    output_layer: Optional[str] = None

    @property
    def size_params(self) -> Tuple[str, ...]:
        """The arguments that fix the sizes the layer takes and gives: its in and out features,
        or for attention, which has neither, the width and head count it must divide."""
        own = tuple(name for name in (self.in_param, self.out_param) if name)
        return own or tuple(dict.fromkeys(name for pair in self.divisible for name in pair))

    @cached_property
    def param_names(self) -> Tuple[str, ...]:
        return tuple(name for name, _ in self.signature)

    @cached_property
    def defaults(self) -> Dict[str, Any]:
        return dict(self.signature)

    @cached_property
    def positional_count(self) -> int:
        """How many parameters may be passed by position."""
        names = self.param_names
        return names.index(KEYWORD_ONLY[0]) if KEYWORD_ONLY[0] in names else len(names)
