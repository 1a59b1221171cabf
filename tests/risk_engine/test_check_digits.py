"""Check digits of container (ISO 6346) and ship (IMO) numbers, and what they cannot catch.

Neither check digit detects every single-character error, and the tests below pin down exactly
which ones slip through, so a flag "check digit valid" is never read as "number correct".

ISO 6346: sum S of value(char i) * 2**i over the first ten characters; check digit S mod 11 mod 10.
Every power of two is invertible mod 11, so a change moves S mod 11 unless the two values differ
by a multiple of 11. A single-character change of a valid number that keeps the format is missed
exactly when
  1. an owner-code letter (positions 1-3) becomes a letter whose value differs by 11 or 22
     (C=13 and M=24: CSQU3054383 and MSQU3054383 are both valid; A/K/U, B/L/V, ... likewise), or
  2. it moves S mod 11 between 10 and 0: both give check digit 0
     (CSQU3054300 and CSQU3054320 are both valid).
Category letters U=32, J=20, Z=38 and digits never differ by a multiple of 11, and the check digit
itself is unique for a given S, so every other single-character change is caught.

IMO: sum of the first six digits times 7, 6, 5, 4, 3, 2; check digit is its last digit. Changing
a digit by delta is missed exactly when weight * delta = 0 mod 10: the third digit (weight 5)
changed by an even amount, or the second, fourth or sixth digit (weights 6, 4, 2) changed by 5
(9074729, 9094729 and 9574729 are all valid). Weights 7 and 3 and the check digit catch every
change. That is 7 of the 63 single-digit substitutions of any number, one in nine.
"""

from __future__ import annotations

import string

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from risk_engine.reference import (
    imo_check_digit,
    imo_is_valid,
    imo_valid_array,
    iso6346_check_digit,
    iso6346_is_valid,
    iso6346_valid_array,
)

# The ISO 6346 letter values written out, independent of the implementation's table.
LETTER_VALUES = dict(
    zip(
        string.ascii_uppercase,
        [10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 34]
        + [35, 36, 37, 38],
        strict=True,
    )
)
IMO_WEIGHTS = (7, 6, 5, 4, 3, 2)
REPLACEMENTS = string.ascii_uppercase + string.digits

owner_codes = st.text(alphabet=string.ascii_uppercase, min_size=3, max_size=3)
categories = st.sampled_from("UJZ")
serials = st.text(alphabet=string.digits, min_size=6, max_size=6)


def _value(char: str) -> int:
    return LETTER_VALUES[char] if char.isalpha() else int(char)


def _sum_mod_11(first_ten: str) -> int:
    return sum(_value(char) * int(2**i) for i, char in enumerate(first_ten)) % 11


@st.composite
def valid_containers(draw: st.DrawFn) -> str:
    first_ten = draw(owner_codes) + draw(categories) + draw(serials)
    return first_ten + str(_sum_mod_11(first_ten) % 10)


@st.composite
def well_formed_containers(draw: st.DrawFn) -> str:
    return (
        draw(owner_codes) + draw(categories) + draw(serials) + draw(st.sampled_from(string.digits))
    )


def _single_character_changes(number: str) -> list[tuple[int, str]]:
    return [
        (position, number[:position] + char + number[position + 1 :])
        for position in range(len(number))
        for char in REPLACEMENTS
        if char != number[position]
    ]


def _iso6346_blind_spot(original: str, position: int, changed: str) -> bool:
    """The documented cases where a well-formed single-character change keeps a valid digit."""
    well_formed = changed[:3].isalpha() and changed[3] in "UJZ" and changed[4:].isdigit()
    if not well_formed or position == 10:
        return False
    same_owner_class = (
        position < 3 and (_value(changed[position]) - _value(original[position])) % 11 == 0
    )
    moves_between_ten_and_zero = {_sum_mod_11(original[:10]), _sum_mod_11(changed[:10])} == {0, 10}
    return same_owner_class or moves_between_ten_and_zero


def test_letter_values_skip_multiples_of_eleven() -> None:
    assert LETTER_VALUES["A"] == 10
    assert LETTER_VALUES["K"] == 21
    assert LETTER_VALUES["L"] == 23
    assert LETTER_VALUES["V"] == 34
    assert not any(value % 11 == 0 for value in LETTER_VALUES.values())


