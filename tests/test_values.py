"""The value domain of the interpreter (``convlint.analysis.values``) and the join of two paths'
values (``convlint.analysis.objects.join_values``).

A ``Dim`` is ``const + sum(coefficient * symbol)`` where every symbol stands for a positive
integer. Every operation returns a known int, a ``Dim`` or ``UNKNOWN``; a question it cannot
answer for every positive assignment of the symbols answers "not provable".
"""

from __future__ import annotations

import pytest

from convlint.analysis.objects import join_values
from convlint.analysis.values import (
    INT_LIMIT,
    UNKNOWN,
    Dim,
    add,
    as_dim,
    describe,
    floor_divide,
    is_resolved,
    known_factor,
    multiply,
    provably_different,
    provably_equal,
    sign_of,
    unknown_positive,
)

c = Dim.symbol("c")
a = Dim.symbol("a")
b = Dim.symbol("b")


def linear(const: int, **coefficients: int) -> Dim:
    return Dim(const, tuple(sorted(coefficients.items())))


# ----------------------------------------------------------------------------- Dim and as_dim


def test_symbol_is_one_times_the_name_with_no_constant() -> None:
    assert c == Dim(0, (("c", 1),))
    assert c.const == 0 and c.terms == (("c", 1),)


def test_dims_are_immutable_values_compared_by_content() -> None:
    assert Dim.symbol("c") == Dim.symbol("c")
    assert hash(Dim.symbol("c")) == hash(Dim.symbol("c"))
    assert Dim.symbol("c") != Dim.symbol("d")
    with pytest.raises(Exception):
        c.const = 3  # type: ignore[misc]


def test_as_dim_wraps_a_known_int_as_a_constant_form() -> None:
    assert as_dim(16) == Dim(16, ())
    assert as_dim(0) == Dim(0, ())
    assert as_dim(-3) == Dim(-3, ())


def test_as_dim_returns_a_dim_unchanged() -> None:
    form = linear(16, c=2)
    assert as_dim(form) is form


@pytest.mark.parametrize("value", [True, False, 1.0, 3.5, "16", None, (16,), [16], UNKNOWN])
def test_as_dim_rejects_everything_that_is_not_an_integer(value) -> None:
    assert as_dim(value) is None


def test_is_resolved_means_known_or_symbolic_integer() -> None:
    assert is_resolved(3) and is_resolved(c)
    assert not is_resolved(UNKNOWN) and not is_resolved(True) and not is_resolved("3")


# ----------------------------------------------------------------------------- add


def test_add_of_known_ints_is_the_int() -> None:
    assert add(3, 4) == 7
    assert type(add(3, 4)) is int


def test_add_with_negative_sign_subtracts() -> None:
    assert add(3, 4, sign=-1) == -1
    assert add(c, 1, sign=-1) == linear(-1, c=1)


def test_add_collects_terms_of_the_same_symbol() -> None:
    assert add(c, c) == linear(0, c=2)
    assert add(linear(1, c=2), linear(5, c=3)) == linear(6, c=5)


def test_add_keeps_terms_sorted_by_symbol_name() -> None:
    assert add(Dim.symbol("z"), Dim.symbol("a")) == Dim(0, (("a", 1), ("z", 1)))
    assert add(Dim.symbol("a"), Dim.symbol("z")) == add(Dim.symbol("z"), Dim.symbol("a"))


def test_add_of_a_symbol_and_a_constant_is_a_linear_form() -> None:
    assert add(c, 16) == linear(16, c=1)
    assert add(16, c) == linear(16, c=1)


def test_terms_that_cancel_collapse_to_a_plain_int() -> None:
    difference = add(c, c, sign=-1)
    assert difference == 0 and type(difference) is int
    assert add(linear(5, c=2), linear(1, c=2), sign=-1) == 4
    assert type(add(linear(5, c=2), linear(1, c=2), sign=-1)) is int


@pytest.mark.parametrize("other", [UNKNOWN, None, "3", 1.5, True, (1,)])
def test_add_with_anything_not_an_integer_is_unknown(other) -> None:
    assert add(c, other) is UNKNOWN
    assert add(other, 3) is UNKNOWN


# ----------------------------------------------------------------------------- multiply


def test_multiply_of_known_ints_is_the_int() -> None:
    assert multiply(6, 7) == 42


def test_multiply_scales_every_term_and_the_constant() -> None:
    assert multiply(linear(3, c=2), 4) == linear(12, c=8)
    assert multiply(4, linear(3, c=2)) == linear(12, c=8)


