"""The Python and PyTorch constructs the interpreter must follow.

Each construct has a BAD snippet, with exactly one provable mistake marked ``# error: CODE`` on
the line where it must be reported, and a GOOD snippet that must lint clean. Unknown is always
silent: a snippet whose values the analysis cannot pin down must produce nothing, and must not
crash or hang.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import List, Tuple

import pytest

from convlint.config import load_settings
from convlint.rules.base import expected_lines
from convlint.runner import Linter


#: These tests are about channel flow and layer arguments; parameter-total warnings (CL3xx)
#: have their own examples.
CHECKED = {"select": ["CL0", "CL1", "CL2"]}


def lint(tmp_path: Path, source: str) -> List[Tuple[int, str]]:
    path = tmp_path / "model.py"
    path.write_text(source)
    diagnostics = Linter(load_settings(tmp_path, isolated=True, overrides=CHECKED), tmp_path).lint_paths([path])
    return sorted((d.line, d.code) for d in diagnostics)


def check(tmp_path: Path, source: str) -> None:
    """The snippet produces exactly the diagnostics its ``# error:`` marks announce."""
    source = textwrap.dedent(source).lstrip("\n")
    assert lint(tmp_path, source) == sorted(expected_lines(source)), source


def check_bad(tmp_path: Path, source: str) -> None:
    source = textwrap.dedent(source).lstrip("\n")
    assert len(expected_lines(source)) == 1, "a BAD snippet marks exactly one error"
    check(tmp_path, source)


def check_good(tmp_path: Path, source: str) -> None:
    source = textwrap.dedent(source).lstrip("\n")
    assert not expected_lines(source), "a GOOD snippet marks nothing"
    check(tmp_path, source)


# ============================================================================ literals


def test_literal_conv_channels_mismatch_in_sequential(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        features = nn.Sequential(
            nn.Conv2d(3, 64, 3),
            nn.ReLU(),
            nn.Conv2d(32, 128, 3),  # error: CL101
        )
    """)


def test_literal_conv_channels_that_match_are_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.Conv2d(64, 128, 3))
    """)


def test_literal_linear_features_mismatch(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        head = nn.Sequential(
            nn.Linear(512, 256),
            nn.Dropout(0.5),
            nn.Linear(128, 10),  # error: CL101
        )
    """)


def test_literal_batchnorm_sized_for_the_wrong_channels(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        features = nn.Sequential(
            nn.Conv2d(3, 64, 3),
            nn.BatchNorm2d(32),  # error: CL102
            nn.ReLU(),
        )
    """)


def test_literal_groupnorm_and_layernorm_sized_right_are_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        a = nn.Sequential(nn.Conv2d(3, 64, 3), nn.GroupNorm(8, 64), nn.ReLU())
        b = nn.Sequential(nn.Linear(16, 64), nn.LayerNorm(64), nn.GELU())
    """)


def test_literal_groupnorm_sized_for_the_wrong_channels(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        a = nn.Sequential(
            nn.Conv2d(3, 64, 3),
            nn.GroupNorm(8, 32),  # error: CL102
        )
    """)


def test_literal_layernorm_sized_for_the_wrong_features(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        b = nn.Sequential(
            nn.Linear(16, 64),
            nn.LayerNorm(32),  # error: CL102
        )
    """)


def test_literal_groups_that_do_not_divide_channels(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        conv = nn.Conv2d(30, 64, 3, groups=4)  # error: CL201
    """)


def test_literal_same_padding_with_stride(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        conv = nn.Conv2d(3, 64, 3, stride=2, padding="same")  # error: CL202
    """)


def test_literal_zero_channels(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        conv = nn.Conv2d(3, 0, 3)  # error: CL203
    """)


def test_literal_valid_arguments_for_every_argument_rule_are_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        a = nn.Conv2d(32, 64, 3, groups=4)
        b = nn.Conv2d(3, 64, 3, stride=1, padding="same")
        c = nn.Conv2d(3, 64, 3, stride=2, padding=1)
        d = nn.Linear(0, 8)
    """)


# ============================================================================ module-level constants


def test_module_constants_are_followed_into_layers(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        WIDTH = 64
        HIDDEN = WIDTH * 2
        features = nn.Sequential(
            nn.Conv2d(3, HIDDEN, 3),
            nn.BatchNorm2d(WIDTH),  # error: CL102
        )
    """)


def test_module_constants_are_visible_inside_classes(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        STEM = 32

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Conv2d(3, STEM, 3)
                self.body = nn.Conv2d(64, 64, 3)  # error: CL101

            def forward(self, x):
                return self.body(self.stem(x))
    """)


def test_module_constants_that_agree_are_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        WIDTH = 64
        HIDDEN = WIDTH * 2

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = nn.Conv2d(3, HIDDEN, 3)
                self.bn = nn.BatchNorm2d(2 * WIDTH)

            def forward(self, x):
                return self.bn(self.stem(x))
    """)


def test_a_constant_rebound_later_in_the_module_is_seen_by_methods_at_call_time(tmp_path: Path) -> None:
    # Methods read globals when they run; the class is checked after the whole module ran.
    check_good(tmp_path, """
        import torch.nn as nn
        WIDTH = 32

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(3, WIDTH, 3), nn.BatchNorm2d(64))

        WIDTH = 64
    """)


def test_a_function_that_mutates_a_global_defined_before_its_reader_is_harmless(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        BASE = {"width": 32}

        def build():
            return nn.Sequential(nn.Conv2d(3, BASE["width"], 3), nn.BatchNorm2d(32))

        def wide():
            BASE["width"] = 64
    """)


def test_a_function_that_mutates_a_global_does_not_leak_into_other_roots(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        BASE = {"width": 32}

        def wide():
            BASE["width"] = 64

        def build():
            return nn.Sequential(nn.Conv2d(3, BASE["width"], 3), nn.BatchNorm2d(32))
    """)


def test_a_class_that_mutates_a_global_does_not_leak_into_other_classes(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        WIDTHS = [16, 32]

        class Wide(nn.Module):
            def __init__(self):
                super().__init__()
                WIDTHS.append(64)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(3, WIDTHS[-1], 3), nn.BatchNorm2d(32))
    """)


# ============================================================================ parameters with defaults


def test_constructor_defaults_are_bound_when_the_class_is_checked(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, width=64):
                super().__init__()
                self.conv = nn.Conv2d(3, width, 3)
                self.bn = nn.BatchNorm2d(32)  # error: CL102

            def forward(self, x):
                return self.bn(self.conv(x))
    """)


def test_constructor_defaults_that_agree_are_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, width=64, classes=10):
                super().__init__()
                self.conv = nn.Conv2d(3, width, 3)
                self.bn = nn.BatchNorm2d(width)
                self.pool = nn.AdaptiveAvgPool2d(1)
                self.fc = nn.Linear(width, classes)

            def forward(self, x):
                x = self.pool(self.bn(self.conv(x)))
                return self.fc(x.flatten(1))
    """)


def test_keyword_only_defaults_are_bound_too(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, *, width=64):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(3, width, 3),
                    nn.Conv2d(32, 8, 3),  # error: CL101
                )
    """)


# ============================================================================ symbolic parameters


def test_symbolic_c_and_twice_c_are_provably_different(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, 2 * c, 3)
                self.bn = nn.BatchNorm2d(c)  # error: CL102

            def forward(self, x):
                return self.bn(self.conv(x))
    """)


def test_symbolic_c_plus_one_against_c_is_provably_different(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(c, c + 1, 3),
                    nn.Conv2d(c, c, 3),  # error: CL101
                )
    """)


def test_symbolic_unrelated_parameters_are_silent(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, a, b):
                super().__init__()
                self.conv = nn.Conv2d(3, a, 3)
                self.bn = nn.BatchNorm2d(b)

            def forward(self, x):
                return self.bn(self.conv(x))
    """)


def test_symbolic_parameter_against_a_constant_is_silent(tmp_path: Path) -> None:
    # c may well be 64.
    check_good(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(3, c, 3), nn.Conv2d(64, 8, 3))
    """)


def test_symbolic_expressions_that_are_equal_are_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c, expansion):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(c, 2 * c + 4, 3),
                    nn.BatchNorm2d(4 + c * 2),
                    nn.Conv2d((4 * c + 8) // 2, c, 1),
                    nn.Conv2d(c, c * expansion, 1),
                    nn.BatchNorm2d(expansion * c),
                )
    """)


def test_symbolic_function_parameters_are_checked_too(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        def block(c):
            return nn.Sequential(
                nn.Conv2d(c, 4 * c, 1),
                nn.Conv2d(2 * c, c, 1),  # error: CL101
            )
    """)


