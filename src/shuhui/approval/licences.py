"""E-licences (电子证照): what an approval issues, sealed, stored, and written to the data core.

``issue_licence`` gives an approved case its certificate, in this order:

1. checks: the item issues a certificate of a type the data standard knows (a type the data
   core would refuse could never be written there), and the case is approved and has none yet;
2. a number: the type's pinyin initials, the year and a sequence (``SPJYXKZ-2025-000001``),
   taken under a savepoint so that two issues racing for one number end with two numbers;
3. a one-page A4 PDF (reportlab, the WenQuanYi Zen Hei font of Debian's ``fonts-wqy-zenhei``)
   with the type, the number, the holder's name and ID as the real certificate prints them,
   the item, the issuing department, the local date and the department's seal;
4. the PDF sealed with the department's e-seal (``trust.seals``: its envelope verifies at
   ``/seals/verify`` with the PDF as uploaded), written owner-only under
   ``<data dir>/approval/licences/`` and its SHA-256 kept on the ``Licence`` row;
5. the ``Licence`` row and an ``approval.licence.issued`` ledger entry, in the caller's
   transaction;
6. once the caller's transaction has committed, the certificate written to the data core's
   ``e_certificates`` in a transaction of its own (``tasks.sync_licences``: a new table version,
   every earlier row kept, its ``data.loaded`` entry) and ``Licence.datacore_version`` set, so
   the next application that needs the certificate finds it there and waives the material.

**Why after the commit.** Files and the database share no transaction. Written inside the
caller's transaction, a certificate would stay in the data core when that transaction rolls
back (a later step of the request fails), waiving materials for a licence never issued; and
the write (seconds on a city's table, ``docs/benchmarks.md``) would hold the transaction's
locks. After the commit, the data core only ever holds committed licences. If the write fails,
or the process dies before it, the licence stands with ``datacore_version`` None and the next
sync writes it: every issue's sync writes every pending licence, and a write is an upsert on
the table's key (type, number), so no sync ever makes a second row. ``publish="later"`` leaves
the write to a scheduled ``sync_licences`` alone.

**One version per issue.** The table is an entity table: a write rewrites it whole (read the
current version, drop rows with the incoming keys, add the incoming rows, load), so each sync
makes a version, holding every licence then pending. That suits the once-only loop
(一次办结、下次免交), whose next application may follow in a minute; a city issuing many licences
an hour issues with ``publish="later"`` and runs ``sync_licences`` every minute or so. Three
versions are kept, so a reader holding a view over a version four syncs old fails: a long batch
reading ``e_certificates`` while licences are issued should run on a copy. The catalog is not
synced per version: its entry for the table (rows, version, quality report) catches up at the
next ``shuhui catalog sync`` or start-up recovery; describing the table is all it does with it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, Final, Literal

import pyarrow as pa
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval import fonts
from shuhui.approval.items import ServiceItem
from shuhui.approval.models import Case, Licence
from shuhui.catalog.publishing import record_loaded
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import DEFAULT_DIR, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.locks import flocked
from shuhui.datacore.errors import TableNotFound
from shuhui.datacore.store import DataCore, LoadResult
from shuhui.standard.tables import CERTIFICATES
from shuhui.trust.crypto.sm import sm3_hex
from shuhui.trust.ledger import service as ledger
from shuhui.trust.seals import service as seals

log = logging.getLogger(__name__)

LICENCE_DIR: Final = Path("approval") / "licences"
SEALS_FILE: Final = "licence-seals.yaml"
SEALS_KIND: Final = "licence-seals"
# The name reportlab registers the certificate's font under (``fonts.font_path``'s file).
FONT_NAME: Final = "WenQuanYiZenHei"
# 持证主体类型 as the data core spells it, by the case's applicant kind.
HOLDER_TYPES: Final = {"person": "个人", "enterprise": "企业"}
# How the real certificate labels its holder: a person's name and ID, an entity's name and code.
HOLDER_LABELS: Final = {
    "person": ("姓名", "公民身份号码"),
    "enterprise": ("名称", "统一社会信用代码"),
}
NUMBER: Final = re.compile(r"^[A-Z]{1,12}-\d{4}-\d{6,}$")
SEAL_RED: Final = (0xD0 / 255, 0x02 / 255, 0x1B / 255)
# How many times a number is taken again when another issue took it first.
NUMBER_ATTEMPTS: Final = 5


# --- the department's seal --------------------------------------------------------------------


@dataclass(frozen=True)
class LicenceSeal:
    code: str
    name: str
    department: str


def licence_seal(department: str, on: date, city_content: Path | None = None) -> LicenceSeal:
    """The seal a department's certificates carry on ``on``: from ``licence-seals.yaml`` of the
    city's content (``settings.city_content``), or, for a department the file does not name, a
    行政审批专用章 named after it with a code derived from its name (stable, so the seal made
    the first time is the one used after)."""
    path = (city_content or DEFAULT_DIR / "qingdao") / SEALS_FILE
    configured = load_items(path, SEALS_KIND).by_code.values() if path.exists() else ()
    for item in configured:
        in_force = item.valid_from <= on and (item.valid_to is None or on <= item.valid_to)
        if in_force and str(item.attrs.get("department", "")) == department:
            return LicenceSeal(item.code, item.name_zh, department)
    return LicenceSeal(
        "SPZ-" + sm3_hex(department.encode("utf-8"))[:16].upper(),
        f"{department}行政审批专用章",
        department,
    )


# --- the certificate number -------------------------------------------------------------------


def number_prefix(certificate_type: str) -> str:
    """The type's pinyin initials in capitals (食品经营许可证 → SPJYXKZ), at most 12 letters."""
    from pypinyin import Style, lazy_pinyin

    letters = "".join(
        part[:1] for part in lazy_pinyin(certificate_type, style=Style.FIRST_LETTER) if part
    )
    prefix = re.sub(r"[^A-Z]", "", letters.upper())[:12]
    return prefix or "DZZZ"  # 电子证照, for a type with no Chinese letters at all


