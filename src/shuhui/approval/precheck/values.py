"""Reading values as documents print them and OCR returns them: dates in their printed forms,
amounts in Chinese capital numerals (大写金额), identifiers with the characters OCR confuses.

Pure functions on strings; each returns None for what it cannot read, never raises.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from shuhui.core.ids import CREDIT_CODE_CHARSET

# --- text --------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
# Punctuation OCR returns at the edges of a value: a label's colon, a stray bracket or stroke.
_EDGE = "：:;；,，.、|丨'\"“”‘’·-_ "


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII, the full-width colon to ``:``), no spaces.
    Chinese is written without spaces; OCR puts them between characters it saw apart."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def clean_value(text: str) -> str:
    """A value as read: normalised, without the separators OCR leaves at its edges."""
    # A sentence keeps its full stop; a stray one before the value goes.
    return normalise(text).strip(_EDGE).lstrip("。")


# --- identifiers -------------------------------------------------------------------------------

# Letters OCR reads for digits in a field that holds digits only.
_DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1", "Z": "2"}
    | {"z": "2", "S": "5", "s": "5", "B": "8", "G": "6", "b": "6", "g": "9", "q": "9", "T": "7"}
)
# A credit code uses no I, O, S, V or Z (GB 32100): a letter read as one of these was a digit.
_CREDIT_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "S": "5", "Z": "2", "V": "U"})
_ID_NOISE = re.compile(r"[^0-9A-Za-z|]")


def citizen_id(text: str) -> str:
    """A citizen ID as OCR read it: 17 digits and a digit or X; letters that look like digits
    are taken as the digits they look like, except a final x or × (the check character X)."""
    raw = _ID_NOISE.sub("", normalise(text).replace("×", "X"))
    if not raw:
        return ""
    head, last = raw[:-1], raw[-1]
    last = "X" if last in "xX" else last.translate(_DIGIT_LOOKALIKES)
    return head.translate(_DIGIT_LOOKALIKES) + last


def credit_code(text: str) -> str:
    """A unified social credit code as OCR read it: upper case, the letters GB 32100 never uses
    taken as the digits they look like."""
    raw = _ID_NOISE.sub("", normalise(text)).upper()
    return raw.translate(_CREDIT_LOOKALIKES)


def in_credit_charset(text: str) -> bool:
    return all(c in CREDIT_CODE_CHARSET for c in text)


def digits(text: str) -> str:
    """The digits of a number printed with spaces or look-alike letters (证书编号)."""
    return re.sub(r"\D", "", normalise(text).translate(_DIGIT_LOOKALIKES))


# --- dates -------------------------------------------------------------------------------------

_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "O": 0, "Ο": 0, "一": 1, "二": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_YMD = re.compile(r"(\d{4})[年.\-/](\d{1,2})[月.\-/](\d{1,2})日?")
_YM = re.compile(r"(\d{4})[年.\-/](\d{1,2})月?")
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")


def _digits_in_date(text: str) -> str:
    """A printed date with OCR's look-alikes mended: O for 0, l for 1 between the digits."""
    out = normalise(text)
    return re.sub(r"(?<=\d)[OoDQ]|[OoDQ](?=\d)", "0", re.sub(r"(?<=\d)[lI|]|[lI|](?=\d)", "1", out))


def _cn_year(text: str) -> str:
    """二〇二〇年六月三十日 → 2020年6月30日 (diplomas and seals print dates in Chinese)."""

    def number(chars: str) -> str:
        if all(c in _CN_DIGITS for c in chars):
            return "".join(str(_CN_DIGITS[c]) for c in chars)
        value, tens = 0, False
        for c in chars:
            if c == "十":
                value = (value or 1) * 10
                tens = True
            elif c in _CN_DIGITS:
                value += _CN_DIGITS[c]
        return str(value) if (tens or value) else chars

    pattern = r"([〇零○一二三四五六七八九十]+)(年|月|日)"
    return re.sub(pattern, lambda m: number(m.group(1)) + m.group(2), text)