def test_multiply_by_zero_is_zero() -> None:
    product = multiply(linear(3, c=2), 0)
    assert product == 0 and type(product) is int


def test_multiply_by_minus_one_negates() -> None:
    assert multiply(c, -1) == linear(0, c=-1)


def test_product_of_two_symbolic_values_is_not_linear_so_unknown() -> None:
    assert multiply(c, c) is UNKNOWN
    assert multiply(a, linear(1, b=1)) is UNKNOWN


@pytest.mark.parametrize("other", [UNKNOWN, None, 2.0, "2", False])
def test_multiply_with_anything_not_an_integer_is_unknown(other) -> None:
    assert multiply(c, other) is UNKNOWN
    assert multiply(other, 2) is UNKNOWN


# ----------------------------------------------------------------------------- floor_divide


def test_floor_divide_of_a_form_whose_coefficients_are_multiples() -> None:
    assert floor_divide(linear(4, c=2), 2) == linear(2, c=1)
    assert floor_divide(linear(0, c=6), 3) == linear(0, c=2)


def test_floor_divide_of_divisible_known_ints() -> None:
    assert floor_divide(64, 4) == 16


def test_floor_divide_of_a_form_that_may_not_be_a_multiple_is_unknown() -> None:
    # c // 2 depends on the parity of c; (2c + 1) // 2 is c, but the domain does not need it.
    assert floor_divide(c, 2) is UNKNOWN
    assert floor_divide(linear(1, c=2), 2) is UNKNOWN


@pytest.mark.parametrize("divisor", [0, -2, c, UNKNOWN, 2.0, None])
def test_floor_divide_by_zero_negative_symbolic_or_unknown_is_unknown(divisor) -> None:
    assert floor_divide(linear(0, c=4), divisor) is UNKNOWN
    assert floor_divide(8, divisor) is UNKNOWN


def test_floor_divide_of_unknown_is_unknown() -> None:
    assert floor_divide(UNKNOWN, 2) is UNKNOWN


def test_floor_divide_never_gives_a_wrong_known_result() -> None:
    # Whatever it cannot do exactly, it must not get wrong: Python's floor semantics or UNKNOWN.
    for left in range(-9, 10):
        for right in range(1, 5):
            result = floor_divide(left, right)
            assert result is UNKNOWN or result == left // right, (left, right, result)


# ----------------------------------------------------------------------------- sign_of


@pytest.mark.parametrize("value, sign", [(5, 1), (0, 0), (-5, -1)])
def test_sign_of_a_known_int(value, sign) -> None:
    assert sign_of(value) == sign


def test_sign_of_a_positive_symbol_is_positive() -> None:
    assert sign_of(c) == 1
    assert sign_of(linear(0, a=1, b=3)) == 1


def test_sign_of_a_negated_symbol_is_negative() -> None:
    assert sign_of(linear(0, c=-1)) == -1
    assert sign_of(linear(-1, a=-1, b=-2)) == -1


def test_sign_is_decided_by_the_smallest_value_all_symbols_equal_to_one() -> None:
    assert sign_of(linear(-1, c=2)) == 1  # 2c - 1 >= 1
    assert sign_of(linear(1, c=-2)) == -1  # 1 - 2c <= -1


def test_sign_of_a_form_that_can_reach_zero_is_not_provable() -> None:
    assert sign_of(linear(-1, c=1)) is None  # c - 1 is 0 at c == 1
    assert sign_of(linear(-2, a=1, b=1)) is None  # a + b - 2 is 0 at a == b == 1
    assert sign_of(linear(1, c=-1)) is None


def test_sign_of_a_form_that_can_change_sign_is_not_provable() -> None:
    assert sign_of(linear(-5, c=1)) is None
    assert sign_of(add(a, b, sign=-1)) is None


@pytest.mark.parametrize("value", [UNKNOWN, None, "3", 2.5, True])
def test_sign_of_a_non_integer_is_not_provable(value) -> None:
    assert sign_of(value) is None


# ----------------------------------------------------------------------------- provably_*


def test_different_known_ints_are_provably_different() -> None:
    assert provably_different(64, 32)
    assert not provably_equal(64, 32)


def test_equal_known_ints_are_provably_equal() -> None:
    assert provably_equal(64, 64)
    assert not provably_different(64, 64)


def test_c_and_twice_c_are_provably_different_for_every_positive_c() -> None:
    assert provably_different(c, multiply(c, 2))
    assert provably_different(multiply(c, 2), c)


