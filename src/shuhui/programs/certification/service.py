"""Pension certification's service API (no HTTP): the cycle, what it found, and the steps after.

For routes, pages and the CLI. Every function takes a session and leaves committing to the
caller, except that a refused self-certification (:class:`CertificationRefused`) has written its
ledger entry already: the caller commits, then answers the refusal (as with
``trust.authorisations.context.RecordedRefusal``).

- :func:`run` — the cycle on a date (``cycle.run_cycle``); a date already run returns its
  result with ``already_run`` and writes nothing; a future date is a 422 on ``date``.
- :func:`dashboard`, :func:`runs`, :func:`certifications`, :func:`certification`,
  :func:`standing` (a pensioner's own page), :func:`visits`, :func:`overpayments`.
- :func:`explain` — an officer's look at one certification's evidence, re-evaluated by the rule
  on its evaluation date (ledger ``certification.viewed``).
- :func:`self_certify` — the recipient's signed declaration (SM2, platform-held key); anyone
  else is refused and recorded (``certification.self_refused``).
- :func:`record_visit`, :func:`record_recovery`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.settings import Settings
from shuhui.programs.certification.config import Cycle, cycle_on, load_cycles
from shuhui.programs.certification.cycle import (
    PURPOSE,
    CycleResult,
    Progress,
    resume_hold,
    run_cycle,
)
from shuhui.programs.certification.models import (
    Certification,
    CycleRun,
    HomeVisit,
    Overpayment,
    PaymentHold,
    Recovery,
    Resumption,
)
from shuhui.programs.certification.windows import add_months, check_date
from shuhui.programs.service import Library, require_department
from shuhui.rules.explain import Explanation
from shuhui.trust.authorisations.keys import active_key, issue_platform_key, platform_private_key
from shuhui.trust.crypto.canonical import JsonValue, canonical_json
from shuhui.trust.crypto.sm import SM2PublicKey, sm3_hex, verify
from shuhui.trust.ledger import service as ledger

__all__ = [
    "CertificationRefused",
    "CycleResult",
    "Dashboard",
    "Standing",
    "certification",
    "certifications",
    "cycle_for",
    "dashboard",
    "explain",
    "overpayments",
    "record_recovery",
    "record_visit",
    "run",
    "runs",
    "self_certify",
    "standing",
    "visits",
]

DECLARATION: Final = (
    "本人郑重声明：本人仍健在，且符合继续领取基本养老保险待遇的条件；如有不实，愿承担退还"
    "多领待遇等法律责任。"
)
PAGE_MAX: Final = 200


class CertificationRefused(Problem):
    """A refusal already written to the ledger: the caller commits, then answers it."""


def cycle_for(settings: Settings, on: date) -> Cycle:
    """The cycle's parameters in force on ``on`` (content; a broken file raises ContentError)."""
    return cycle_on(load_cycles(settings.city_content), on)