def _next_number(db: Session, prefix: str, year: int) -> str:
    stem = f"{prefix}-{year}-"
    # Fixed-width sequences sort as text; past 999,999 the longer number is the larger.
    last = db.scalar(
        select(Licence.certificate_no)
        .where(Licence.certificate_no.like(f"{stem}%"))
        .order_by(func.length(Licence.certificate_no).desc(), Licence.certificate_no.desc())
        .limit(1)
    )
    sequence = int(last[len(stem) :]) + 1 if last else 1
    return f"{stem}{sequence:06d}"


# --- the PDF ----------------------------------------------------------------------------------


def font_path() -> Path:
    """The font the certificate is set in (``fonts.font_path``); a clear refusal (503) when it
    is not installed: the certificate cannot be set without it."""
    try:
        return fonts.font_path()
    except fonts.FontMissing:
        pass
    raise Problem(
        "not-ready",
        detail=Text(
            "未找到中文字体“文泉驿正黑”，无法生成电子证照。请安装 Debian 软件包 fonts-wqy-zenhei"
            "（scripts/system-deps.sh）。",
            "The WenQuanYi Zen Hei font (Debian package fonts-wqy-zenhei) is not installed; "
            "run scripts/system-deps.sh.",
        ),
    )


@lru_cache(maxsize=1)
def register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    # subfontIndex 0 of the collection is Zen Hei itself (1 is Sharp, 2 is Mono).
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_path()), subfontIndex=0))
    return FONT_NAME


@dataclass(frozen=True)
class LicenceText:
    """What the certificate prints."""

    certificate_type: str
    certificate_no: str
    holder_kind: str
    holder_name: str
    holder_id: str
    item_name: str
    case_code: str
    issuer: str
    issued_on: date
    seal: LicenceSeal


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width``: Chinese breaks between any two characters, a
    run of Latin letters, digits and punctuation (a code, a path) only where it must."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    line = ""
    for token in re.findall(r"[A-Za-z0-9/._:-]+|.", text):
        if line and stringWidth(line + token, font, size) > width:
            lines.append(line.rstrip())
            line = ""
        while stringWidth(token, font, size) > width and len(token) > 1:
            cut = len(token) - 1
            while cut > 1 and stringWidth(token[:cut], font, size) > width:
                cut -= 1
            lines.append(token[:cut])
            token = token[cut:]
        line += token.lstrip() if not line else token
    return [*lines, line] if line else lines or [""]