def parse_date(text: str) -> date | None:
    """The first whole date in ``text``: 2024年3月1日, 2024.03.01, 2024-3-1, 20240301, or in
    Chinese numerals."""
    value = _digits_in_date(_cn_year(normalise(text)))
    for pattern in (_YMD, _COMPACT):
        match = pattern.search(value)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def parse_month(text: str) -> tuple[int, int] | None:
    """The first year and month in ``text`` (2020年6月, 2020.06)."""
    match = _YM.search(_digits_in_date(_cn_year(normalise(text))))
    if not match or not 1 <= int(match[2]) <= 12:
        return None
    return int(match[1]), int(match[2])


def iso_date(text: str) -> str:
    """A date's ISO text, or the value as read when it is not a date (the checks say so)."""
    parsed = parse_date(text)
    return parsed.isoformat() if parsed else clean_value(text)


def iso_month(text: str) -> str:
    parsed = parse_month(text)
    return f"{parsed[0]:04d}-{parsed[1]:02d}" if parsed else clean_value(text)


def date_range(text: str) -> str:
    """A validity as printed (2015.03.01-2035.03.01, 2019年03月15日至长期) as ``start至end``,
    each an ISO date or 长期 (no end)."""
    value = _digits_in_date(_cn_year(normalise(text)))
    parts = re.split(r"至|--?|—+|~|到", value, maxsplit=1)
    if len(parts) != 2:
        return clean_value(text)
    start, end = parts
    start_date = parse_date(start)
    end_text = "长期" if "长期" in end or "永久" in end else end
    end_date = parse_date(end_text) if end_text != "长期" else None
    if start_date is None or (end_text != "长期" and end_date is None):
        return clean_value(text)
    return f"{start_date.isoformat()}至{end_date.isoformat() if end_date else '长期'}"


def range_end(value: str) -> date | None:
    """The end of a ``start至end`` range as :func:`date_range` writes it (None for 长期)."""
    _, _, end = value.partition("至")
    return parse_date(end) if end and end != "长期" else None


# --- amounts in capital numerals ---------------------------------------------------------------

_UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UPPER_UNITS = ("", "拾", "佰", "仟")
_UPPER_VALUES = {c: i for i, c in enumerate(_UPPER_DIGITS)}
# Lower-case numerals and look-alikes that turn up in capital amounts.
_UPPER_VALUES |= {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_UPPER_VALUES |= {"八": 8, "九": 9, "两": 2, "贰": 2, "弍": 2, "参": 3}
_SMALL_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}


def _group(n: int) -> str:
    """0 < n < 10000 in capital numerals, zeros as 零 where the reading needs one."""
    out, zero = "", False
    for position in range(3, -1, -1):
        digit = n // 10**position % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _UPPER_DIGITS[digit] + _UPPER_UNITS[position]
    return out


def capital_text(fen: int) -> str:
    """An amount of whole yuan as a licence prints it: 伍佰万元整, 壹仟贰佰零伍万元整."""
    yuan = fen // 100
    if yuan <= 0:
        return "零元整"
    groups = [(yuan // 10**8, "亿"), (yuan // 10**4 % 10**4, "万"), (yuan % 10**4, "")]
    out, gap = "", False
    for value, unit in groups:
        if value == 0:
            gap = bool(out)
            continue
        if out and (gap or value < 1000):
            out += "零"
        out += _group(value) + unit
        gap = False
    return out + "元整"


def parse_capital(text: str) -> int | None:
    """An amount in fen from capital numerals (伍佰万元整), Arabic figures (500万元人民币,
    500.5万元) or both; None when it holds no amount."""
    value = normalise(text).replace(",", "")
    arabic = re.search(r"(\d+(?:\.\d+)?)(亿|万)?元", value)
    if arabic:
        scale = {"亿": 10**8, "万": 10**4}.get(arabic[2] or "", 1)
        return round(float(arabic[1]) * scale * 100)
    total, section, number, seen = 0, 0, 0, False
    for c in value:
        if c in _UPPER_VALUES:
            number = _UPPER_VALUES[c]
            seen = True
        elif c in _SMALL_UNITS:
            section += (number or 1) * _SMALL_UNITS[c]
            number = 0
            seen = True
        elif c in ("万", "亿"):
            scale = 10**4 if c == "万" else 10**8
            total = (
                (total + section + number) * scale
                if c == "亿"
                else total + (section + number) * scale
            )
            section = number = 0
        elif c in ("元", "圆"):
            break
    if not seen:
        return None
    return (total + section + number) * 100