# ============================================================================ arithmetic and builtins

# Every expression evaluates to 64.
SIXTY_FOUR = [
    pytest.param("60 + 4", id="add"),
    pytest.param("70 - 6", id="subtract"),
    pytest.param("16 * 4", id="multiply"),
    pytest.param("129 // 2", id="floor-divide"),
    pytest.param("2 ** 6", id="power"),
    pytest.param("-(-64)", id="unary-minus"),
    pytest.param("int(64.9)", id="int-of-float"),
    pytest.param("int(128 / 2)", id="int-of-true-division"),
    pytest.param("int('64')", id="int-of-string"),
    pytest.param("max(8, 64, 32)", id="max"),
    pytest.param("min([128, 64, 256])", id="min-of-list"),
    pytest.param("len(range(64))", id="len-of-range"),
    pytest.param("len([0] * 64)", id="len-of-repeated-list"),
    pytest.param("sum([32, 16, 16])", id="sum"),
    pytest.param("sum(w for w in (32, 32))", id="sum-of-generator"),
    pytest.param("round(63.6)", id="round"),
    pytest.param("abs(-64)", id="abs"),
    pytest.param("64 if True else 32", id="if-expression"),
    pytest.param("(lambda k: k * 2)(32)", id="lambda"),
]


@pytest.mark.parametrize("expression", SIXTY_FOUR)
def test_arithmetic_result_feeds_a_mismatch(tmp_path: Path, expression: str) -> None:
    check_bad(tmp_path, f"""
        import torch.nn as nn
        width = {expression}
        features = nn.Sequential(
            nn.Conv2d(3, width, 3),
            nn.Conv2d(65, 8, 3),  # error: CL101
        )
    """)


@pytest.mark.parametrize("expression", SIXTY_FOUR)
def test_arithmetic_result_that_matches_is_clean(tmp_path: Path, expression: str) -> None:
    check_good(tmp_path, f"""
        import torch.nn as nn
        width = {expression}
        features = nn.Sequential(nn.Conv2d(3, width, 3), nn.Conv2d(64, 8, 3))
    """)


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("int(2 * c)", id="int"),
        pytest.param("c * 4 // 2", id="multiply-then-floor-divide"),
        pytest.param("c + c", id="add"),
        pytest.param("3 * c - c", id="subtract"),
        pytest.param("-(-2 * c)", id="unary-minus"),
    ],
)
def test_symbolic_arithmetic_of_twice_c_against_c(tmp_path: Path, expression: str) -> None:
    check_bad(tmp_path, f"""
        import torch.nn as nn

        def block(c):
            mid = {expression}
            return nn.Sequential(
                nn.Conv2d(c, mid, 3),
                nn.BatchNorm2d(c),  # error: CL102
            )
    """)


def test_symbolic_floor_division_that_may_round_is_silent(tmp_path: Path) -> None:
    # c // 2 * 2 is c for even c only.
    check_good(tmp_path, """
        import torch.nn as nn

        def block(c):
            return nn.Sequential(nn.Conv2d(3, c // 2 * 2, 3), nn.BatchNorm2d(c))
    """)


def test_product_of_two_symbols_is_silent(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def block(c, e):
            return nn.Sequential(nn.Conv2d(3, c * e, 3), nn.BatchNorm2d(c))
    """)


def test_arithmetic_beyond_the_integer_limit_is_silent(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        huge = 2 ** 70
        features = nn.Sequential(nn.Conv2d(3, huge, 3), nn.Conv2d(huge // 2 ** 69 * 2 ** 69, 8, 3))
    """)


# ============================================================================ tuples, lists, dicts, indexing


def test_list_indexing_feeds_layer_arguments(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        cfg = [16, 32, 64]
        features = nn.Sequential(
            nn.Conv2d(3, cfg[0], 3),
            nn.Conv2d(cfg[1], cfg[2], 3),  # error: CL101
        )
    """)


def test_negative_index_reads_from_the_end(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        channels = (16, 32, 64)
        model = nn.Sequential(
            nn.Conv2d(3, channels[-1], 3),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels[-2], 10),  # error: CL101
        )
    """)


def test_tuple_unpacking_and_slices(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        stem, *rest = [16, 32, 64]
        last = rest[1:][0]
        model = nn.Sequential(
            nn.Conv2d(3, stem, 3),
            nn.Conv2d(stem, last, 3),
            nn.Conv2d(rest[0], 8, 3),  # error: CL101
        )
    """)


def test_dict_lookup_feeds_layer_arguments(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        widths = {"stem": 32, "body": 64}
        model = nn.Sequential(
            nn.Conv2d(3, widths["stem"], 3),
            nn.Conv2d(widths["body"], 8, 3),  # error: CL101
        )
    """)


def test_dict_get_and_nested_containers(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        cfg = {"stages": [(16, 32), (32, 64)], "head": {"features": 64}}
        first, second = cfg["stages"]
        model = nn.Sequential(
            nn.Conv2d(3, first[0], 3),
            nn.Conv2d(first[0], first[1], 3),
            nn.Conv2d(second[0], second[1], 3),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(cfg["head"].get("features", 1), cfg.get("classes", 10)),
        )
    """)


def test_index_out_of_range_is_silent(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        cfg = [16, 32]
        model = nn.Sequential(nn.Conv2d(3, cfg[5], 3), nn.Conv2d(cfg[-9], 8, 3))
    """)


def test_copying_a_config_with_dict_copy_or_slicing_does_not_alias(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        BASE = {"width": 32}
        L = [16]

        def build():
            a = dict(BASE)
            a["width"] = 64
            b = BASE.copy()
            b["width"] = 64
            m = L[:]
            m[0] = 64
            n = list(L)
            n[0] = 64
            return nn.Sequential(nn.Conv2d(3, BASE["width"], 3), nn.BatchNorm2d(32),
                                 nn.Conv2d(32, L[0], 1), nn.BatchNorm2d(16))
    """)


def test_deepcopy_of_a_config_does_not_alias_the_original(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import copy
        import torch.nn as nn

        BASE = {"width": 32}

        def build():
            wide = copy.deepcopy(BASE)
            wide["width"] = 64
            return nn.Sequential(nn.Conv2d(3, BASE["width"], 3), nn.BatchNorm2d(32))
    """)


def test_deepcopy_of_a_layer_list_does_not_alias_the_original(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import copy
        import torch.nn as nn

        base = [nn.Conv2d(3, 16, 3)]
        other = copy.deepcopy(base)
        other.append(nn.Conv2d(32, 8, 3))
        model = nn.Sequential(*base, nn.BatchNorm2d(16))
    """)


# ============================================================================ comprehensions


def test_list_comprehension_builds_layers(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        layers = [nn.Conv2d(w, w * 2, 3) for w in [16, 32, 48]]  # error: CL101
        model = nn.Sequential(*layers)
    """)


def test_list_comprehension_over_zip_chains_correctly(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        widths = [16 * 2 ** i for i in range(3)]
        layers = [nn.Conv2d(a, b, 3) for a, b in zip([3] + widths[:-1], widths)]
        model = nn.Sequential(*layers, nn.BatchNorm2d(widths[-1]))
    """)


def test_comprehension_with_condition_keeps_only_the_selected_items(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        widths = [w for w in [8, 16, 24, 32, 40] if w % 16 == 0]
        model = nn.Sequential(
            nn.Conv2d(3, widths[0], 3),
            nn.Conv2d(widths[0], widths[1], 3),
            nn.BatchNorm2d(24),  # error: CL102
        )
    """)


def test_dict_comprehension_builds_a_lookup_table(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        dims = {name: 16 * (i + 1) for i, name in enumerate(["a", "b"])}
        model = nn.Sequential(
            nn.Conv2d(3, dims["a"], 3),
            nn.Conv2d(dims["b"], 8, 3),  # error: CL101
        )
    """)


def test_dict_comprehension_that_agrees_is_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        dims = {name: 16 * (i + 1) for i, name in enumerate(["a", "b"])}
        model = nn.Sequential(nn.Conv2d(3, dims["a"], 3), nn.Conv2d(dims["a"], dims["b"], 3))
    """)


