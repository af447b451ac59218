"""The rule registry: every rule class, in code order."""

from __future__ import annotations

from typing import Dict, List, Type

from convlint.rules import (
    analysis_timeout,
    batch_size_changed,
    channel_mismatch,
    conv_bias_before_norm,
    dominant_layer,
    expected_params,
    file_errors,
    groups_not_divisible,
    input_too_small,
    matmul_mismatch,
    non_positive_size,
    norm_channel_mismatch,
    operand_mismatch,
    reshape_mismatch,
    same_padding_with_stride,
    undefined_input_size,
    wrong_rank,
)
from convlint.rules.base import Rule

_MODULES = (
    file_errors,
    analysis_timeout,
    channel_mismatch,
    norm_channel_mismatch,
    operand_mismatch,
    wrong_rank,
    reshape_mismatch,
    batch_size_changed,
    undefined_input_size,
    matmul_mismatch,
    groups_not_divisible,
    same_padding_with_stride,
    non_positive_size,
    input_too_small,
    conv_bias_before_norm,
    dominant_layer,
    expected_params,
)


def _collect() -> List[Type[Rule]]:
    found = []
    for module in _MODULES:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and getattr(value, "code", None):
                found.append(value)
    return sorted(found, key=lambda rule: rule.code)


ALL_RULES: List[Type[Rule]] = _collect()
RULES_BY_CODE: Dict[str, Type[Rule]] = {rule.code: rule for rule in ALL_RULES}


def rule_for(code: str) -> Type[Rule]:
    return RULES_BY_CODE[code]
