"""Money and rates as people type them: 元 into integer fen (分), percentages into fractions.

Money is stored as integer fen everywhere; people see it in 元 (``core.display.yuan``) and type it
in 元. One parser reads what a person types — "800", "800.00", "800元", "8,000.5", "￥800",
full-width digits — so every form agrees on what it takes and refuses it with the same Chinese
reason. :data:`Yuan` is the pydantic type built on it, for the schemas of forms where a person
types money; an API field that already takes fen keeps taking fen (its clients count on it).

Rates are typed as percentages ("8", "8%", "8.5%" → 0.08, 0.085): a "10" meant as ten per cent
must not become 1000%. :func:`parse_percent` reads them; whether a value is plausible is the
domain's business (a warning before saving, not a refusal)."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

# 10^15 元 (10^17 分): beyond any sum the platform handles, and well inside a 64-bit integer.
MAX_FEN: Final = 10**17
# Decimal places a percentage may have (a fraction then has two more).
PERCENT_PLACES: Final = 8
MAX_PERCENT: Final = Decimal(10) ** 6

_NOT_A_NUMBER: Final = "不是有效的金额，请填写数字，如 800 或 800.00（单位：元）"
# ASCII digits only (after NFKC has folded the full-width ones): \d would also take Arabic-Indic
# and other scripts' digits, which no one here types as money.
_PLAIN = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")


class MoneyError(ValueError):
    """A typed amount or rate that cannot be read: ``str(error)`` is the Chinese reason."""


def _normalised(text: str) -> str:
    # NFKC turns full-width digits, "．", "，", "－" and "％" into their ASCII forms and "￥"
    # into "¥"; the minus sign and the ideographic comma are not folded by it.
    folded = unicodedata.normalize("NFKC", text).replace("−", "-").replace("、", ",")
    return "".join(folded.split())


def _sign(text: str, negative: bool) -> tuple[bool, str]:
    if text.startswith("-"):
        if not negative:
            raise MoneyError("不能为负数")
        return True, text[1:].removeprefix("¥")
    return False, text.removeprefix("+")


def _digits(text: str, reason: str) -> tuple[str, str]:
    """(whole part, decimals) of a plain or thousands-grouped number, or the reason."""
    if "," in text:
        if not _GROUPED.fullmatch(text):
            raise MoneyError("千分位逗号的位置不对（应每三位一个，如 8,000.50）")
        text = text.replace(",", "")
    found = _PLAIN.fullmatch(text)
    if found is None or not (found.group(1) or found.group(2)):
        raise MoneyError(reason)
    return found.group(1) or "0", found.group(2) or ""


def parse_yuan(text: str, *, negative: bool = False, max_fen: int = MAX_FEN) -> int:
    """What a person typed as an amount in 元, as integer fen: "8,000.5" → 800050.

    Takes a leading "¥"/"￥" or "人民币", a trailing "元", thousands commas in their places,
    full-width digits and spaces anywhere. Refuses (:class:`MoneyError`, a Chinese reason)
    more than two decimals (finer than a fen), a negative amount unless ``negative``, more than
    ``max_fen`` either way, and anything that is not a number."""
    s = _normalised(text)
    if not s:
        raise MoneyError("请填写金额")
    for prefix in ("人民币", "RMB", "rmb", "¥"):
        s = s.removeprefix(prefix)
    s = s.removesuffix("元")
    minus, s = _sign(s.removeprefix("¥"), negative)
    whole, decimals = _digits(s, _NOT_A_NUMBER)
    if len(decimals.rstrip("0")) > 2:
        raise MoneyError("最多两位小数（金额精确到分）")
    decimals = (decimals + "00")[:2]
    if len(whole) > len(str(max_fen)) + 1:  # keep int() cheap on a pasted wall of digits
        raise MoneyError(f"超出范围：不能超过 {_limit(max_fen)} 元")
    fen = int(whole) * 100 + int(decimals)
    if fen > max_fen:
        raise MoneyError(f"超出范围：不能超过 {_limit(max_fen)} 元")
    return -fen if minus else fen


def _limit(max_fen: int) -> str:
    whole, cents = divmod(max_fen, 100)
    return f"{whole:,}" if cents == 0 else f"{whole:,}.{cents:02d}"


def parse_percent(text: str, *, negative: bool = False) -> Decimal:
    """A rate typed as a percentage, as a fraction: "8" and "8%" → 0.08, "8.5%" → 0.085.

    The number typed is always per cent (a "0.08" is 0.08%, not 8%), with or without the "%".
    Refuses (:class:`MoneyError`) anything not a number, a negative rate unless ``negative``,
    more than 8 decimal places and more than 1,000,000%."""
    s = _normalised(text)
    if not s:
        raise MoneyError("请填写百分数")
    s = s.removesuffix("%")
    minus, s = _sign(s, negative)
    whole, decimals = _digits(s, "不是有效的百分数，请填写数字，如 8 或 8.5%")
    if len(decimals) > PERCENT_PLACES:
        raise MoneyError(f"最多 {PERCENT_PLACES} 位小数")
    try:
        value = Decimal(f"{whole}.{decimals or '0'}")
    except InvalidOperation:  # the patterns above admit only digits: kept for safety's sake
        raise MoneyError("不是有效的百分数") from None
    if value > MAX_PERCENT:
        raise MoneyError("超出范围：百分数过大")
    fraction = (value / 100).normalize()
    # normalize() may give exponent notation (1E+1); a fraction is read and stored fixed-point.
    return -fraction if minus else fraction


def fraction_text(fraction: Decimal) -> str:
    """A fraction as fixed-point text for a schema taking rates as text: 0.085 → "0.085"."""
    return format(fraction, "f")


def percent_shown(fraction: Decimal | str | float | None) -> str:
    """A fraction as a person reads it: 0.085 → "8.5%"; nothing known → "—"."""
    if fraction is None:
        return "—"
    value = (Decimal(str(fraction)) * 100).normalize()
    return f"{format(value, 'f')}%"


# Longer than any amount with its separators and unit: refused before it is read.
_TYPED_MAX: Final = 64


def _typed(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PydanticCustomError("yuan", "请以文字填写金额（单位：元），如 800.00")
    if len(text := str(value)) > _TYPED_MAX:
        raise PydanticCustomError("yuan", f"过长：金额最多 {_TYPED_MAX} 个字符")
    return text


def _yuan_input(value: Any) -> int:
    text = _typed(value)
    try:
        return parse_yuan(text)
    except MoneyError as exc:
        raise PydanticCustomError("yuan", str(exc)) from None


def yuan_fixed(fen: int) -> str:
    """Integer fen as plain decimal yuan, no separators: 800050 → "8000.50" (for machines and
    for schemas that carry yuan as text; people get ``core.display.yuan``)."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


