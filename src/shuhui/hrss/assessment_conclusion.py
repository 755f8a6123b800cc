"""The conclusion of a labour-capacity assessment (劳动能力鉴定结论), once the panel has given
its opinions (``assessment``): the grade and self-care level the majority gave, the one-time
disability subsidy by the rule book (``injury.disability_benefits``), the 结论书 as a PDF under
the committee's e-seal (``assessment_pdf``) stored owner-only with its hash, the approval case
ended approved (``approval.service.finish_approved``), the worker and the employer told, and an
``hrss.assessment_concluded`` entry — all in the caller's transaction (a conclusion that fails
keeps nothing but a PDF file the next conclusion of that number replaces)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval import licences
from shuhui.approval import service as approval
from shuhui.approval.items import Catalogue
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore
from shuhui.hrss import assessment_pdf, injury
from shuhui.hrss.assessment import (
    CONCLUDED,
    EXAMINED,
    FOLDER,
    conflict,
    majority,
    office_case,
    opinions_of,
)
from shuhui.hrss.models import Assessment
from shuhui.programs import messages
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger
from shuhui.trust.seals import service as seals

APPEAL: Final = (
    "申请鉴定的单位或者个人对本结论不服的，可以在收到本结论之日起15日内向山东省劳动能力鉴定委员会"
    "提出再次鉴定申请（《工伤保险条例》第二十六条）。"
)


def conclusion_path(data_dir: Path, number: str) -> Path:
    if not licences.NUMBER.match(number):
        raise ValueError(f"bad conclusion number {number!r}")
    return data_dir / FOLDER / f"{number}.pdf"


def _next_number(db: Session, prefix: str, year: int) -> str:
    stem = f"{prefix}-{year}-"
    latest = db.scalar(
        select(func.max(Assessment.conclusion_no)).where(Assessment.conclusion_no.like(f"{stem}%"))
    )
    return f"{stem}{(int(latest[len(stem) :]) + 1) if latest else 1:06d}"


def conclude(
    db: Session,
    data_dir: Path,
    datacore: DataCore,
    catalogue: Catalogue,
    library: Any,
    case_code: str,
    *,
    officer: User,
    city_content: Path | None = None,
    now: datetime | None = None,
) -> Assessment:
    r, case = office_case(db, case_code, officer, city_content, "作出结论")
    found = db.scalar(select(Assessment).where(Assessment.case_code == case_code).with_for_update())
    if found is None or found.state != EXAMINED:
        raise conflict("专家组出具意见后才能作出结论", "the panel has not given its opinions")
    agreed = majority(opinions_of(db, found), found.panel)
    if agreed is None:
        raise conflict(
            "专家组成员尚未全部出具意见，或意见未形成多数：请专家组复议",
            "every member's opinion, and a majority, are needed",
            field="opinions",
        )
    grade, care = agreed
    at = as_utc(now or utcnow())
    today = local_today(at)
    benefits: dict[str, Any] = {"outcome": "none"}
    if grade >= 1:
        found_benefits = injury.disability_benefits(
            db,
            library,
            case.applicant_id,
            grade,
            actor=officer.username,
            purpose="劳动能力鉴定结论：按伤残等级计算一次性伤残补助金",
            on=today,
        )
        benefits = {
            "outcome": found_benefits.outcome,
            "months": found_benefits.months,
            "wage_fen": found_benefits.wage_fen,
            "subsidy_fen": found_benefits.subsidy_fen,
            "rule": injury.BENEFITS_RULE,
            "versions": found_benefits.versions,
        }
    seal = licences.licence_seal(r.committee, today, city_content)
    seals.ensure_seal(
        db,
        data_dir,
        code=seal.code,
        name=seal.name,
        department=seal.department,
        actor=officer.username,
    )
    form = case.form or {}
    pdf = b""
    number = ""
    for _attempt in range(licences.NUMBER_ATTEMPTS):
        number = _next_number(db, r.prefix, today.year)
        statement = assessment_pdf.Conclusion(
            number=number,
            worker_name=case.applicant_name,
            citizen_id=case.applicant_id,
            employer=str(form.get("employer_credit_code", "")),
            decision_no=str(form.get("injury_decision_no", "")),
            diagnosis=str(form.get("diagnosis", "")),
            site=str(form.get("injury_site", "")),
            kind=r.name,
            standard=r.standard,
            panel=tuple(e.shown for u in found.panel if (e := r.expert(u)) is not None),
            findings=found.findings or "",
            grade=grade,
            self_care=care,
            months=benefits.get("months"),
            subsidy_fen=benefits.get("subsidy_fen"),
            issuer=r.committee,
            issued_on=today,
            appeal=APPEAL,
        )
        pdf = assessment_pdf.render(statement, seal)
        try:
            with db.begin_nested():
                found.conclusion_no = number
                db.flush()
        except IntegrityError:
            continue  # another conclusion took the number first: the next one
        break
    else:
        raise Problem("conflict", detail=Text("结论书编号分配冲突，请稍后重试", "try again"))
    found.grade, found.self_care = grade, care
    found.concluded_by, found.concluded_at, found.state = officer.username, at, CONCLUDED
    found.benefits = benefits
    found.stored_as = str(FOLDER / f"{number}.pdf")
    found.sha256 = hashlib.sha256(pdf).hexdigest()
    db.flush()
    found.envelope = seals.sign_document(
        db, data_dir, seal.code, pdf, signer=officer.username, at=at
    )
    licences.write_owner_only(conclusion_path(data_dir, number), pdf)
    shown = assessment_pdf.grade_text(grade)
    approval.finish_approved(
        db,
        data_dir,
        datacore,
        catalogue,
        case,
        officer=officer,
        reason=f"劳动能力鉴定结论：{shown}（{number}）",
        city_content=city_content,
        now=at,
    )
    ledger.record(
        db,
        officer.username,
        "hrss.assessment_concluded",
        subject=case.applicant_id,
        purpose="劳动能力鉴定：作出鉴定结论并送达",
        detail={
            "case": case.code,
            "number": number,
            "grade": grade,
            "self_care": care,
            "panel": list(found.panel),
            "sha256": found.sha256,
            "seal": seal.code,
        },
    )
    body = (
        f"劳动能力鉴定结论（{number}）：{shown}，"
        f"{assessment_pdf.self_care_text(care)}。"
        "结论书已加盖电子印章，可在鉴定页面查看下载；不服的，可在收到之日起15日内申请再次鉴定。"
    )
    link = (f"/hrss/assessments/{case.code}", "查看鉴定结论")
    messages.send(db, case.applicant_id, "劳动能力鉴定结论", body, link=link, now=at)
    employer = str(form.get("employer_credit_code", ""))
    if employer:
        messages.send(
            db,
            employer,
            f"职工{case.applicant_name}的劳动能力鉴定结论",
            body,
            link=None,
            now=at,
        )
    return found


def conclusion_pdf(data_dir: Path, found: Assessment) -> bytes:
    """The stored conclusion, after checking it is the one sealed (its SHA-256)."""
    if found.stored_as is None or found.sha256 is None:
        raise conflict("尚未作出鉴定结论", "no conclusion yet")
    return licences.read_checked(
        data_dir / FOLDER, Path(found.stored_as).name, found.sha256, f"结论书 {found.conclusion_no}"
    )
