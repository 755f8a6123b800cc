"""Sample documents: rendered with the Chinese font, reproducible, with valid identifiers (or
exactly one wrong check character), spoiled and encoded as asked."""

from __future__ import annotations

import io
import json
import random
from dataclasses import replace
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops

from shuhui.approval import fonts, sample_pages, samples
from shuhui.approval.precheck import FIELDS, KINDS
from shuhui.core import ids
from tests.approval.precheck_docs import TODAY, document, page

SIZES = {
    "id-card": (1011, 638),
    "business-licence": (1754, 1240),
    "diploma": (1754, 1240),
    "labour-contract": (1240, 1754),
    "medical-certificate": (874, 1240),
    "site-plan": (1754, 1240),
}


def test_the_font_is_wenquanyi_zen_hei() -> None:
    path = samples.font_path()
    assert path.is_file()
    assert "WenQuanYi Zen Hei" in str(sample_pages.font(20).getname()[0])


def test_a_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fonts.font_path.cache_clear()
    monkeypatch.setattr(fonts, "FONT_FILES", (tmp_path / "none.ttc",))
    monkeypatch.setenv("PATH", str(tmp_path))  # no fc-match either
    try:
        with pytest.raises(samples.FontMissing, match="fonts-wqy-zenhei"):
            samples.font_path()
    finally:
        fonts.font_path.cache_clear()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_a_page_of_its_size_with_ink_on_it(kind: str) -> None:
    image = page(kind)

    assert image.size == SIZES[kind]
    assert image.mode == "RGB"
    # Dark pixels: the text is there.
    dark = sum(image.convert("L").point(lambda v: 255 if v < 100 else 0).histogram()[255:])
    assert dark > 2000
    assert set(document(kind).fields()) == set(FIELDS[kind]) - (
        {"签发机关", "有效期限"} if kind == "id-card" else set()
    )


def test_the_same_values_render_the_same_page() -> None:
    doc = document("medical-certificate")
    assert samples.png(samples.render(doc)) == samples.png(samples.render(doc))


def test_sample_values_carry_valid_identifiers_and_agree_with_each_other() -> None:
    for seed in range(20):
        made = {d.kind: d for d in samples.sample_set(random.Random(seed), today=TODAY)}
        card, licence = made["id-card"], made["business-licence"]
        contract = made["labour-contract"]
        assert isinstance(card, samples.IdCard)
        assert isinstance(licence, samples.BusinessLicence)
        assert isinstance(contract, samples.LabourContract)
        parsed = ids.parse_citizen_id(card.citizen_id, today=TODAY)
        assert parsed.birth_date == card.birth
        assert parsed.sex == ("M" if card.sex == "男" else "F")
        ids.parse_credit_code(licence.credit_code)
        ids.parse_citizen_id(contract.citizen_id, today=TODAY)
        assert licence.legal_rep == card.name
        assert contract.employer == licence.name
        assert licence.established <= TODAY
        assert card.valid_from <= TODAY


def test_documents_take_the_values_they_are_given() -> None:
    card = samples.IdCard(
        "欧阳明", "女", "回", date(1990, 2, 3), "山东省青岛市市北区辽宁路1号", "370203199002030026"
    )
    assert card.fields() == {
        "姓名": "欧阳明",
        "性别": "女",
        "民族": "回",
        "出生": "1990-02-03",
        "住址": "山东省青岛市市北区辽宁路1号",
        "公民身份号码": "370203199002030026",
    }
    assert card.back_fields()["有效期限"] == "2016-05-10至2036-05-10"
    assert replace(card, valid_to=None).back_fields()["有效期限"] == "2016-05-10至长期"


@pytest.mark.parametrize("identifier", ["370203199002030026", "91370202MA3C5LDH4B"])
def test_a_wrong_check_character_changes_only_the_check_character(identifier: str) -> None:
    wrong = samples.wrong_check_char(identifier)
    assert wrong[:17] == identifier[:17] and wrong[17] != identifier[17]
    result = ids.check(wrong)
    assert not result.valid
    assert result.reason is not None and "校验位" in result.reason


def test_degradations_spoil_the_page_as_asked() -> None:
    clean = page("id-card")
    width, height = clean.size

    skewed = samples.degrade(clean, "skew", seed=1)
    cut = samples.degrade(clean, "crop", strength=1.0, side="bottom")
    cut_right = samples.degrade(clean, "crop", strength=0.4, side="right")

    assert skewed.size[0] > width and skewed.size[1] > height  # turned, with the corners kept
    assert cut.size == (width, round(height * 0.75))
    assert cut_right.size == (round(width * 0.9), height)
    for how in ("blur", "noise", "contrast", "jpeg"):
        spoiled = samples.degrade(clean, how, seed=1)
        assert spoiled.size == clean.size
        assert ImageChops.difference(spoiled.convert("RGB"), clean).getbbox() is not None, how
    with pytest.raises(ValueError, match="unknown degradation"):
        samples.degrade(clean, "fold", seed=1)  # type: ignore[arg-type]


def test_encodings_are_what_they_say() -> None:
    clean = page("id-card")

    assert samples.png(clean).startswith(b"\x89PNG")
    small, large = samples.jpeg(clean, quality=20), samples.jpeg(clean, quality=95)
    assert small.startswith(b"\xff\xd8\xff") and len(small) < len(large)
    content = samples.pdf([clean, page("medical-certificate")])
    pdf = pdfium.PdfDocument(content)
    try:
        assert len(pdf) == 2
    finally:
        pdf.close()
    assert Image.open(io.BytesIO(samples.png(clean))).size == clean.size


def test_write_samples_writes_every_kind_and_says_what_each_should_read(tmp_path: Path) -> None:
    written = samples.write_samples(tmp_path, seed=5, today=TODAY)

    index = json.loads((tmp_path / "samples.json").read_text(encoding="utf-8"))
    files = {entry["file"]: entry for entry in index["files"]}
    assert {p.name for p in written} == set(files)
    assert {entry["material"] for entry in files.values()} == set(KINDS)
    for kind in KINDS:
        assert f"{kind}.png" in files and f"{kind}-photo.jpg" in files
    assert (tmp_path / "business-licence.pdf").read_bytes().startswith(b"%PDF-")
    assert files["wrong-licence-as-id-card.png"]["material"] == "id-card"
    wrong = files["wrong-id-check-char.png"]["fields"]["公民身份号码"]
    assert not ids.check(wrong).valid
    for path in written:
        assert path.stat().st_size > 1000