def test_c_and_c_plus_a_constant_are_provably_different() -> None:
    assert provably_different(c, add(c, 1))


def test_the_same_form_written_two_ways_is_provably_equal() -> None:
    assert provably_equal(add(c, 1), add(1, c))
    assert provably_equal(multiply(add(c, 2), 2), add(multiply(c, 2), 4))
    assert not provably_different(add(c, 1), add(1, c))


def test_unrelated_symbols_are_neither_provably_equal_nor_different() -> None:
    assert not provably_different(a, b)
    assert not provably_equal(a, b)


def test_a_symbol_and_a_constant_are_not_provably_different() -> None:
    # c may be 16.
    assert not provably_different(c, 16)
    assert not provably_equal(c, 16)


def test_a_symbol_and_zero_are_provably_different_since_symbols_are_positive() -> None:
    assert provably_different(c, 0)


def test_a_value_that_might_coincide_is_not_provably_different() -> None:
    # 2c == c + 1 when c == 1
    assert not provably_different(multiply(c, 2), add(c, 1))


def test_a_multiple_of_a_symbol_is_provably_different_from_what_it_cannot_divide() -> None:
    # 64*s is 64, 128, 192 …: never 100; 2a + 4b is even, never 7.
    assert provably_different(multiply(c, 64), 100)
    assert provably_different(linear(0, a=2, b=4), 7)
    assert not provably_different(multiply(c, 64), 128)
    assert not provably_different(linear(1, a=2, b=-3), 0)  # 2a - 3b + 1 is 0 for a=1, b=1


def test_unknown_positive_symbols_are_fresh_and_keep_their_known_factor() -> None:
    first, second = unknown_positive(), unknown_positive()
    assert not provably_equal(first, second)
    assert not provably_different(multiply(first, 64), multiply(second, 32))
    assert known_factor(multiply(first, 64)) == 64
    assert known_factor(multiply(c, 64)) is None


@pytest.mark.parametrize("value", [UNKNOWN, None, "64", 64.0, True])
def test_unknown_or_non_integer_is_never_provably_anything(value) -> None:
    assert not provably_different(value, 64)
    assert not provably_different(64, value)
    assert not provably_equal(value, 64)
    assert not provably_equal(value, value)


def test_unknown_is_not_provably_equal_to_itself() -> None:
    assert not provably_equal(UNKNOWN, UNKNOWN)
    assert not provably_different(UNKNOWN, UNKNOWN)


# ----------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    "value, text",
    [
        (64, "64"),
        (0, "0"),
        (-3, "-3"),
        (c, "c"),
        (linear(16, c=2), "2*c + 16"),
        (linear(-1, c=1), "c - 1"),
        (linear(0, c=-1), "-c"),
        (linear(0, a=1, b=-1), "a - b"),
        (linear(0, a=2, b=-3), "2*a - 3*b"),
        (linear(4, a=1, b=1), "a + b + 4"),
    ],
)
def test_describe_writes_integers_as_a_reader_would(value, text) -> None:
    assert describe(value) == text


@pytest.mark.parametrize("value", [UNKNOWN, None, "64", 2.5, True, (64,)])
def test_describe_writes_anything_unresolved_as_a_question_mark(value) -> None:
    assert describe(value) == "?"


def test_unknown_has_a_readable_repr_and_is_a_singleton() -> None:
    assert repr(UNKNOWN) == "UNKNOWN"
    assert type(UNKNOWN)() is UNKNOWN


def test_unknown_survives_pickling_as_the_same_singleton() -> None:
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN
    assert copy.deepcopy(UNKNOWN) is UNKNOWN


# ----------------------------------------------------------------------------- UNKNOWN propagation


@pytest.mark.parametrize(
    "operation",
    [
        lambda: add(UNKNOWN, 1),
        lambda: add(1, UNKNOWN),
        lambda: add(c, UNKNOWN, sign=-1),
        lambda: multiply(UNKNOWN, 2),
        lambda: multiply(c, UNKNOWN),
        lambda: floor_divide(UNKNOWN, 2),
        lambda: floor_divide(c, UNKNOWN),
        lambda: add(multiply(c, c), 1),
        lambda: multiply(add(multiply(c, c), 1), 2),
    ],
)
def test_unknown_propagates_through_every_operation(operation) -> None:
    assert operation() is UNKNOWN


# ----------------------------------------------------------------------------- INT_LIMIT


