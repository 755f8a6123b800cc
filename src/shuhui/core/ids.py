"""Validation and generation of the two identifiers a city government sees every day.

* 公民身份号码 (citizen identity number), GB 11643-1999: 6-digit division code, 8-digit birth
  date, 3-digit sequence (odd for men, even for women), and a MOD 11-2 check character.
* 统一社会信用代码 (unified social credit code), GB 32100-2015: registration authority,
  organisation category, 6-digit division code, 9-character organisation code (GB 11714),
  and a MOD 31 check character.

Rejection reasons are :class:`shuhui.core.i18n.Text`: the Chinese a person reads, with a short,
stable English phrase (``.en``) that the English interface shows and tests pin.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from shuhui.core.i18n import Text
from shuhui.core.regions import PROVINCE_CODES, qingdao_districts

__all__ = [
    "AUTHORITIES",
    "CREDIT_CODE_CHARSET",
    "CitizenId",
    "CreditCode",
    "IdCheck",
    "InvalidIdentifier",
    "check",
    "citizen_id_check_char",
    "credit_code_check_char",
    "generate_citizen_ids",
    "generate_credit_codes",
    "parse_citizen_id",
    "parse_credit_code",
]

Kind = Literal["citizen_id", "credit_code"]

_DIGITS = "0123456789"
_DIGIT_SET = frozenset(_DIGITS)
_LENGTH = 18

# --- citizen identity number -------------------------------------------------------------

# GB 11643 numbers positions from the right (the check character is position 1) and weights
# position p with 2^(p-1) mod 11; read left to right that is 2^(18-i) mod 11 for i = 1..17,
# i.e. 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2.
CITIZEN_WEIGHTS = tuple(pow(2, 18 - i, 11) for i in range(1, 18))
CITIZEN_CHECK_CHARS = "0123456789X"
MIN_BIRTH_YEAR = 1890

# --- unified social credit code ----------------------------------------------------------

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_CODE_CHARSET)}
# W_i = 3^(i-1) mod 31 for i = 1..17.
CREDIT_WEIGHTS = tuple(pow(3, i - 1, 31) for i in range(1, 18))
# Registrations made by central-level authorities carry 10xxxx instead of a province prefix.
CENTRAL_DIVISION_PREFIX = "10"

# GB 32100-2015 table of registration authorities and the organisation categories each may
# issue, with amendments (中央军委改革和编制办公室, 农业). Chinese names are kept so pages can
# show them as-is.
AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": (
        "机构编制",
        {"1": "机关", "2": "事业单位", "3": "编办直管群众团体", "9": "其他"},
    ),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {
            "1": "外国旅游部门常驻代表机构",
            "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
            "9": "其他",
        },
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {
            "1": "组级集体经济组织",
            "2": "村级集体经济组织",
            "3": "乡镇级集体经济组织",
            "9": "其他",
        },
    ),
    "Y": ("其他", {"1": "其他"}),
}

# GB 11714 organisation code: 8 body characters and a MOD 11 check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_VALUES = {c: i for i, c in enumerate(_ORG_ALPHABET)}


@dataclass(frozen=True)
class IdCheck:
    """Outcome of :func:`check`; ``value`` is the input with surrounding whitespace removed."""

    value: str
    valid: bool
    kind: str | None
    reason: str | None

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "valid": self.valid, "kind": self.kind, "reason": self.reason}


@dataclass(frozen=True)
class CitizenId:
    number: str
    division: str
    birth_date: date
    sex: Literal["M", "F"]
    check: str


@dataclass(frozen=True)
class CreditCode:
    code: str
    authority: str
    category: str
    division: str
    org_code: str
    check: str


class InvalidIdentifier(ValueError):
    def __init__(self, kind: str, value: str, reason: Text) -> None:
        super().__init__(f"{kind}: {reason.en}")
        self.kind = kind
        self.value = value
        self.reason = reason


def _all_digits(text: str) -> bool:
    # str.isdigit() also accepts full-width and other Unicode digits, which int() would
    # happily convert; identifiers are ASCII only.
    return all(c in _DIGIT_SET for c in text)


def _length_reason(value: str) -> Text:
    return Text(
        f"长度应为 18 位（实际 {len(value)} 位）",
        f"length must be 18 characters (got {len(value)})",
    )


_NOT_DIGITS = Text("前 17 位必须是数字", "characters 1-17 must be digits")


def _province_reason(province: str) -> Text:
    return Text(
        f"行政区划代码的省级代码 {province} 不存在",
        f"unknown province code {province} in division code",
    )


def _check_char_reason(found: str, expected: str) -> Text:
    return Text(
        f"校验位是“{found}”，应为“{expected}”",
        f"check character is '{found}' but should be '{expected}'",
    )


# --- check characters --------------------------------------------------------------------


def citizen_id_check_char(first17: str) -> str:
    """MOD 11-2 check character for the first 17 digits of a citizen identity number."""
    if len(first17) != _LENGTH - 1 or not _all_digits(first17):
        raise ValueError("expected exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, CITIZEN_WEIGHTS, strict=True))
    return CITIZEN_CHECK_CHARS[(12 - total % 11) % 11]


def credit_code_check_char(first17: str) -> str:
    """MOD 31 check character for the first 17 characters of a unified social credit code."""
    if len(first17) != _LENGTH - 1 or any(c not in _CREDIT_VALUES for c in first17):
        raise ValueError("expected exactly 17 characters from the credit-code character set")
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def _org_code_check_char(body: str) -> str:
    total = sum(_ORG_VALUES[c] * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    if value == 10:
        return "X"
    if value == 11:
        return "0"
    return str(value)


# --- parsing -----------------------------------------------------------------------------


def parse_citizen_id(value: str, *, today: date | None = None) -> CitizenId:
    def fail(reason: Text) -> InvalidIdentifier:
        return InvalidIdentifier("citizen_id", value, reason)

    if len(value) != _LENGTH:
        raise fail(_length_reason(value))
    body, check_char = value[:17], value[17]
    if not _all_digits(body):
        raise fail(_NOT_DIGITS)
    if check_char not in CITIZEN_CHECK_CHARS:
        # Lower-case x is rejected rather than normalised: the stored value must be the
        # canonical form, and silently fixing it here would hide data-entry problems upstream.
        raise fail(
            Text("校验位必须是数字或大写 X", "check character must be a digit or upper-case X")
        )
    division = body[:6]
    # Only the province is checked. County codes are retired and renumbered all the time, but
    # a number issued under an old code stays valid for life, so matching against the current
    # county list would reject real people.
    if division[:2] not in PROVINCE_CODES:
        raise fail(_province_reason(division[:2]))
    raw_date = body[6:14]
    try:
        birth = date(int(raw_date[:4]), int(raw_date[4:6]), int(raw_date[6:8]))
    except ValueError:
        raise fail(
            Text(f"出生日期 {raw_date} 不是真实的日期", f"birth date {raw_date} is not a real date")
        ) from None
    if birth > (today if today is not None else date.today()):
        raise fail(Text("出生日期晚于今天", "birth date is in the future"))
    if birth.year < MIN_BIRTH_YEAR:
        raise fail(Text(f"出生年份早于 {MIN_BIRTH_YEAR} 年", f"birth year before {MIN_BIRTH_YEAR}"))
    expected = citizen_id_check_char(body)
    if check_char != expected:
        raise fail(_check_char_reason(check_char, expected))
    return CitizenId(
        number=value,
        division=division,
        birth_date=birth,
        sex="M" if int(body[16]) % 2 == 1 else "F",
        check=check_char,
    )


def parse_credit_code(value: str) -> CreditCode:
    def fail(reason: Text) -> InvalidIdentifier:
        return InvalidIdentifier("credit_code", value, reason)

    if len(value) != _LENGTH:
        raise fail(_length_reason(value))
    for position, char in enumerate(value, start=1):
        if char not in _CREDIT_VALUES:
            raise fail(
                Text(
                    f"第 {position} 位“{char}”不是统一社会信用代码可用的字符（不用 I、O、S、V、Z）",
                    f"character {position} ('{char}') is not in the credit-code character set"
                    " (no I, O, S, V, Z)",
                )
            )
    authority, category, division = value[0], value[1], value[2:8]
    if authority not in AUTHORITIES:
        raise fail(
            Text(
                f"登记管理部门代码“{authority}”不存在",
                f"unknown registration authority code '{authority}'",
            )
        )
    if category not in AUTHORITIES[authority][1]:
        raise fail(
            Text(
                f"登记管理部门“{authority}”下没有机构类别代码“{category}”",
                f"organisation category '{category}' is not defined for registration authority"
                f" '{authority}'",
            )
        )
    if not _all_digits(division):
        raise fail(Text("行政区划代码必须是 6 位数字", "division code must be 6 digits"))
    province = division[:2]
    if province not in PROVINCE_CODES and province != CENTRAL_DIVISION_PREFIX:
        raise fail(_province_reason(province))
    # The GB 11714 check digit of the organisation code (characters 9-17) is deliberately not
    # enforced: codes assigned to individual businesses (个体工商户) in particular do not always
    # satisfy it, yet they are real, registered codes.
    expected = credit_code_check_char(value[:17])
    if value[17] != expected:
        raise fail(_check_char_reason(value[17], expected))
    return CreditCode(
        code=value,
        authority=authority,
        category=category,
        division=division,
        org_code=value[8:17],
        check=value[17],
    )


def _only_check_char_wrong(reason: str | None) -> bool:
    return isinstance(reason, Text) and reason.en.startswith("check character is ")


def check(value: str, *, today: date | None = None) -> IdCheck:
    """Validate a value of unknown kind; never raises."""
    value = value.strip()
    if not value:
        return IdCheck(value, False, None, Text("未填写", "empty value"))
    if len(value) != _LENGTH:
        return IdCheck(value, False, None, _length_reason(value))

    def as_credit_code() -> IdCheck:
        try:
            parse_credit_code(value)
        except InvalidIdentifier as exc:
            return IdCheck(value, False, "credit_code", exc.reason)
        return IdCheck(value, True, "credit_code", None)

    if _all_digits(value[:17]):
        try:
            parse_citizen_id(value, today=today)
        except InvalidIdentifier as exc:
            # A credit code can have 17 leading digits too (authority 1-9 and an all-digit
            # organisation code), so an all-digit value is only a bad citizen id if it is not a
            # good credit code either.
            credit = as_credit_code()
            if credit.valid or (
                _only_check_char_wrong(credit.reason) and not _only_check_char_wrong(exc.reason)
            ):
                # Say what is wrong in terms of the kind the value nearly is.
                return credit
            return IdCheck(value, False, "citizen_id", exc.reason)
        return IdCheck(value, True, "citizen_id", None)
    if any(c.isascii() and c.isalpha() for c in value[:17]):
        return as_credit_code()
    # Neither digits only nor letters among the first 17 (e.g. punctuation in a typed-in
    # citizen id): the citizen-id reason says it best.
    return IdCheck(value, False, "citizen_id", _NOT_DIGITS)


# --- generation --------------------------------------------------------------------------


def _default_divisions() -> list[str]:
    return [region.code for region in qingdao_districts()]


def _checked_divisions(divisions: Sequence[str] | None, *, allow_central: bool) -> list[str]:
    chosen = _default_divisions() if divisions is None else list(divisions)
    if not chosen:
        raise ValueError("divisions must not be empty")
    for division in chosen:
        province = division[:2]
        province_ok = province in PROVINCE_CODES or (
            allow_central and province == CENTRAL_DIVISION_PREFIX
        )
        if len(division) != 6 or not _all_digits(division) or not province_ok:
            raise ValueError(f"not a usable division code: {division!r}")
    return chosen


def generate_citizen_ids(
    rng: random.Random,
    n: int,
    *,
    divisions: Sequence[str] | None = None,
    born_from: date = date(1930, 1, 1),
    born_to: date = date(2020, 12, 31),
    sex: str | None = None,
) -> list[str]:
    """``n`` valid citizen identity numbers, reproducible from the state of ``rng``."""
    if n < 0:
        raise ValueError("n must not be negative")
    if sex not in (None, "M", "F"):
        raise ValueError("sex must be 'M', 'F' or None")
    if born_from > born_to:
        raise ValueError("born_from must not be after born_to")
    if born_from.year < MIN_BIRTH_YEAR:
        raise ValueError(f"born_from must not be before {MIN_BIRTH_YEAR}")
    if born_to > date.today():
        raise ValueError("born_to must not be in the future")
    chosen = _checked_divisions(divisions, allow_central=False)
    first, last = born_from.toordinal(), born_to.toordinal()
    out: list[str] = []
    for _ in range(n):
        division = rng.choice(chosen)
        birth = date.fromordinal(rng.randint(first, last))
        sequence = f"{rng.randrange(100):02d}"
        person_sex = sex if sex is not None else rng.choice(("M", "F"))
        # Odd 17th digit means male, even means female.
        sex_digit = rng.choice("13579" if person_sex == "M" else "02468")
        body = f"{division}{birth:%Y%m%d}{sequence}{sex_digit}"
        out.append(body + citizen_id_check_char(body))
    return out


def _generate_org_code(rng: random.Random) -> str:
    while True:
        # Codes assigned since the 2015 reform start with "MA"; older ones are mostly numeric.
        if rng.random() < 0.5:
            body = "MA" + "".join(rng.choice(CREDIT_CODE_CHARSET) for _ in range(6))
        else:
            body = "".join(rng.choice(_DIGITS) for _ in range(8))
        org_code = body + _org_code_check_char(body)
        # GB 11714 allows letters (I, O, S, V, Z) and produces check characters that a credit
        # code cannot carry; only codes that fit the credit-code character set are usable.
        if all(c in _CREDIT_VALUES for c in org_code):
            return org_code


def generate_credit_codes(
    rng: random.Random,
    n: int,
    *,
    divisions: Sequence[str] | None = None,
    authority: str = "9",
    category: str = "1",
) -> list[str]:
    """``n`` valid unified social credit codes, reproducible from the state of ``rng``."""
    if n < 0:
        raise ValueError("n must not be negative")
    if authority not in AUTHORITIES:
        raise ValueError(f"unknown registration authority code {authority!r}")
    if category not in AUTHORITIES[authority][1]:
        raise ValueError(f"category {category!r} is not defined for authority {authority!r}")
    chosen = _checked_divisions(divisions, allow_central=True)
    out: list[str] = []
    for _ in range(n):
        first17 = authority + category + rng.choice(chosen) + _generate_org_code(rng)
        out.append(first17 + credit_code_check_char(first17))
    return out