def test_known_container_numbers_are_valid() -> None:
    for number in ("CSQU3054383", "MWCU6059784", "CBHU3202732"):
        assert iso6346_is_valid(number)
        assert iso6346_check_digit(number[:10]) == int(number[10])
    assert iso6346_valid_array(["CSQU3054383", "MWCU6059784", "CBHU3202732"]).all()


def test_owner_letters_eleven_apart_share_a_check_digit() -> None:
    assert LETTER_VALUES["M"] - LETTER_VALUES["C"] == 11
    assert iso6346_is_valid("MSQU3054383")


def test_sums_of_ten_and_zero_mod_eleven_share_check_digit_zero() -> None:
    assert _sum_mod_11("CSQU305430") == 10
    assert _sum_mod_11("CSQU305432") == 0
    assert iso6346_is_valid("CSQU3054300")
    assert iso6346_is_valid("CSQU3054320")


def test_malformed_container_numbers_are_invalid() -> None:
    for number in ("CSQU305438", "CSQU30543833", "CSQA3054383", "csqu3054383", "C5QU3054383", ""):
        assert not iso6346_is_valid(number)


@given(valid_containers())
def test_every_generated_valid_container_number_passes(number: str) -> None:
    assert iso6346_is_valid(number)


@settings(max_examples=300)
@given(valid_containers())
def test_a_single_character_change_is_missed_only_in_the_two_blind_spots(number: str) -> None:
    for position, changed in _single_character_changes(number):
        assert iso6346_is_valid(changed) == _iso6346_blind_spot(number, position, changed), (
            number,
            changed,
        )


@given(st.lists(st.one_of(well_formed_containers(), valid_containers()), max_size=50))
def test_vectorised_container_check_agrees_with_scalar(numbers: list[str]) -> None:
    expected = np.array([iso6346_is_valid(number) for number in numbers], dtype=bool)
    np.testing.assert_array_equal(iso6346_valid_array(numbers), expected)


def test_vectorised_container_check_accepts_an_empty_batch() -> None:
    assert iso6346_valid_array([]).shape == (0,)


def test_known_imo_number_is_valid() -> None:
    assert imo_is_valid("9074729")
    assert imo_check_digit("907472") == 9
    assert imo_valid_array(["9074729"]).all()


def test_imo_misses_even_changes_of_the_third_digit_and_changes_of_five_at_even_weights() -> None:
    missed = {
        (weight, delta)
        for weight in IMO_WEIGHTS
        for delta in range(-9, 10)
        if delta != 0 and weight * delta % 10 == 0
    }
    assert missed == {(5, d) for d in (-8, -6, -4, -2, 2, 4, 6, 8)} | {
        (w, d) for w in (6, 4, 2) for d in (-5, 5)
    }
    assert imo_is_valid("9094729")  # third digit 7 -> 9, weight 5
    assert imo_is_valid("9574729")  # second digit 0 -> 5, weight 6


def test_malformed_imo_numbers_are_invalid() -> None:
    for number in ("907472", "90747290", "907472X", "IMO9074729", "９０７４７２９", ""):
        assert not imo_is_valid(number)


imo_first_six = st.text(alphabet=string.digits, min_size=6, max_size=6)


@given(imo_first_six)
def test_a_single_digit_change_of_an_imo_number_is_missed_only_when_weight_times_delta_is_0_mod_10(
    first_six: str,
) -> None:
    total = sum(int(digit) * weight for digit, weight in zip(first_six, IMO_WEIGHTS, strict=True))
    number = first_six + str(total % 10)
    assert imo_is_valid(number)
    missed = 0
    for position, changed in _single_character_changes(number):
        if not changed[position].isdigit():
            assert not imo_is_valid(changed)
            continue
        delta = int(changed[position]) - int(number[position])
        blind_spot = position < 6 and IMO_WEIGHTS[position] * delta % 10 == 0
        assert imo_is_valid(changed) == blind_spot, (number, changed)
        missed += blind_spot
    assert missed == 7  # of the 63 single-digit substitutions


@given(st.lists(st.text(alphabet=string.digits, min_size=7, max_size=7), max_size=50))
def test_vectorised_imo_check_agrees_with_scalar(numbers: list[str]) -> None:
    expected = np.array([imo_is_valid(number) for number in numbers], dtype=bool)
    np.testing.assert_array_equal(imo_valid_array(numbers), expected)
