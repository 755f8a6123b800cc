"""The extraction of fields from OCR lines, without OCR: whatever lines come back never crash
it, labels are found however OCR splits, merges, spaces or punctuates them, and the value
readers take what documents print (dates, capital amounts, identifiers with look-alikes)."""

from __future__ import annotations

import random
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuhui.approval.precheck import FIELDS, KINDS, precheck_lines
from shuhui.approval.precheck.extract import extract
from shuhui.approval.precheck.layout import rows
from shuhui.approval.precheck.ocr import OcrLine, box_of
from shuhui.approval.precheck.values import (
    capital_text,
    citizen_id,
    credit_code,
    date_range,
    normalise,
    parse_capital,
    parse_date,
)
from shuhui.core import ids

TODAY = date(2025, 6, 16)

# --- arbitrary lines -----------------------------------------------------------------------------

coordinate = st.floats(min_value=-1e4, max_value=1e5, allow_nan=False, allow_infinity=False)
point = st.tuples(coordinate, coordinate)
# Text from the labels' own characters as well as anything: the parsers must meet both.
label_chars = st.sampled_from(
    list("姓名性别民族出生住址公民身份号码名称类型注册资本成立日期年月日至长期:：0123456789X")
)
ocr_text = st.one_of(st.text(max_size=40), st.text(label_chars, max_size=40))
any_line = st.builds(
    OcrLine,
    text=ocr_text,
    box=st.tuples(point, point, point, point),
    score=st.floats(min_value=0, max_value=1),
    page=st.integers(min_value=0, max_value=2),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_line, max_size=25), st.sampled_from(KINDS))
def test_any_lines_ocr_returns_never_crash_the_extraction_or_the_checks(
    lines: list[OcrLine], kind: str
) -> None:
    result = precheck_lines(lines, kind, today=TODAY)

    assert set(result.fields) <= set(FIELDS[kind])
    assert all(isinstance(v, str) and v for v in result.fields.values())
    assert {i.field for i in result.issues} <= {*FIELDS[kind], "material", "file"}
    assert all(issue.reason for issue in result.issues)


@given(st.lists(any_line, max_size=30))
def test_rows_keep_every_character_of_every_line(lines: list[OcrLine]) -> None:
    kept = sorted("".join(row.text for row in rows(lines)))
    assert kept == sorted("".join(normalise(line.text) for line in lines))


# --- labels however OCR returns them -------------------------------------------------------------

NAMES = st.text(st.sampled_from(list("王李张刘陈杨黄赵吴周欧阳明华伟芳娜")), min_size=2, max_size=4)
# How a label comes back: as printed, spread with spaces, with a half- or full-width colon.
label_forms = st.sampled_from(["{}", "{} ", "{}:", "{}：", " {} ："])


def _spaced(label: str, rng: random.Random) -> str:
    return (" " * rng.randint(1, 3)).join(label) if rng.random() < 0.5 else label


@settings(max_examples=120)
@given(
    name=NAMES,
    sex=st.sampled_from(["男", "女"]),
    form=label_forms,
    merged=st.booleans(),
    split_label=st.booleans(),
    seed=st.integers(0, 10_000),
    born=st.dates(date(1930, 1, 1), date(2010, 12, 31)),
)
def test_identity_card_labels_are_found_however_ocr_splits_or_merges_them(
    name: str,
    sex: str,
    form: str,
    merged: bool,
    split_label: bool,
    seed: int,
    born: date,
) -> None:
    rng = random.Random(seed)
    number = ids.generate_citizen_ids(
        rng, 1, born_from=born, born_to=born, sex="M" if sex == "男" else "F"
    )[0]
    jitter = rng.uniform(-4, 4)

    def labelled(label: str, value: str, x: float, y: float) -> tuple[list[OcrLine], float]:
        """The lines OCR returns for a label and its value, and where the value starts."""
        shown = form.format(_spaced(label, rng))
        if merged:  # label and value in one box
            width = 40 * (len(label) + len(value))
            start = x + width * len(normalise(shown)) / len(normalise(shown + value))
            return [OcrLine(shown + value, box_of(x, y, x + width, y + 36))], start
        if split_label and len(label) == 2:  # a spread label read as two boxes
            return [
                OcrLine(label[0], box_of(x, y, x + 36, y + 36)),
                OcrLine(label[1], box_of(x + 80, y + jitter, x + 116, y + 36 + jitter)),
                OcrLine(value, box_of(x + 160, y - jitter, x + 160 + 40 * len(value), y + 36)),
            ], x + 160
        return [
            OcrLine(shown, box_of(x, y, x + 40 * len(label), y + 36)),
            OcrLine(value, box_of(x + 110, y + jitter, x + 110 + 40 * len(value), y + 38 + jitter)),
        ], x + 110

    address, start = labelled("住址", "山东省青岛市市南区香港中", 70, 280)
    lines = [
        *labelled("姓名", name, 70, 70)[0],
        *labelled("性别", sex, 70, 140)[0],
        *labelled("民族", "汉", 300, 140)[0],
        *labelled("出生", f"{born.year}年{born.month}月{born.day}日", 70, 210)[0],
        *address,
        # The address's second line starts under its first.
        OcrLine("路10号2单元", box_of(start + 4, 328, start + 320, 364)),
        *labelled("公民身份号码", " ".join(number[i : i + 6] for i in (0, 6, 12)), 70, 530)[0],
    ]

    fields = extract("id-card", lines).fields

    assert fields == {
        "姓名": name,
        "性别": sex,
        "民族": "汉",
        "出生": born.isoformat(),
        "住址": "山东省青岛市市南区香港中路10号2单元",
        "公民身份号码": number,
    }