def test_comprehension_item_kept_under_an_unknown_condition_does_not_close_the_gap(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def make(flag):
            convs = [nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3), nn.Conv2d(32, 64, 3)]
            kept = [m for i, m in enumerate(convs) if i != 1 or flag]
            return nn.Sequential(*kept)
    """)


# ============================================================================ if / else


def test_if_with_known_condition_takes_only_that_branch(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        WIDE = True
        if WIDE:
            width = 64
        else:
            width = 32
        model = nn.Sequential(
            nn.Conv2d(3, width, 3),
            nn.Conv2d(32, 8, 3),  # error: CL101
        )
    """)


def test_if_with_known_condition_ignores_the_branch_not_taken(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        WIDE = True
        if WIDE:
            width = 64
        else:
            width = 32
            never = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(16, 8, 3))
        model = nn.Sequential(nn.Conv2d(3, width, 3), nn.Conv2d(64, 8, 3))
    """)


def test_if_on_a_default_parameter_takes_only_the_default_branch(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, wide=True):
                super().__init__()
                if wide:
                    self.body = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64))
                else:
                    self.body = nn.Sequential(nn.Conv2d(3, 32, 3), nn.BatchNorm2d(64))
    """)


def test_if_elif_chain_with_known_string_condition(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        def make(kind="medium"):
            if kind == "small":
                width = 16
            elif kind == "medium":
                width = 32
            else:
                width = 64
            return nn.Sequential(
                nn.Conv2d(3, width, 3),
                nn.BatchNorm2d(64),  # error: CL102
            )
    """)


def test_if_with_unknown_condition_forgets_a_value_the_branches_disagree_on(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, c, flag):
                super().__init__()
                if flag:
                    width = 64
                else:
                    width = 32
                self.body = nn.Sequential(nn.Conv2d(3, width, 3), nn.Conv2d(64, 8, 3))
    """)


def test_if_with_unknown_condition_keeps_what_both_branches_agree_on(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, flag):
                super().__init__()
                if flag:
                    width = 64
                    act = nn.ReLU()
                else:
                    width = 64
                    act = nn.GELU()
                self.body = nn.Sequential(
                    nn.Conv2d(3, width, 3),
                    nn.Conv2d(32, 8, 3),  # error: CL101
                    act,
                )
    """)


def test_if_without_else_on_unknown_condition_forgets_the_value(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def make(flag):
            width = 32
            if flag:
                width = 64
            return nn.Sequential(nn.Conv2d(3, width, 3), nn.BatchNorm2d(64))
    """)


def test_layer_appended_in_one_branch_of_an_unknown_condition_ends_the_known_chain(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def make(flag):
            layers = [nn.Conv2d(3, 16, 3)]
            if flag:
                layers.append(nn.Conv2d(16, 32, 3))
            layers.append(nn.BatchNorm2d(32))
            return nn.Sequential(*layers)
    """)


def test_early_return_in_an_unknown_branch_is_joined_with_the_fall_through(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def width(flag):
            if flag:
                return 64
            return 32

        def make(flag):
            return nn.Sequential(nn.Conv2d(3, width(flag), 3), nn.BatchNorm2d(64))
    """)


def test_a_symbolic_count_compared_with_zero_is_not_decided(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, c, extra):
                super().__init__()
                layers = [nn.Conv2d(3, c, 3)]
                if extra > 0:
                    layers.append(nn.Conv2d(c, 2 * c, 3))
                layers.append(nn.BatchNorm2d(c))
                self.body = nn.Sequential(*layers)

        net = Net(16, 0)
    """)


# ============================================================================ for loops


def test_for_over_a_list_is_unrolled(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        layers = []
        in_ch = 3
        for out_ch in [16, 32, 64]:
            layers.append(nn.Conv2d(in_ch, out_ch, 3))
            in_ch = out_ch
        layers.append(nn.Conv2d(32, 10, 1))  # error: CL101
        model = nn.Sequential(*layers)
    """)


def test_for_over_a_list_that_chains_correctly_is_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        layers = []
        in_ch = 3
        for out_ch in [16, 32, 64]:
            layers.append(nn.Conv2d(in_ch, out_ch, 3))
            layers.append(nn.BatchNorm2d(out_ch))
            in_ch = out_ch
        layers.append(nn.Conv2d(in_ch, 10, 1))
        model = nn.Sequential(*layers)
    """)


def test_for_over_a_tuple_of_pairs_with_unpacking(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        layers = []
        for cin, cout in ((3, 16), (16, 32), (48, 64)):
            layers.append(nn.Conv2d(cin, cout, 3))  # error: CL101
        model = nn.Sequential(*layers)
    """)


def test_for_over_range(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        layers = [nn.Conv2d(3, 16, 3)]
        for i in range(3):
            layers.append(nn.Conv2d(16 * 2 ** i, 16 * 2 ** (i + 1), 3))
        layers.append(nn.BatchNorm2d(64))  # error: CL102
        model = nn.Sequential(*layers)
    """)


def test_for_over_range_with_start_stop_step(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        layers = []
        c = 3
        for width in range(16, 65, 16):
            layers += [nn.Conv2d(c, width, 3), nn.BatchNorm2d(width)]
            c = width
        model = nn.Sequential(*layers, nn.Conv2d(64, 8, 1))
    """)


def test_for_over_zip(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        ins = [3, 16, 48]
        outs = [16, 32, 64]
        layers = []
        for a, b in zip(ins, outs):
            layers.append(nn.Conv2d(a, b, 3))  # error: CL101
        model = nn.Sequential(*layers)
    """)


def test_for_over_enumerate(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        widths = [16, 32, 64]
        layers = []
        for i, w in enumerate(widths):
            layers.append(nn.Conv2d(widths[i - 1] if i > 0 else 3, w, 3))
        model = nn.Sequential(*layers, nn.BatchNorm2d(32))  # error: CL102
    """)


def test_for_over_enumerate_with_start(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        layers = []
        c = 3
        for i, name in enumerate(["a", "b", "c"], start=1):
            layers.append(nn.Conv2d(c, 16 * i, 3))
            c = 16 * i
        model = nn.Sequential(*layers, nn.BatchNorm2d(48))
    """)


def test_break_and_continue_in_an_unrolled_loop(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        layers = []
        c = 3
        for w in [16, 0, 32, 64, 128]:
            if w == 0:
                continue
            if w > 64:
                break
            layers.append(nn.Conv2d(c, w, 3))
            c = w
        model = nn.Sequential(
            *layers,
            nn.BatchNorm2d(128),  # error: CL102
        )
    """)


def test_loop_longer_than_the_unroll_cap_is_silent_and_does_not_crash(tmp_path: Path) -> None:
    # After a loop the analysis does not unroll, neither the list nor the counter is known.
    check_good(tmp_path, """
        import torch.nn as nn
        layers = []
        c = 3
        for i in range(5000):
            layers.append(nn.Conv2d(c, 16, 3))
            c = 16
        layers.append(nn.Conv2d(c, 8, 3))
        layers.append(nn.BatchNorm2d(8))
        model = nn.Sequential(*layers, nn.Conv2d(8, 4, 1))
    """)


def test_what_precedes_a_loop_too_long_to_unroll_is_still_checked(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        stem = nn.Sequential(
            nn.Conv2d(3, 16, 3),
            nn.Conv2d(8, 16, 3),  # error: CL101
        )
        layers = []
        for i in range(100000):
            layers.append(nn.Conv2d(16, 16, 3))
        model = nn.Sequential(stem, *layers)
    """)


def test_loop_over_an_unknown_iterable_is_silent(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        import json

        def make(widths):
            layers = []
            c = 3
            for w in widths:
                layers.append(nn.Conv2d(c, w, 3))
                c = w
            layers.append(nn.Conv2d(c, 8, 3))
            return nn.Sequential(*layers, nn.BatchNorm2d(8), nn.Conv2d(8, 4, 1))

        WIDTHS = json.load(open("cfg.json"))
        model = make(WIDTHS)
    """)