def run(
    db: Session,
    library: Library,
    settings: Settings,
    on: date | None,
    *,
    actor: str,
    department: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> CycleResult:
    """The certification cycle over every pension in payment on ``on`` (today by default).

    Idempotent: a date already run returns that run's counts with ``already_run`` true and
    writes nothing. A date after today is a 422 naming ``date``. With ``department`` (an
    officer), only the rule's department (人社局) may run it. ``progress(done, total)`` is
    called every 50,000 pensions for a long run."""
    now = as_utc(now or utcnow())
    on = on or local_today(now)
    check_date(on, now)
    cycle = cycle_for(settings, on)
    if department is not None:
        require_department(library.rule(cycle.rule), department)
    return run_cycle(db, library, cycle, on, actor=actor, now=now, progress=progress)


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    """A certification year at a glance (the cycle dashboard)."""

    year: int
    certified: dict[str, int]  # per method: data, self, visit
    undetermined: int
    deceased: int
    suspended: int  # pensions suspended now
    stopped: int  # pensions stopped now
    resumed: int
    back_pay_fen: int
    overpayments: int
    overpaid_fen: int
    recovered_fen: int
    runs: list[CycleRun] = field(default_factory=list)  # the year's runs, by date

    @property
    def total(self) -> int:
        return sum(self.certified.values()) + self.undetermined + self.deceased

    @property
    def rate(self) -> float:
        """Certified among the living (certified + undetermined), 0..1."""
        living = sum(self.certified.values()) + self.undetermined
        return sum(self.certified.values()) / living if living else 0.0

    @property
    def data_rate(self) -> float:
        living = sum(self.certified.values()) + self.undetermined
        return self.certified.get("data", 0) / living if living else 0.0


def dashboard(db: Session, year: int) -> Dashboard:
    by: dict[str, int] = {"data": 0, "self": 0, "visit": 0}
    undetermined = deceased = 0
    for outcome, method, n in db.execute(
        select(Certification.outcome, Certification.method, func.count())
        .where(Certification.year == year)
        .group_by(Certification.outcome, Certification.method)
    ):
        if outcome == "certified":
            by[str(method)] = by.get(str(method), 0) + int(n)
        elif outcome == "undetermined":
            undetermined += int(n)
        else:
            deceased += int(n)
    holds = dict(
        db.execute(select(PaymentHold.status, func.count()).group_by(PaymentHold.status)).all()
    )
    resumed, back = db.execute(
        select(func.count(), func.coalesce(func.sum(Resumption.back_pay_fen), 0))
    ).one()
    n_over, over, recovered = db.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Overpayment.amount_fen), 0),
            func.coalesce(func.sum(Overpayment.recovered_fen), 0),
        )
    ).one()
    year_runs = list(
        db.scalars(
            select(CycleRun)
            .where(CycleRun.run_on >= date(year, 1, 1), CycleRun.run_on <= date(year + 1, 12, 31))
            .order_by(CycleRun.run_on)
        )
    )
    return Dashboard(
        year=year,
        certified=by,
        undetermined=undetermined,
        deceased=deceased,
        suspended=int(holds.get("suspended", 0)),
        stopped=int(holds.get("stopped", 0)),
        resumed=int(resumed),
        back_pay_fen=int(back),
        overpayments=int(n_over),
        overpaid_fen=int(over),
        recovered_fen=int(recovered),
        runs=year_runs,
    )


def runs(db: Session, limit: int = 100) -> list[CycleRun]:
    return list(db.scalars(select(CycleRun).order_by(CycleRun.run_on.desc()).limit(limit)))