def draw_seal(canvas: Any, cx: float, cy: float, radius: float, seal: LicenceSeal) -> None:
    """The department's seal as ``trust.seals`` draws its image: a red ring, a five-pointed star,
    the seal's name along the upper rim and its code below."""
    import math

    font = register_font()
    scale = radius / 100.0
    canvas.saveState()
    # A stamp's ink lets the text under it show through.
    canvas.setStrokeColorRGB(*SEAL_RED, alpha=0.85)
    canvas.setFillColorRGB(*SEAL_RED, alpha=0.85)
    canvas.setLineWidth(6 * scale)
    canvas.circle(cx, cy, 94 * scale, stroke=1, fill=0)
    star = canvas.beginPath()
    for i in range(10):
        r = (34 if i % 2 == 0 else 13.5) * scale
        angle = math.radians(90 - 36 * i)  # PDF's y axis points up
        x, y = cx + r * math.cos(angle), cy + r * math.sin(angle)
        if i == 0:
            star.moveTo(x, y)
        else:
            star.lineTo(x, y)
    star.close()
    canvas.drawPath(star, stroke=0, fill=1)
    name = seal.name
    units = 22 if len(name) <= 12 else max(11, 22 - (len(name) - 12))  # as seal_svg sizes it
    size = units * scale
    # The name's characters stand on an arc of radius 72 centred on the top, a character's
    # width apart (at most 260 degrees in all), each turned to face the centre as on a seal.
    step = min(math.degrees(units * 1.15 / 72), 260 / max(1, len(name) - 1))
    start = 90 + step * (len(name) - 1) / 2
    for index, char in enumerate(name):
        angle = math.radians(start - step * index)
        canvas.saveState()
        canvas.translate(cx + 70 * scale * math.cos(angle), cy + 70 * scale * math.sin(angle))
        canvas.rotate(math.degrees(angle) - 90)
        canvas.setFont(font, size)
        canvas.drawCentredString(0, -size * 0.4, char)
        canvas.restoreState()
    canvas.setFont("Courier", 10 * scale)
    canvas.drawCentredString(cx, cy - 65 * scale, seal.code)
    canvas.restoreState()


def render_pdf(text: LicenceText) -> bytes:
    """The certificate as a one-page A4 PDF. The same text gives the same bytes (reportlab's
    invariant mode: no creation time or random document id), so a stored copy can be checked."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    font = register_font()
    out = BytesIO()
    width, height = A4
    c = Canvas(out, pagesize=A4, invariant=True, pageCompression=1)
    c.setTitle(f"{text.certificate_type} {text.certificate_no}")
    c.setAuthor(text.issuer)
    c.setSubject(f"电子证照 {text.certificate_type}")
    c.setCreator("数慧 Shuhui")
    # A double frame, as printed certificates have.
    c.setStrokeColorRGB(0.55, 0.35, 0.1)
    c.setLineWidth(3)
    c.rect(36, 36, width - 72, height - 72)
    c.setLineWidth(0.8)
    c.rect(44, 44, width - 88, height - 88)
    c.setFillColorRGB(0, 0, 0)
    c.setFont(font, 30)
    c.drawCentredString(width / 2, height - 130, text.certificate_type)
    c.setFont(font, 12)
    c.drawCentredString(width / 2, height - 154, "（电子证照）")
    c.setFont(font, 11)
    c.drawRightString(width - 80, height - 190, f"编号：{text.certificate_no}")
    name_label, id_label = HOLDER_LABELS.get(text.holder_kind, ("持证主体", "证件号码"))
    rows = [
        (name_label, text.holder_name),
        (id_label, text.holder_id),
        ("许可事项", text.item_name),
        ("办件编号", text.case_code),
        ("发证机关", text.issuer),
        ("发证日期", chinese_date(text.issued_on)),
    ]
    label_x, value_x, size = 90, 210, 14
    y = height - 250
    for label, value in rows:
        c.setFont(font, size)
        c.drawString(label_x, y, label)
        for line in wrap_text(value, font, size, width - value_x - 90):
            c.drawString(value_x, y, line)
            y -= size * 1.6
        y -= size * 0.9
    # The issuer and the date at the bottom right, the seal over them as a stamp is.
    sign_x, sign_y = width - 190, 230
    c.setFont(font, 14)
    c.drawCentredString(sign_x, sign_y + 22, text.issuer)
    c.drawCentredString(sign_x, sign_y, chinese_date(text.issued_on))
    draw_seal(c, sign_x, sign_y + 14, 62, text.seal)
    c.setFont(font, 9)
    c.setFillColorRGB(0.3, 0.3, 0.3)
    note = (
        f"本电子证照由{text.issuer}加盖电子印章（{text.seal.name}，印章编码 {text.seal.code}），"
        "与纸质证照具有同等法律效力。核验方法：在本平台“电子印章验证”页面（/seals/verify）"
        "上传本文件及其签章文件。"
    )
    y = 110
    for line in wrap_text(note, font, 9, width - 180):
        c.drawString(90, y, line)
        y -= 14
    c.showPage()
    c.save()
    return out.getvalue()


# --- storing the PDF --------------------------------------------------------------------------


def licence_path(data_dir: Path, certificate_no: str) -> Path:
    if not NUMBER.match(certificate_no):
        raise ValueError(f"bad certificate number {certificate_no!r}")
    return data_dir / LICENCE_DIR / f"{certificate_no}.pdf"


def _store(data_dir: Path, certificate_no: str, content: bytes) -> str:
    """Writes the PDF owner-only (it carries the holder's ID), flushed, then put in place in one
    step; returns its path under ``<data dir>/approval/``. A file left by an issue whose
    transaction rolled back, under a number given again, is replaced."""
    path = licence_path(data_dir, certificate_no)
    write_owner_only(path, content)
    return str(path.relative_to(data_dir / "approval"))


def write_owner_only(path: Path, content: bytes) -> None:
    """Writes ``content`` readable by the owner alone, flushed, then put in place in one step
    (a reader sees the old file or the whole new one, never part of it)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staged.unlink(missing_ok=True)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged, path)