def test_loop_over_a_parameter_list_passed_concretely_is_unrolled(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        def make(widths):
            layers = []
            c = 3
            for w in widths:
                layers.append(nn.Conv2d(c, w, 3))
                c = w
            return nn.Sequential(*layers, nn.BatchNorm2d(32))  # error: CL102

        model = make([16, 64])
    """)


# ============================================================================ while


def test_while_makes_the_variables_it_changes_unknown(tmp_path: Path) -> None:
    # c ends at 64: a reader that skipped the loop would wrongly see 16.
    check_good(tmp_path, """
        import torch.nn as nn
        c = 16
        while c < 64:
            c *= 2
        model = nn.Sequential(nn.Conv2d(3, c, 3), nn.Conv2d(64, 8, 3))
    """)


def test_while_makes_lists_it_appends_to_unknown(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        layers = [nn.Conv2d(3, 16, 3)]
        c = 16
        while c < 64:
            layers.append(nn.Conv2d(c, c * 2, 3))
            c *= 2
        layers.append(nn.BatchNorm2d(64))
        model = nn.Sequential(*layers)
    """)


def test_while_leaves_values_it_does_not_touch_known(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        width = 32
        n = 0
        while n < 10:
            n += 1
        model = nn.Sequential(
            nn.Conv2d(3, width, 3),
            nn.BatchNorm2d(64),  # error: CL102
        )
    """)


def test_while_true_with_break_does_not_hang(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        c = 3
        while True:
            c = c * 2
            if c > 100:
                break
        model = nn.Sequential(nn.Conv2d(3, c, 3), nn.BatchNorm2d(192))
    """)


# ============================================================================ helpers and methods


def test_helper_function_conv3x3_builds_the_layer(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        def conv3x3(in_planes, out_planes, stride=1):
            return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)

        class BasicBlock(nn.Module):
            def __init__(self, inplanes, planes):
                super().__init__()
                self.conv1 = conv3x3(inplanes, planes)
                self.bn1 = nn.BatchNorm2d(planes)
                self.conv2 = conv3x3(2 * planes, planes)  # error: CL101

            def forward(self, x):
                out = self.conv1(x)
                out = self.bn1(out)
                return self.conv2(out)
    """)


def test_helper_function_conv3x3_used_correctly_is_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def conv3x3(in_planes, out_planes, stride=1):
            return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)

        class BasicBlock(nn.Module):
            def __init__(self, inplanes, planes):
                super().__init__()
                self.conv1 = conv3x3(inplanes, planes)
                self.bn1 = nn.BatchNorm2d(planes)
                self.conv2 = conv3x3(planes, planes)
                self.bn2 = nn.BatchNorm2d(planes)

            def forward(self, x):
                out = self.bn1(self.conv1(x))
                return self.bn2(self.conv2(out))
    """)


def test_helper_method_on_self_builds_the_layer(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.a = self._unit(c, 4 * c)
                self.b = self._unit(2 * c, c)  # error: CL101

            def _unit(self, cin, cout):
                return nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout), nn.ReLU())

            def forward(self, x):
                return self.b(self.a(x))
    """)


def test_helper_with_keyword_arguments_and_defaults(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def unit(cin, cout, *, expand=1, act=nn.ReLU):
            mid = cin * expand
            return nn.Sequential(nn.Conv2d(cin, mid, 1), act(), nn.Conv2d(mid, cout, 3), nn.BatchNorm2d(cout))

        model = nn.Sequential(unit(3, 16, expand=4), unit(cout=32, cin=16), nn.BatchNorm2d(32))
    """)


def test_staticmethod_and_classmethod_helpers(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            width = 32

            @staticmethod
            def conv(cin, cout):
                return nn.Conv2d(cin, cout, 3, padding=1)

            @classmethod
            def stem(cls):
                return cls.conv(3, cls.width)

            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(
                    self.stem(),
                    nn.BatchNorm2d(64),  # error: CL102
                )
    """)


def test_super_init_of_a_user_base_class_builds_its_layers(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Base(nn.Module):
            def __init__(self, width):
                super().__init__()
                self.stem = nn.Conv2d(3, width, 3)

        class Net(Base):
            def __init__(self):
                super().__init__(64)
                self.head = nn.Conv2d(32, 10, 1)  # error: CL101

            def forward(self, x):
                return self.head(self.stem(x))
    """)


def test_super_init_with_explicit_class_and_forward_inherited(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Base(nn.Module):
            def __init__(self, width):
                super(Base, self).__init__()
                self.stem = nn.Conv2d(3, width, 3)
                self.head = nn.Conv2d(width, 10, 1)

            def forward(self, x):
                return self.head(self.stem(x))

        class Net(Base):
            def __init__(self):
                super(Net, self).__init__(64)
    """)


def test_functools_partial_of_conv2d_binds_keywords(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        from functools import partial
        import torch.nn as nn

        Conv3 = partial(nn.Conv2d, kernel_size=3, padding=1)
        model = nn.Sequential(
            Conv3(3, 16),
            Conv3(32, 16),  # error: CL101
        )
    """)


def test_functools_partial_of_conv2d_used_correctly_is_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import functools
        import torch.nn as nn

        Conv3 = functools.partial(nn.Conv2d, kernel_size=3, padding=1)
        Norm = functools.partial(nn.BatchNorm2d, eps=1e-3)
        model = nn.Sequential(Conv3(3, 16), Norm(16), Conv3(16, 32), Norm(32))
    """)


def test_functools_partial_with_bound_positional_channels(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import functools
        import torch.nn as nn

        FromRGB = functools.partial(nn.Conv2d, 3)
        model = nn.Sequential(
            FromRGB(16, 3),
            FromRGB(16, 3),  # error: CL101
        )
    """)


def test_class_attribute_expansion_read_through_the_block_class(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Bottleneck(nn.Module):
            expansion = 4

            def __init__(self, inplanes, planes):
                super().__init__()
                self.conv1 = nn.Conv2d(inplanes, planes, 1)
                self.conv2 = nn.Conv2d(planes, planes * self.expansion, 1)

            def forward(self, x):
                return self.conv2(self.conv1(x))

        class Net(nn.Module):
            def __init__(self, block=Bottleneck, planes=16):
                super().__init__()
                self.body = block(64, planes)
                self.bn = nn.BatchNorm2d(planes * 2)  # error: CL102

            def forward(self, x):
                return self.bn(self.body(x))
    """)


def test_class_attribute_expansion_used_consistently_is_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Bottleneck(nn.Module):
            expansion = 4

            def __init__(self, inplanes, planes):
                super().__init__()
                self.conv1 = nn.Conv2d(inplanes, planes, 1)
                self.conv2 = nn.Conv2d(planes, planes * self.expansion, 1)

            def forward(self, x):
                return self.conv2(self.conv1(x))

        class Net(nn.Module):
            def __init__(self, block=Bottleneck, planes=16):
                super().__init__()
                self.body = block(64, planes)
                self.bn = nn.BatchNorm2d(planes * block.expansion)

            def forward(self, x):
                return self.bn(self.body(x))
    """)


def test_norm_layer_none_defaults_to_batchnorm(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c, norm_layer=None):
                super().__init__()
                if norm_layer is None:
                    norm_layer = nn.BatchNorm2d
                self.conv = nn.Conv2d(c, 2 * c, 3)
                self.bn = norm_layer(c)  # error: CL102

            def forward(self, x):
                return self.bn(self.conv(x))
    """)


def test_norm_layer_none_defaults_to_batchnorm_used_correctly(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c, norm_layer=None):
                super().__init__()
                if norm_layer is None:
                    norm_layer = nn.BatchNorm2d
                self.conv = nn.Conv2d(c, 2 * c, 3)
                self.bn = norm_layer(2 * c)

            def forward(self, x):
                return self.bn(self.conv(x))
    """)


def test_norm_layer_passed_as_an_unknown_callable_is_silent(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c, norm_layer):
                super().__init__()
                self.conv = nn.Conv2d(c, 2 * c, 3)
                self.bn = norm_layer(c)

            def forward(self, x):
                return self.bn(self.conv(x))
    """)


def test_isinstance_of_a_user_dict_subclass_is_true(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Cfg(dict):
            pass

        def make():
            cfg = Cfg(width=64)
            if isinstance(cfg, dict):
                width = 64
            else:
                width = 32
            return nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(width))
    """)


# ============================================================================ containers


def test_sequential_with_ordered_dict(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        from collections import OrderedDict
        import torch.nn as nn

        model = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(3, 16, 3)),
            ("relu", nn.ReLU()),
            ("conv2", nn.Conv2d(32, 8, 3)),  # error: CL101
        ]))
    """)


def test_sequential_with_ordered_dict_filled_by_assignment(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import collections
        import torch.nn as nn

        layers = collections.OrderedDict()
        layers["conv1"] = nn.Conv2d(3, 16, 3)
        layers["bn1"] = nn.BatchNorm2d(16)
        layers["conv2"] = nn.Conv2d(16, 8, 3)
        model = nn.Sequential(layers)
    """)