def certifications(
    db: Session,
    *,
    year: int | None = None,
    outcome: str | None = None,
    method: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Certification], int]:
    """A page of certifications (by citizen ID) and how many match in all."""
    query = select(Certification)
    if year is not None:
        query = query.where(Certification.year == year)
    if outcome is not None:
        query = query.where(Certification.outcome == outcome)
    if method is not None:
        query = query.where(Certification.method == method)
    total = int(db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = db.scalars(
        query.order_by(Certification.citizen_id)
        .offset(max(0, offset))
        .limit(max(1, min(limit, PAGE_MAX)))
    )
    return list(rows), total


def _not_found(what: str, en: str) -> Problem:
    return Problem(
        "not-found",
        detail=Text(f"没有找到{what}", f"no such {en}"),
        errors=[FieldError("id", Text(f"没有这个{what}", f"no such {en}"))],
    )


def certification(db: Session, cert_id: int) -> Certification:
    found = db.get(Certification, cert_id)
    if found is None:
        raise _not_found("认证记录", "certification")
    return found


@dataclass(frozen=True)
class Standing:
    """A pensioner's own certification standing (their page): the latest certification, the
    pensions not paid as normal, back pay received, visits and overpayments."""

    citizen_id: str
    current: Certification | None
    history: list[Certification]
    holds: list[PaymentHold]
    resumptions: list[Resumption]
    visits: list[HomeVisit]
    overpayments: list[Overpayment]

    @property
    def may_self_certify(self) -> bool:
        return self.current is not None and self.current.outcome == "undetermined"


def standing(db: Session, citizen_id: str) -> Standing:
    """Reading one's own standing is no third party's access: no ledger entry."""
    history = list(
        db.scalars(
            select(Certification)
            .where(Certification.citizen_id == citizen_id)
            .order_by(Certification.year.desc())
        )
    )
    return Standing(
        citizen_id=citizen_id,
        current=history[0] if history else None,
        history=history,
        holds=list(db.scalars(select(PaymentHold).where(PaymentHold.citizen_id == citizen_id))),
        resumptions=list(db.scalars(select(Resumption).where(Resumption.citizen_id == citizen_id))),
        visits=list(db.scalars(select(HomeVisit).where(HomeVisit.citizen_id == citizen_id))),
        overpayments=list(
            db.scalars(select(Overpayment).where(Overpayment.citizen_id == citizen_id))
        ),
    )


def visits(
    db: Session, *, department: str | None = None, status: str | None = None, limit: int = 100
) -> list[HomeVisit]:
    """Home-visit tasks, oldest due first; a street office sees its own (``department``)."""
    query = select(HomeVisit)
    if department is not None:
        query = query.where(HomeVisit.department == department)
    if status is not None:
        query = query.where(HomeVisit.status == status)
    return list(db.scalars(query.order_by(HomeVisit.due_on, HomeVisit.id).limit(limit)))


def overpayments(db: Session, *, status: str | None = None, limit: int = 100) -> list[Overpayment]:
    query = select(Overpayment)
    if status is not None:
        query = query.where(Overpayment.status == status)
    return list(db.scalars(query.order_by(Overpayment.id).limit(limit)))


def recoveries(db: Session, overpayment_id: int) -> list[Recovery]:
    return list(
        db.scalars(
            select(Recovery).where(Recovery.overpayment_id == overpayment_id).order_by(Recovery.id)
        )
    )


def explain(
    db: Session, library: Library, cert_id: int, *, actor: str, purpose: str = PURPOSE
) -> Explanation:
    """Why a certification came out as it did: the rule evaluated again for the recipient on
    the certification's evaluation date, listing the rows of each source that counted and the
    tables' versions (compare with the run's ``versions``). An officer reading it reads the
    recipient's personal data: a ``certification.viewed`` entry."""
    cert = certification(db, cert_id)
    found = library.explain(library.rule(cert.rule), cert.evaluated_on, cert.citizen_id)
    ledger.record(
        db,
        actor,
        "certification.viewed",
        subject=cert.citizen_id,
        purpose=purpose,
        detail={"certification": cert.id, "year": cert.year, "rule": cert.rule},
    )
    return found


# --- the recipient certifies themself ------------------------------------------------------------


def _current_open(db: Session, citizen_id: str) -> Certification:
    latest = db.scalar(
        select(Certification)
        .where(Certification.citizen_id == citizen_id)
        .order_by(Certification.year.desc())
        .limit(1)
    )
    if latest is None:
        raise _not_found("您的待认证记录", "certification to complete")
    if latest.outcome != "undetermined":
        shown = {"certified": "已经通过认证", "deceased": "已登记死亡"}[latest.outcome]
        raise Problem(
            "conflict",
            detail=Text(f"{latest.year}年度{shown}，无需再认证", f"{latest.outcome} already"),
            errors=[FieldError("year", Text(shown, latest.outcome))],
        )
    return latest


def _resume_all(db: Session, cert: Certification, on: date, now: datetime, actor: str) -> None:
    for hold in db.scalars(
        select(PaymentHold).where(
            PaymentHold.citizen_id == cert.citizen_id, PaymentHold.status == "suspended"
        )
    ):
        resume_hold(db, hold, cert.id, on, now, actor)


def _close_visits(cert: Certification, db: Session, now: datetime, actor: str, note: str) -> None:
    """Every open visit to the recipient (an earlier year's too): they are shown alive."""
    for visit in db.scalars(
        select(HomeVisit).where(HomeVisit.citizen_id == cert.citizen_id, HomeVisit.status == "open")
    ):
        visit.status, visit.outcome, visit.note = "done", "certified", note
        visit.done_at, visit.done_by = now, actor


def self_certify(
    db: Session,
    data_dir: Path,
    subject: str,
    *,
    signer_citizen_id: str | None,
    actor: str,
    signature: bytes | None = None,
    now: datetime | None = None,
) -> Certification:
    """The recipient ``subject`` certifies themself by signing the declaration with SM2.

    The caller has re-authenticated the person (their password, as for signing a mandate) and
    passes the account's citizen ID as ``signer_citizen_id``. Anyone other than the recipient —
    an agent acting under a mandate included: a certification of being alive cannot be
    delegated — is refused with a ``certification.self_refused`` entry (CertificationRefused;
    commit, then answer it). The platform-held key signs (issued at the first signature), or
    the person's own key when they hand over ``signature`` over the declaration. Suspended
    pensions resume with back pay; open home visits are closed."""
    now = as_utc(now or utcnow())
    if signer_citizen_id != subject:
        ledger.record(
            db,
            actor,
            "certification.self_refused",
            subject=subject,
            purpose=PURPOSE,
            detail={"signer": signer_citizen_id, "reason": "not the recipient"},
        )
        raise CertificationRefused(
            "forbidden",
            detail=Text(
                "养老保险待遇资格认证须由领取人本人完成，不能由他人代为认证（委托授权也不适用）",
                "only the recipient can certify themself; it cannot be delegated",
            ),
            errors=[FieldError("subject", Text("只能本人认证", "only the recipient"))],
        )
    cert = _current_open(db, subject)
    today = local_today(now)
    document = canonical_json(
        {
            "kind": "pension-certification-declaration",
            "citizen_id": subject,
            "year": cert.year,
            "statement": DECLARATION,
            "signed_on": today.isoformat(),
        }
    )
    key = active_key(db, subject)
    if signature is None:
        if key is None or key.custody != "platform":
            key = issue_platform_key(db, data_dir, subject, actor=actor)
        signature = platform_private_key(data_dir, key.key_id).sign(document)
    elif key is None or not verify(SM2PublicKey.from_pem(key.public_key_pem), document, signature):
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "signature",
                    Text("用您登记的密钥核验签名未通过", "does not verify with your key"),
                )
            ],
        )
    cert.outcome, cert.method, cert.certified_on = "certified", "self", today
    cert.declaration, cert.signature, cert.key_id = document, signature, key.key_id
    cert.updated_at = now
    db.flush()
    ledger.record(
        db,
        actor,
        "certification.signed",
        subject=subject,
        purpose=PURPOSE,
        detail={
            "year": cert.year,
            "key_id": key.key_id,
            "custody": key.custody,
            "document_sm3": sm3_hex(document),
        },
    )
    _resume_all(db, cert, today, now, actor)
    _close_visits(cert, db, now, actor, "本人已自助认证")
    db.flush()
    return cert


