"""参保证明: the certificate of a person's social-insurance status, as a sealed PDF anyone can
verify.

``issue`` makes one, in this order:

1. the document's kind from content (``hrss/documents.yaml``: its title, issuer, number
   prefix, default and longest period, the legal text);
2. the period it states: the months asked, or the ``default_months`` up to the latest month the
   record holds; a period backwards, longer than ``max_months`` or after the latest month is
   refused naming the field;
3. the statement: what the record says (``records.read_record``), kept as JSON on the row, so
   the certificate can be shown again without reading the data core, and what the PDF prints;
4. a number ``<prefix>-<year>-<sequence>`` under a savepoint (two issues racing get two
   numbers, as e-licences do);
5. the PDF (reportlab, the e-licences' font and seal drawing; as many A4 pages as the months
   need, each numbered, the seal on the last), sealed with the issuer's e-seal of
   ``licence-seals.yaml`` (``trust.seals``: the envelope verifies at ``/seals/verify`` and with
   ``shuhui seal verify`` offline), written owner-only under ``<data dir>/hrss/certificates/``
   with its SHA-256 on the row;
6. the ``hrss.certificate_issued`` ledger entry, in the caller's transaction.

The stored file is only ever served after its hash is checked (``certificate_pdf``). A file
written by an issue whose transaction rolled back is replaced by the next issue of that number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval import licences
from shuhui.approval.lookups import Lookups
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import DEFAULT_DIR, load_items
from shuhui.core.display import yuan
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.hrss import records
from shuhui.hrss.models import InsuredCertificate
from shuhui.trust.ledger import service as ledger
from shuhui.trust.seals import service as seals

FOLDER: Final = Path("hrss") / "certificates"  # under the data directory
DOCUMENTS_FILE: Final = Path("hrss") / "documents.yaml"
DOCUMENTS_KIND: Final = "hrss-documents"
INSURED_STATUS: Final = "insured-status"
NUMBER_ATTEMPTS: Final = 5


@dataclass(frozen=True)
class DocumentKind:
    code: str
    title: str
    issuer: str
    prefix: str
    default_months: int
    max_months: int
    item: str
    readers: tuple[str, ...]
    reference: str


def document_kind(
    on: date, city_content: Path | None = None, code: str = INSURED_STATUS
) -> DocumentKind:
    """The document ``code`` as the city's content says on ``on``."""
    path = (city_content or DEFAULT_DIR / "qingdao") / DOCUMENTS_FILE
    found = load_items(path, DOCUMENTS_KIND).by_code.get(code)
    if found is None or found.valid_from > on or (found.valid_to and found.valid_to < on):
        raise Problem(
            "not-ready",
            detail=Text(
                f"本市未配置现行有效的“{code}”证明（{DOCUMENTS_FILE}）",
                f"the city's content has no document {code} in force ({DOCUMENTS_FILE})",
            ),
        )
    attrs = found.attrs
    return DocumentKind(
        code=found.code,
        title=found.name_zh,
        issuer=str(attrs["issuer"]),
        prefix=str(attrs["prefix"]),
        default_months=int(attrs["default_months"]),
        max_months=int(attrs["max_months"]),
        item=str(attrs.get("item", "")),
        readers=tuple(str(r) for r in attrs.get("readers", ())),
        reference=found.reference,
    )


# --- the period -------------------------------------------------------------------------------