def test_sequential_with_star_layers(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        layers = [nn.Conv2d(3, 16, 3), nn.ReLU()]
        model = nn.Sequential(
            *layers,
            nn.Conv2d(8, 8, 3),  # error: CL101
        )
    """)


def test_unknown_star_arguments_between_layers_break_the_chain(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, widths, num_classes=10):
                super().__init__()
                blocks = []
                c = 32
                for w in widths:
                    blocks += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU()]
                    c = w
                self.net = nn.Sequential(
                    nn.Conv2d(3, 32, 3, padding=1),
                    *blocks,
                    nn.AdaptiveAvgPool2d(1),
                    nn.Flatten(),
                    nn.Linear(512, num_classes),
                )

        model = Net([64, 128, 256, 512])
    """)


def test_unknown_star_argument_parameter_between_layers_breaks_the_chain(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def make(extra_layers):
            return nn.Sequential(nn.Conv2d(3, 16, 3), *extra_layers, nn.Conv2d(32, 8, 3))
    """)


def test_star_expanding_a_generator_function_breaks_the_chain(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def convs(widths):
            c = 16
            for w in widths:
                yield nn.Conv2d(c, w, 3)
                c = w

        model = nn.Sequential(nn.Conv2d(3, 16, 3), *convs([32, 64]), nn.BatchNorm2d(64))
    """)


def test_variadic_constructor_parameter_is_unknown_when_the_class_is_checked_alone(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, *widths):
                super().__init__()
                layers = []
                c = 16
                for w in widths:
                    layers.append(nn.Conv2d(c, w, 3))
                    c = w
                self.body = nn.Sequential(nn.Conv2d(3, 16, 3), *layers)
                self.head = nn.Conv2d(64, 8, 1)

            def forward(self, x):
                return self.head(self.body(x))

        net = Net(32, 64)
    """)


def test_layers_appended_after_a_loop_that_is_not_unrolled_are_still_checked(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        def make(widths):
            layers = []
            for w in widths:
                layers.append(nn.Conv2d(w, w, 3))
            layers.append(nn.Conv2d(3, 16, 3))
            layers.append(nn.Conv2d(32, 8, 3))  # error: CL101
            return nn.Sequential(*layers)
    """)


def test_list_built_by_append_extend_and_plus_equals(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        layers = []
        layers.append(nn.Conv2d(3, 16, 3))
        layers.extend([nn.BatchNorm2d(16), nn.ReLU()])
        layers += [nn.Conv2d(16, 32, 3)]
        layers = layers + [nn.ReLU()]
        layers.append(nn.Conv2d(16, 8, 3))  # error: CL101
        model = nn.Sequential(*layers)
    """)


def test_list_built_by_append_extend_and_plus_equals_correctly(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        layers = []
        layers.append(nn.Conv2d(3, 16, 3))
        layers.extend([nn.BatchNorm2d(16), nn.ReLU()])
        layers += [nn.Conv2d(16, 32, 3)]
        layers.insert(0, nn.Identity())
        model = nn.Sequential(*layers, nn.Conv2d(32, 8, 3))
    """)


def test_list_remove_is_not_ignored(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def make():
            layers = [nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3), nn.Conv2d(16, 8, 3)]
            layers.remove(layers[1])
            return nn.Sequential(*layers)
    """)


def test_list_clear_is_not_ignored(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def make():
            layers = [nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3)]
            layers.clear()
            layers.append(nn.Conv2d(3, 8, 3))
            layers.append(nn.Conv2d(8, 8, 3))
            return nn.Sequential(*layers)
    """)


def test_sequential_pop_is_not_ignored(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def make():
            model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3), nn.Conv2d(16, 8, 3))
            model.pop(1)
            return model
    """)


def test_del_of_a_list_item_is_not_ignored(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def make():
            layers = [nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3), nn.Conv2d(16, 8, 3)]
            del layers[1]
            model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3), nn.Conv2d(16, 8, 3))
            del model[1]
            return nn.Sequential(*layers), model
    """)


def test_sequential_append_and_extend_methods(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        model = nn.Sequential(nn.Conv2d(3, 16, 3))
        model.append(nn.ReLU())
        model.extend([nn.Conv2d(16, 32, 3)])
        model.append(nn.BatchNorm2d(16))  # error: CL102
    """)


def test_module_list_iterated_in_forward(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.convs = nn.ModuleList([
                    nn.Conv2d(3, 16, 3),
                    nn.Conv2d(16, 32, 3),
                    nn.Conv2d(16, 8, 3),  # error: CL101
                ])

            def forward(self, x):
                for conv in self.convs:
                    x = conv(x)
                return x
    """)


def test_module_list_iterated_in_forward_correctly(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, widths=(16, 32, 64)):
                super().__init__()
                self.convs = nn.ModuleList()
                c = 3
                for w in widths:
                    self.convs.append(nn.Conv2d(c, w, 3))
                    c = w
                self.norms = nn.ModuleList([nn.BatchNorm2d(w) for w in widths])

            def forward(self, x):
                for conv, norm in zip(self.convs, self.norms):
                    x = norm(conv(x))
                return x
    """)


def test_module_list_not_called_in_a_chain_is_not_a_chain(tmp_path: Path) -> None:
    # Heads applied to the same input, not one after the other.
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.heads = nn.ModuleList([nn.Conv2d(16, 8, 1), nn.Conv2d(16, 4, 1)])

            def forward(self, x):
                return [head(x) for head in self.heads]
    """)


def test_module_dict_indexed_in_forward(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleDict({
                    "stem": nn.Conv2d(3, 16, 3),
                    "body": nn.Conv2d(32, 8, 3),  # error: CL101
                })

            def forward(self, x):
                x = self.layers["stem"](x)
                return self.layers["body"](x)
    """)


def test_module_dict_iterated_by_items_in_forward(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleDict({
                    "stem": nn.Conv2d(3, 16, 3),
                    "body": nn.Conv2d(32, 8, 3),  # error: CL101
                })

            def forward(self, x):
                for name, layer in self.layers.items():
                    x = layer(x)
                return x
    """)


def test_module_dict_iterated_by_values_in_forward_correctly(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleDict({"stem": nn.Conv2d(3, 16, 3), "body": nn.Conv2d(16, 8, 3)})

            def forward(self, x):
                for layer in self.layers.values():
                    x = layer(x)
                return x
    """)


def test_module_list_indexed_by_range_of_len_in_forward(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.convs = nn.ModuleList([
                    nn.Conv2d(3, 16, 3),
                    nn.Conv2d(16, 32, 3),
                    nn.Conv2d(16, 8, 3),  # error: CL101
                ])

            def forward(self, x):
                for i in range(len(self.convs)):
                    x = self.convs[i](x)
                return x
    """)


def test_module_dict_indexed_in_forward_correctly(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleDict()
                self.layers["stem"] = nn.Conv2d(3, 16, 3)
                self.layers["body"] = nn.Conv2d(16, 8, 3)

            def forward(self, x):
                return self.layers["body"](self.layers["stem"](x))
    """)


def test_add_module_registers_an_attribute(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.add_module("conv1", nn.Conv2d(3, 16, 3))
                self.add_module("conv2", nn.Conv2d(32, 8, 3))  # error: CL101

            def forward(self, x):
                return self.conv2(self.conv1(x))
    """)


def test_add_module_on_a_sequential_appends_in_order(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        model = nn.Sequential()
        for i, (cin, cout) in enumerate([(3, 16), (16, 32)]):
            model.add_module(f"conv{i}", nn.Conv2d(cin, cout, 3))
        model.add_module("bn", nn.BatchNorm2d(16))  # error: CL102
    """)


def test_sequential_subclass_filled_by_super_init(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class ConvBNReLU(nn.Sequential):
            def __init__(self, c):
                super().__init__(
                    nn.Conv2d(c, 2 * c, 3, padding=1),
                    nn.BatchNorm2d(c),  # error: CL102
                    nn.ReLU(inplace=True),
                )
    """)


