"""Struggling enterprises (困难企业): the difficulty score over the city on a date, the list it
keeps, each enterprise's reasons, and the five measures started for them.

The score is the rule ``enterprise-difficulty`` (content); this module runs it through
``rules.service``, stores what it found, and starts the measures through the campaign machinery
(``programs.service.run_campaign`` with ``within``). It never reads a truth table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import ContentError, Items, load_items
from shuhui.core.errors import FieldError, Problem, invalid
from shuhui.core.i18n import Text
from shuhui.programs import service as programs
from shuhui.programs.distress.models import DistressFinding, DistressMeasure, DistressRun
from shuhui.programs.models import CANDIDATE_STATES, Candidate
from shuhui.rules.explain import Explanation
from shuhui.trust.ledger import service as ledger

RULE: Final = "enterprise-difficulty"
MEASURES_FILE: Final = "programs/enterprise-difficulty-measures.yaml"
MEASURES_KIND: Final = "enterprise-difficulty-measures"
PURPOSE: Final = "困难企业识别与援企稳岗（主动发现、匹配纾困措施）"
# The rule's signals (condition ids), in the order they are shown, with their points parameter.
REASONS: Final[dict[str, tuple[str, str, str]]] = {
    "arrears": ("欠缴社会保险费", "Contributions in arrears", "points_arrears"),
    "headcount": ("参保人数下降", "Insured staff fell", "points_headcount"),
    "power": ("用电量下降", "Electricity use fell", "points_power"),
    "tax": ("纳税下降", "Tax paid fell", "points_tax"),
}
# The figures behind each signal (the rule's variables).
REASON_FIGURES: Final[dict[str, tuple[str, ...]]] = {
    "arrears": ("months_last", "arrears_months"),
    "headcount": ("months_last", "staff_before", "staff_now"),
    "power": ("power_last", "power_before", "power_recent"),
    "tax": ("months_last", "tax_before", "tax_recent"),
}


# --- the measures (content) -------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    code: str
    name_zh: str
    name_en: str
    reference: str
    department: str
    policies: tuple[str, ...]  # the policies whose campaigns carry it (may be none)
    reasons: tuple[str, ...]  # the signals it suits
    summary: str

    def suits(self, reasons: Sequence[str]) -> bool:
        return bool(set(self.reasons) & set(reasons))


def _strings(
    path: Path, where: str, raw: Any, *, allowed: Sequence[str] | None = None
) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise ContentError(path, where, "must be a list of codes")
    if allowed is not None:
        stray = [x for x in raw if x not in allowed]
        if stray:
            raise ContentError(path, where, f"unknown {stray}: one of {', '.join(allowed)}")
    return tuple(raw)


def parse_measures(items: Items) -> dict[str, Measure]:
    out: dict[str, Measure] = {}
    for i, item in enumerate(items):
        where = f"items[{i}] ({item.code})"
        department = item.attrs.get("department")
        if not isinstance(department, str) or not department.strip():
            raise ContentError(items.path, f"{where}.department", "missing or empty text")
        reasons = _strings(
            items.path, f"{where}.reasons", item.attrs.get("reasons"), allowed=list(REASONS)
        )
        if not reasons:
            raise ContentError(items.path, f"{where}.reasons", "name at least one signal")
        out[item.code] = Measure(
            code=item.code,
            name_zh=item.name_zh,
            name_en=item.name_en,
            reference=item.reference,
            department=department.strip(),
            policies=_strings(items.path, f"{where}.policies", item.attrs.get("policies")),
            reasons=reasons,
            summary=str(item.attrs.get("summary") or ""),
        )
    return out


def measures(content: Path) -> dict[str, Measure]:
    """The five measures, from ``content/<city>/programs/``; a broken file is refused whole."""
    return parse_measures(load_items(content / MEASURES_FILE, MEASURES_KIND))


def measure(content: Path, code: str) -> Measure:
    found = measures(content).get(code)
    if found is None:
        raise Problem(
            "not-found",
            detail=f"没有纾困措施 {code}",
            errors=[FieldError("measure", Text("没有这项措施", "no such measure"))],
        )
    return found


# --- the run ----------------------------------------------------------------------------------


def check_day(on: date, now: datetime | None = None) -> None:
    if on > local_today(now):
        raise invalid(
            "evaluated_on",
            Text("评估日不能晚于今天", "the evaluation date cannot be in the future"),
            detail=f"评估日 {on.isoformat()} 晚于今天",
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclass(frozen=True)
class RunOutcome:
    run: DistressRun
    created: bool  # False: the date had been run already, nothing was written


def run(
    db: Session,
    library: programs.Library,
    on: date | None,
    *,
    actor: str,
    now: datetime | None = None,
) -> RunOutcome:
    """Scores every enterprise on ``on`` (today by default) and keeps the struggling ones (the
    rule's eligible) with their reasons and figures. One run per date: asked again for a date
    already run, it returns that run and writes nothing."""
    now = as_utc(now or utcnow())
    on = on or local_today(now)
    check_day(on, now)
    done = db.scalar(select(DistressRun).where(DistressRun.evaluated_on == on))
    if done is not None:
        return RunOutcome(done, False)
    rule = library.rule(RULE)
    engine = library.engine()
    result = engine.run(rule, on)
    found = engine.candidates(rule, on, outcomes=("eligible",))
    keys = [e.key for e in found]
    # The names of the few found: a keyed read, here whichever engine found them.
    with library.connection() as con:
        about = {
            str(r[0]): (str(r[1]), str(r[2]), str(r[3]))
            for r in con.execute(
                "SELECT credit_code, name, district_code, industry_name FROM enterprises "
                "WHERE list_contains(?, credit_code)",
                [keys],
            ).fetchall()
        }
    record = DistressRun(
        evaluated_on=on,
        rule=rule.code,
        counts=dict(result.counts),
        found=len(found),
        versions=dict(result.versions),
        ms=round(result.seconds * 1000),
        created_by=actor,
        created_at=now,
    )
    db.add(record)
    db.flush()
    rows = [
        {
            "run_id": record.id,
            "credit_code": e.key,
            "name": about.get(e.key, ("", "", ""))[0],
            "district_code": about.get(e.key, ("", "", ""))[1],
            "industry": about.get(e.key, ("", "", ""))[2],
            "score": int(e.amount or 0),
            "reasons": [r for r in REASONS if e.conditions.get(r)],
            "figures": {k: _jsonable(v) for k, v in e.variables.items()},
        }
        for e in found
    ]
    if rows:
        db.execute(insert(DistressFinding), rows)
    ledger.record(
        db,
        actor,
        "programs.distress_run",
        subject=rule.code,
        purpose=PURPOSE,
        detail={
            "evaluated_on": on.isoformat(),
            "counts": {k: int(n) for k, n in result.counts.items()},
            "found": len(rows),
            "versions": {k: int(n) for k, n in result.versions.items()},
        },
    )
    return RunOutcome(record, True)


def runs(db: Session) -> list[DistressRun]:
    return list(db.scalars(select(DistressRun).order_by(DistressRun.evaluated_on.desc())))


def latest_run(db: Session) -> DistressRun | None:
    return db.scalar(select(DistressRun).order_by(DistressRun.evaluated_on.desc()).limit(1))


def run_on(db: Session, on: date | None) -> DistressRun:
    """The run of ``on``, or the latest when no date is given."""
    found = (
        latest_run(db)
        if on is None
        else db.scalar(select(DistressRun).where(DistressRun.evaluated_on == on))
    )
    if found is None:
        raise Problem(
            "not-found",
            detail="该日尚未进行困难企业识别" if on else "尚未进行困难企业识别",
            errors=[FieldError("evaluated_on", Text("请先运行识别", "run the score first"))],
        )
    return found


# --- the list ---------------------------------------------------------------------------------


def findings(
    db: Session,
    r: DistressRun,
    *,
    district: str | None = None,
    industry: str | None = None,
    measure_of: Measure | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[DistressFinding], int]:
    """The struggling enterprises of a run, highest score first, filtered by district,
    industry and the measure whose signals they show."""
    where = [DistressFinding.run_id == r.id]
    if district:
        where.append(DistressFinding.district_code == district)
    if industry:
        where.append(DistressFinding.industry == industry)
    query = select(DistressFinding).where(*where)
    query = query.order_by(DistressFinding.score.desc(), DistressFinding.credit_code)
    if measure_of is None:
        total = int(db.scalar(select(func.count()).select_from(DistressFinding).where(*where)) or 0)
        return list(db.scalars(query.offset(offset).limit(limit))), total
    # The reasons are a JSON list: matched here (the list is a few per cent of the enterprises).
    suited = [f for f in db.scalars(query) if measure_of.suits(f.reasons)]
    return suited[offset : offset + limit], len(suited)


def facets(db: Session, r: DistressRun) -> tuple[list[str], list[str]]:
    """The districts and industries a run's list holds (the filters' choices)."""
    districts = db.scalars(
        select(DistressFinding.district_code).where(DistressFinding.run_id == r.id).distinct()
    )
    industries = db.scalars(
        select(DistressFinding.industry).where(DistressFinding.run_id == r.id).distinct()
    )
    return sorted(districts), sorted(industries)


def finding(db: Session, r: DistressRun, credit_code: str) -> DistressFinding | None:
    return db.scalar(
        select(DistressFinding).where(
            DistressFinding.run_id == r.id, DistressFinding.credit_code == credit_code
        )
    )


def explain_enterprise(
    db: Session, library: programs.Library, r: DistressRun, credit_code: str, *, actor: str
) -> Explanation:
    """Why an enterprise is (or is not) struggling on the run's date, down to the rows each
    figure rests on; an officer reading it is a ledger entry. An enterprise the city does not
    hold is a 404."""
    rule = library.rule(RULE)
    found = library.explain(rule, r.evaluated_on, credit_code)
    ledger.record(
        db,
        actor,
        "programs.distress_viewed",
        subject=credit_code,
        purpose=PURPOSE,
        detail={"rule": rule.code, "evaluated_on": r.evaluated_on.isoformat()},
    )
    return found


# --- the measures' state ----------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureState:
    measure: str
    started: bool
    policy: str | None
    campaign: str | None
    state_zh: str
    state_en: str


def _candidate_states(
    db: Session, campaign_codes: set[str], subjects: set[str]
) -> dict[tuple[str, str], str]:
    if not campaign_codes or not subjects:
        return {}
    from shuhui.programs.models import Campaign

    rows = db.execute(
        select(Campaign.code, Candidate.subject, Candidate.status)
        .join(Campaign, Candidate.campaign_id == Campaign.id)
        .where(Campaign.code.in_(campaign_codes), Candidate.subject.in_(subjects))
    )
    return {(str(c), str(s)): str(st) for c, s, st in rows}


def _person_campaigns(db: Session, codes: set[str]) -> set[str]:
    if not codes:
        return set()
    from shuhui.programs.models import Campaign

    return set(
        db.scalars(
            select(Campaign.code).where(Campaign.code.in_(codes), Campaign.entity == "person")
        )
    )


def states(
    db: Session, r: DistressRun, credit_codes: Sequence[str], content: Path
) -> dict[str, dict[str, MeasureState]]:
    """For each enterprise, each measure it suits or was started for: started or not, and how
    far (the campaign's candidate state, for a measure carried by an enterprise policy)."""
    started = list(
        db.scalars(
            select(DistressMeasure).where(
                DistressMeasure.run_id == r.id, DistressMeasure.credit_code.in_(credit_codes)
            )
        )
    )
    by = {(m.credit_code, m.measure): m for m in started}
    candidate = _candidate_states(
        db, {m.campaign for m in started if m.campaign}, set(credit_codes)
    )
    # A person's policy (skills upgrading) reached the enterprise's staff, not the enterprise.
    staff_campaigns = _person_campaigns(db, {m.campaign for m in started if m.campaign})
    out: dict[str, dict[str, MeasureState]] = {code: {} for code in credit_codes}
    for code in credit_codes:
        for mcode in measures(content):
            row = by.get((code, mcode))
            if row is None:
                out[code][mcode] = MeasureState(mcode, False, None, None, "未启动", "Not started")
                continue
            if row.campaign is None:
                zh, en = "已安排对接", "Arranged"
            else:
                status = candidate.get((row.campaign, code))
                if status is not None:
                    zh, en = CANDIDATE_STATES[status]
                elif staff_campaigns and row.campaign in staff_campaigns:
                    zh, en = "已面向职工开展政策找人", "Campaign among its staff"
                else:
                    zh, en = "经核对暂不符合政策条件", "Not eligible for the policy"
            out[code][mcode] = MeasureState(mcode, True, row.policy, row.campaign, zh, en)
    return out


def offered_to(db: Session, credit_code: str | None) -> list[DistressMeasure]:
    """The measures started for one enterprise (its own page and workbench), latest first."""
    if not credit_code:
        return []
    return list(
        db.scalars(
            select(DistressMeasure)
            .where(DistressMeasure.credit_code == credit_code)
            .order_by(DistressMeasure.started_at.desc(), DistressMeasure.id.desc())
        )
    )


def count_offered(db: Session, credit_code: str | None) -> int:
    if not credit_code:
        return 0
    return int(
        db.scalar(
            select(func.count())
            .select_from(DistressMeasure)
            .where(DistressMeasure.credit_code == credit_code)
        )
        or 0
    )


def count_not_started(db: Session, content: Path) -> int:
    """Struggling enterprises of the latest run with no measure started yet (the HR officer's
    to-do)."""
    r = latest_run(db)
    if r is None:
        return 0
    started = select(DistressMeasure.credit_code).where(DistressMeasure.run_id == r.id)
    return int(
        db.scalar(
            select(func.count())
            .select_from(DistressFinding)
            .where(DistressFinding.run_id == r.id, DistressFinding.credit_code.not_in(started))
        )
        or 0
    )


# --- starting a measure -----------------------------------------------------------------------


def _staff_of(library: programs.Library, credit_codes: Sequence[str]) -> set[str]:
    """The current insured staff of the enterprises (a person's policy reaches them)."""
    with library.connection() as con:
        rows = con.execute(
            "SELECT DISTINCT citizen_id FROM employment_spells "
            "WHERE end_date IS NULL AND list_contains(?, credit_code)",
            [list(credit_codes)],
        ).fetchall()
    return {str(r[0]) for r in rows}


@dataclass(frozen=True)
class Started:
    measure: Measure
    policy: str | None
    campaign: str | None
    enterprises: int


def suited(db: Session, r: DistressRun, m: Measure) -> list[str]:
    """The struggling enterprises of the run the measure suits and was not started for."""
    done = set(
        db.scalars(
            select(DistressMeasure.credit_code).where(
                DistressMeasure.run_id == r.id, DistressMeasure.measure == m.code
            )
        )
    )
    rows, _ = findings(db, r, measure_of=m, limit=10**9)
    return [f.credit_code for f in rows if f.credit_code not in done]


def start_measure(
    db: Session,
    library: programs.Library,
    content: Path,
    r: DistressRun,
    measure_code: str,
    *,
    policy: str | None,
    actor: str,
    department: str | None,
    scope: str = "all",
    limit: int | None = None,
    now: datetime | None = None,
) -> Started:
    """Starts a measure for the struggling enterprises it suits (not started yet). A measure
    carried by a policy runs that policy's campaign restricted to them (or, for a person's
    policy, to their current staff): the department then confirms and offers as for any
    campaign. Otherwise the measure is recorded as arranged for each enterprise."""
    now = as_utc(now or utcnow())
    m = measure(content, measure_code)
    if department != m.department:
        raise Problem(
            "forbidden",
            detail=f"{m.name_zh}由{m.department}实施",
            errors=[FieldError("department", Text(f"只有{m.department}可以办理", "not yours"))],
        )
    chosen = policy or (m.policies[0] if m.policies else None)
    if chosen is not None and chosen not in m.policies:
        raise invalid(
            "policy",
            Text(
                "这项措施可用的政策：" + "、".join(m.policies)
                if m.policies
                else "这项措施没有对应政策",
                f"one of {', '.join(m.policies)}" if m.policies else "the measure has no policy",
            ),
        )
    codes = suited(db, r, m)
    if not codes:
        raise Problem(
            "conflict",
            detail=f"本次识别中适合“{m.name_zh}”的困难企业都已启动",
            errors=[FieldError("measure", Text("没有尚未启动的企业", "none left to start"))],
        )
    campaign_code: str | None = None
    if chosen is not None:
        rule = library.rule(chosen)
        within = set(codes) if rule.entity.code == "enterprise" else _staff_of(library, codes)
        c = programs.run_campaign(
            db,
            library,
            chosen,
            r.evaluated_on,
            actor=actor,
            department=department,
            scope=scope,
            limit=limit,
            within=within,
            now=now,
        )
        campaign_code = c.code
    db.execute(
        insert(DistressMeasure),
        [
            {
                "run_id": r.id,
                "measure": m.code,
                "credit_code": code,
                "policy": chosen,
                "campaign": campaign_code,
                "started_by": actor,
                "started_at": now,
            }
            for code in codes
        ],
    )
    ledger.record_many(
        db,
        [
            ledger.Entry(
                actor,
                "programs.distress_measure_started",
                subject=code,
                purpose=PURPOSE,
                grant=campaign_code,
                detail={
                    "measure": m.code,
                    "policy": chosen,
                    "evaluated_on": r.evaluated_on.isoformat(),
                },
            )
            for code in codes
        ],
    )
    return Started(m, chosen, campaign_code, len(codes))
