"""Fund-risk checks (基金监管): run the detectors, open alerts, drive their lifecycle.

No HTTP here. A detector is a rule of the city's rule book (``policies/risk-*.yaml``) named in
``programs/fund-risk*.yaml`` with its chain and severity; the rule finds ("eligible") and
amounts (what to recover), this module only files what it found and what followed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import ContentError, Item, load_items
from shuhui.core.errors import FieldError, Problem, invalid
from shuhui.core.i18n import Text, codes
from shuhui.core.settings import Settings
from shuhui.programs.fundrisk.models import (
    ALERT_STATES,
    CHAINS,
    SEVERITIES,
    Alert,
    AlertEvent,
    DetectionRun,
)
from shuhui.programs.service import Library
from shuhui.rules import service as rules_service
from shuhui.rules.explain import Explanation
from shuhui.rules.language import Rule
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.service import Entry

PURPOSE: Final = "社会保险基金监管（四链合一风险核查）"
DEPARTMENT: Final = "青岛市人力资源和社会保障局"
KIND: Final = "fund-risk-detectors"
PROGRAMS_DIR: Final = "programs"
REASON_MAX: Final = 1024
# Who the rule's finding is about when its key is not a citizen ID (a pension, a claim).
HOLDER: Final = "holder"

# action → (states it may be taken from, the state it leads to). A recovery leads to
# "recovering", or "recovered" once the whole amount is back.
TRANSITIONS: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "check": (("new",), "checking"),
    "confirm": (("checking",), "confirmed"),
    "dismiss": (("new", "checking"), "dismissed"),
    "recover": (("confirmed", "recovering"), "recovering"),
}
ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "check": ("开始核查", "Start checking"),
    "confirm": ("确认违规", "Confirm"),
    "dismiss": ("排除疑点", "Dismiss"),
    "recover": ("登记追回", "Record a recovery"),
}


# --- the detectors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Detector:
    code: str  # the rule's code
    name_zh: str
    name_en: str
    chain: str
    severity: str
    reference: str
    valid_from: date
    valid_to: date | None

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


def _detector(item: Item, path: Any) -> Detector:
    chain, severity = item.attrs.get("chain"), item.attrs.get("severity")
    if chain not in CHAINS:
        raise ContentError(path, f"{item.code}.chain", f"one of {', '.join(CHAINS)}")
    if severity not in SEVERITIES:
        raise ContentError(path, f"{item.code}.severity", f"one of {', '.join(SEVERITIES)}")
    return Detector(
        item.code,
        item.name_zh,
        item.name_en,
        str(chain),
        str(severity),
        item.reference,
        item.valid_from,
        item.valid_to,
    )


def load_detectors(settings: Settings) -> dict[str, Detector]:
    """Every detector of the city's ``programs/fund-risk*.yaml``, by rule code."""
    found: dict[str, Detector] = {}
    for path in sorted((settings.city_content / PROGRAMS_DIR).glob("fund-risk*.yaml")):
        for item in load_items(path, KIND):
            if item.code in found:
                raise ContentError(path, item.code, "detector listed twice")
            found[item.code] = _detector(item, path)
    return found


def detectors_on(settings: Settings, library: Library, on: date) -> list[tuple[Detector, Rule]]:
    """The detectors in force on ``on`` whose rule is in the book and in force then."""
    book, _ = library.book()
    out = []
    for detector in load_detectors(settings).values():
        rule = book.rules.get(detector.code)
        if rule is None:
            raise Problem(
                "internal",
                detail=f"基金监管检测项 {detector.code} 没有对应的规则",
            )
        if detector.in_force(on) and rule.in_force(on):
            out.append((detector, rule))
    return out


def check_date(on: date, now: datetime | None = None) -> None:
    if on > local_today(now):
        raise invalid(
            "date", Text("不能晚于今天", "cannot be after today"), detail="检测日期不能晚于今天"
        )


def findings(
    settings: Settings, library: Library, on: date
) -> list[tuple[Detector, Rule, list[rules_service.Evaluation]]]:
    """What every detector finds on ``on``, read-only (the evaluation uses it too)."""
    out = []
    for detector, rule in detectors_on(settings, library, on):
        found = library.engine().candidates(rule, on, outcomes=("eligible",))
        out.append((detector, rule, found))
    return out