# --- after the cycle: visits and recoveries ----------------------------------------------------


def _visit(db: Session, visit_id: int, department: str | None) -> HomeVisit:
    visit = db.get(HomeVisit, visit_id)
    if visit is None or (department is not None and visit.department != department):
        raise _not_found("上门认证任务", "home visit")
    return visit


def record_visit(
    db: Session,
    library: Library,
    visit_id: int,
    *,
    outcome: str,
    actor: str,
    department: str | None = None,
    died_on: date | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> HomeVisit:
    """The street office's visit: ``certified`` (the recipient seen alive: certified by visit,
    resumed with back pay), ``deceased`` (``died_on`` required: payment stopped from the next
    month, the payments since then an overpayment to recover) or ``not_found`` (stays
    suspended: never stopped for lack of evidence). ``department``: the office's own only."""
    now = as_utc(now or utcnow())
    today = local_today(now)
    visit = _visit(db, visit_id, department)
    if visit.status != "open":
        raise Problem(
            "conflict",
            detail=Text("这项上门认证任务已办结", "the visit is done already"),
            errors=[FieldError("outcome", Text("已办结", "done already"))],
        )
    if outcome not in ("certified", "deceased", "not_found"):
        raise Problem(
            "validation",
            errors=[
                FieldError("outcome", Text("请选择上门结果", "certified, deceased or not_found"))
            ],
        )
    if outcome == "deceased" and (died_on is None or died_on > today):
        raise Problem(
            "validation",
            errors=[FieldError("died_on", Text("请填写死亡日期（不晚于今天）", "a past date"))],
        )
    cert = db.get(Certification, visit.certification_id)
    assert cert is not None  # a foreign key
    visit.status, visit.outcome, visit.note = "done", outcome, note
    visit.died_on, visit.done_at, visit.done_by = died_on, now, actor
    detail: dict[str, JsonValue] = {"visit": visit.id, "outcome": outcome, "year": cert.year}
    if outcome == "certified" and cert.outcome == "undetermined":
        cert.outcome, cert.method, cert.certified_on, cert.updated_at = (
            "certified",
            "visit",
            today,
            now,
        )
        db.flush()
        _resume_all(db, cert, today, now, actor)
    elif outcome == "deceased" and died_on is not None:
        cert.outcome, cert.method, cert.died_on, cert.updated_at = "deceased", None, died_on, now
        detail["died_on"] = died_on.isoformat()
        _stop_for_death(db, library, cert, died_on, now, actor)
    ledger.record(
        db, actor, "certification.visited", subject=visit.citizen_id, purpose=PURPOSE, detail=detail
    )
    db.flush()
    return visit


def _stop_for_death(
    db: Session, library: Library, cert: Certification, died_on: date, now: datetime, actor: str
) -> None:
    stopped_from = add_months(died_on, 1)
    holds = {
        h.pension_id: h
        for h in db.scalars(select(PaymentHold).where(PaymentHold.citizen_id == cert.citizen_id))
    }
    with library.connection() as con:
        pensions = con.execute(
            "SELECT p.pension_id, p.monthly_amount_fen, "
            "  (SELECT count(*) FROM pension_payments pp WHERE pp.pension_id = p.pension_id"
            "     AND pp.month >= ?), "
            "  (SELECT coalesce(sum(amount_fen), 0) FROM pension_payments pp"
            "     WHERE pp.pension_id = p.pension_id AND pp.month >= ?) "
            "FROM pension_recipients p WHERE p.citizen_id = ? AND p.status = '正常发放'",
            [stopped_from, stopped_from, cert.citizen_id],
        ).fetchall()
    for pension_id, monthly, n, fen in pensions:
        hold = holds.get(pension_id)
        if hold is None:
            hold = PaymentHold(
                pension_id=pension_id,
                citizen_id=cert.citizen_id,
                monthly_amount_fen=int(monthly),
                status="stopped",
                since=stopped_from,
                certification_id=cert.id,
                updated_at=now,
            )
            db.add(hold)
        else:
            hold.status, hold.since, hold.updated_at = "stopped", stopped_from, now
        ledger.record(
            db,
            actor,
            "certification.stopped",
            subject=cert.citizen_id,
            purpose=PURPOSE,
            detail={
                "pension_id": pension_id,
                "died_on": died_on.isoformat(),
                "from": stopped_from.isoformat(),
            },
        )
        exists = db.scalar(select(Overpayment.id).where(Overpayment.pension_id == pension_id))
        if n and exists is None:
            db.add(
                Overpayment(
                    pension_id=pension_id,
                    citizen_id=cert.citizen_id,
                    died_on=died_on,
                    stopped_from=stopped_from,
                    months=int(n),
                    amount_fen=int(fen),
                    recovered_fen=0,
                    status="open",
                    certification_id=cert.id,
                    created_at=now,
                )
            )
            ledger.record(
                db,
                actor,
                "certification.overpayment",
                subject=cert.citizen_id,
                purpose=PURPOSE,
                detail={"pension_id": pension_id, "months": int(n), "amount_fen": int(fen)},
            )


def record_recovery(
    db: Session,
    overpayment_id: int,
    amount_fen: int,
    *,
    actor: str,
    on: date | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Overpayment:
    """An amount recovered of an overpayment (partial recoveries add up); recovered once the
    whole is. More than remains, nothing, or a date after today is a 422."""
    now = as_utc(now or utcnow())
    today = local_today(now)
    on = on or today
    over = db.get(Overpayment, overpayment_id)
    if over is None:
        raise _not_found("多发待遇记录", "overpayment")
    remaining = over.amount_fen - over.recovered_fen
    if isinstance(amount_fen, bool) or amount_fen <= 0 or amount_fen > remaining:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "amount",
                    Text(
                        f"追回金额应大于0且不超过待追回的 {remaining / 100:.2f} 元",
                        f"more than 0 and at most {remaining} fen",
                    ),
                )
            ],
        )
    if on > today:
        raise Problem(
            "validation",
            errors=[FieldError("recovered_on", Text("追回日期不能晚于今天", "not in the future"))],
        )
    db.add(
        Recovery(
            overpayment_id=over.id,
            amount_fen=amount_fen,
            recovered_on=on,
            note=note,
            recorded_by=actor,
            created_at=now,
        )
    )
    over.recovered_fen += amount_fen
    if over.recovered_fen == over.amount_fen:
        over.status = "recovered"
    ledger.record(
        db,
        actor,
        "certification.recovered",
        subject=over.citizen_id,
        purpose=PURPOSE,
        detail={
            "pension_id": over.pension_id,
            "amount_fen": amount_fen,
            "recovered_fen": over.recovered_fen,
            "of_fen": over.amount_fen,
        },
    )
    db.flush()
    return over


def open_years(db: Session) -> Sequence[int]:
    """The certification years that have certifications, newest first (a page's year menu)."""
    return list(
        db.scalars(select(Certification.year).distinct().order_by(Certification.year.desc()))
    )
