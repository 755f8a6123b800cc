"""The pre-check of materials on documents rendered here and read with the real OCR engine:
clean documents of every kind read exactly, spoiled ones read or flagged, wrong ones flagged,
values checked against the form and the city's registers; uploads refused as they should be."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from shuhui.approval import samples
from shuhui.approval.precheck import (
    KINDS,
    check_upload,
    precheck,
    precheck_lines,
    record_lookups,
    store_upload,
)
from shuhui.approval.precheck.kinds import ID_CARD_BACK, ID_CARD_FRONT
from shuhui.approval.precheck.ocr import OcrLine
from shuhui.approval.precheck.ocr import read as ocr
from shuhui.approval.schemas import PrecheckOut
from shuhui.core.errors import Problem
from shuhui.datacore.store import DataCore
from tests.approval.precheck_docs import (
    TODAY,
    Variant,
    back_lines,
    card_lines,
    card_with,
    document,
    lines,
    upload,
)
from tests.approval.precheck_docs import (
    page as page_of,
)
from tests.fixtures import Templates, copy_city

# --- clean documents -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_clean_document_of_every_kind_reads_every_field_exactly(kind: str) -> None:
    result = precheck_lines(lines(kind), kind, today=TODAY)

    assert result.fields == document(kind).fields()
    assert result.issues == ()
    assert result.looks_like == kind
    PrecheckOut.model_validate(result.as_json())


def test_the_emblem_side_of_a_card_reads_its_authority_and_validity() -> None:
    card = card_with()
    result = precheck_lines(back_lines(card.valid_from, card.valid_to), "id-card", today=TODAY)

    assert result.fields == card.back_fields()
    assert set(result.fields) == set(ID_CARD_BACK)
    assert result.issues == ()


def test_the_identity_card_and_licence_fields_are_named_as_printed() -> None:
    card = precheck_lines(lines("id-card"), "id-card", today=TODAY)
    licence = precheck_lines(lines("business-licence"), "business-licence", today=TODAY)

    assert (
        tuple(card.fields)
        == ID_CARD_FRONT
        == ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
    )
    assert {
        "名称",
        "统一社会信用代码",
        "法定代表人",
        "类型",
        "住所",
        "注册资本",
        "成立日期",
    } <= set(licence.fields)


# --- spoiled documents ---------------------------------------------------------------------------


def _read_or_flagged(kind: str, variant: Variant) -> tuple[int, dict[str, str]]:
    """Every field is either read exactly or named in an issue; returns how many were read."""
    expected = document(kind).fields()
    result = precheck_lines(lines(kind, variant), kind, today=TODAY)
    flagged = {issue.field for issue in result.issues}
    wrong = {
        name: (value, result.fields.get(name))
        for name, value in expected.items()
        if result.fields.get(name) != value and name not in flagged
    }
    assert not wrong, f"read wrong and not flagged: {wrong}; issues {result.issues}"
    return sum(result.fields.get(n) == v for n, v in expected.items()), expected


@pytest.mark.parametrize("variant", ["skew", "blur", "noise", "contrast", "jpeg"])
def test_a_spoiled_identity_card_is_read_or_its_faults_flagged(variant: Variant) -> None:
    read, expected = _read_or_flagged("id-card", variant)
    # A poor photo still shows most of the card.
    assert read >= len(expected) - 1


@pytest.mark.parametrize("kind", ["business-licence", "labour-contract"])
def test_a_photographed_a4_page_is_read(kind: str) -> None:
    read, expected = _read_or_flagged(kind, "photo")
    assert read >= len(expected) - 1


def test_a_card_cut_off_below_flags_the_number_it_lost() -> None:
    result = precheck_lines(lines("id-card", "crop"), "id-card", today=TODAY)

    assert "公民身份号码" not in result.fields
    assert [i.field for i in result.issues] == ["公民身份号码"]
    assert "没有读到" in result.issues[0].reason
    assert result.fields["姓名"] == document("id-card").fields()["姓名"]


def test_a_blank_page_says_nothing_could_be_read() -> None:
    blank = Image.new("RGB", (800, 600), "white")

    result = precheck(samples.png(blank), "id-card", today=TODAY)

    assert result.fields == {}
    assert [i.field for i in result.issues] == ["file"]
    assert "没有从材料中读出文字" in result.issues[0].reason


# --- wrong documents -----------------------------------------------------------------------------


@pytest.mark.parametrize("asked", KINDS)
def test_every_other_kind_of_document_is_flagged_as_the_wrong_one(asked: str) -> None:
    for given in KINDS:
        if given == asked:
            continue
        result = precheck_lines(lines(given), asked, today=TODAY)
        assert [i.field for i in result.issues] == ["material"], (asked, given, result.issues)
        reason = result.issues[0].reason
        assert "不是要求的" in reason and result.looks_like == given


def test_a_wrong_check_character_is_flagged_with_the_right_one() -> None:
    card = card_with()
    bad = samples.wrong_check_char(card.citizen_id)

    result = precheck_lines(card_lines(citizen_id=bad), "id-card", today=TODAY)

    assert result.fields["公民身份号码"] == bad
    assert [i.field for i in result.issues] == ["公民身份号码"]
    assert f"应为“{card.citizen_id[17]}”" in result.issues[0].reason


def test_a_licence_whose_credit_code_check_character_is_wrong_is_flagged() -> None:
    licence = document("business-licence")
    assert isinstance(licence, samples.BusinessLicence)
    wrong = samples.wrong_check_char(licence.credit_code)
    # The same page as read, with the one line that carries the code misprinted.
    read = [
        replace(line, text=wrong) if line.text == licence.credit_code else line
        for line in lines("business-licence")
    ]

    result = precheck_lines(read, "business-licence", today=TODAY)

    assert result.fields["统一社会信用代码"] == wrong
    assert [i.field for i in result.issues] == ["统一社会信用代码"]
    assert "校验位" in result.issues[0].reason


def test_an_expired_identity_card_is_flagged() -> None:
    result = precheck_lines(back_lines(date(2005, 3, 1), date(2015, 3, 1)), "id-card", today=TODAY)

    assert result.fields["有效期限"] == "2005-03-01至2015-03-01"
    assert [i.field for i in result.issues] == ["有效期限"]
    assert "已于 2015-03-01 过期" in result.issues[0].reason


def test_a_birth_date_that_disagrees_with_the_citizen_id_is_flagged() -> None:
    card = card_with()
    result = precheck_lines(card_lines(birth=date(1960, 2, 3)), "id-card", today=TODAY)

    assert result.fields["出生"] == "1960-02-03"
    assert card.birth != date(1960, 2, 3)
    assert [i.field for i in result.issues] == ["出生"]


# --- the form ------------------------------------------------------------------------------------


def test_another_persons_card_differs_from_the_form() -> None:
    card = card_with()
    form = {"姓名": "王建国", "citizen_id": "370202199001011237"}

    result = precheck_lines(lines("id-card"), "id-card", form=form, today=TODAY)

    assert {i.field for i in result.issues} == {"姓名", "公民身份号码"}
    names = next(i for i in result.issues if i.field == "姓名")
    assert f"“{card.name}”" in names.reason and "“王建国”" in names.reason


def test_a_form_that_agrees_raises_nothing_whatever_its_spacing_and_case() -> None:
    card = card_with()
    form = {
        "person_name": f" {card.name} ",
        "公民身份号码": card.citizen_id.lower(),
        "birth_date": card.birth.isoformat(),
    }

    result = precheck_lines(lines("id-card"), "id-card", form=form, today=TODAY)

    assert result.issues == ()


def test_a_licence_for_another_enterprise_differs_from_the_form() -> None:
    form = {"enterprise_name": "青岛另一家有限公司", "credit_code": "91370202MA3C5LDH4B"}

    result = precheck_lines(lines("business-licence"), "business-licence", form=form, today=TODAY)

    assert {i.field for i in result.issues} == {"名称", "统一社会信用代码"}


# --- the city's registers ------------------------------------------------------------------------


@pytest.fixture
def city(templates: Templates, tmp_path: Path) -> DataCore:
    copy_city(templates.city(), tmp_path)
    return DataCore(tmp_path / "datacore", tmp_path / "truth")


def ocr_read(content: bytes) -> list[OcrLine]:
    return ocr(content, "image/png")


def _member(core: DataCore) -> tuple[str, str, str, date]:
    row = core.sql(
        "SELECT citizen_id, name, sex, birth_date FROM residents"
        " WHERE birth_date < DATE '2000-01-01' ORDER BY citizen_id LIMIT 1"
    ).to_pylist()[0]
    return row["citizen_id"], row["name"], row["sex"], row["birth_date"]


def _member_card(core: DataCore, name: str | None = None) -> tuple[samples.IdCard, str]:
    """A city member's card (with another name printed, if given) and the registered name."""
    number, registered, sex, birth = _member(core)
    address = "山东省青岛市市南区香港中路10号"
    return samples.IdCard(name or registered, sex, "汉", birth, address, number), registered