def holder_of(rule: Rule, e: rules_service.Evaluation) -> str | None:
    """Whose personal data the finding is: the person found, or the holder the rule names."""
    if rule.entity.key == "citizen_id":
        return e.key
    value = e.variables.get(HOLDER)
    return str(value) if value is not None else None


# --- a detection run --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    run: DetectionRun
    counts: dict[str, dict[str, int]]  # detector → found / new / open (already alerted)
    repeated: bool  # this date had been run before

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.run.evaluated_on.isoformat(),
            "repeated": self.repeated,
            "runs": self.run.runs,
            "detectors": self.counts,
            "new": sum(c["new"] for c in self.counts.values()),
            "versions": self.run.versions,
        }


def _code(now: datetime) -> str:
    return f"FX-{local_today(now):%Y%m%d}-{secrets.token_hex(4).upper()}"


def detect(
    db: Session,
    settings: Settings,
    library: Library,
    on: date,
    *,
    actor: str,
    now: datetime | None = None,
) -> RunSummary:
    """Every detector over the city on ``on``: an alert for each finding not alerted before
    (a finding already alerted, whatever its state, is counted, not opened again; one that is
    no longer found keeps its alert). Running a date again records that it ran again."""
    now = as_utc(now or utcnow())
    check_date(on, now)
    results = findings(settings, library, on)
    versions = library.versions()
    run = db.scalar(select(DetectionRun).where(DetectionRun.evaluated_on == on))
    repeated = run is not None
    if run is None:
        run = DetectionRun(
            evaluated_on=on,
            counts={},
            versions={},
            runs=0,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        db.add(run)
        db.flush()
    counts: dict[str, dict[str, int]] = {}
    entries: list[Entry] = []
    for detector, rule, found in results:
        already = set(db.scalars(select(Alert.subject).where(Alert.rule == rule.code)))
        fresh = [e for e in found if e.key not in already]
        used = {t: versions[t] for t in rule.tables if t in versions}
        rows = [
            {
                "code": _code(now),
                "rule": rule.code,
                "name": detector.name_zh,
                "chain": detector.chain,
                "severity": detector.severity,
                "department": rule.department,
                "entity": rule.entity.code,
                "subject": e.key,
                "citizen_id": holder_of(rule, e),
                "evaluated_on": on,
                "versions": used,
                "amount_fen": None if e.amount is None else round(e.amount),
                "recovered_fen": 0,
                "state": "new",
                "reason": None,
                "run_id": run.id,
                "created_at": now,
                "updated_at": now,
            }
            for e in fresh
        ]
        if rows:
            db.execute(insert(Alert), rows)
            opened = db.execute(
                select(Alert.id, Alert.code, Alert.citizen_id, Alert.subject).where(
                    Alert.run_id == run.id,
                    Alert.rule == rule.code,
                    Alert.subject.in_([r["subject"] for r in rows]),
                )
            ).all()
            db.execute(
                insert(AlertEvent),
                [
                    {
                        "alert_id": a.id,
                        "action": "open",
                        "from_state": None,
                        "to_state": "new",
                        "amount_fen": None,
                        "note": None,
                        "actor": actor,
                        "at": now,
                    }
                    for a in opened
                ],
            )
            entries += [
                Entry(
                    actor,
                    "fundrisk.alert_opened",
                    a.citizen_id or a.subject,
                    PURPOSE,
                    a.code,
                    {"rule": rule.code, "key": a.subject, "evaluated_on": on.isoformat()},
                )
                for a in opened
            ]
        counts[rule.code] = {
            "found": len(found),
            "new": len(rows),
            "open": len(found) - len(rows),
        }
    run.counts = counts
    run.versions = dict(versions)
    run.runs += 1
    run.updated_at = now
    ledger.record_many(db, entries)
    detail: dict[str, JsonValue] = {
        "evaluated_on": on.isoformat(),
        "repeated": repeated,
        "counts": {k: dict(v) for k, v in counts.items()},
    }
    ledger.record(db, actor, "fundrisk.detection_run", purpose=PURPOSE, detail=detail)
    db.flush()
    return RunSummary(run, counts, repeated)


def runs(db: Session, limit: int = 20) -> list[DetectionRun]:
    return list(
        db.scalars(select(DetectionRun).order_by(DetectionRun.evaluated_on.desc()).limit(limit))
    )


# --- alerts -----------------------------------------------------------------------------------


def _choice(field: str, value: str | None, allowed: dict[str, tuple[str, str]]) -> None:
    if value is not None and value not in allowed:
        raise invalid(
            field,
            Text("必须是以下之一：" + codes(allowed), f"one of {', '.join(allowed)}"),
        )


def alerts(
    db: Session,
    *,
    chain: str | None = None,
    state: str | None = None,
    rule: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Alert], int]:
    """A page of alerts, newest first, filtered by chain, state and detector."""
    _choice("chain", chain, CHAINS)
    _choice("state", state, ALERT_STATES)
    where = []
    if chain is not None:
        where.append(Alert.chain == chain)
    if state is not None:
        where.append(Alert.state == state)
    if rule is not None:
        where.append(Alert.rule == rule)
    total = int(db.scalar(select(func.count()).select_from(Alert).where(*where)) or 0)
    rows = db.scalars(
        select(Alert).where(*where).order_by(Alert.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), total


def board(db: Session) -> dict[str, dict[str, int]]:
    """Alerts per chain and state (every chain and state present, zeros included)."""
    out = {chain: dict.fromkeys(ALERT_STATES, 0) for chain in CHAINS}
    for chain, state, n in db.execute(
        select(Alert.chain, Alert.state, func.count()).group_by(Alert.chain, Alert.state)
    ):
        if chain in out and state in out[chain]:
            out[chain][state] = int(n)
    return out


def money(db: Session) -> dict[str, int]:
    """To recover (confirmed and after) and recovered, in fen, over every alert."""
    confirmed = ("confirmed", "recovering", "recovered")
    to_recover, recovered = db.execute(
        select(
            func.coalesce(func.sum(Alert.amount_fen), 0),
            func.coalesce(func.sum(Alert.recovered_fen), 0),
        ).where(Alert.state.in_(confirmed))
    ).one()
    return {"to_recover_fen": int(to_recover or 0), "recovered_fen": int(recovered or 0)}


def alert(db: Session, code: str) -> Alert:
    found = db.scalar(select(Alert).where(Alert.code == code))
    if found is None:
        raise Problem(
            "not-found",
            detail=f"没有风险疑点 {code}",
            errors=[FieldError("alert", Text("没有这个风险疑点", "no such alert"))],
        )
    return found


def require_department(department: str | None) -> None:
    """Fund supervision is the HRSS bureau's (its 基金监督 officers)."""
    if department != DEPARTMENT:
        raise Problem(
            "forbidden",
            detail=f"基金监管由{DEPARTMENT}负责",
            errors=[FieldError("department", Text(f"只有{DEPARTMENT}可以办理", "HRSS only"))],
        )


def explain_alert(db: Session, library: Library, a: Alert, *, actor: str) -> Explanation:
    """The rows the finding rests on (``rules.explain`` at the alert's date). An officer reading
    them reads the person's data: a ledger entry, in the person's 谁用了我的数据."""
    rule = library.rule(a.rule)
    found = library.explain(rule, a.evaluated_on, a.subject)
    ledger.record(
        db,
        actor,
        "fundrisk.explained",
        subject=a.citizen_id or a.subject,
        purpose=PURPOSE,
        grant=a.code,
        detail={"rule": a.rule, "key": a.subject, "evaluated_on": a.evaluated_on.isoformat()},
    )
    return found


def allowed_actions(a: Alert) -> list[str]:
    return [name for name, (sources, _) in TRANSITIONS.items() if a.state in sources]


def check_action(
    a: Alert, action: str, *, reason: str | None = None, amount_fen: int | None = None
) -> tuple[str, str | None]:
    """The state ``action`` would lead ``a`` to, and its note; or the problem, changing nothing:
    a step not allowed from the alert's state is a 409, a missing or bad reason or amount a 422."""
    if action not in TRANSITIONS:
        raise invalid(
            "action", Text("必须是以下之一：" + codes(ACTIONS), f"one of {', '.join(ACTIONS)}")
        )
    sources, target = TRANSITIONS[action]
    if a.state not in sources:
        now_zh = ALERT_STATES[a.state][0]
        raise Problem(
            "conflict",
            detail=f"风险疑点当前为“{now_zh}”，不能{ACTIONS[action][0]}",
            errors=[
                FieldError(
                    "action",
                    Text(
                        f"“{now_zh}”的疑点不能{ACTIONS[action][0]}",
                        f"not allowed from {a.state}",
                    ),
                )
            ],
        )
    note = (reason or "").strip() or None
    if action == "dismiss" and note is None:
        raise invalid("reason", Text("排除疑点须说明理由", "say why"), detail="请填写排除理由")
    if note is not None and len(note) > REASON_MAX:
        raise invalid("reason", Text(f"不超过{REASON_MAX}字", f"at most {REASON_MAX} characters"))
    if action == "recover":
        target = _recovery(a, amount_fen)
    elif amount_fen is not None:
        raise invalid("amount_fen", Text("只有登记追回时填写金额", "only for a recovery"))
    return target, note


def act(
    db: Session,
    a: Alert,
    action: str,
    *,
    actor: str,
    reason: str | None = None,
    amount_fen: int | None = None,
    now: datetime | None = None,
) -> Alert:
    """One step of the lifecycle, with its event and its ledger entry in the same transaction;
    a step refused (:func:`check_action`) changes nothing."""
    target, note = check_action(a, action, reason=reason, amount_fen=amount_fen)
    now = as_utc(now or utcnow())
    before = a.state
    if action == "recover" and amount_fen is not None:
        a.recovered_fen += amount_fen
    a.state = target
    if action == "dismiss":
        a.reason = note
    a.updated_at = now
    db.add(
        AlertEvent(
            alert_id=a.id,
            action=action,
            from_state=before,
            to_state=target,
            amount_fen=amount_fen,
            note=note,
            actor=actor,
            at=now,
        )
    )
    detail: dict[str, JsonValue] = {
        "rule": a.rule,
        "from": before,
        "to": target,
        "amount_fen": amount_fen,
        "recovered_fen": a.recovered_fen,
        "reason": note,
    }
    ledger.record(
        db,
        actor,
        {
            "check": "fundrisk.checked",
            "confirm": "fundrisk.confirmed",
            "dismiss": "fundrisk.dismissed",
        }.get(action, "fundrisk.recovery_recorded"),
        subject=a.citizen_id or a.subject,
        purpose=PURPOSE,
        grant=a.code,
        detail=detail,
    )
    db.flush()
    db.refresh(a, ["events"])
    return a


def _recovery(a: Alert, amount_fen: int | None) -> str:
    """The state a recovery of ``amount_fen`` leads to; never more than is to be recovered."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise invalid("amount_fen", Text("追回金额须大于0", "more than 0"), detail="请填写追回金额")
    left = None if a.amount_fen is None else a.amount_fen - a.recovered_fen
    if left is not None and amount_fen > left:
        raise invalid(
            "amount_fen",
            Text(f"不能超过尚未追回的 {left / 100:.2f} 元", f"at most {left / 100:.2f} yuan left"),
            detail="追回金额超过应追回金额",
        )
    return "recovered" if left is not None and amount_fen == left else "recovering"


def todo_counts(db: Session) -> dict[str, int]:
    """What waits for the fund supervisors: new alerts, alerts being checked, recoveries open."""
    by_state: dict[str, int] = {}
    for state, n in db.execute(select(Alert.state, func.count()).group_by(Alert.state)):
        by_state[str(state)] = int(n)
    return {
        "new": int(by_state.get("new", 0)),
        "checking": int(by_state.get("checking", 0)),
        "recovering": int(by_state.get("confirmed", 0)) + int(by_state.get("recovering", 0)),
    }


def detector_names(settings: Settings) -> dict[str, str]:
    return {code: d.name_zh for code, d in load_detectors(settings).items()}
