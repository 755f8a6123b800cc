"""Money typed in 元 and rates typed as percentages (``core.money``): what is read, what is
refused and why (in Chinese), and that what the pages show (``display.yuan``) reads back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shuhui.core import display, forms
from shuhui.core.errors import Problem
from shuhui.core.money import (
    MAX_FEN,
    MoneyError,
    Yuan,
    YuanText,
    is_fen_unit,
    parse_percent,
    parse_yuan,
    percent_shown,
    shown_unit,
    yuan_fixed,
)

fens = st.integers(min_value=-MAX_FEN, max_value=MAX_FEN)
FULL_WIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("800", 80000),
        ("800.00", 80000),
        ("800元", 80000),
        ("800.5", 80050),
        ("8,000.5", 800050),
        ("￥800", 80000),
        ("¥ 1,234,567.89", 123456789),
        ("人民币800元", 80000),
        ("８００．５０", 80050),
        (" 800 元 ", 80000),
        ("0.01", 1),
        (".5", 50),
        ("800.000", 80000),  # zeros past the fen change nothing
        ("1,000,000,000,000,000", MAX_FEN),
    ],
)
def test_what_a_person_types_is_read_as_fen(typed: str, fen: int) -> None:
    assert parse_yuan(typed) == fen


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("800.001", "最多两位小数"),
        ("-5", "不能为负数"),
        ("－5", "不能为负数"),
        ("八百", "不是有效的金额"),
        ("1e5", "不是有效的金额"),
        ("800.0.0", "不是有效的金额"),
        ("8,00", "千分位逗号的位置不对"),
        ("80,0000", "千分位逗号的位置不对"),
        ("", "请填写金额"),
        ("元", "不是有效的金额"),
        ("1,000,000,000,000,000.01", "超出范围"),
        ("9" * 200, "超出范围"),
    ],
)
def test_what_cannot_be_read_is_refused_with_a_chinese_reason(typed: str, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        parse_yuan(typed)


@given(fens)
def test_every_amount_shown_reads_back_as_the_same_fen(fen: int) -> None:
    shown = display.yuan(fen)  # "1,234.56", as every page shows money
    assert parse_yuan(shown, negative=True) == fen
    assert parse_yuan(f"￥{shown}元", negative=True) == fen
    assert parse_yuan(shown.translate(FULL_WIDTH), negative=True) == fen
    assert parse_yuan(yuan_fixed(fen), negative=True) == fen


@given(st.integers(min_value=1, max_value=MAX_FEN))
def test_a_negative_amount_is_refused_unless_allowed(fen: int) -> None:
    with pytest.raises(MoneyError, match="不能为负数"):
        parse_yuan(f"-{display.yuan(fen)}")
    assert parse_yuan(f"-{display.yuan(fen)}", negative=True) == -fen


@given(fens, st.integers(min_value=1, max_value=9), st.integers(min_value=0, max_value=5))
def test_an_amount_finer_than_the_fen_is_refused(fen: int, digit: int, zeros: int) -> None:
    with pytest.raises(MoneyError, match="最多两位小数"):
        parse_yuan(f"{yuan_fixed(fen)}{'0' * zeros}{digit}", negative=True)


@given(st.integers(min_value=MAX_FEN + 1, max_value=10**30))
def test_an_amount_beyond_the_range_is_refused(fen: int) -> None:
    with pytest.raises(MoneyError, match="超出范围"):
        parse_yuan(display.yuan(fen))


@given(st.text(max_size=30))
def test_any_text_is_read_or_refused_in_chinese(text: str) -> None:
    try:
        fen = parse_yuan(text, negative=True)
    except MoneyError as exc:
        assert str(exc) and not str(exc).isascii()
    else:
        assert -MAX_FEN <= fen <= MAX_FEN


@pytest.mark.parametrize(
    ("typed", "fraction"),
    [
        ("8", "0.08"),
        ("8%", "0.08"),
        ("8.5%", "0.085"),
        ("８．５％", "0.085"),
        ("10", "0.1"),
        ("0.5", "0.005"),
        ("100%", "1"),
        ("0", "0"),
    ],
)
def test_a_rate_is_typed_as_a_percentage(typed: str, fraction: str) -> None:
    assert parse_percent(typed) == Decimal(fraction)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("百分之十", "不是有效的百分数"),
        ("8%%", "不是有效的百分数"),
        ("-8", "不能为负数"),
        ("", "请填写百分数"),
        ("1.123456789", "最多 8 位小数"),
        ("10000000", "超出范围"),
    ],
)
def test_a_rate_that_cannot_be_read_is_refused(typed: str, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        parse_percent(typed)


@given(st.decimals(min_value=-100000, max_value=100000, places=6, allow_nan=False))
def test_every_rate_shown_reads_back_as_the_same_fraction(percent: Decimal) -> None:
    fraction = percent / 100
    shown = percent_shown(fraction)
    assert shown.endswith("%")
    assert parse_percent(shown, negative=True) == fraction


class Fee(BaseModel):
    fee: Yuan
    price: YuanText | None = None


def test_the_pydantic_types_take_yuan_and_refuse_in_chinese() -> None:
    assert Fee.model_validate({"fee": "8,000.5元"}).fee == 800050
    assert Fee.model_validate({"fee": 800}).fee == 80000  # a number is yuan as well
    assert Fee.model_validate({"fee": "1", "price": "-￥1,200"}).price == "-1200.00"
    with pytest.raises(ValidationError):
        Fee.model_validate({"fee": 8.5})  # a float is not exact money
    with pytest.raises(Problem) as refused:
        forms.validate(Fee, {"fee": "800.001"})
    (error,) = refused.value.errors
    assert error.field == "fee" and error.reason == "最多两位小数（金额精确到分）"
    with pytest.raises(Problem) as negative:
        forms.validate(Fee, {"fee": "-1"})
    assert negative.value.errors[0].reason == "不能为负数"
    with pytest.raises(Problem) as long:
        forms.validate(Fee, {"fee": "1" * 100})
    assert long.value.errors[0].reason.startswith("过长")
    schema = Fee.model_json_schema()["properties"]["fee"]
    assert schema["type"] == "string" and "元" in schema["description"]


def test_units_in_fen_are_shown_in_yuan() -> None:
    assert is_fen_unit("分") and is_fen_unit("分/月") and not is_fen_unit("分钟")
    assert shown_unit("分/月") == "元/月" and shown_unit("周岁") == "周岁"
    assert display.with_unit(10000, "分/月") == "100.00 元/月"
    assert display.with_unit(123456789, "分") == "1,234,567.89 元"
    assert display.with_unit(80, "周岁") == "80 周岁"
    assert display.with_unit(0.055, "") == "0.055"
    assert display.with_unit(None, "分") == "—"
    assert display.yuan_text("1234567.8") == "1,234,567.80"
    assert display.yuan_text("x") == "—" and display.yuan_text(None) == "—"
