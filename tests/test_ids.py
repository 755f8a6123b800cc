from __future__ import annotations

import random
import string
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.core import ids
from shuhui.core.i18n import english
from shuhui.core.ids import (
    AUTHORITIES,
    CREDIT_CODE_CHARSET,
    IdCheck,
    InvalidIdentifier,
    check,
    citizen_id_check_char,
    credit_code_check_char,
    generate_citizen_ids,
    generate_credit_codes,
    parse_citizen_id,
    parse_credit_code,
)
from shuhui.core.regions import qingdao_districts

TODAY = date(2024, 6, 1)
CITIZEN = "11010519491231002X"
CREDIT = "91110000600037341L"
# Found by varying the organisation code until the check character came out a digit; an
# all-digit credit code is what check() must not mistake for a broken citizen id.
ALL_DIGIT_CREDIT = "913702001635626005"

# Characters a mutation may introduce: everything that can appear in either identifier, plus
# typical typing slips.
MUTATION_ALPHABET = sorted(set(string.digits + string.ascii_uppercase + "xo -/.*"))

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def citizen_reason(value: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidIdentifier) as info:
        parse_citizen_id(value, today=today)
    assert info.value.kind == "citizen_id"
    assert info.value.value == value
    # A person reads the Chinese; the English is the stable phrase pinned here.
    assert _has_chinese(info.value.reason)
    assert str(info.value) == f"citizen_id: {english(info.value.reason)}"
    return english(info.value.reason)


def credit_reason(value: str) -> str:
    with pytest.raises(InvalidIdentifier) as info:
        parse_credit_code(value)
    assert info.value.kind == "credit_code"
    assert _has_chinese(info.value.reason)
    assert str(info.value) == f"credit_code: {english(info.value.reason)}"
    return english(info.value.reason)


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


# --- known examples -------------------------------------------------------------------------


def test_known_citizen_id_by_hand() -> None:
    digits = [int(c) for c in CITIZEN[:17]]
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(d * w for d, w in zip(digits, weights, strict=True))
    assert total == 167
    assert (12 - total % 11) % 11 == 10  # 10 is written as X
    assert citizen_id_check_char(CITIZEN[:17]) == "X"

    parsed = parse_citizen_id(CITIZEN, today=TODAY)
    assert parsed.number == CITIZEN
    assert parsed.division == "110105"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.check == "X"


def test_known_credit_code_by_hand() -> None:
    values = {c: i for i, c in enumerate("0123456789ABCDEFGHJKLMNPQRTUWXY")}
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    # 9 1 1 1 0 0 0 0 6 0 0 0 3 7 3 4 1
    terms = [values[c] * w for c, w in zip(CREDIT[:17], weights, strict=True)]
    assert terms == [9, 3, 9, 27, 0, 0, 0, 0, 120, 0, 0, 0, 24, 168, 30, 120, 28]
    total = sum(terms)
    assert total == 538
    assert total % 31 == 11
    assert (31 - total % 31) % 31 == 20
    assert "0123456789ABCDEFGHJKLMNPQRTUWXY"[20] == "L"
    assert credit_code_check_char(CREDIT[:17]) == "L"

    parsed = parse_credit_code(CREDIT)
    assert parsed.code == CREDIT
    assert parsed.authority == "9"
    assert parsed.category == "1"
    assert parsed.division == "110000"
    assert parsed.org_code == "600037341"
    assert parsed.check == "L"


@pytest.mark.parametrize("code", ["91370200163562681G", ALL_DIGIT_CREDIT, "111101050000000017"])
def test_more_credit_codes(code: str) -> None:
    assert parse_credit_code(code).code == code
    assert check(code) == IdCheck(code, True, "credit_code", None)


def test_check_known_values() -> None:
    assert check(CITIZEN, today=TODAY) == IdCheck(CITIZEN, True, "citizen_id", None)
    assert check(f"  {CREDIT}\n") == IdCheck(CREDIT, True, "credit_code", None)
    assert check(CREDIT).as_dict() == {
        "value": CREDIT,
        "valid": True,
        "kind": "credit_code",
        "reason": None,
    }


def test_weights_follow_the_standards() -> None:
    citizen_weights = ids.CITIZEN_WEIGHTS
    credit_weights = ids.CREDIT_WEIGHTS
    assert citizen_weights == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    # GB 11643 counts positions from the right, check character = position 1.
    assert citizen_weights == tuple(2 ** (p - 1) % 11 for p in range(18, 1, -1))
    assert credit_weights == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert credit_weights == tuple(3 ** (i - 1) % 31 for i in range(1, 18))
    assert len(CREDIT_CODE_CHARSET) == 31
    assert not set("IOSVZ") & set(CREDIT_CODE_CHARSET)