def test_a_city_members_card_agrees_with_the_population_register(city: DataCore) -> None:
    card, _ = _member_card(city)

    result = precheck(samples.png(samples.render(card)), "id-card", datacore=city, today=TODAY)

    assert result.fields == card.fields()
    assert result.issues == ()
    assert [(x.table, x.key) for x in result.lookups] == [("residents", card.citizen_id)]


def test_a_card_with_a_members_number_but_another_name_is_flagged(city: DataCore) -> None:
    card, registered = _member_card(city, "欧阳明")
    assert registered != "欧阳明"

    result = precheck(samples.png(samples.render(card)), "id-card", datacore=city, today=TODAY)

    assert result.fields["姓名"] == "欧阳明"
    assert [i.field for i in result.issues] == ["姓名"]
    # The register's name is not told to whoever uploaded the card.
    assert "人口库" in result.issues[0].reason and registered not in result.issues[0].reason


def test_an_unknown_citizen_id_is_flagged_against_the_register(city: DataCore) -> None:
    result = precheck_lines(lines("id-card"), "id-card", datacore=city, today=TODAY)

    assert [i.field for i in result.issues] == ["公民身份号码"]
    assert "人口库中没有" in result.issues[0].reason


def test_an_invalid_citizen_id_is_not_looked_up(city: DataCore) -> None:
    bad = samples.wrong_check_char(card_with().citizen_id)

    result = precheck_lines(card_lines(citizen_id=bad), "id-card", datacore=city, today=TODAY)

    assert result.lookups == ()
    assert [i.field for i in result.issues] == ["公民身份号码"]