def test_sequential_subclass_with_its_own_forward_is_not_a_chain(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch
        import torch.nn as nn

        class Parallel(nn.Sequential):
            def forward(self, x):
                return torch.cat([m(x) for m in self], dim=1)

        branches = Parallel(nn.Conv2d(16, 8, 1), nn.Conv2d(16, 8, 3, padding=1))
    """)


def test_nested_sequentials_are_followed(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        stem = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Sequential(nn.ReLU(), nn.Conv2d(16, 32, 3)))
        model = nn.Sequential(
            stem,
            nn.Sequential(nn.Conv2d(16, 8, 3)),  # error: CL101
        )
    """)


def test_sequential_indexing_and_slicing(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        body = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(16, 32, 3), nn.Conv2d(32, 64, 3))
        first_two = body[:2]
        model = nn.Sequential(first_two, nn.BatchNorm2d(32), body[-1])
    """)


# ============================================================================ custom blocks


def test_custom_blocks_chained_in_a_sequential(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv = nn.Conv2d(cin, cout, 3, padding=1)
                self.bn = nn.BatchNorm2d(cout)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = nn.Sequential(
            Block(3, 16),
            Block(32, 64),  # error: CL101
        )
    """)


def test_custom_blocks_chained_in_a_sequential_correctly(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv = nn.Conv2d(cin, cout, 3, padding=1)
                self.bn = nn.BatchNorm2d(cout)

            def forward(self, x):
                return self.bn(self.conv(x))

        model = nn.Sequential(Block(3, 16), Block(16, 64), nn.Conv2d(64, 8, 1))
    """)


def test_block_output_followed_into_the_next_layer(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Expand(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, 4 * c, 1)

            def forward(self, x):
                return self.conv(x)

        class Net(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.expand = Expand(c)
                self.norm = nn.BatchNorm2d(2 * c)  # error: CL102

            def forward(self, x):
                return self.norm(self.expand(x))
    """)


def test_a_block_whose_forward_is_not_understood_ends_the_chain(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch
        import torch.nn as nn

        class Mystery(nn.Module):
            def forward(self, x):
                return torch.some_unknown_op(x)

        model = nn.Sequential(nn.Conv2d(3, 16, 3), Mystery(), nn.Conv2d(32, 8, 3))
    """)


# ============================================================================ forward


def test_forward_chain_of_reassigned_x(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 6, 5)
                self.pool = nn.MaxPool2d(2, 2)
                self.conv2 = nn.Conv2d(16, 16, 5)  # error: CL101

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.conv2(x)))
                return x
    """)


def test_forward_chain_of_reassigned_x_correctly(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 6, 5)
                self.pool = nn.MaxPool2d(2, 2)
                self.conv2 = nn.Conv2d(6, 16, 5)
                self.fc1 = nn.Linear(16 * 5 * 5, 120)
                self.fc2 = nn.Linear(120, 84)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.conv2(x)))
                x = torch.flatten(x, 1)
                x = F.relu(self.fc1(x))
                return self.fc2(x)
    """)


def test_residual_sum_keeps_the_channel_count(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Residual(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv1 = nn.Conv2d(c, c, 3, padding=1)
                self.conv2 = nn.Conv2d(c, c, 3, padding=1)
                self.post = nn.BatchNorm2d(2 * c)  # error: CL102

            def forward(self, x):
                identity = x
                out = self.conv1(x)
                out = self.conv2(out)
                out = out + identity
                return self.post(out)
    """)


def test_a_tensor_used_by_two_layers_must_suit_both(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class TwoHeads(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.a = nn.Conv2d(c, 8, 1)
                self.b = nn.Conv2d(2 * c, 8, 1)  # error: CL101

            def forward(self, x):
                return self.a(x) + self.b(x)
    """)


def test_a_layer_in_a_conditional_expression_teaches_nothing(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Either(nn.Module):
            def __init__(self, c, wide):
                super().__init__()
                self.wide = wide
                self.a = nn.Conv2d(c, 8, 1)
                self.b = nn.Conv2d(2 * c, 8, 1)

            def forward(self, x):
                return self.b(x) if self.wide else self.a(x)
    """)


def test_a_layer_in_a_failed_try_teaches_nothing_to_the_handler(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Fallback(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.a = nn.Conv2d(c, 8, 1)
                self.b = nn.Conv2d(2 * c, 8, 1)

            def forward(self, x):
                try:
                    return self.a(x)
                except RuntimeError:
                    return self.b(x)
    """)


def test_branches_that_learn_different_channels_join_to_unknown(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Either(nn.Module):
            def __init__(self, c, wide):
                super().__init__()
                self.wide = wide
                self.a = nn.Conv2d(c, c, 1)
                self.b = nn.Conv2d(2 * c, 2 * c, 1)

            def forward(self, x):
                identity = x
                if self.wide:
                    out = self.b(x)
                else:
                    out = self.a(x)
                return out + identity
    """)


def test_torch_add_and_tensor_mul_broadcast_as_operators_do(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 64, 3, padding=1)
                self.conv2 = nn.Conv2d(64, 128, 3, padding=1)
                self.gate = nn.Conv2d(64, 1, 1)

            def forward(self, x):
                x = self.conv1(x)
                x = x.mul(torch.sigmoid(self.gate(x)))
                return torch.add(self.conv2(x), x, alpha=0.5)  # error: CL104
    """)


def test_residual_with_downsample_projection(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Residual(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
                self.bn1 = nn.BatchNorm2d(cout)
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout))
                self.post = nn.BatchNorm2d(cout)

            def forward(self, x):
                identity = self.downsample(x)
                out = self.bn1(self.conv1(x))
                out += identity
                return self.post(out)
    """)


def test_broadcasting_a_symbolic_channel_count_that_may_be_one_is_unknown(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 1)
                self.proj = nn.Conv2d(2 * c, 8, 1)

            def forward(self, x):
                out = self.conv(x[:, :1]) + x
                return self.proj(out)
    """)


def test_flatten_after_global_pool_feeds_linear(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Conv2d(3, 64, 3)
                self.pool = nn.AdaptiveAvgPool2d(1)
                self.fc = nn.Linear(128, 10)  # error: CL101

            def forward(self, x):
                x = self.features(x)
                x = self.pool(x)
                x = torch.flatten(x, 1)
                return self.fc(x)
    """)


def test_flatten_after_global_pool_feeds_linear_correctly(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Conv2d(3, 64, 3)
                self.pool = nn.AdaptiveAvgPool2d((1, 1))
                self.fc = nn.Linear(64, 10)

            def forward(self, x):
                x = self.pool(self.features(x))
                x = x.view(x.size(0), -1)
                return self.fc(x)
    """)


def test_flatten_without_global_pool_is_silent(tmp_path: Path) -> None:
    # The spatial size is unknown, so the flattened feature count is unknown.
    check_good(tmp_path, """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Conv2d(3, 64, 3)
                self.fc = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc(torch.flatten(self.features(x), 1))
    """)


def test_flatten_of_known_channels_feeds_a_linear_that_is_no_multiple_of_them(tmp_path: Path) -> None:
    # 64 × H × W is a multiple of 64 whatever H and W are; 100 is not.
    check_bad(tmp_path, """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Conv2d(3, 64, 3)
                self.fc = nn.Linear(100, 10)  # error: CL101

            def forward(self, x):
                return self.fc(torch.flatten(self.features(x), 1))
    """)


def test_reshape_by_a_batch_size_read_earlier_is_a_flatten(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 64, 3)
                self.pool = nn.AdaptiveAvgPool2d(2)
                self.fc = nn.Linear(128, 10)  # error: CL101

            def forward(self, x):
                x = self.conv(x)
                n = x.size(0)
                x = self.pool(x)
                return self.fc(x.reshape(n, -1))
    """)


def test_squeeze_excitation_viewed_by_its_own_sizes_is_clean(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class SE(nn.Module):
            def __init__(self, c=32):
                super().__init__()
                self.conv = nn.Conv2d(3, c, 3)
                self.pool = nn.AdaptiveAvgPool2d(1)
                self.fc = nn.Linear(c, c)

            def forward(self, x):
                x = self.conv(x)
                b, c, _, _ = x.size()
                y = self.fc(self.pool(x).view(b, c)).view(b, c, 1, 1)
                return x * y
    """)


def test_concatenation_along_the_last_axis_needs_no_rank(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch
        import torch.nn as nn

        class TwoTower(nn.Module):
            def __init__(self):
                super().__init__()
                self.user = nn.Linear(32, 16)
                self.item = nn.Linear(48, 24)
                self.head = nn.Linear(32, 1)  # error: CL101

            def forward(self, u, i):
                return self.head(torch.cat([self.user(u), self.item(i)], dim=-1))
    """)