def test_check_char_functions_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        citizen_id_check_char("1234")
    with pytest.raises(ValueError):
        citizen_id_check_char("1101051949123100A")
    with pytest.raises(ValueError):
        credit_code_check_char("9111000060003734I")


def test_authority_table_matches_gb_32100() -> None:
    expected = {
        "1": {"1", "2", "3", "9"},
        "2": {"1", "9"},
        "3": {"1", "2", "3", "4", "5", "9"},
        "4": {"1", "9"},
        "5": {"1", "2", "3", "9"},
        "6": {"1", "2", "9"},
        "7": {"1", "2", "9"},
        "8": {"1", "9"},
        "9": {"1", "2", "3"},
        "A": {"1", "9"},
        "N": {"1", "2", "3", "9"},
        "Y": {"1"},
    }
    assert {a: set(cats) for a, (_, cats) in AUTHORITIES.items()} == expected
    assert AUTHORITIES["9"][0] == "工商"
    assert AUTHORITIES["9"][1]["1"] == "企业"
    assert AUTHORITIES["5"][1]["3"] == "基金会"


# --- citizen-id reasons, in checking order ----------------------------------------------------


def with_check(first17: str) -> str:
    return first17 + citizen_id_check_char(first17)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (CITIZEN[:-1], "length must be 18 characters (got 17)"),
        (CITIZEN + "0", "length must be 18 characters (got 19)"),
        ("1101051949123100A" + "X", "characters 1-17 must be digits"),
        ("11010519491231002x", "check character must be a digit or upper-case X"),
        ("11010519491231002Y", "check character must be a digit or upper-case X"),
        (with_check("99010519491231002"), "unknown province code 99 in division code"),
        (with_check("10000019491231002"), "unknown province code 10 in division code"),
        (with_check("11010519490229002"), "birth date 19490229 is not a real date"),
        (with_check("11010519491301002"), "birth date 19491301 is not a real date"),
        (with_check("11010500000101002"), "birth date 00000101 is not a real date"),
        (with_check("11010520240602002"), "birth date is in the future"),
        (with_check("11010518891231002"), "birth year before 1890"),
        ("110105194912310021", "check character is '1' but should be 'X'"),
    ],
)
def test_citizen_id_reasons(value: str, reason: str) -> None:
    assert citizen_reason(value) == reason


def test_citizen_id_edge_dates() -> None:
    assert parse_citizen_id(with_check("11010520240601002"), today=TODAY).birth_date == TODAY
    assert parse_citizen_id(with_check("11010518900101002"), today=TODAY).birth_date.year == 1890
    assert parse_citizen_id(with_check("11010520000229001"), today=TODAY).sex == "M"


def test_citizen_id_accepts_taiwan_residence_permit_prefix() -> None:
    assert parse_citizen_id(with_check("83000019900101002"), today=TODAY).division == "830000"


def test_citizen_id_rejects_non_ascii_digits() -> None:
    full_width = "１" + CITIZEN[1:]
    assert citizen_reason(full_width) == "characters 1-17 must be digits"


# --- credit-code reasons, in checking order ---------------------------------------------------


def with_credit_check(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (CREDIT[:-1], "length must be 18 characters (got 17)"),
        (
            "911100006O0037341L",
            "character 10 ('O') is not in the credit-code character set (no I, O, S, V, Z)",
        ),
        (
            "91110000600037341Z",
            "character 18 ('Z') is not in the credit-code character set (no I, O, S, V, Z)",
        ),
        (
            "9111000060003734 L",
            "character 17 (' ') is not in the credit-code character set (no I, O, S, V, Z)",
        ),
        (with_credit_check("B1110000600037341"), "unknown registration authority code 'B'"),
        (
            with_credit_check("94110000600037341"),
            "organisation category '4' is not defined for registration authority '9'",
        ),
        (
            with_credit_check("Y2110000600037341"),
            "organisation category '2' is not defined for registration authority 'Y'",
        ),
        (with_credit_check("911A0000600037341"), "division code must be 6 digits"),
        (with_credit_check("91990000600037341"), "unknown province code 99 in division code"),
        ("91110000600037341M", "check character is 'M' but should be 'L'"),
    ],
)
def test_credit_code_reasons(value: str, reason: str) -> None:
    assert credit_reason(value) == reason


def test_credit_code_central_division() -> None:
    code = with_credit_check("11100000000013125")
    assert parse_credit_code(code).division == "100000"


