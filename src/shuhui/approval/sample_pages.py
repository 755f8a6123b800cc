"""Drawing the sample documents of :mod:`shuhui.approval.samples`: pages laid out as the real
ones are, in WenQuanYi Zen Hei (Debian's ``fonts-wqy-zenhei``, which ``scripts/system-deps.sh``
installs); spoiling them as a phone photo or a poor scan does; encoding them as PNG, JPEG or PDF.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Sequence
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from shuhui.approval.fonts import font_path
from shuhui.approval.precheck import kinds
from shuhui.approval.precheck.values import capital_text

if TYPE_CHECKING:
    from PIL.Image import Image
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont

    from shuhui.approval.samples import (
        BusinessLicence,
        Diploma,
        Document,
        IdCard,
        LabourContract,
        MedicalCertificate,
        SitePlan,
    )


@cache
def font(size: int) -> FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path()), size)


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- drawing helpers ---------------------------------------------------------------------------

Colour = tuple[int, int, int]
BLACK: Colour = (20, 20, 20)
LABEL_BLUE: Colour = (30, 105, 165)
RED: Colour = (200, 30, 30)


def _text(
    draw: ImageDraw, xy: tuple[float, float], text: str, size: int, fill: Colour = BLACK
) -> float:
    """Draws ``text``; returns the x where it ends."""
    draw.text(xy, text, font=font(size), fill=fill)
    return xy[0] + font(size).getlength(text)


def _spread(
    draw: ImageDraw, xy: tuple[float, float], text: str, size: int, width: float, fill: Colour
) -> None:
    """A label spread over ``width`` as forms print them (名　　称 as wide as 法定代表人)."""
    if len(text) < 2:
        draw.text(xy, text, font=font(size), fill=fill)
        return
    step = (width - size) / (len(text) - 1)
    for i, char in enumerate(text):
        draw.text((xy[0] + i * step, xy[1]), char, font=font(size), fill=fill)


def _wrap(text: str, size: int, width: float, *, indent: int = 0) -> list[str]:
    """Chinese text wrapped by characters to ``width`` pixels (the first line indented)."""
    lines, current, limit = [], "", width - indent * size
    for char in text:
        if font(size).getlength(current + char) > limit and current:
            lines.append(current)
            current, limit = "", width
        current += char
    if current:
        lines.append(current)
    return lines


def _seal(image: Image, centre: tuple[int, int], radius: int, text: str) -> Image:
    """A red seal stamped over the page, its ink letting the print show through."""
    from PIL import Image as PILImage
    from PIL import ImageDraw as PILDraw

    overlay = PILImage.new("RGBA", image.size, (0, 0, 0, 0))
    draw = PILDraw.Draw(overlay)
    x, y = centre
    ink = (215, 35, 35, 150)
    for ring in range(4):
        draw.ellipse(
            (x - radius + ring, y - radius + ring, x + radius - ring, y + radius - ring),
            outline=ink,
        )
    star = radius // 4
    draw.regular_polygon((x, y, star), 5, fill=ink)
    size = max(12, radius // 6)
    width = font(size).getlength(text)
    draw.text((x - width / 2, y + star + 6), text, font=font(size), fill=ink)
    return PILImage.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


def _qr(draw: ImageDraw, box: tuple[int, int, int, int], seed: str) -> None:
    """Something that looks like a QR code (the licence's link to the public registry)."""
    rng = random.Random(seed)  # noqa: S311 (a drawing, not a secret)
    x0, y0, x1, _ = box
    cells = 25
    step = (x1 - x0) / cells
    for i in range(cells):
        for j in range(cells):
            corner = (i < 7 and j < 7) or (i >= cells - 7 and j < 7) or (i < 7 and j >= cells - 7)
            on = (
                (i in (0, 6, cells - 7, cells - 1) or j in (0, 6, cells - 7, cells - 1))
                or (2 <= i % (cells - 7) <= 4 and 2 <= j % (cells - 7) <= 4)
                if corner
                else rng.random() < 0.5
            )
            if on:
                draw.rectangle(
                    (x0 + i * step, y0 + j * step, x0 + (i + 1) * step, y0 + (j + 1) * step),
                    fill=BLACK,
                )


def _portrait(draw: ImageDraw, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=(222, 226, 232))
    cx, w = (x0 + x1) / 2, x1 - x0
    draw.ellipse((cx - w * 0.2, y0 + w * 0.15, cx + w * 0.2, y0 + w * 0.6), fill=(150, 150, 160))
    draw.pieslice(
        (x0 + w * 0.08, y0 + w * 0.62, x1 - w * 0.08, y1 + w * 0.5), 180, 360, fill=(150, 150, 160)
    )


def _page(width: int, height: int, colour: Colour = (255, 255, 255)) -> tuple[Image, ImageDraw]:
    from PIL import Image as PILImage
    from PIL import ImageDraw as PILDraw

    image = PILImage.new("RGB", (width, height), colour)
    return image, PILDraw.Draw(image)


# --- rendering ---------------------------------------------------------------------------------

A4_PORTRAIT = (1240, 1754)  # 150 dpi
A4_LANDSCAPE = (1754, 1240)
A5_PORTRAIT = (874, 1240)
CARD = (1011, 638)  # 85.6 × 54 mm at 300 dpi


def _id_front(card: IdCard) -> Image:
    image, draw = _page(*CARD, colour=(236, 240, 238))
    for y in range(0, CARD[1], 14):  # the card's fine background print
        draw.line((0, y, CARD[0], y + 40), fill=(226, 232, 230))
    draw.rounded_rectangle((2, 2, CARD[0] - 3, CARD[1] - 3), 28, outline=(200, 206, 204), width=3)
    _portrait(draw, (650, 70, 930, 430))
    label, value = 28, 34
    _text(draw, (70, 72), "姓名", label, LABEL_BLUE)
    _text(draw, (175, 66), card.name, value)
    _text(draw, (70, 142), "性别", label, LABEL_BLUE)
    _text(draw, (175, 136), card.sex, value)
    _text(draw, (300, 142), "民族", label, LABEL_BLUE)
    _text(draw, (405, 136), card.ethnicity, value)
    _text(draw, (70, 212), "出生", label, LABEL_BLUE)
    x = 175.0
    for number, unit in ((card.birth.year, "年"), (card.birth.month, "月"), (card.birth.day, "日")):
        x = _text(draw, (x, 206), str(number), value) + 8
        x = _text(draw, (x, 212), unit, label, LABEL_BLUE) + 14
    _text(draw, (70, 282), "住址", label, LABEL_BLUE)
    for i, line in enumerate(_wrap(card.address, value, 440)[:4]):
        _text(draw, (175, 276 + 48 * i), line, value)
    _text(draw, (70, 532), "公民身份号码", label, LABEL_BLUE)
    x = 330.0
    for char in card.citizen_id:
        x = _text(draw, (x, 524), char, 38) + 4
    return image


def _id_back(card: IdCard) -> Image:
    image, draw = _page(*CARD, colour=(236, 240, 238))
    draw.rounded_rectangle((2, 2, CARD[0] - 3, CARD[1] - 3), 28, outline=(200, 206, 204), width=3)
    draw.ellipse((70, 50, 230, 210), outline=RED, width=6)
    draw.regular_polygon((150, 130, 40), 5, fill=RED)
    _spread(draw, (330, 80), "中华人民共和国", 48, 540, BLACK)
    _spread(draw, (330, 170), "居民身份证", 64, 540, BLACK)
    _text(draw, (200, 442), "签发机关", 28, LABEL_BLUE)
    _text(draw, (360, 436), card.authority, 34)
    _text(draw, (200, 522), "有效期限", 28, LABEL_BLUE)
    end = f"{card.valid_to:%Y.%m.%d}" if card.valid_to else "长期"
    _text(draw, (360, 516), f"{card.valid_from:%Y.%m.%d}-{end}", 34)
    return image


def _licence(lic: BusinessLicence) -> Image:
    image, draw = _page(*A4_LANDSCAPE, colour=(252, 250, 244))
    gold = (185, 145, 70)
    draw.rectangle((40, 40, 1714, 1200), outline=gold, width=6)
    draw.rectangle((58, 58, 1696, 1182), outline=gold, width=2)
    draw.ellipse((822, 70, 932, 180), outline=RED, width=5)
    draw.regular_polygon((877, 125, 30), 5, fill=RED)
    _spread(draw, (560, 195), "营业执照", 100, 640, BLACK)
    _text(draw, (800, 315), "（副　本）", 34)
    _text(draw, (110, 210), "统一社会信用代码", 28)
    _text(draw, (110, 250), lic.credit_code, 32)
    _qr(draw, (1460, 190, 1640, 370), lic.credit_code)
    _text(draw, (1475, 378), "扫描二维码登录", 20)
    label, value, step = 30, 32, 70

    def column(x: int, value_x: int, width: int, rows: list[tuple[str, str]]) -> None:
        y = 430
        for name, text in rows:
            _spread(draw, (x, y + 2), name, label, 150, BLACK)
            for line in _wrap(text, value, width):
                _text(draw, (value_x, y), line, value)
                y += 48
            y += step - 48

    end = f"{lic.term_to.year}年{lic.term_to:%m}月{lic.term_to:%d}日" if lic.term_to else "长期"
    founded = f"{lic.established.year}年{lic.established:%m}月{lic.established:%d}日"
    column(
        130,
        330,
        580,
        [
            ("名称", lic.name),
            ("类型", lic.type),
            ("法定代表人", lic.legal_rep),
            ("经营范围", lic.scope),
        ],
    )
    column(
        990,
        1190,
        470,
        [
            ("注册资本", capital_text(lic.capital_fen)),
            ("成立日期", founded),
            ("营业期限", f"{founded}至{end}"),
            ("住所", lic.address),
        ],
    )
    _text(draw, (1180, 1010), "登记机关", 30)
    issued = lic.issued or lic.established
    _text(draw, (1240, 1090), f"{issued.year}年{issued.month:02d}月{issued.day:02d}日", 30)
    image = _seal(image, (1420, 1030), 95, lic.authority)
    draw = _page_draw(image)
    _text(draw, (110, 1120), "国家企业信用信息公示系统网址：http://www.gsxt.gov.cn", 20)
    _text(draw, (110, 1150), "国家市场监督管理总局监制", 20)
    return image


def _page_draw(image: Image) -> ImageDraw:
    from PIL import ImageDraw as PILDraw

    return PILDraw.Draw(image)


def _cn_numerals(day: date) -> str:
    """二〇二〇年六月三十日, as diplomas and seals date themselves."""
    digits = "〇一二三四五六七八九"

    def small(n: int) -> str:
        if n < 10:
            return digits[n]
        return ("" if n < 20 else digits[n // 10]) + "十" + ("" if n % 10 == 0 else digits[n % 10])

    year = "".join(digits[int(c)] for c in str(day.year))
    return f"{year}年{small(day.month)}月{small(day.day)}日"


def _diploma(dip: Diploma) -> Image:
    image, draw = _page(*A4_LANDSCAPE, colour=(253, 251, 246))
    draw.rectangle((36, 36, 1718, 1204), outline=(170, 40, 40), width=10)
    draw.rectangle((60, 60, 1694, 1180), outline=(200, 160, 90), width=3)
    _spread(draw, (560, 130), "毕业证书", 96, 640, (170, 30, 30))
    _portrait(draw, (170, 360, 410, 680))
    years = "三四五"[{"专科": 0, "本科": 1}[dip.level]]
    prose = (
        f"学生 {dip.name} ，性别 {dip.sex} ，{_cn_date(dip.birth)}生，于"
        f"{dip.entered.year}年{dip.entered.month}月至{dip.graduated.year}年"
        f"{dip.graduated.month}月在本校{dip.major}专业{years}年制{dip.level}学习，"
        "修完教学计划规定的全部课程，成绩合格，准予毕业。"
    )
    y = 360
    for line in _wrap(prose, 36, 1120, indent=2):
        _text(draw, (500 + (72 if y == 360 else 0), y), line, 36)
        y += 66
    _text(draw, (500, 820), f"校名：{dip.school}", 32)
    _text(draw, (500, 880), f"校（院）长：{dip.principal}", 32)
    _text(draw, (500, 940), f"证书编号：{dip.number}", 32)
    _text(draw, (1180, 1040), _cn_numerals(dip.graduated), 32)
    return _seal(image, (1330, 940), 110, dip.school)


def _contract(con: LabourContract) -> Image:
    image, draw = _page(*A4_PORTRAIT)
    _spread(draw, (420, 150), "劳动合同书", 64, 400, BLACK)
    y = 320
    for line in (
        f"甲方（用人单位）：{con.employer}",
        f"统一社会信用代码：{con.credit_code}",
        f"法定代表人（主要负责人）：{con.legal_rep}",
        f"住所：{con.employer_address}",
        f"乙方（劳动者）：{con.employee}",
        f"性别：{con.sex}",
        f"公民身份号码：{con.citizen_id}",
        f"住址：{con.employee_address}",
    ):
        for part in _wrap(line, 30, 940):
            _text(draw, (150, y), part, 30)
            y += 56
    y += 30
    paragraphs = [
        "根据《中华人民共和国劳动法》《中华人民共和国劳动合同法》等法律法规政策规定，"
        "甲乙双方遵循合法、公平、平等自愿、协商一致、诚实信用的原则订立本合同。",
        "一、劳动合同期限",
        f"第一条 本合同为固定期限劳动合同，自{_cn_date(con.start)}起至{_cn_date(con.end)}止。",
        "二、工作内容和工作地点",
        f"第二条 乙方的工作岗位为{con.position}，工作地点为{con.workplace}。",
        "第三条 乙方应按照甲方的要求，按时完成规定的工作数量，达到规定的质量标准。",
    ]
    for text in paragraphs:
        heading = text.startswith(("一、", "二、"))
        for i, part in enumerate(_wrap(text, 28, 940, indent=0 if heading else 2)):
            indent = 56 if i == 0 and not heading else 0
            _text(draw, (150 + indent, y), part, 28)
            y += 50
    _text(draw, (560, 1640), "第 1 页 共 6 页", 22)
    return image


def _medical(cert: MedicalCertificate) -> Image:
    image, draw = _page(*A5_PORTRAIT)
    width = A5_PORTRAIT[0]
    _text(draw, ((width - font(44).getlength(cert.hospital)) / 2, 70), cert.hospital, 44)
    _spread(draw, (270, 150), "诊断证明书", 48, 340, BLACK)
    draw.line((60, 240, width - 60, 240), fill=BLACK, width=2)
    _text(draw, (70, 270), f"姓名：{cert.name}", 28)
    _text(draw, (380, 270), f"性别：{cert.sex}", 28)
    _text(draw, (590, 270), f"年龄：{cert.age}岁", 28)
    _text(draw, (70, 330), f"科别：{cert.department}", 28)
    _text(draw, (380, 330), f"门诊号：{cert.record_no}", 28)
    _text(draw, (70, 390), f"公民身份号码：{cert.citizen_id}", 28)
    draw.line((60, 450, width - 60, 450), fill=BLACK, width=1)
    y = 490
    for label, text in (("诊断", cert.diagnosis), ("医嘱", cert.advice)):
        for i, part in enumerate(_wrap(f"{label}：{text}", 30, 720)):
            _text(draw, (70 + (0 if i == 0 else 90), y), part, 30)
            y += 54
        y += 40
    _text(draw, (500, 990), f"医师：{cert.doctor}", 28)
    _text(draw, (500, 1050), f"日期：{_cn_date(cert.issued)}", 28)
    image = _seal(image, (250, 1030), 90, "诊断证明专用章")
    _text(_page_draw(image), (150, 1160), "（本证明加盖医院诊断证明专用章有效）", 22)
    return image


def _site_plan(plan: SitePlan) -> Image:
    image, draw = _page(*A4_LANDSCAPE)
    line = (60, 60, 60)
    draw.rectangle((40, 40, 1714, 1200), outline=line, width=4)
    for x in range(140, 1000, 120):  # the survey grid
        draw.line((x, 80, x, 1160), fill=(225, 225, 225))
    for y in range(120, 1160, 120):
        draw.line((80, y, 1000, y), fill=(225, 225, 225))
    draw.rectangle((120, 980, 980, 1040), outline=line, width=2)  # the road
    _text(draw, (480, 994), "规划道路", 24, line)
    for i, (x, y, w, h, name) in enumerate(
        (
            (180, 200, 260, 160, "1#楼 18F"),
            (520, 200, 260, 160, "2#楼 18F"),
            (180, 520, 260, 180, "3#楼 11F"),
            (520, 560, 300, 140, "商业配套 3F"),
        )
    ):
        draw.rectangle((x, y, x + w, y + h), outline=line, width=3)
        _text(draw, (x + 60, y + h / 2 - 14), name, 24, line)
        _text(draw, (x, y - 30), f"{w / 10 + i:.2f}", 18, line)
    draw.polygon(((1300, 120), (1280, 200), (1300, 185), (1320, 200)), outline=line, fill=line)
    _text(draw, (1290, 80), "N", 30, line)
    _text(draw, (1120, 420), "技术经济指标：", 24, line)
    _text(draw, (1120, 460), "总用地面积 12860.5 平方米", 22, line)
    _text(draw, (1120, 495), "容积率 2.35 绿地率 35%", 22, line)
    # The title block: cells of the 图签 at the lower right.
    x0, y0, x1 = 1054, 890, 1714
    rows = [
        [("项目名称", 130), (plan.project, 530)],
        [("建设单位", 130), (plan.builder, 530)],
        [("设计单位", 130), (plan.designer, 530)],
        [("图名", 130), (plan.title, 200), ("图号", 100), (plan.number, 230)],
        [("比例", 130), (plan.scale, 200), ("日期", 100), (f"{plan.drawn:%Y.%m.%d}", 230)],
        [("设计", 130), ("王工", 200), ("审核", 100), ("张工", 230)],
    ]
    height = 50
    for r, cells in enumerate(rows):
        x, y = x0, y0 + r * height
        for text, width in cells:
            draw.rectangle((x, y, x + width, y + height), outline=line, width=2)
            _text(draw, (x + 12, y + 12), text, 24)
            x += width
    draw.rectangle((x0, y0, x1, y0 + height * len(rows)), outline=line, width=4)
    return image


def render(document: Document) -> Image:
    """The document as a clean page image (an identity card's portrait side)."""
    renderers: dict[str, Callable[[Any], Image]] = {
        kinds.ID_CARD: _id_front,
        kinds.BUSINESS_LICENCE: _licence,
        kinds.DIPLOMA: _diploma,
        kinds.LABOUR_CONTRACT: _contract,
        kinds.MEDICAL_CERTIFICATE: _medical,
        kinds.SITE_PLAN: _site_plan,
    }
    return renderers[document.kind](document)


def render_back(card: IdCard) -> Image:
    """The identity card's emblem side (国徽面): the issuing authority and the validity."""
    return _id_back(card)


# --- spoiling a page ---------------------------------------------------------------------------

Degradation = Literal["skew", "blur", "crop", "noise", "contrast", "jpeg"]
DEGRADATIONS: tuple[Degradation, ...] = ("skew", "blur", "crop", "noise", "contrast", "jpeg")


def degrade(
    image: Image, how: Degradation, *, seed: int = 0, strength: float = 1.0, side: str = "bottom"
) -> Image:
    """``image`` as a phone photo or a poor scan leaves it. ``strength`` 1 is an ordinary bad
    photo; ``crop`` cuts ``0.25 × strength`` of the page off ``side``."""
    from PIL import Image as PILImage
    from PIL import ImageEnhance, ImageFilter

    rng = random.Random(seed)  # noqa: S311 (a drawing, not a secret)
    if how == "skew":
        angle = rng.choice((-1, 1)) * rng.uniform(2.0, 4.0) * strength
        return image.rotate(
            angle, expand=True, fillcolor=(214, 210, 200), resample=PILImage.Resampling.BICUBIC
        )
    if how == "blur":
        return image.filter(ImageFilter.GaussianBlur(1.3 * strength))
    if how == "crop":
        width, height = image.size
        cut = 0.25 * strength
        box = {
            "bottom": (0, 0, width, round(height * (1 - cut))),
            "top": (0, round(height * cut), width, height),
            "right": (0, 0, round(width * (1 - cut)), height),
            "left": (round(width * cut), 0, width, height),
        }[side]
        return image.crop(box)
    if how == "noise":
        import numpy as np

        pixels = np.asarray(image, dtype=np.float32)
        noise = np.random.default_rng(seed).normal(0.0, 22.0 * strength, pixels.shape)
        return PILImage.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    if how == "contrast":
        faded = ImageEnhance.Contrast(image).enhance(max(0.2, 1 - 0.6 * strength))
        return ImageEnhance.Brightness(faded).enhance(1.15)
    if how == "jpeg":
        return PILImage.open(io.BytesIO(jpeg(image, quality=max(5, round(30 / strength)))))
    raise ValueError(f"unknown degradation {how!r}")


def photo(image: Image, *, seed: int = 0) -> Image:
    """An ordinary phone photo of a document: a little turned, soft, noisy, compressed."""
    image = degrade(image, "skew", seed=seed, strength=0.5)
    image = degrade(image, "blur", seed=seed, strength=0.6)
    image = degrade(image, "noise", seed=seed, strength=0.5)
    return degrade(image, "jpeg", seed=seed, strength=0.6)


# --- encoding ----------------------------------------------------------------------------------


def png(image: Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(image: Image, *, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def pdf(pages: Sequence[Image], *, dpi: int = 150) -> bytes:
    """The pages as a PDF (each page an image, as a scanner writes it)."""
    out = io.BytesIO()
    first, *rest = [page.convert("RGB") for page in pages]
    first.save(out, "PDF", resolution=float(dpi), save_all=True, append_images=rest)
    return out.getvalue()