def licence_pdf(db: Session, data_dir: Path, certificate_no: str) -> bytes:
    """The stored PDF of a certificate, after checking it is the one issued (its SHA-256)."""
    licence = get_licence(db, certificate_no)
    if licence is None:
        raise Problem("not-found", detail=f"电子证照 {certificate_no} 不存在")
    return read_checked(
        data_dir / "approval", licence.stored_as, licence.sha256, f"电子证照 {certificate_no}"
    )


def read_checked(base: Path, stored_as: str, sha256: str, what: str) -> bytes:
    """A stored document's bytes, read only from under ``base`` and only if they are the bytes
    issued (their SHA-256); ``what`` names it in the refusal (a server fault, never the
    reader's: a 500 problem saying which document and why)."""
    root = base.resolve()
    path = (root / stored_as).resolve()
    if not path.is_relative_to(root):
        raise Problem("internal", detail=f"{what} 的存储位置不正确")
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise Problem("internal", detail=f"{what} 的文件缺失") from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise Problem(
            "internal",
            detail=Text(
                f"{what} 的文件与签发时不一致，已拒绝提供",
                f"{what}: the stored file does not match its hash",
            ),
        )
    return content


# --- the data core ----------------------------------------------------------------------------


def certificate_row(licence: Licence) -> dict[str, Any]:
    """The licence as a row of ``e_certificates``."""
    person = licence.holder_kind == "person"
    return {
        "certificate_no": licence.certificate_no,
        "certificate_type": licence.certificate_type,
        "holder_type": HOLDER_TYPES[licence.holder_kind],
        "holder_citizen_id": licence.holder_id if person else None,
        "holder_credit_code": None if person else licence.holder_id,
        "holder_name": licence.holder_name,
        "issuer": licence.issuer,
        "issue_date": licence.issued_on,
        "status": "有效",
    }


def _lock_path(datacore: DataCore) -> Path:
    return datacore.main.root / "e_certificates.write.lock"


def write_certificates(
    datacore: DataCore,
    rows: Sequence[dict[str, Any]],
    *,
    source: str,
    recorder: Callable[[LoadResult], None] | None = None,
) -> LoadResult:
    """Writes ``rows`` into ``e_certificates`` as one new version that keeps every other row:
    a row whose (type, number) is already there replaces it, so writing twice adds nothing.
    Writers through here take one lock, so two processes never drop each other's rows."""
    spec = CERTIFICATES
    incoming = pa.Table.from_pylist(list(rows), schema=spec.arrow_schema)

    def record(results: dict[str, LoadResult]) -> None:
        if recorder is not None:
            recorder(results[spec.name])

    with flocked(_lock_path(datacore)):
        try:
            datacore.table(spec.name)
        except TableNotFound:
            return datacore.load(spec, incoming, source=source, recorder=record)
        con = datacore.connect(tables=[spec.name])
        try:
            con.register("incoming", incoming)
            columns = ", ".join(f'"{c.name}"' for c in spec.columns)
            # Column names from the table's spec, nothing from outside.
            query = (
                f"SELECT {columns} FROM e_certificates e WHERE NOT EXISTS (SELECT 1 FROM incoming i"  # noqa: S608
                " WHERE i.certificate_type = e.certificate_type"
                " AND i.certificate_no = e.certificate_no)"
                f" UNION ALL SELECT {columns} FROM incoming"
            )
            reader = con.sql(query).to_arrow_reader(262_144)

            def batches() -> Iterator[pa.RecordBatch]:
                yield from reader

            return datacore.load(spec, batches(), source=source, recorder=record)
        finally:
            con.close()