def test_credit_code_ignores_org_code_check_digit() -> None:
    # 12345678 has GB 11714 check digit 8 (see below); 0 is wrong but must still be accepted.
    assert ids._org_code_check_char("12345678") != "0"
    code = with_credit_check("92370202123456780")
    assert parse_credit_code(code).category == "2"


def test_org_code_check_char_by_hand() -> None:
    # 1*3 + 2*7 + 3*9 + 4*10 + 5*5 + 6*8 + 7*4 + 8*2 = 201; 201 mod 11 = 3; 11 - 3 = 8
    assert ids._org_code_check_char("12345678") == "8"
    # M=22, A=10: 22*3 + 10*7 = 136; 136 mod 11 = 4; 11 - 4 = 7
    assert ids._org_code_check_char("MA000000") == "7"
    # 0 sum gives 11, written as 0; a remainder of 1 gives 10, written as X
    assert ids._org_code_check_char("00000000") == "0"
    assert ids._org_code_check_char("00000006") == "X"  # 6*2 = 12; 12 mod 11 = 1; 11 - 1 = 10
    assert ids._org_code_check_char("00000003") == "5"  # 3*2 = 6; 11 - 6 = 5


# --- check() ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "reason"),
    [
        ("", None, "empty value"),
        ("   \t\n", None, "empty value"),
        ("12345", None, "length must be 18 characters (got 5)"),
        (CITIZEN + "1", None, "length must be 18 characters (got 19)"),
        ("110105194912310021", "citizen_id", "check character is '1' but should be 'X'"),
        ("11010519491231002x", "citizen_id", "check character must be a digit or upper-case X"),
        # An all-digit first 17 that fails both ways is reported as the kind it nearly is: a
        # credit code whose only fault is its check character is a mistyped credit code...
        ("91110000600037341M", "credit_code", "check character is 'M' but should be 'L'"),
        ("913702001635626006", "credit_code", "check character is '6' but should be '5'"),
        # ...and otherwise the citizen-id reason stands.
        ("991100006000373419", "citizen_id", "unknown province code 99 in division code"),
        ("9111000060003734AM", "credit_code", "check character is 'M' but should be 'G'"),
        ("1101051949-231002X", "citizen_id", "characters 1-17 must be digits"),
        (
            "9111000060003734iL",
            "credit_code",
            "character 17 ('i') is not in the credit-code character set (no I, O, S, V, Z)",
        ),
    ],
)
def test_check_reports(value: str, kind: str | None, reason: str) -> None:
    result = check(value, today=TODAY)
    assert result == IdCheck(value.strip(), False, kind, result.reason)
    assert result.reason is not None and english(result.reason) == reason


def test_check_all_digit_credit_code_is_not_a_citizen_id() -> None:
    assert citizen_reason(ALL_DIGIT_CREDIT).startswith("unknown province code 91")
    assert check(ALL_DIGIT_CREDIT) == IdCheck(ALL_DIGIT_CREDIT, True, "credit_code", None)


# --- generators -------------------------------------------------------------------------------


def test_generators_are_deterministic() -> None:
    assert generate_citizen_ids(random.Random(7), 5) == generate_citizen_ids(random.Random(7), 5)
    assert generate_credit_codes(random.Random(7), 5) == generate_credit_codes(random.Random(7), 5)
    assert generate_citizen_ids(random.Random(7), 0) == []


def test_generators_default_to_qingdao() -> None:
    codes = {r.code for r in qingdao_districts()}
    assert {
        parse_citizen_id(v).division for v in generate_citizen_ids(random.Random(1), 50)
    } <= codes
    assert {
        parse_credit_code(v).division for v in generate_credit_codes(random.Random(1), 50)
    } <= codes


def test_generated_org_codes_satisfy_gb_11714() -> None:
    for code in generate_credit_codes(random.Random(3), 200, authority="5", category="3"):
        org = parse_credit_code(code).org_code
        assert ids._org_code_check_char(org[:8]) == org[8]
        assert code[:2] == "53"