def month_start(text: str) -> date:
    """``YYYY-MM`` (already checked by the schema) as the month's first day."""
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """How many months from ``start`` to ``end``, both included."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _refuse(field: str, zh: str, en: str) -> Problem:
    return Problem("validation", detail=Text(zh, en), errors=[FieldError(field, Text(zh, en))])


def period(
    kind: DocumentKind, latest: date | None, today: date, start: date | None, end: date | None
) -> tuple[date, date]:
    """The months a certificate states (first days of months, both included)."""
    last = latest or today.replace(day=1)
    end = end or last
    if end > today.replace(day=1):
        raise _refuse("months_to", "截止月份不能晚于本月", "the period cannot end after this month")
    start = start or add_months(end, 1 - kind.default_months)
    if start > end:
        raise _refuse("months_from", "起始月份不能晚于截止月份", "the period starts after it ends")
    if months_between(start, end) > kind.max_months:
        raise _refuse(
            "months_from",
            f"一份证明最多载明 {kind.max_months} 个月，请缩短期间或分次开具",
            f"one certificate states at most {kind.max_months} months",
        )
    return start, end


# --- the statement ----------------------------------------------------------------------------


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def statement_of(record: records.Record, start: date, end: date) -> dict[str, Any]:
    """What the certificate states, as JSON: kept on the row and printed on the PDF."""
    return {
        "name": record.name or "",
        "citizen_id": record.citizen_id,
        "insured": record.insured,
        "months_from": start.isoformat()[:7],
        "months_to": end.isoformat()[:7],
        "enrolments": [
            {
                "insurance_type": e.insurance_type,
                "scheme": e.scheme,
                "status": e.status,
                "start_date": e.start_date.isoformat(),
                "unit": e.unit_name or e.credit_code or "",
            }
            for e in record.enrolments
        ],
        "summary": [
            {
                "insurance_type": s.insurance_type,
                "months_paid": s.months_paid,
                "months_owed": s.months_owed,
                "first_month": _day(s.first_month),
                "last_month": _day(s.last_month),
            }
            for s in record.summary
        ],
        "months": [
            {
                "month": line.month.isoformat()[:7],
                "unit": line.unit_name or line.credit_code,
                "base_fen": line.base_fen,
                "paid_fen": {t: line.paid_fen.get(t, 0) for t in records.INSURANCE_TYPES},
                "in_arrears": line.in_arrears,
            }
            for line in record.months
        ],
    }


# --- the PDF ----------------------------------------------------------------------------------


def _month_text(value: str | None) -> str:
    if not value:
        return "—"
    year, month = value[:7].split("-")
    return f"{year}年{int(month)}月"


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut to ``width`` with an ellipsis (a unit's long name in a table cell)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


ROWS_FIRST_PAGE: Final = 20
NUMBERS_FROM: Final = 2  # the month table's columns from the base on are amounts
ROWS_PER_PAGE: Final = 38


def _pages(months: Sequence[dict[str, Any]]) -> list[Sequence[dict[str, Any]]]:
    chunks: list[Sequence[dict[str, Any]]] = [months[:ROWS_FIRST_PAGE]]
    rest = months[ROWS_FIRST_PAGE:]
    while rest:
        chunks.append(rest[:ROWS_PER_PAGE])
        rest = rest[ROWS_PER_PAGE:]
    return chunks


def render_pdf(
    kind: DocumentKind,
    number: str,
    statement: dict[str, Any],
    issued_on: date,
    seal: licences.LicenceSeal,
) -> bytes:
    """The certificate as A4 pages; the same statement gives the same bytes (reportlab's
    invariant mode)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    font = licences.register_font()
    out = BytesIO()
    width, height = A4
    c = Canvas(out, pagesize=A4, invariant=True, pageCompression=1)
    c.setTitle(f"{kind.title} {number}")
    c.setAuthor(kind.issuer)
    c.setSubject(kind.title)
    c.setCreator("数慧 Shuhui")
    left, right = 56, width - 56
    pages = _pages(statement["months"])
    note = (
        f"本证明由{kind.issuer}加盖电子印章（{seal.name}，印章编码 {seal.code}），"
        "与加盖实物印章的证明具有同等效力。核验方法：在本平台“电子印章验证”页面（/seals/verify）"
        f"上传本文件及其签章文件，或以命令 shuhui seal verify 离线核验。证明编号 {number}。"
    )
    columns = [
        ("年月", left, 62),
        ("缴费单位", left + 62, 168),
        ("缴费基数", left + 230, 70),
        ("养老", left + 300, 60),
        ("医疗", left + 360, 60),
        ("失业", left + 420, 50),
        ("工伤", left + 470, 50),
    ]
    for page_no, chunk in enumerate(pages, start=1):
        y = height - 72
        if page_no == 1:
            c.setFont(font, 20)
            c.drawCentredString(width / 2, y, kind.title)
            y -= 28
            c.setFont(font, 10)
            c.drawRightString(right, y, f"证明编号：{number}")
            y -= 26
            c.setFont(font, 12)
            opening = (
                f"兹证明 {statement['name'] or '—'}（公民身份号码 {statement['citizen_id']}）"
                "在本市参加社会保险的情况如下："
            )
            period_line = (
                f"缴费明细期间：{_month_text(statement['months_from'])}至"
                f"{_month_text(statement['months_to'])}"
            )
            for line in [*licences.wrap_text(opening, font, 12, right - left), period_line]:
                c.drawString(left, y, line)
                y -= 18
            y -= 6
            y = _enrolment_table(c, font, statement, left, right, y)
            y -= 16
        else:
            c.setFont(font, 10)
            c.drawString(left, y, f"{kind.title}（续） 证明编号：{number}")
            y -= 24
        c.setFont(font, 11)
        c.drawString(left, y, "缴费明细（实缴金额，单位：元）")
        y -= 18
        c.setFont(font, 9)
        for index, (title, x, w) in enumerate(columns):
            if index >= NUMBERS_FROM:
                c.drawRightString(x + w - 4, y, title)
            else:
                c.drawString(x + 2, y, title)
        c.line(left, y - 4, right, y - 4)
        y -= 16
        if not chunk:
            c.drawString(left + 2, y, "该期间内无缴费记录")
            y -= 14
        for row in chunk:
            paid = row["paid_fen"]
            cells = [
                _month_text(row["month"]) + ("*" if row["in_arrears"] else ""),
                _fit(str(row["unit"]), font, 9, 164),
                yuan(row["base_fen"]),
                yuan(paid.get("养老", 0)),
                yuan(paid.get("医疗", 0)),
                yuan(paid.get("失业", 0)),
                yuan(paid.get("工伤", 0)),
            ]
            for index, ((_t, x, w), cell) in enumerate(zip(columns, cells, strict=True)):
                if index >= NUMBERS_FROM:  # amounts line up on their last digit
                    c.drawRightString(x + w - 4, y, cell)
                else:
                    c.drawString(x + 2, y, cell)
            y -= 14
        if page_no == len(pages):
            y -= 10
            c.setFont(font, 10)
            c.drawString(
                left, y, "注：标 * 的月份应缴未足额缴纳（欠缴）；缴费月数按足额缴纳的月份计。"
            )
            sign_x, sign_y = width - 170, max(120, min(y - 70, 200))
            c.setFont(font, 13)
            c.drawCentredString(sign_x, sign_y + 22, kind.issuer)
            c.drawCentredString(sign_x, sign_y, licences.chinese_date(issued_on))
            licences.draw_seal(c, sign_x, sign_y + 14, 58, seal)
        c.setFont(font, 8)
        c.setFillColorRGB(0.3, 0.3, 0.3)
        ny = 70
        for line in licences.wrap_text(note, font, 8, right - left):
            c.drawString(left, ny, line)
            ny -= 11
        c.drawCentredString(width / 2, 30, f"第 {page_no} 页 共 {len(pages)} 页")
        c.setFillColorRGB(0, 0, 0)
        c.showPage()
    c.save()
    return out.getvalue()