def certificate_types() -> tuple[str, ...]:
    """The certificate types the data standard's ``e_certificates`` accepts."""
    column = next(c for c in CERTIFICATES.columns if c.name == "certificate_type")
    return column.values or ()


def _loaded_recorder(
    db: Session, actor: str, datacore: DataCore, label: str
) -> Callable[[LoadResult], None]:
    def record(result: LoadResult) -> None:
        record_loaded(db, actor, datacore, [(CERTIFICATES, result)], {"label": label})

    return record


def published_entries(actor: str, licences: Sequence[Licence], purpose: str) -> list[ledger.Entry]:
    """One ``approval.licence.published`` entry per licence the data core now holds, naming the
    table version that holds it."""
    return [
        ledger.Entry(
            actor,
            "approval.licence.published",
            subject=lic.holder_id,
            purpose=purpose,
            detail={
                "certificate_no": lic.certificate_no,
                "certificate_type": lic.certificate_type,
                "table": CERTIFICATES.name,
                "version": lic.datacore_version,
            },
        )
        for lic in licences
    ]


def write_licences(
    db: Session, datacore: DataCore, licences: Sequence[Licence], *, actor: str
) -> int:
    """Writes ``licences`` to the data core in one version, its ``data.loaded`` entry and one
    ``approval.licence.published`` entry per licence in the caller's transaction, and sets
    their ``datacore_version``; returns the version."""
    label = "approval:" + ",".join(lic.certificate_no for lic in licences[:5])
    if len(licences) > 5:
        label += f",… ({len(licences)} licences)"
    result = write_certificates(
        datacore,
        [certificate_row(lic) for lic in licences],
        source=label,
        recorder=_loaded_recorder(db, actor, datacore, label),
    )
    for licence in licences:
        licence.datacore_version = result.version
    ledger.record_many(
        db, published_entries(actor, licences, "e-certificate written to the data core")
    )
    db.flush()
    return result.version


PENDING: Final = "approval.licences.pending_sync"  # Session.info: (data core, actor)
HOOKED: Final = "approval.licences.sync_hooked"


def sync_after_commit(db: Session, datacore: DataCore, *, actor: str) -> None:
    """Once ``db``'s transaction commits, writes every pending licence to the data core in a
    transaction of its own (``tasks.sync_licences``); nothing if it rolls back. A failure is
    logged, never raised: the caller's work is committed by then, and the next sync writes
    what this one did not."""
    db.info[PENDING] = (datacore, actor)
    if not db.info.get(HOOKED):
        db.info[HOOKED] = True
        event.listen(db, "after_commit", _after_commit)
        event.listen(db, "after_transaction_end", _after_transaction_end)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released, not the transaction committed
    pending = session.info.pop(PENDING, None)
    if pending is None:
        return
    datacore, actor = pending
    from shuhui.approval.tasks import sync_licences  # tasks builds on this module

    try:
        with Session(bind=session.get_bind(), expire_on_commit=False) as own, own.begin():
            sync_licences(own, datacore, actor=actor)
    except Exception:
        log.exception("e-licences not written to the data core; the next sync will")


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        # The transaction is over: committed (the sync has run) or rolled back (nothing issued).
        session.info.pop(PENDING, None)


# --- issuing ----------------------------------------------------------------------------------


def get_licence(db: Session, certificate_no: str) -> Licence | None:
    return db.scalar(select(Licence).where(Licence.certificate_no == certificate_no))


def licence_of(db: Session, case: Case) -> Licence | None:
    return db.scalar(select(Licence).where(Licence.case_id == case.id))