def test_generator_argument_errors() -> None:
    rng = random.Random(0)
    with pytest.raises(ValueError):
        generate_citizen_ids(rng, -1)
    with pytest.raises(ValueError):
        generate_citizen_ids(rng, 1, sex="X")
    with pytest.raises(ValueError):
        generate_citizen_ids(rng, 1, divisions=["990000"])
    with pytest.raises(ValueError):
        generate_citizen_ids(rng, 1, divisions=[])
    with pytest.raises(ValueError):
        generate_citizen_ids(rng, 1, born_from=date(2000, 1, 2), born_to=date(2000, 1, 1))
    with pytest.raises(ValueError):
        generate_credit_codes(rng, 1, authority="9", category="9")
    with pytest.raises(ValueError):
        generate_credit_codes(rng, 1, authority="Z")
    with pytest.raises(ValueError):
        generate_credit_codes(rng, 1, divisions=["37020"])


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(min_value=1, max_value=5))
def test_generated_citizen_ids_validate(seed: int, n: int) -> None:
    values = generate_citizen_ids(random.Random(seed), n)
    assert len(values) == n
    for value in values:
        parse_citizen_id(value)
        assert check(value) == IdCheck(value, True, "citizen_id", None)


@settings(max_examples=40, deadline=None)
@given(
    seed=seeds,
    n=st.integers(min_value=1, max_value=5),
    pair=st.sampled_from([(a, c) for a, (_, cats) in AUTHORITIES.items() for c in cats]),
)
def test_generated_credit_codes_validate(seed: int, n: int, pair: tuple[str, str]) -> None:
    authority, category = pair
    values = generate_credit_codes(random.Random(seed), n, authority=authority, category=category)
    assert len(values) == n
    for value in values:
        parsed = parse_credit_code(value)
        assert (parsed.authority, parsed.category) == pair
        assert check(value) == IdCheck(value, True, "credit_code", None)


def _substitutions(value: str) -> list[str]:
    return [
        value[:i] + c + value[i + 1 :]
        for i in range(len(value))
        for c in MUTATION_ALPHABET
        if c != value[i]
    ]


@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_single_substitution_is_rejected(seed: int) -> None:
    rng = random.Random(seed)
    (citizen,) = generate_citizen_ids(rng, 1)
    (credit,) = generate_credit_codes(rng, 1)
    for mutated in _substitutions(citizen):
        with pytest.raises(InvalidIdentifier):
            parse_citizen_id(mutated)
        assert not check(mutated).valid, mutated
    for mutated in _substitutions(credit):
        with pytest.raises(InvalidIdentifier):
            parse_credit_code(mutated)
        assert not check(mutated).valid, mutated


@pytest.mark.parametrize("value", [CITIZEN, CREDIT])
def test_single_substitution_of_known_values_is_rejected(value: str) -> None:
    for mutated in _substitutions(value):
        assert not check(mutated, today=TODAY).valid, mutated


@settings(max_examples=30, deadline=None)
@given(
    seed=seeds,
    position=st.integers(min_value=0, max_value=18),
    char=st.sampled_from(MUTATION_ALPHABET),
)
def test_deletion_and_insertion_are_rejected(seed: int, position: int, char: str) -> None:
    rng = random.Random(seed)
    for value in (generate_citizen_ids(rng, 1)[0], generate_credit_codes(rng, 1)[0]):
        deleted = value[: min(position, 17)] + value[min(position, 17) + 1 :]
        inserted = value[:position] + char + value[position:]
        for mutated in (deleted, inserted):
            with pytest.raises(InvalidIdentifier):
                parse_citizen_id(mutated)
            with pytest.raises(InvalidIdentifier):
                parse_credit_code(mutated)
            if mutated.strip() == value:
                continue  # check() strips surrounding whitespace by design
            result = check(mutated)
            assert not result.valid
            assert result.kind is None
            assert result.reason == f"长度应为 18 位（实际 {len(mutated)} 位）"
            assert english(result.reason) == f"length must be 18 characters (got {len(mutated)})"


@settings(max_examples=40, deadline=None)
@given(
    seed=seeds,
    born=st.dates(min_value=date(1890, 1, 1), max_value=date(2020, 12, 31)),
    sex=st.sampled_from(["M", "F"]),
)
def test_generated_birth_date_and_sex_round_trip(seed: int, born: date, sex: str) -> None:
    for value in generate_citizen_ids(
        random.Random(seed), 3, sex=sex, born_from=born, born_to=born
    ):
        parsed = parse_citizen_id(value)
        assert parsed.birth_date == born
        assert parsed.sex == sex


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30))
def test_check_never_raises(text: str) -> None:
    result = check(text)
    assert isinstance(result, IdCheck)
    if result.valid:
        assert result.reason is None
        assert result.kind in ("citizen_id", "credit_code")
    else:
        assert isinstance(result.reason, str)
        assert result.reason


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=MUTATION_ALPHABET, min_size=18, max_size=18))
def test_check_never_raises_on_plausible_text(text: str) -> None:
    result = check(text, today=TODAY)
    assert result.valid == (result.reason is None)
    assert result.kind in ("citizen_id", "credit_code", None)