def test_int_limit_itself_is_still_known() -> None:
    assert add(INT_LIMIT, 0) == INT_LIMIT
    assert add(-INT_LIMIT, 0) == -INT_LIMIT


def test_add_beyond_int_limit_is_unknown() -> None:
    assert add(INT_LIMIT, 1) is UNKNOWN
    assert add(-INT_LIMIT, 1, sign=-1) is UNKNOWN


def test_multiply_beyond_int_limit_is_unknown() -> None:
    assert multiply(2**40, 2**40) is UNKNOWN
    assert multiply(INT_LIMIT, -2) is UNKNOWN


def test_a_coefficient_beyond_int_limit_is_unknown() -> None:
    assert multiply(c, INT_LIMIT + 1) is UNKNOWN
    assert add(multiply(c, INT_LIMIT), c) is UNKNOWN


def test_a_constant_beyond_int_limit_in_a_symbolic_form_is_unknown() -> None:
    assert add(c, INT_LIMIT + 1) is UNKNOWN


def test_repeated_doubling_becomes_unknown_instead_of_growing_without_bound() -> None:
    value = c
    for _ in range(100):
        value = multiply(value, 2)
    assert value is UNKNOWN
    assert add(value, 1) is UNKNOWN


def test_overflow_is_never_provably_different() -> None:
    assert not provably_different(multiply(2**40, 2**40), 1)


# ----------------------------------------------------------------------------- join_values


@pytest.mark.parametrize("value", [0, 64, -1, 2.5, "relu", True, False, None, c, linear(16, c=2), UNKNOWN])
def test_join_of_equal_values_keeps_the_value(value) -> None:
    joined = join_values(value, value)
    assert joined is value or joined == value


def test_join_of_equal_but_distinct_objects_keeps_the_value() -> None:
    big = 10**12
    assert join_values(big, int(str(big))) == big
    assert join_values(Dim.symbol("c"), Dim(0, (("c", 1),))) == c
    assert join_values("ab" * 10, "".join(["ab"] * 10)) == "ab" * 10


@pytest.mark.parametrize(
    "left, right",
    [
        (64, 32),
        (c, linear(0, c=2)),
        (c, a),
        (64, c),
        ("relu", "gelu"),
        (None, 0),
        (64, UNKNOWN),
        (UNKNOWN, 64),
        (None, UNKNOWN),
    ],
)
def test_join_of_different_values_is_unknown(left, right) -> None:
    assert join_values(left, right) is UNKNOWN


@pytest.mark.parametrize("left, right", [(1, True), (0, False), (1, 1.0), (0, 0.0), (True, 1)])
def test_join_never_merges_values_of_different_types(left, right) -> None:
    # 1 == True in Python, but a flag and a channel count are not the same value.
    assert join_values(left, right) is UNKNOWN


def test_join_of_tuples_is_elementwise() -> None:
    assert join_values((3, 64, c), (3, 32, c)) == (3, UNKNOWN, c)


def test_join_of_nested_tuples_is_elementwise_all_the_way_down() -> None:
    assert join_values((1, (2, 3)), (1, (2, 4))) == (1, (2, UNKNOWN))


def test_join_of_equal_tuples_keeps_them() -> None:
    assert join_values((3, 3), (3, 3)) == (3, 3)


def test_join_of_tuples_of_different_lengths_is_unknown() -> None:
    assert join_values((1, 2), (1, 2, 3)) is UNKNOWN
    assert join_values((), (1,)) is UNKNOWN


def test_join_of_a_tuple_and_a_non_tuple_is_unknown() -> None:
    assert join_values((3,), 3) is UNKNOWN
    assert join_values(3, (3,)) is UNKNOWN


def test_join_of_distinct_objects_without_value_equality_is_unknown() -> None:
    class Thing:
        pass

    first, second = Thing(), Thing()
    assert join_values(first, first) is first
    assert join_values(first, second) is UNKNOWN


def test_join_survives_a_comparison_that_raises() -> None:
    class Hostile:
        def __eq__(self, other):
            raise RuntimeError("no")

        __hash__ = object.__hash__

    first, second = Hostile(), Hostile()
    assert join_values(first, second) is UNKNOWN


def test_join_is_symmetric_on_simple_values() -> None:
    samples = [0, 1, 64, c, linear(1, c=2), "x", None, UNKNOWN, (1, 2), (1, c), True]
    for left in samples:
        for right in samples:
            assert join_values(left, right) == join_values(right, left), (left, right)