def test_a_registered_enterprises_licence_agrees_and_a_changed_one_is_flagged(
    city: DataCore,
) -> None:
    row = city.sql(
        "SELECT credit_code, name, legal_rep_name, established_date, address,"
        " registered_capital_fen FROM enterprises WHERE status = '存续'"
        " ORDER BY credit_code LIMIT 1"
    ).to_pylist()[0]
    licence = samples.BusinessLicence(
        name=row["name"],
        credit_code=row["credit_code"],
        legal_rep=row["legal_rep_name"],
        type="有限责任公司（自然人投资或控股）",
        address=row["address"],
        capital_fen=row["registered_capital_fen"],
        established=row["established_date"],
    )
    read = ocr_read(samples.png(samples.render(licence)))
    # The same licence with the legal representative changed since it was issued.
    changed = [replace(x, text="王有才") if x.text == licence.legal_rep else x for x in read]

    agrees = precheck_lines(read, "business-licence", datacore=city, today=TODAY)
    differs = precheck_lines(changed, "business-licence", datacore=city, today=TODAY)

    assert agrees.fields == licence.fields()
    assert agrees.issues == ()
    assert [(x.table, x.key) for x in agrees.lookups] == [("enterprises", licence.credit_code)]
    assert [i.field for i in differs.issues] == ["法定代表人"]


