"""劳动能力鉴定结论书: the committee's conclusion as a one-page A4 PDF, drawn with the e-licences'
font and seal (``approval.licences``) so it reads like the paper one and verifies like them. The
same statement gives the same bytes (reportlab's invariant mode), so the stored copy can be
checked against its hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from shuhui.approval import licences
from shuhui.core.display import yuan

CHINESE_NUMBERS = "零一二三四五六七八九十"


def grade_text(grade: int | None) -> str:
    """伤残等级 as written on a conclusion: 0 is 未达到伤残等级."""
    if grade is None:
        return "—"
    if grade == 0:
        return "未达到伤残等级"
    return f"{CHINESE_NUMBERS[grade]}级伤残"


def self_care_text(level: str | None) -> str:
    if not level or level == "无":
        return "无生活自理障碍"
    return f"{level}生活自理障碍"


@dataclass(frozen=True)
class Conclusion:
    """What the conclusion states (kept on the row as JSON-able values, printed here)."""

    number: str
    worker_name: str
    citizen_id: str
    employer: str
    decision_no: str
    diagnosis: str
    site: str
    kind: str
    standard: str
    panel: tuple[str, ...]  # the experts' names with their specialities
    findings: str
    grade: int
    self_care: str
    months: int | None
    subsidy_fen: int | None
    issuer: str
    issued_on: date
    appeal: str


def render(text: Conclusion, seal: licences.LicenceSeal) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    font = licences.register_font()
    out = BytesIO()
    width, height = A4
    c = Canvas(out, pagesize=A4, invariant=True, pageCompression=1)
    c.setTitle(f"劳动能力鉴定结论书 {text.number}")
    c.setAuthor(text.issuer)
    c.setSubject("劳动能力鉴定结论书")
    c.setCreator("数慧 Shuhui")
    c.setFont(font, 22)
    c.drawCentredString(width / 2, height - 90, text.issuer)
    c.setFont(font, 26)
    c.drawCentredString(width / 2, height - 128, "劳动能力鉴定结论书")
    c.setFont(font, 11)
    c.drawRightString(width - 70, height - 156, f"编号：{text.number}")
    benefit = "—"
    if text.subsidy_fen is not None and text.months is not None:
        benefit = f"{text.months}个月本人工资，计{yuan(text.subsidy_fen)}元（按规则计算）"
    rows = [
        ("姓名", text.worker_name),
        ("公民身份号码", text.citizen_id),
        ("用人单位", text.employer),
        ("工伤认定", text.decision_no),
        ("诊断", text.diagnosis),
        ("伤残部位", text.site),
        ("鉴定类别", text.kind),
        ("鉴定依据", text.standard),
        ("专家组", "、".join(text.panel)),
        ("检查所见", text.findings),
        ("鉴定结论", f"{grade_text(text.grade)}；{self_care_text(text.self_care)}"),
        ("一次性伤残补助金", benefit),
    ]
    label_x, value_x, size = 70, 190, 12
    y = height - 196
    for label, value in rows:
        c.setFont(font, size)
        c.drawString(label_x, y, label)
        for line in licences.wrap_text(value or "—", font, size, width - value_x - 70):
            c.drawString(value_x, y, line)
            y -= size * 1.55
        y -= size * 0.6
    c.setFont(font, 10)
    for line in licences.wrap_text(text.appeal, font, 10, width - 140):
        c.drawString(70, y, line)
        y -= 15
    sign_x, sign_y = width - 180, 150
    c.setFont(font, 13)
    c.drawCentredString(sign_x, sign_y + 22, text.issuer)
    c.drawCentredString(sign_x, sign_y, licences.chinese_date(text.issued_on))
    licences.draw_seal(c, sign_x, sign_y + 14, 60, seal)
    c.setFont(font, 8.5)
    c.setFillColorRGB(0.3, 0.3, 0.3)
    note = (
        f"本结论书由{text.issuer}加盖电子印章（{seal.name}，印章编码 {seal.code}）。核验方法："
        "在本平台“电子印章验证”页面（/seals/verify）上传本文件及其签章文件。"
    )
    y = 70
    for line in licences.wrap_text(note, font, 8.5, width - 140):
        c.drawString(70, y, line)
        y -= 12
    c.showPage()
    c.save()
    return out.getvalue()