def _refuse(field: str, zh: str, en: str) -> Problem:
    return Problem("conflict", detail=zh, errors=[FieldError(field, Text(zh, en))])


def _check(db: Session, case: Case, item: ServiceItem) -> str:
    if item.code != case.item_code:
        raise _refuse("item", "事项与办件不符", f"the item is not the case's ({case.item_code})")
    if item.issues is None:
        raise _refuse("item", f"事项“{item.name_zh}”不发放电子证照", "the item issues no licence")
    if item.issues not in certificate_types():
        raise _refuse(
            "item",
            f"证照类型“{item.issues}”不在数据标准的电子证照类型中，无法写入电子证照库",
            f"certificate type {item.issues!r} is not in the data standard's vocabulary",
        )
    if case.state != "approved":
        raise _refuse("state", "只有已准予的办件才能出证", f"the case is {case.state}")
    if case.applicant_kind not in HOLDER_TYPES:
        raise _refuse(
            "applicant", "办件的申请人类型不正确", f"applicant kind {case.applicant_kind}"
        )
    if licence_of(db, case) is not None:
        raise _refuse("case", f"办件 {case.code} 已发放电子证照", "the case already has a licence")
    return item.issues


def issue_licence(
    db: Session,
    data_dir: Path,
    datacore: DataCore,
    *,
    case: Case,
    item: ServiceItem,
    officer: str,
    now: datetime | None = None,
    publish: Literal["after-commit", "later"] = "after-commit",
    city_content: Path | None = None,
) -> Licence:
    """Issues the approved ``case``'s e-licence (see the module's docstring for the steps).
    ``officer`` is the issuing account's username. The data core is written once the caller's
    transaction commits (``publish="after-commit"``), or by a scheduled ``sync_licences``
    (``"later"``). Does not change the case's state: the caller marks it issued with the
    returned ``certificate_no``."""
    certificate_type = _check(db, case, item)
    now = as_utc(now or utcnow())
    issued_on = local_today(now)
    seal = licence_seal(case.department, issued_on, city_content)
    seals.ensure_seal(
        db, data_dir, code=seal.code, name=seal.name, department=seal.department, actor=officer
    )
    prefix = number_prefix(certificate_type)
    licence: Licence | None = None
    for _attempt in range(NUMBER_ATTEMPTS):
        number = _next_number(db, prefix, issued_on.year)
        text = LicenceText(
            certificate_type=certificate_type,
            certificate_no=number,
            holder_kind=case.applicant_kind,
            holder_name=case.applicant_name,
            holder_id=case.applicant_id,
            item_name=item.name_zh,
            case_code=case.code,
            issuer=case.department,
            issued_on=issued_on,
            seal=seal,
        )
        pdf = render_pdf(text)
        candidate = Licence(
            certificate_no=number,
            certificate_type=certificate_type,
            case_id=case.id,
            holder_kind=case.applicant_kind,
            holder_id=case.applicant_id,
            holder_name=case.applicant_name,
            issuer=case.department,
            issued_on=issued_on,
            seal_code=seal.code,
            envelope={},
            stored_as=str(Path("licences") / f"{number}.pdf"),
            sha256=hashlib.sha256(pdf).hexdigest(),
            datacore_version=None,
        )
        try:
            with db.begin_nested():
                db.add(candidate)
                db.flush()
        except IntegrityError:
            # Another issue took the number (or this case) first: look again.
            if licence_of(db, case) is not None:
                raise _refuse(
                    "case", f"办件 {case.code} 已发放电子证照", "the case already has a licence"
                ) from None
            continue
        licence = candidate
        break
    if licence is None:
        raise Problem("conflict", detail="证照编号分配冲突，请稍后重试")
    licence.envelope = seals.sign_document(db, data_dir, seal.code, pdf, signer=officer, at=now)
    licence.stored_as = _store(data_dir, licence.certificate_no, pdf)
    db.flush()
    ledger.record(
        db,
        officer,
        "approval.licence.issued",
        subject=case.applicant_id,
        purpose="e-licence issued for an approved case",
        grant=case.code,
        detail={
            "certificate_no": licence.certificate_no,
            "certificate_type": certificate_type,
            "item": item.code,
            "seal": seal.code,
            "sha256": licence.sha256,
            "document_sm3": str(licence.envelope["document_sm3"]),
        },
    )
    if publish == "after-commit":
        sync_after_commit(db, datacore, actor=officer)
    return licence
