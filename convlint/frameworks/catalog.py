"""The shape of a catalog entry, shared by every framework table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Tuple


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Marks a parameter without default in a signature.
REQUIRED = _Required()

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
    #: The input ranks PyTorch accepts (batched and unbatched); empty: any.
    ranks: Tuple[int, ...] = field(default=())

    @property
    def param_names(self) -> Tuple[str, ...]:
        return tuple(name for name, _ in self.signature)
