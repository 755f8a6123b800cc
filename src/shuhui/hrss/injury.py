"""Work-injury recognition (工伤认定): the statutory clocks of each application, as the bureau's
officers watch them.

An application is an approval case of one of the content's items (``hrss/work-injury.yaml``: the
worker's QD-RS-0003 and the employer's QD-RS-0018). Its clocks, in calendar days as
《工伤保险条例》 writes them, are computed from the case and its form, never stored (a decision, a
correction or a withdrawal moves them at once):

- **the filing clock** (第十七条): from the accident (the form's ``injury_date``) to the day the
  application was submitted — 30 days for the employer, one year for the worker, a close
  relative or the union; filed later, the case says so (the regulation's remedies then apply:
  the officer decides, the page only tells);
- **the decision clock** (第二十条): from the day the case was accepted, 60 days, or 15 where the
  officer marked the facts clear and the rights and duties plain (an ``hrss.injury_marked``
  entry);
- **a warning** when ``warn_days`` or fewer remain, and **overdue** past the day.

The officer's page (``/hrss/injury``) lists the open applications by the days left, the
workbench counts those about to lapse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import service as approval
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import DEFAULT_DIR, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.hrss.models import InjuryCase
from shuhui.rules import service as rules_service
from shuhui.trust.ledger import service as ledger

FILE: Final = Path("hrss") / "work-injury.yaml"
KIND: Final = "hrss-work-injury"
OPEN: Final = ("submitted", "correction", "accepted", "review", "approved")
EMPLOYER: Final = "用人单位"


@dataclass(frozen=True)
class Clocks:
    items: tuple[str, ...]
    employer_days: int
    worker_years: int
    decision_days: int
    clear_decision_days: int
    warn_days: int
    reference: str


def clocks(city_content: Path | None = None) -> Clocks:
    path = (city_content or DEFAULT_DIR / "qingdao") / FILE
    entry = load_items(path, KIND).by_code["recognition"]
    a = entry.attrs
    return Clocks(
        items=tuple(str(i) for i in a["items"]),
        employer_days=int(a["employer_days"]),
        worker_years=int(a["worker_years"]),
        decision_days=int(a["decision_days"]),
        clear_decision_days=int(a["clear_decision_days"]),
        warn_days=int(a["warn_days"]),
        reference=entry.reference,
    )


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Application:
    """One application with its clocks (days are local dates)."""

    case_code: str
    applicant_name: str
    applicant_id: str
    state: str
    relation: str
    accident: date | None
    filed: date | None
    filing_deadline: date | None
    filed_late: bool
    accepted: date | None
    facts_clear: bool
    decision_due: date | None
    days_left: int | None
    warning: bool
    overdue: bool


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def application(case: Any, rules: Clocks, facts_clear: bool, today: date) -> Application:
    form = case.form or {}
    relation = str(
        form.get("applicant_relation")
        or ("用人单位" if case.applicant_kind == "enterprise" else "本人")
    )
    accident = _day(form.get("injury_date"))
    filed = local_today(case.submitted_at) if case.submitted_at else None
    deadline = None
    if accident is not None:
        deadline = (
            accident + timedelta(days=rules.employer_days)
            if relation == EMPLOYER
            else _add_years(accident, rules.worker_years)
        )
    accepted = local_today(case.accepted_at) if case.accepted_at else None
    due = None
    if accepted is not None:
        days = rules.clear_decision_days if facts_clear else rules.decision_days
        due = accepted + timedelta(days=days)
    left = (due - today).days if due is not None else None
    worker = form.get("employee_name")  # the employer's application names its employee
    return Application(
        case_code=case.code,
        applicant_name=f"{worker}（{case.applicant_name}申请）" if worker else case.applicant_name,
        applicant_id=str(form.get("employee_citizen_id") or case.applicant_id),
        state=case.state,
        relation=relation,
        accident=accident,
        filed=filed,
        filing_deadline=deadline,
        filed_late=bool(filed and deadline and filed > deadline),
        accepted=accepted,
        facts_clear=facts_clear,
        decision_due=due,
        days_left=left,
        warning=left is not None and 0 <= left <= rules.warn_days,
        overdue=left is not None and left < 0,
    )


def _marked(db: Session, codes: list[str]) -> set[str]:
    if not codes:
        return set()
    rows = db.scalars(
        select(InjuryCase.case_code).where(
            InjuryCase.case_code.in_(codes), InjuryCase.facts_clear.is_(True)
        )
    )
    return set(rows)


def open_applications(
    db: Session, city_content: Path | None = None, today: date | None = None
) -> list[Application]:
    """The open applications, the nearest deadline first (those not accepted yet last)."""
    rules = clocks(city_content)
    today = today or local_today()
    found = [c for item in rules.items for c in approval.cases_of_item(db, item, OPEN)]
    clear = _marked(db, [c.code for c in found])
    out = [application(c, rules, c.code in clear, today) for c in found]
    return sorted(out, key=lambda a: (a.days_left is None, a.days_left or 0, a.case_code))


def due_soon(db: Session, city_content: Path | None = None) -> int:
    """How many open applications warn or are overdue (the workbench's count)."""
    return sum(a.warning or a.overdue for a in open_applications(db, city_content))


def mark_clear(
    db: Session,
    case_code: str,
    *,
    actor: str,
    department: str | None,
    city_content: Path | None = None,
    now: datetime | None = None,
) -> Application:
    """Marks an accepted application's facts clear: it is to be decided within the shorter
    time. Only the deciding department's officer; once."""
    rules = clocks(city_content)
    case = approval.case_by_code(db, case_code)
    if case is None or case.item_code not in rules.items:
        raise Problem(
            "not-found", detail=Text(f"没有工伤认定申请 {case_code}", "no such application")
        )
    if department != case.department:
        raise Problem(
            "forbidden",
            detail=Text("只有受理部门的工作人员可以标记", "the deciding department only"),
        )
    if case.accepted_at is None or case.state not in OPEN:
        raise Problem(
            "conflict",
            detail=Text("申请受理后、作出决定前才能标记", "only between acceptance and decision"),
            errors=[FieldError("case", Text("当前状态不能标记", "not in a state to mark"))],
        )
    at = as_utc(now or utcnow())
    if db.scalar(select(InjuryCase).where(InjuryCase.case_code == case_code)) is None:
        db.add(InjuryCase(case_code=case_code, facts_clear=True, marked_by=actor, marked_at=at))
        db.flush()
        ledger.record(
            db,
            actor,
            "hrss.injury_marked",
            subject=case.applicant_id,
            purpose="工伤认定：事实清楚、权利义务明确，15日内作出决定",
            detail={"case": case_code},
        )
    return application(case, rules, True, local_today(at))


# --- disability benefits by grade -------------------------------------------------------------

BENEFITS_RULE: Final = "injury-disability-benefits"


@dataclass(frozen=True)
class Benefits:
    """What the rule says for a grade: the months, the wage it read, the one-time subsidy (fen),
    the parameters' version and the data read."""

    citizen_id: str
    grade: int
    outcome: str
    months: int | None
    wage_fen: int | None
    subsidy_fen: int | None
    versions: dict[str, int]


def disability_benefits(
    db: Session,
    library: Any,
    citizen_id: str,
    grade: int,
    *,
    actor: str,
    purpose: str,
    on: date | None = None,
) -> Benefits:
    """The one-time disability subsidy for ``grade`` (1-10, the assessment's conclusion) and the
    person's own wage in the employment register, computed by the rule book's
    ``injury-disability-benefits`` (the months per grade dated and referenced there). Reading the
    wage is an ``hrss.injury_benefits`` ledger entry with its purpose."""
    if not 1 <= grade <= 10:
        raise Problem(
            "validation",
            errors=[FieldError("grade", Text("伤残等级应为1至10级", "a grade 1 to 10"))],
        )
    on = on or local_today()
    rule = library.rule(BENEFITS_RULE)
    with library.connection() as con:
        found = rules_service.evaluate_one(con, rule, on, citizen_id, {"grade": grade})
    months = found.variables.get("months")
    wage = found.variables.get("wage")
    ledger.record(
        db,
        actor,
        "hrss.injury_benefits",
        subject=citizen_id,
        purpose=purpose,
        detail={"grade": grade, "outcome": found.outcome, "rule": rule.code},
    )
    return Benefits(
        citizen_id=citizen_id,
        grade=grade,
        outcome=found.outcome,
        months=int(months) if months is not None else None,
        wage_fen=int(wage) if wage is not None else None,
        subsidy_fen=int(found.amount) if found.amount is not None else None,
        versions=dict(library.versions()),
    )