def test_the_registers_read_are_recorded_in_the_ledger(migrated, city: DataCore) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.trust.ledger.models import LedgerEntry

    result = precheck_lines(lines("id-card"), "id-card", datacore=city, today=TODAY)
    engine = make_engine(migrated.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            record_lookups(db, result, actor="approver", case_code="C-1")
        with transaction(make_session_factory(engine)) as db:
            entry = db.scalars(
                select(LedgerEntry).where(LedgerEntry.action == "approval.material.prechecked")
            ).one()
    finally:
        engine.dispose()
    assert entry.subject == card_with().citizen_id
    assert entry.actor == "approver"


# --- uploads -------------------------------------------------------------------------------------


def test_a_pdf_upload_is_read_like_an_image() -> None:
    card = card_with()
    content = samples.pdf([samples.render(card)])

    result = precheck(content, "id-card", file_name="身份证.pdf", today=TODAY)

    assert result.content_type == "application/pdf"
    assert result.fields == card.fields()
    assert result.issues == ()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"hello, this is not a picture", "id.png"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "id.gif"),
        (b"PK\x03\x04" + b"\x00" * 64, "id.pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "truncated.png"),
        (b"%PDF-1.7\n% not a real document\n", "broken.pdf"),
    ],
    ids=["text", "gif", "zip", "broken-png", "broken-pdf"],
)
def test_an_upload_that_is_not_a_readable_image_or_pdf_is_refused(
    content: bytes, name: str
) -> None:
    with pytest.raises(Problem) as refused:
        check_upload(content, name)

    assert refused.value.http_status == 415
    assert refused.value.errors[0].field == "file"
    assert name in (refused.value.detail or "")


def test_an_empty_upload_is_refused() -> None:
    with pytest.raises(Problem) as refused:
        check_upload(b"", "empty.png")
    assert refused.value.http_status == 415