def test_branches_concatenated_are_not_checked_against_one_branch(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 16, 1)
                self.b = nn.Conv2d(3, 16, 1)
                self.fuse = nn.Conv2d(32, 8, 1)

            def forward(self, x):
                return self.fuse(torch.cat([self.a(x), self.b(x)], dim=1))
    """)


# ============================================================================ concrete instantiation


RESNET_TINY = """
    import torch
    import torch.nn as nn

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 1)
            self.conv2 = nn.Conv2d(planes, planes * self.expansion, 1)

        def forward(self, x):
            return self.conv2(self.conv1(x))

    class ResNet(nn.Module):
        def __init__(self, block, layers):
            super().__init__()
            self.inplanes = 64
            planes = 64
            stages = []
            for n in layers:
                stages.append(block(self.inplanes, planes))
                self.inplanes = planes * block.expansion
                planes *= 2
            self.body = nn.Sequential(*stages)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(2048, 10){mark}

        def forward(self, x):
            x = self.pool(self.body(x))
            x = torch.flatten(x, 1)
            return self.fc(x)

    def {builder}():
        return ResNet(Bottleneck, {layers})
"""


def test_builder_function_instantiates_a_configuration_that_is_wrong(tmp_path: Path) -> None:
    # Two stages end at 128 * 4 = 512 features; the head wants 2048 (four stages).
    check_bad(tmp_path, RESNET_TINY.format(mark="  # error: CL101", builder="resnet_tiny", layers="[2, 2]"))


def test_builder_function_instantiates_a_configuration_that_is_right(tmp_path: Path) -> None:
    check_good(tmp_path, RESNET_TINY.format(mark="", builder="resnet50", layers="[3, 4, 6, 3]"))


def test_class_alone_with_symbolic_configuration_is_silent(tmp_path: Path) -> None:
    source = RESNET_TINY.format(mark="", builder="unused", layers="[2, 2]")
    source = source.split("    def unused")[0]
    check_good(tmp_path, source)


def test_concrete_call_overrides_a_default_that_was_right(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, width=64):
                super().__init__()
                self.conv = nn.Conv2d(3, width, 3)
                self.bn = nn.BatchNorm2d(64)  # error: CL102

            def forward(self, x):
                return self.bn(self.conv(x))

        model = Net(width=32)
    """)


def test_builder_with_default_arguments_is_run_with_them(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        def make(width=32, depth=2):
            layers = [nn.Conv2d(3, width, 3)]
            for _ in range(depth):
                layers.append(nn.Conv2d(width, width, 3))
            layers.append(nn.Conv2d(64, 10, 1))  # error: CL101
            return nn.Sequential(*layers)
    """)


# ============================================================================ imports


def test_import_torch_nn_as_nn(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(4, 8, 3))  # error: CL101
    """)


def test_from_torch_import_nn(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        from torch import nn
        m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(4, 8, 3))  # error: CL101
    """)


def test_from_torch_nn_import_renamed_classes(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        from torch.nn import Conv2d as C, Sequential as S
        m = S(C(3, 8, 3), C(4, 8, 3))  # error: CL101
    """)


def test_import_torch_and_spell_the_full_path(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch
        m = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(4))  # error: CL102
    """)


def test_import_inside_a_function(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        def make():
            from torch import nn
            return nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(4, 8, 3))  # error: CL101
    """)


def test_a_users_own_conv2d_class_is_not_torchs(tmp_path: Path) -> None:
    # This Conv2d takes (out_channels, in_channels): as torch's it would look wrong.
    check_good(tmp_path, """
        import torch.nn as nn

        class Conv2d(nn.Module):
            def __init__(self, out_channels, in_channels, k):
                super().__init__()
                self.conv = nn.Conv2d(in_channels, out_channels, k)

            def forward(self, x):
                return self.conv(x)

        model = nn.Sequential(Conv2d(16, 3, 3), Conv2d(32, 16, 3))
    """)


def test_a_users_own_conv2d_class_is_still_followed(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        class Conv2d(nn.Module):
            def __init__(self, out_channels, in_channels, k):
                super().__init__()
                self.conv = nn.Conv2d(in_channels, out_channels, k)

            def forward(self, x):
                return self.conv(x)

        model = nn.Sequential(
            Conv2d(16, 3, 3),
            Conv2d(32, 8, 3),  # error: CL101
        )
    """)


def test_conv2d_from_another_library_is_not_torchs(tmp_path: Path) -> None:
    check_good(tmp_path, """
        from mylib.layers import Conv2d, Sequential
        model = Sequential(Conv2d(3, 16, 3), Conv2d(32, 8, 3))
    """)


def test_a_module_aliased_nn_that_is_not_torch_is_not_torch(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import mylib.layers as nn
        model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(32, 8, 3))
    """)


def test_a_users_conv2d_imported_from_a_sibling_module_is_not_torchs(tmp_path: Path) -> None:
    (tmp_path / "layers.py").write_text(textwrap.dedent("""
        import torch.nn as nn

        class Conv2d(nn.Module):
            def __init__(self, out_channels, in_channels, k):
                super().__init__()
                self.conv = nn.Conv2d(in_channels, out_channels, k)

            def forward(self, x):
                return self.conv(x)
    """))
    check_good(tmp_path, """
        import torch.nn as nn
        from layers import Conv2d

        model = nn.Sequential(Conv2d(16, 3, 3), Conv2d(32, 16, 3))
    """)


def test_star_import_from_torch_nn_is_torchs(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        from torch.nn import *
        from torch.nn.modules.conv import Conv2d as C2

        class Net(Module):
            def __init__(self):
                super().__init__()
                self.body = Sequential(Conv2d(3, 16, 3), C2(32, 8, 3))  # error: CL101
    """)


def test_a_function_redefining_an_imported_torch_name_is_the_users(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        from torch.nn import Conv2d

        def Conv2d(out_channels, in_channels, k):
            return nn.Conv2d(in_channels, out_channels, k)

        model = nn.Sequential(Conv2d(16, 3, 3), Conv2d(32, 16, 3))
    """)


def test_a_local_name_shadowing_nn_is_not_torch(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Fake:
            @staticmethod
            def Conv2d(a, b, k):
                return a

            @staticmethod
            def Sequential(*items):
                return items

        def make(nn=Fake):
            return nn.Sequential(nn.Conv2d(3, 16, 3), nn.Conv2d(32, 8, 3))
    """)


def test_layer_called_on_a_rank_without_its_channel_axis_is_reported_not_a_crash(tmp_path: Path) -> None:
    """What a layer teaches its input skips an axis the input does not have (it used to raise
    IndexError inside a list display, found by the half-typed property test)."""
    check_bad(tmp_path, """
        import torch.nn as nn
        class Net(nn.Module):  # convlint: input=(16,)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(16, 8, 3)  # error: CL105
            def forward(self, x):
                return [self.conv(x)]
    """)


# ============================================================================ recursion must terminate


def test_mutual_recursion_between_helpers_terminates(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn

        def a(n):
            return b(n + 1)

        def b(n):
            return a(n * 2)

        def build(depth=3):
            width = a(depth)
            return nn.Sequential(nn.Conv2d(3, width, 3), nn.Conv2d(16, 8, 3))

        ok = nn.Sequential(
            nn.Conv2d(3, 16, 3),
            nn.Conv2d(8, 8, 3),  # error: CL101
        )
    """)


def test_self_recursive_builder_terminates(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def stage(c, depth):
            if depth == 0:
                return nn.Conv2d(c, c, 3)
            return nn.Sequential(nn.Conv2d(c, c, 3), stage(c, depth - 1))

        model = stage(16, 1000)
    """)


def test_recursive_module_construction_terminates(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Tree(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 3)
                self.child = Tree(c)

            def forward(self, x):
                return self.child(self.conv(x))
    """)


def test_class_inheriting_from_itself_through_an_alias_terminates(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super(Net, self).__init__()
                self.conv = nn.Conv2d(3, 16, 3)

        Alias = Net

        class Net(Alias):
            def __init__(self):
                super(Net, self).__init__()
                Alias.__init__(self)

            def forward(self, x):
                return self.conv(x)

        model = Net()
    """)


def test_class_whose_base_is_itself_by_rebinding_terminates(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        Base = nn.Module

        class Net(Base):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 16, 3)

        Base = Net

        class Net(Base):
            def forward(self, x):
                return super().forward(x)

        Base = Net
        model = Net()
    """)