@settings(max_examples=80)
@given(
    form=label_forms,
    doctor=NAMES,
    merged_row=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_a_certificates_labels_are_found_with_any_colon_and_spacing(
    form: str, doctor: str, merged_row: bool, seed: int
) -> None:
    """A medical certificate's header fields, several to a line (姓名 性别 年龄), each label
    with or without its colon, spaced or not, the line one OCR box or one box a field."""
    rng = random.Random(seed)
    number = ids.generate_citizen_ids(rng, 1, born_from=date(1980, 5, 2), born_to=date(1980, 5, 2))[
        0
    ]

    def line(y: float, *pairs: tuple[str, str]) -> list[OcrLine]:
        parts = [form.format(_spaced(label, rng)) + value for label, value in pairs]
        if merged_row:
            return [OcrLine("  ".join(parts), box_of(70, y, 70 + 300 * len(parts), y + 34))]
        return [
            OcrLine(part, box_of(70 + 300 * i, y, 70 + 300 * i + 34 * len(part), y + 34))
            for i, part in enumerate(parts)
        ]

    lines = [
        OcrLine("青岛市市立医院", box_of(240, 75, 640, 120)),
        OcrLine("诊断证明书", box_of(260, 150, 610, 210)),
        *line(270, ("姓名", "李娜"), ("性别", "女"), ("年龄", "45岁")),
        *line(330, ("科别", "骨科"), ("门诊号", "MZ2025061600001")),
        *line(390, ("公民身份号码", number)),
        *line(490, ("诊断", "右踝关节扭伤")),
        *line(590, ("医嘱", "建议休息两周。")),
        *line(990, ("医师", doctor)),
        *line(1050, ("日期", "2025年6月16日")),
    ]

    fields = extract("medical-certificate", lines).fields

    assert fields == {
        "医院": "青岛市市立医院",
        "姓名": "李娜",
        "性别": "女",
        "年龄": "45岁",
        "公民身份号码": number,
        "科别": "骨科",
        "诊断": "右踝关节扭伤",
        "医嘱": "建议休息两周。",
        "医师": doctor,
        "日期": "2025-06-16",
    }


def test_labels_printed_in_other_forms_name_the_same_fields() -> None:
    lines = [
        OcrLine("营业执照", box_of(500, 100, 900, 200)),
        OcrLine("统一社会信用代码 91370202MA3C5LDH4B", box_of(100, 220, 700, 260)),
        OcrLine("名 称 青岛海岸线餐饮店", box_of(100, 300, 700, 340)),
        OcrLine("类 型 个体工商户", box_of(100, 360, 700, 400)),
        OcrLine("经营者 张伟", box_of(100, 420, 700, 460)),
        OcrLine("经营场所 山东省青岛市市南区香港中路10号", box_of(100, 480, 1000, 520)),
        OcrLine("注册日期 2019年03月15日", box_of(100, 540, 700, 580)),
    ]

    fields = extract("business-licence", lines).fields

    assert fields["法定代表人"] == "张伟"
    assert fields["住所"] == "山东省青岛市市南区香港中路10号"
    assert fields["成立日期"] == "2019-03-15"
    assert fields["统一社会信用代码"] == "91370202MA3C5LDH4B"
    assert fields["名称"] == "青岛海岸线餐饮店"


def test_a_label_misread_by_one_character_still_names_its_field() -> None:
    lines = [OcrLine("公民身份号玛 370202199001011237", box_of(70, 530, 800, 570))]
    assert extract("id-card", lines).fields["公民身份号码"] == "370202199001011237"


def test_a_values_second_line_in_another_column_is_not_taken() -> None:
    """Two columns, each value running onto a second line: each continuation goes to its own
    column's label."""
    lines = [
        OcrLine("经营范围", box_of(125, 642, 284, 680)),
        OcrLine("软件开发；信息技术", box_of(325, 641, 911, 681)),
        OcrLine("住", box_of(984, 641, 1030, 680)),
        OcrLine("所", box_of(1102, 641, 1148, 681)),
        OcrLine("山东省青岛市崂山区深圳路224", box_of(1187, 641, 1633, 678)),
        OcrLine("咨询服务。", box_of(328, 691, 600, 727)),
        OcrLine("号", box_of(1184, 686, 1228, 731)),
    ]
    assert extract("business-licence", lines).fields["住所"] == "山东省青岛市崂山区深圳路224号"


def test_a_spread_label_that_lost_a_character_still_names_its_field() -> None:
    """名　　称 and 类　　型 printed spread out; OCR dropped 名 and 型 on a blurred page."""
    lines = [
        OcrLine("称", box_of(232, 432, 270, 468)),
        OcrLine("青岛蓝海置业有限公司", box_of(326, 430, 713, 470)),
        OcrLine("类", box_of(125, 498, 166, 541)),
        OcrLine("有限责任公司（自然人独资）", box_of(318, 501, 729, 538)),
    ]
    fields = extract("business-licence", lines).fields
    assert fields["名称"] == "青岛蓝海置业有限公司"
    assert fields["类型"] == "有限责任公司（自然人独资）"


def test_a_code_under_its_label_is_found_past_a_title_and_stray_marks() -> None:
    """The licence's code sits under its label, beside the large title; a fragment of the
    title read on the label's line is not the code."""
    lines = [
        OcrLine("营业执", box_of(544, 190, 1036, 323)),
        OcrLine("统一社会信用代码", box_of(106, 209, 338, 245)),
        OcrLine("昭", box_of(1096, 210, 1191, 284)),
        OcrLine("91370203MANTUMH23D", box_of(108, 251, 471, 282)),
        OcrLine("(副本)", box_of(813, 314, 954, 360)),
    ]
    assert extract("business-licence", lines).fields["统一社会信用代码"] == "91370203MANTUMH23D"


def test_a_label_value_stops_where_another_columns_value_goes_on() -> None:
    """Two columns read as one row: the right box is the right column's value's next line."""
    lines = [
        OcrLine("住", box_of(985, 641, 1030, 681)),
        OcrLine("所", box_of(1102, 641, 1148, 681)),
        OcrLine("山东省青岛市李沧区书院路201", box_of(1187, 641, 1633, 678)),
        OcrLine("经营范围", box_of(125, 686, 284, 726)),
        OcrLine("一般项目：软件开发", box_of(328, 686, 900, 726)),
        OcrLine("号", box_of(1184, 688, 1228, 731)),
    ]
    assert extract("business-licence", lines).fields["住所"] == "山东省青岛市李沧区书院路201号"


def test_a_skewed_page_keeps_its_rows() -> None:
    """A photo turned 3 degrees: the value's box sits 20 pixels lower than its label's."""
    import math

    slope = math.tan(math.radians(3))

    def turned(text: str, x0: float, y0: float, x1: float) -> OcrLine:
        y1 = y0 + 36
        return OcrLine(
            text,
            (
                (x0, y0 + x0 * slope),
                (x1, y0 + x1 * slope),
                (x1, y1 + x1 * slope),
                (x0, y1 + x0 * slope),
            ),
        )

    lines = [
        turned("注册资本", 990, 430, 1150),
        turned("壹佰万元整", 1190, 430, 1360),
        turned("成立日期", 990, 480, 1150),
        turned("2024年04月11日", 1190, 480, 1440),
    ]
    fields = extract("business-licence", lines).fields
    assert fields["注册资本"] == "壹佰万元整"
    assert fields["成立日期"] == "2024-04-11"


# --- values ---------------------------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=10**11))
def test_a_capital_amount_reads_back_from_its_capital_numerals(yuan: int) -> None:
    assert parse_capital(capital_text(yuan * 100)) == yuan * 100


def test_capital_numerals_as_licences_print_them() -> None:
    assert capital_text(500 * 10**6) == "伍佰万元整"
    assert capital_text(1205 * 10**6) == "壹仟贰佰零伍万元整"
    assert capital_text(10**10) == "壹亿元整"
    assert capital_text(10**10 + 10**6) == "壹亿零壹万元整"
    assert parse_capital("500万元人民币") == 500 * 10**6
    assert parse_capital("人民币贰拾万元整") == 20 * 10**6
    assert parse_capital("经营") is None


@given(st.dates(date(1900, 1, 1), date(2099, 12, 31)))
def test_dates_read_in_every_printed_form(day: date) -> None:
    for printed in (
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}年{day:%m}月{day:%d}日",
        f"{day:%Y.%m.%d}",
        f"{day:%Y-%m-%d}",
        f"{day:%Y%m%d}",
        f"{day.year} 年 {day.month} 月 {day.day} 日",
    ):
        assert parse_date(printed) == day, printed


def test_dates_in_chinese_numerals_and_with_look_alikes() -> None:
    assert parse_date("二〇二〇年六月三十日") == date(2020, 6, 30)
    assert parse_date("二○○四年十二月一日") == date(2004, 12, 1)
    assert parse_date("2O19年O3月l5日") == date(2019, 3, 15)
    assert parse_date("2019年2月30日") is None
    assert date_range("2015.03.01-2035.03.01") == "2015-03-01至2035-03-01"
    assert date_range("2019年03月15日至长期") == "2019-03-15至长期"


def test_identifiers_with_the_letters_ocr_reads_for_digits() -> None:
    assert citizen_id("37O2O2 1990O1O1 123x") == "37020219900101123X"
    assert citizen_id("3702021990010l1237") == "370202199001011237"
    assert credit_code("9137O2O2MA3C5LDH4B") == "91370202MA3C5LDH4B"
    assert credit_code("91370202ma3c5ldh4b") == "91370202MA3C5LDH4B"