def test_an_upload_too_large_is_refused_with_the_limit() -> None:
    with pytest.raises(Problem) as refused:
        check_upload(upload("id-card"), "card.png", max_bytes=1024)

    assert refused.value.http_status == 413
    assert refused.value.slug == "content-too-large"
    assert "1 KB" in (refused.value.detail or "")


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` (a decompression bomb's few bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [10_000, 40_000])  # past Pillow's limit, and past twice it
def test_a_decompression_bomb_is_refused_before_it_is_decoded(side: int) -> None:
    with pytest.raises(Problem) as refused:
        check_upload(_png_header(side, side), "bomb.png")

    assert refused.value.http_status == 413
    assert "像素" in (refused.value.detail or "")


def test_a_pdf_of_too_many_pages_is_refused() -> None:
    page = Image.new("RGB", (50, 50), "white")
    content = samples.pdf([page] * 51, dpi=72)

    with pytest.raises(Problem) as refused:
        check_upload(content, "folder.pdf")

    assert refused.value.http_status == 413
    assert "51 页" in (refused.value.detail or "")


def test_a_password_protected_pdf_is_refused_clearly() -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, encrypt="secret")
    canvas.drawString(100, 700, "x")
    canvas.save()

    with pytest.raises(Problem) as refused:
        check_upload(out.getvalue(), "locked.pdf")

    assert refused.value.http_status == 415
    assert "密码" in (refused.value.detail or "")


def test_the_type_is_told_by_the_bytes_not_the_name() -> None:
    assert check_upload(upload("id-card"), "card.pdf") == "image/png"
    assert check_upload(samples.jpeg(Image.new("RGB", (64, 64))), "card.png") == "image/jpeg"
    assert check_upload(samples.pdf([Image.new("RGB", (64, 64))]), "card.jpg") == "application/pdf"


def test_an_unknown_material_kind_is_refused() -> None:
    with pytest.raises(Problem) as refused:
        precheck(upload("id-card"), "passport")
    assert refused.value.http_status == 422
    assert refused.value.errors[0].field == "material"


def test_a_jpeg_cut_short_is_refused_before_it_is_kept_or_read(tmp_path: Path) -> None:
    whole = samples.jpeg(page_of("id-card"))
    cut = whole[: len(whole) // 2]

    for attempt in (
        lambda: check_upload(cut, "card.jpg"),
        lambda: precheck(cut, "id-card"),
        lambda: store_upload(tmp_path, "QD-1", "id", cut, "card.jpg"),
    ):
        with pytest.raises(Problem) as refused:
            attempt()
        assert refused.value.http_status == 415
        assert "不完整" in (refused.value.detail or "")
    assert check_upload(whole, "card.jpg") == "image/jpeg"


def test_an_upload_is_stored_once_under_its_case_by_its_hash(tmp_path: Path) -> None:
    content = upload("id-card")

    first = store_upload(
        tmp_path, "QD-2025-000123", "legal-rep-id", content, "C:\\照片\\身份证.png"
    )
    again = store_upload(tmp_path, "QD-2025-000123", "legal-rep-id", content, "身份证.png")

    assert first == again
    assert first.path.read_bytes() == content
    assert first.path.parent == tmp_path / "approval" / "uploads" / "QD-2025-000123"
    assert first.stored_as == f"approval/uploads/QD-2025-000123/legal-rep-id-{first.sha256}.png"
    assert first.file_name == "身份证.png"
    assert (first.content_type, first.size) == ("image/png", len(content))
    assert [p.name for p in first.path.parent.iterdir()] == [first.path.name]


@pytest.mark.parametrize("case", ["../other", "QD/1", "", ".hidden"])
def test_an_upload_for_an_unsafe_case_code_is_refused(tmp_path: Path, case: str) -> None:
    with pytest.raises(Problem) as refused:
        store_upload(tmp_path, case, "legal-rep-id", upload("id-card"), "id.png")
    assert refused.value.http_status == 422
    assert not (tmp_path / "approval").exists() or not any((tmp_path / "approval").rglob("*.png"))


def test_a_refused_upload_is_not_stored(tmp_path: Path) -> None:
    with pytest.raises(Problem):
        store_upload(tmp_path, "QD-1", "id", b"not an image", "id.png")
    assert not (tmp_path / "approval").exists()


# --- the engine ---------------------------------------------------------------------------------


def test_pages_read_at_once_from_two_threads_read_as_they_do_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from shuhui.approval.precheck import ocr

    alone = lines("id-card")
    # Both threads read the page, not the memory of it.
    monkeypatch.setattr(ocr, "REMEMBER", 0)
    ocr.forget()
    with ThreadPoolExecutor(max_workers=2) as pool:
        both = list(pool.map(lambda _: ocr.read(upload("id-card"), "image/png"), range(2)))

    assert [[x.text for x in read] for read in both] == [[x.text for x in alone]] * 2


@pytest.mark.parametrize(("value", "expected"), [(None, 2), ("1", 1), ("2", 2), ("64", 2)])
def test_the_engine_takes_few_threads(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: int
) -> None:
    from shuhui.approval.precheck import ocr
    from shuhui.core.settings import get_settings

    if value is None:
        monkeypatch.delenv("SHUHUI_OCR_THREADS", raising=False)
    else:
        monkeypatch.setenv("SHUHUI_OCR_THREADS", value)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    get_settings.cache_clear()
    try:
        assert ocr.threads() == expected
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("value", ["zero", "0", "65", "-1"])
def test_a_bad_thread_count_is_refused_when_the_settings_are_read(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from pydantic import ValidationError

    from shuhui.core.settings import Settings

    monkeypatch.setenv("SHUHUI_OCR_THREADS", value)
    with pytest.raises(ValidationError, match="ocr_threads"):
        Settings()


def test_an_upload_read_again_is_answered_from_memory_as_it_was_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shuhui.approval.precheck import ocr

    ocr.forget()
    content = upload("id-card")
    first = ocr.read(content, "image/png")
    pages: list[int] = []
    monkeypatch.setattr(ocr, "read_image", lambda image, page=0: pages.append(page) or [])
    assert ocr.read(content, "image/png") == first and pages == []
    # Other bytes are read.
    assert ocr.read(upload("diploma"), "image/png") == [] and pages == [0]