def test_methods_calling_each_other_forever_terminate(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(16, 16, 3)

            def forward(self, x):
                return self.again(self.conv(x))

            def again(self, x):
                return self.forward(x)
    """)


# ============================================================================ norms without weights


def test_batchnorm_without_affine_or_running_stats_is_never_reported(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.BatchNorm2d(16, affine=False, track_running_stats=False))
    """)


def test_instancenorm_default_holds_no_weights_and_is_never_reported(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn
        m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.InstanceNorm2d(16))
    """)


def test_instancenorm_with_affine_holds_weights_and_is_checked(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        m = nn.Sequential(
            nn.Conv2d(3, 32, 3),
            nn.InstanceNorm2d(16, affine=True),  # error: CL102
        )
    """)


def test_batchnorm_without_affine_still_tracks_running_stats_and_is_checked(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        m = nn.Sequential(
            nn.Conv2d(3, 32, 3),
            nn.BatchNorm2d(16, affine=False),  # error: CL102
        )
    """)


def test_norm_flags_from_an_unknown_value_are_silent(tmp_path: Path) -> None:
    check_good(tmp_path, """
        import torch.nn as nn

        def make(affine):
            return nn.Sequential(nn.Conv2d(3, 32, 3), nn.InstanceNorm2d(16, affine=affine))
    """)


# ============================================================================ budgets


def test_huge_loop_and_deep_recursion_finish_quickly_with_only_provable_findings(tmp_path: Path) -> None:
    source = textwrap.dedent("""
        import torch.nn as nn

        bad = nn.Sequential(
            nn.Conv2d(3, 16, 3),
            nn.Conv2d(8, 16, 3),  # error: CL101
        )

        layers = []
        for i in range(10**9):
            layers.append(nn.Conv2d(3, 3, 3))
        model = nn.Sequential(*layers, nn.Conv2d(3, 8, 3))

        def deep(n):
            if n == 0:
                return nn.Conv2d(3, 3, 3)
            return nn.Sequential(deep(n - 1), nn.Conv2d(3, 3, 3))

        net = deep(100000)

        def forever(c=3):
            return nn.Sequential(nn.Conv2d(c, c, 3), forever(c))

        def grow(c=3):
            layers = [nn.Conv2d(c, 2 * c, 1)]
            c = 2 * c
            while True:
                layers.append(nn.Conv2d(c, 2 * c, 1))
                c = 2 * c
            return nn.Sequential(*layers)
    """).lstrip("\n")
    started = time.perf_counter()
    found = lint(tmp_path, source)
    elapsed = time.perf_counter() - started
    assert found == sorted(expected_lines(source))
    assert elapsed < 3.0, f"took {elapsed:.1f}s"


def test_exponential_call_tree_is_bounded(tmp_path: Path) -> None:
    source = textwrap.dedent("""
        import torch.nn as nn

        def fan(n, c=3):
            if n == 0:
                return [nn.Conv2d(c, c, 1)]
            return fan(n - 1, c) + fan(n - 1, c) + fan(n - 1, c)

        model = nn.Sequential(*fan(30))
    """).lstrip("\n")
    started = time.perf_counter()
    assert lint(tmp_path, source) == []
    assert time.perf_counter() - started < 3.0


# Runs the linter in a child process whose address space is capped, so that a regression cannot
# take the machine's memory with it.
_CAPPED_LINT = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 29, 1 << 29))
from pathlib import Path
from convlint.config import load_settings
from convlint.runner import Linter
folder = Path(sys.argv[1])
started = time.perf_counter()
found = Linter(load_settings(folder, isolated=True), folder).lint_paths([folder / "model.py"])
print(sorted((d.line, d.code) for d in found))
print(time.perf_counter() - started)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_AS")
def test_list_doubling_in_a_loop_stays_within_the_item_budget(tmp_path: Path) -> None:
    source = textwrap.dedent("""
        import torch.nn as nn

        x = [nn.Identity()]
        for i in range(40):
            x = x + x
        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(4, 8, 3))  # error: CL101
    """).lstrip("\n")
    (tmp_path / "model.py").write_text(source)
    result = subprocess.run([sys.executable, "-c", _CAPPED_LINT, str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    found, elapsed = result.stdout.splitlines()
    assert found == str(sorted(expected_lines(source)))
    assert float(elapsed) < 3.0


def test_an_enum_lookup_is_not_a_new_object(tmp_path: Path) -> None:
    """``Format('NHWC') is Format.NHWC`` holds (the call looks the member up): deciding it false
    took timm's NHWC pooling down the NCHW branch."""
    check(tmp_path, """
        import enum
        import torch.nn as nn

        class Format(str, enum.Enum):
            NCHW = "NCHW"
            NHWC = "NHWC"

        def spatial_dims(fmt):
            fmt = Format(fmt)
            if fmt is Format.NHWC:
                return (1, 2)
            return (2, 3)

        class Head(nn.Module):  # convlint: input=(2, 7, 5, 384)
            def __init__(self):
                super().__init__()
                self.dims = spatial_dims("NHWC")
                self.fc = nn.Linear(384, 10)

            def forward(self, x):
                return self.fc(x.mean(self.dims))
    """)


def test_an_enum_member_is_not_the_value_written_for_it(tmp_path: Path) -> None:
    """``1 == Mode.WIDE`` is false for a plain Enum: reading the member as its value took the
    wrong branch."""
    check(tmp_path, """
        import enum
        import torch.nn as nn

        class Mode(enum.Enum):
            WIDE = 1

        def width(mode):
            return 64 if mode == Mode.WIDE else 32

        net = nn.Sequential(nn.Conv2d(3, width(1), 3), nn.Conv2d(32, 8, 3))
    """)


# ============================================================================ regrouping axes

_GPT = """
    import torch.nn as nn
    class CausalSelfAttention(nn.Module):
        def __init__(self, n_embd, n_head):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.n_head, self.n_embd = n_head, n_embd
        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            return q.view(B, T, self.n_head, C // self.n_head){mark}
    class GPT(nn.Module):
        def __init__(self, vocab=100, n_embd=96, n_head={heads}):
            super().__init__()
            self.wte = nn.Embedding(vocab, n_embd)
            self.attn = CausalSelfAttention(n_embd, n_head)
        def forward(self, idx):
            return self.attn(self.wte(idx))
"""


def test_head_split_after_unpacking_the_size_of_an_embedding(tmp_path: Path) -> None:
    """``B, T, C = x.size()`` gives x three axes and names B and T; the 96 features of the
    embedding split into 5 heads of 96 // 5 = 19 hold 95."""
    check_bad(tmp_path, _GPT.replace("{mark}", "  # error: CL106").replace("{heads}", "5"))


def test_head_split_that_divides_is_clean(tmp_path: Path) -> None:
    check_good(tmp_path, _GPT.replace("{mark}", "").replace("{heads}", "6"))


def test_unpacking_a_shape_gives_a_tensor_of_unknown_rank_that_many_axes(tmp_path: Path) -> None:
    """``n, c = y.shape`` raises unless y has two axes: (n, 96) cannot be viewed as (n, 5, -1)."""
    check_bad(tmp_path, """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 96)
            def forward(self, x):
                y = self.fc(x)
                n, c = y.shape
                return y.view(n, 5, -1)  # error: CL106
    """)


def test_unpacking_the_shape_of_an_unknown_result_teaches_only_that_name(tmp_path: Path) -> None:
    """Two results of operations the analysis does not follow are two tensors, even when both
    are simply unknown: ``n, c = stats.shape`` gives ``stats`` two axes, not ``features``."""
    check_good(tmp_path, """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.fc = nn.Linear(3 * 8 * 8, 4)
            def forward(self, x):
                features = x.narrow(1, 0, 3)
                stats = self.fc(x.flatten(1)).narrow(1, 0, 2)
                n, c = stats.shape
                return self.conv(features)
    """)


def test_a_layer_of_another_rank_teaches_nothing_and_does_not_crash(tmp_path: Path) -> None:
    """A Conv2d called on a flattened (2-D) tensor checks an axis the tensor does not have:
    CL105 says so, and learning the channels from it must not fail (it used to be CL003)."""
    check_bad(tmp_path, """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)  # error: CL105
            def forward(self, x):
                return self.conv(x.flatten(1))
    """)