def _enrolment_table(
    c: Any, font: str, statement: dict[str, Any], left: float, right: float, y: float
) -> float:
    heads = [("险种", 0), ("参保类别", 60), ("参保状态", 130), ("参保日期", 200), ("参保单位", 280)]
    c.setFont(font, 11)
    c.drawString(left, y, "参保情况")
    y -= 18
    c.setFont(font, 9)
    for title, dx in heads:
        c.drawString(left + dx + 2, y, title)
    c.line(left, y - 4, right, y - 4)
    y -= 16
    if not statement["enrolments"]:
        c.drawString(left + 2, y, "无参保登记记录")
        y -= 14
    for e in statement["enrolments"]:
        cells = [
            e["insurance_type"],
            e["scheme"],
            e["status"],
            licences.chinese_date(date.fromisoformat(e["start_date"])),
            _fit(e["unit"] or "—", font, 9, right - left - 284),
        ]
        for (_t, dx), cell in zip(heads, cells, strict=True):
            c.drawString(left + dx + 2, y, cell)
        y -= 14
    y -= 10
    c.setFont(font, 11)
    c.drawString(left, y, "缴费月数（按现存缴费明细统计）")
    y -= 18
    c.setFont(font, 9)
    heads2 = [
        ("险种", 0),
        ("足额缴费月数", 60),
        ("首次缴费", 150),
        ("最近缴费", 240),
        ("欠缴月数", 330),
    ]
    for title, dx in heads2:
        c.drawString(left + dx + 2, y, title)
    c.line(left, y - 4, right, y - 4)
    y -= 16
    for s in statement["summary"]:
        cells = [
            s["insurance_type"],
            f"{s['months_paid']} 个月",
            _month_text(s["first_month"]),
            _month_text(s["last_month"]),
            f"{s['months_owed']} 个月",
        ]
        for (_t, dx), cell in zip(heads2, cells, strict=True):
            c.drawString(left + dx + 2, y, cell)
        y -= 14
    return y


# --- issuing ----------------------------------------------------------------------------------