def _yuan_text_input(value: Any) -> str:
    text = _typed(value)
    try:
        # The sign is the using method's to judge (a cost cannot be negative, a loss can):
        # it then names every bad value of a form at once, in its own words.
        return yuan_fixed(parse_yuan(text, negative=True))
    except MoneyError as exc:
        raise PydanticCustomError("yuan", str(exc)) from None


_YUAN_SCHEMA: Final = {
    "type": "string",
    "maxLength": 40,
    # The plain form a client sends; a person may also type "8,000元" or "￥8,000.50".
    "pattern": r"^[0-9]{1,15}(\.[0-9]{1,2})?$",
    "description": "金额，单位元（如 800、800.00、8,000.50），存为整数分",
    "examples": ["800.00"],
}

# An amount a person types in 元, validated to integer fen (not negative). For the schemas of
# forms; a field an API client sends in fen stays ``int``.
Yuan = Annotated[int, BeforeValidator(_yuan_input), WithJsonSchema(_YUAN_SCHEMA)]
# An amount in 元 where a schema already carried yuan as text (the valuation's inputs): what a
# person types ("8,000元") becomes plain decimal yuan ("8000.00"), either sign.
YuanText = Annotated[str, BeforeValidator(_yuan_text_input), WithJsonSchema(_YUAN_SCHEMA)]


def is_fen_unit(unit: str) -> bool:
    """Whether a content unit ("分", "分/月", "分/人") counts money in fen."""
    return unit == "分" or unit.startswith("分/")


def shown_unit(unit: str) -> str:
    """A content unit as people read it: money in 元 ("分/月" → "元/月"), others unchanged."""
    return "元" + unit[1:] if is_fen_unit(unit) else unit