def certificate_path(data_dir: Path, number: str) -> Path:
    if not licences.NUMBER.match(number):
        raise ValueError(f"bad certificate number {number!r}")
    return data_dir / FOLDER / f"{number}.pdf"


def _next_number(db: Session, prefix: str, year: int) -> str:
    stem = f"{prefix}-{year}-"
    latest = db.scalar(
        select(func.max(InsuredCertificate.number)).where(
            InsuredCertificate.number.like(f"{stem}%")
        )
    )
    sequence = int(latest[len(stem) :]) + 1 if latest else 1
    return f"{stem}{sequence:06d}"


def _latest_month(record: records.Record) -> date | None:
    months = [s.last_month for s in record.summary if s.last_month is not None]
    owed = [line.month for line in record.months]
    found = months + owed
    return max(found) if found else None


def issue(
    db: Session,
    data_dir: Path,
    lookups: Lookups,
    *,
    citizen_id: str,
    months_from: date | None,
    months_to: date | None,
    requested_by: str,
    purpose: str = "certificate of insured status issued at the holder's request",
    city_content: Path | None = None,
    now: datetime | None = None,
) -> InsuredCertificate:
    """Issues the person's 参保证明 (the module's docstring has the steps). ``requested_by`` is
    the ledger's actor: the person's own account, an officer, or the command line."""
    now = as_utc(now or utcnow())
    today = local_today(now)
    kind = document_kind(today, city_content)
    whole = records.read_record(lookups, citizen_id)
    if not whole.known:
        raise Problem(
            "not-found",
            detail=Text("数据中心没有该公民身份号码的人员信息", "no such person in the data core"),
            errors=[FieldError("citizen_id", Text("查无此人", "no such person"))],
        )
    start, end = period(kind, _latest_month(whole), today, months_from, months_to)
    record = records.read_record(lookups, citizen_id, start=start, end=end)
    statement = statement_of(record, start, end)
    seal = licences.licence_seal(kind.issuer, today, city_content)
    seals.ensure_seal(
        db, data_dir, code=seal.code, name=seal.name, department=seal.department, actor=requested_by
    )
    made: InsuredCertificate | None = None
    pdf = b""
    for _attempt in range(NUMBER_ATTEMPTS):
        number = _next_number(db, kind.prefix, today.year)
        pdf = render_pdf(kind, number, statement, today, seal)
        candidate = InsuredCertificate(
            number=number,
            citizen_id=citizen_id,
            holder_name=record.name or "",
            months_from=start,
            months_to=end,
            issuer=kind.issuer,
            issued_on=today,
            issued_at=now,
            requested_by=requested_by,
            statement=statement,
            versions={s.table: s.version for s in record.sources},
            seal_code=seal.code,
            envelope={},
            stored_as=str(FOLDER / f"{number}.pdf"),
            sha256=hashlib.sha256(pdf).hexdigest(),
        )
        try:
            with db.begin_nested():
                db.add(candidate)
                db.flush()
        except IntegrityError:
            continue  # another issue took the number first
        made = candidate
        break
    if made is None:
        raise Problem("conflict", detail="证明编号分配冲突，请稍后重试")
    made.envelope = seals.sign_document(db, data_dir, seal.code, pdf, signer=requested_by, at=now)
    licences.write_owner_only(certificate_path(data_dir, made.number), pdf)
    db.flush()
    ledger.record(
        db,
        requested_by,
        "hrss.certificate_issued",
        subject=citizen_id,
        purpose=purpose,
        detail={
            "number": made.number,
            "months_from": statement["months_from"],
            "months_to": statement["months_to"],
            "seal": seal.code,
            "sha256": made.sha256,
            "versions": dict(made.versions),
        },
    )
    return made


def get(db: Session, number: str) -> InsuredCertificate | None:
    return db.scalar(select(InsuredCertificate).where(InsuredCertificate.number == number))


def of_person(db: Session, citizen_id: str, limit: int = 20) -> list[InsuredCertificate]:
    return list(
        db.scalars(
            select(InsuredCertificate)
            .where(InsuredCertificate.citizen_id == citizen_id)
            .order_by(InsuredCertificate.id.desc())
            .limit(limit)
        )
    )


def certificate_pdf(data_dir: Path, certificate: InsuredCertificate) -> bytes:
    """The stored PDF, after checking it is the one issued (its SHA-256)."""
    return licences.read_checked(
        data_dir / FOLDER,
        Path(certificate.stored_as).name,
        certificate.sha256,
        f"证明 {certificate.number}",
    )
