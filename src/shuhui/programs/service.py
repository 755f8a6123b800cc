"""Policy campaigns (政策找人): run a policy over the city, have the department confirm the
candidates, offer the benefit to them, record their answer and the grant.

Every step is in the audit ledger. The rule itself is evaluated by :mod:`shuhui.rules` on a
DuckDB connection to the data core, in one set-based query; this module only keeps the
operational state (SQLite or PostgreSQL) of what followed.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import duckdb
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import FieldError, Problem, invalid
from shuhui.core.i18n import Text, codes
from shuhui.core.money import is_fen_unit, parse_yuan
from shuhui.core.settings import Settings
from shuhui.datacore.schema import TableSpec
from shuhui.datacore.store import DataCore
from shuhui.programs.models import (
    CANDIDATE_STATES,
    BenefitGrant,
    Campaign,
    Candidate,
    OutboxMessage,
)
from shuhui.rules import engines
from shuhui.rules import service as rules_service
from shuhui.rules.explain import Explanation, explain
from shuhui.rules.language import Rule, Variable, parse_value
from shuhui.rules.loader import RuleBook
from shuhui.standard import TABLES
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.ledger import service as ledger

PURPOSE: Final = "政策找人（主动发现、推送并兑现政策待遇）"
REASON_MAX: Final = 1024
ANSWER_MAX: Final = 256


def _code(prefix: str, now: datetime) -> str:
    return f"{prefix}-{local_today(now):%Y%m%d}-{secrets.token_hex(3).upper()}"


# --- the city's rule book ---------------------------------------------------------------------


@dataclass
class _Shared:
    """A data-core connection for one set of table versions, and how many cursors use it:
    closing a connection closes its cursors, so a replaced one closes when its last is done."""

    versions: tuple[tuple[str, int], ...]
    con: duckdb.DuckDBPyConnection
    users: int = 0
    retired: bool = False

    def retire(self) -> None:
        self.retired = True
        if self.users == 0:
            self.con.close()

    def release(self) -> None:
        self.users -= 1
        if self.retired and self.users == 0:
            self.con.close()


class Library:
    """The city's policies, loaded from content and checked against the data core's tables;
    loaded again when the data core's tables change (a new city, a new version)."""

    def __init__(self, settings: Settings, core: DataCore) -> None:
        self._settings = settings
        self._core = core
        self._lock = threading.Lock()
        self._loaded: tuple[tuple[tuple[str, int], ...], RuleBook, dict[str, TableSpec]] | None
        self._loaded = None
        self._con: _Shared | None = None

    def _versions(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(rules_service.versions_of(self._core).items()))

    def book(self) -> tuple[RuleBook, dict[str, TableSpec]]:
        versions = self._versions()
        with self._lock:
            if self._loaded is None or self._loaded[0] != versions:
                specs = rules_service.data_core_specs(
                    self._core, {spec.name: spec for spec in TABLES}
                )
                book = rules_service.load_city_book(self._settings, specs)
                self._loaded = (versions, book, specs)
            return self._loaded[1], self._loaded[2]

    def rule(self, code: str) -> Rule:
        book, _ = self.book()
        found = book.rules.get(code)
        if found is None:
            raise Problem(
                "not-found",
                detail=f"没有政策 {code}",
                errors=[FieldError("rule", Text("没有这项政策", "no such policy"))],
            )
        return found

    def versions(self) -> dict[str, int]:
        return rules_service.versions_of(self._core)

    def engine(self) -> engines.Engine:
        """The batch engine the platform is set to (``SHUHUI_ENGINE``): DuckDB over this
        process's shared connection, or Spark over the same versions' files."""
        if self._settings.engine == "spark":
            return engines.spark_engine(self._settings, self._core)
        return engines.DuckDBEngine(self.connection, self.versions)

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of the process's data-core connection for the tables' current versions.

        Opening DuckDB and making the views costs ~30 ms, more than an explanation takes, and a
        connection keeps the Parquet footers it has read; a cursor shares both and is the
        thread's own. A new version of any table gets a new connection; the old one closes
        when its last cursor is gone."""
        versions = self._versions()
        with self._lock:
            if self._con is None or self._con.versions != versions:
                old, self._con = self._con, _Shared(versions, self._core.connect())
                if old is not None:
                    old.retire()
            shared = self._con
            shared.users += 1
            cursor = shared.con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
            with self._lock:
                shared.release()

    def explain(
        self, rule: Rule, on: date, key: str, supplied: Mapping[str, Any] | None = None
    ) -> Explanation:
        _, specs = self.book()
        with self.connection() as con:
            return explain(con, rule, on, key, specs, self.versions(), supplied)


# Rules that find wrongs or score rather than grant benefits — the fund-risk detectors of
# policies/risk-*.yaml (shuhui.programs.fundrisk), the difficulty score (programs.distress), the
# certification's evidence (programs.certification) — are in the same rule book but are no
# policy a campaign may offer: the library and the console leave them out, a campaign refuses
# them.
NOT_OFFERED_PREFIXES: Final = ("risk-", "reminder-", "injury-")
NOT_OFFERED: Final = frozenset({"enterprise-difficulty", "pension-certification"})


def offerable(rule: Rule) -> bool:
    return rule.code not in NOT_OFFERED and not rule.code.startswith(NOT_OFFERED_PREFIXES)


# --- who may do what --------------------------------------------------------------------------


def require_department(rule: Rule, department: str | None) -> None:
    """Only the implementing department runs and confirms its policy's campaigns."""
    if department != rule.department:
        raise Problem(
            "forbidden",
            detail=f"{rule.name_zh}由{rule.department}实施，仅该部门可发起和确认",
            errors=[
                FieldError(
                    "department", Text(f"只有{rule.department}可以办理", f"only {rule.department}")
                )
            ],
        )


# --- running a campaign -----------------------------------------------------------------------


# What each scope takes of the rule's outcomes (the scopes are models.CAMPAIGN_SCOPES).
SCOPE_OUTCOMES: Final[dict[str, tuple[str, ...]]] = {
    "all": rules_service.CANDIDATE_OUTCOMES,
    "eligible": ("eligible",),
    "undetermined": ("undetermined",),
}
LIMIT_MAX: Final = 1_000_000


def _check_scope(scope: str, limit: int | None) -> None:
    if scope not in SCOPE_OUTCOMES:
        raise invalid(
            "scope",
            Text("必须是以下之一：" + codes(SCOPE_OUTCOMES), f"one of {', '.join(SCOPE_OUTCOMES)}"),
            detail="候选范围无效",
        )
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise invalid("limit", Text("必须是整数", "a whole number"), detail="最多人数须为整数")
    if not 1 <= limit <= LIMIT_MAX:
        raise invalid(
            "limit",
            Text(f"应在 1 到 {LIMIT_MAX:,} 之间", f"1 to {LIMIT_MAX:,}"),
            detail=f"最多人数须在 1 到 {LIMIT_MAX:,} 之间",
        )


def _take(
    found: Sequence[rules_service.Evaluation], already: set[str], limit: int | None
) -> tuple[list[rules_service.Evaluation], int]:
    """The candidates (in key order, at most ``limit``) and how many already granted were
    passed over on the way to them."""
    taken: list[rules_service.Evaluation] = []
    excluded = 0
    for e in found:
        if limit is not None and len(taken) >= limit:
            break
        if e.key in already:
            excluded += 1
        else:
            taken.append(e)
    return taken, excluded


def campaign_rule(
    library: Library, rule_code: str, department: str | None, scope: str, limit: int | None
) -> Rule:
    """The policy a campaign would run, refused as a run would be (an unknown policy, a rule
    that offers nothing, another department's, a bad scope or limit): a background run checks
    before it is queued."""
    _check_scope(scope, limit)
    rule = library.rule(rule_code)
    if not offerable(rule):
        # Not a policy a campaign can offer: answered as an unknown policy is.
        raise Problem(
            "not-found",
            detail=f"{rule.name_zh}是识别规则，不能开展政策找人",
            errors=[
                FieldError("rule", Text("这是识别规则，不是可推送的政策", "not a policy to offer"))
            ],
        )
    require_department(rule, department)
    return rule


# How far a campaign's run has got (done, total, what it is doing): a background job's bar.
CampaignProgress = Callable[[int, int, Text], None]


def run_campaign(
    db: Session,
    library: Library,
    rule_code: str,
    on: date | None,
    *,
    actor: str,
    department: str | None,
    scope: str = "all",
    limit: int | None = None,
    within: Collection[str] | None = None,
    now: datetime | None = None,
    progress: CampaignProgress | None = None,
) -> Campaign:
    """The policy over every entity of the city on ``on`` (today by default): its candidates
    are the eligible and the undetermined (their missing inputs named), less those already
    granted the benefit. Nothing is offered yet: the department confirms first.

    ``scope`` takes only the eligible (免申即享) or only the undetermined; ``limit`` at most so
    many candidates, the lowest keys, counted after leaving out those already granted. The
    campaign's ``counts`` stay the rule's over the whole city.

    ``within`` keeps only those entities (another program's list, e.g. the enterprises the
    difficulty score found struggling): one campaign machinery, a narrower set of candidates.
    The limit then counts within it."""
    rule = campaign_rule(library, rule_code, department, scope, limit)
    now = as_utc(now or utcnow())
    step = progress or (lambda done, total, label: None)
    on = on or local_today(now)
    already = set(db.scalars(select(BenefitGrant.subject).where(BenefitGrant.rule == rule.code)))
    # The limit counts real candidates, so those already granted must not use it up. DuckDB
    # returns the first ``limit + len(already)`` in key order: at most ``len(already)`` of them
    # are left out below, so the rest still holds the ``limit`` lowest keys not granted (or
    # every one there is). The grants are in memory already (``already``), so this fetches at
    # most as many extra rows as that set holds, with no bound list or temporary table.
    # With ``within`` the rows outside it are dropped here, so DuckDB is not asked to limit.
    fetch = None if limit is None or within is not None else limit + len(already)
    engine = library.engine()
    step(0, 3, Text("运行政策规则", "Running the policy's rule"))
    result = engine.run(rule, on)
    step(1, 3, Text("找出候选对象", "Finding the candidates"))
    found = engine.candidates(rule, on, outcomes=SCOPE_OUTCOMES[scope], limit=fetch)
    if within is not None:
        kept = set(within)
        found = [e for e in found if e.key in kept]
    taken, excluded = _take(found, already, limit)
    step(2, 3, Text("写入候选对象", "Writing the candidates"))
    campaign = Campaign(
        code=_code("ZC", now),
        rule=rule.code,
        name=rule.name_zh,
        entity=rule.entity.code,
        department=rule.department,
        evaluated_on=on,
        counts=dict(result.counts),
        missing=dict(result.missing),
        excluded=excluded,
        scope=scope,
        candidate_limit=limit,
        versions=dict(result.versions),
        ms=round(result.seconds * 1000),
        created_by=actor,
        created_at=now,
    )
    db.add(campaign)
    db.flush()
    rows = [
        {
            "campaign_id": campaign.id,
            "subject": e.key,
            "outcome": e.outcome,
            "amount": None if e.amount is None else int(e.amount),
            "missing": list(e.missing),
            "status": "pending",
        }
        for e in taken
    ]
    if rows:
        db.execute(insert(Candidate), rows)
    counts: dict[str, JsonValue] = {k: int(n) for k, n in result.counts.items()}
    detail: dict[str, JsonValue] = {
        "evaluated_on": on.isoformat(),
        "counts": counts,
        "scope": scope,
        "limit": limit,
        "candidates": len(rows),
        "excluded": campaign.excluded,
        "versions": {k: int(n) for k, n in result.versions.items()},
    }
    if within is not None:
        detail["within"] = len(set(within))  # how many another program's list held
    ledger.record(
        db,
        actor,
        "programs.campaign_run",
        subject=rule.code,
        purpose=PURPOSE,
        grant=campaign.code,
        detail=detail,
    )
    return campaign


def campaigns(db: Session, department: str | None = None) -> list[Campaign]:
    query = select(Campaign).order_by(Campaign.id.desc())
    if department is not None:
        query = query.where(Campaign.department == department)
    return list(db.scalars(query))


def campaign(db: Session, code: str, department: str | None) -> Campaign:
    """A campaign, for an officer of its department: the candidates are personal data, so
    other departments are told it does not exist."""
    found = db.scalar(select(Campaign).where(Campaign.code == code))
    if found is None or found.department != department:
        raise Problem("not-found", detail=f"没有政策找人任务 {code}")
    return found


def funnel(db: Session, c: Campaign) -> dict[str, int]:
    """How far the candidates got: found → confirmed (offered) → answered → granted."""
    by_status: dict[str, int] = dict.fromkeys(CANDIDATE_STATES, 0)
    for status, n in db.execute(
        select(Candidate.status, func.count())
        .where(Candidate.campaign_id == c.id)
        .group_by(Candidate.status)
    ):
        by_status[status] = int(n)
    found = sum(by_status.values())
    confirmed = sum(by_status[s] for s in ("offered", "applied", "declined", "granted"))
    confirmed += _rejected_after_applying(db, c)
    answered = confirmed - by_status["offered"]
    return {
        "found": found,
        "confirmed": confirmed,
        "answered": answered,
        "granted": by_status["granted"],
        **{f"status_{k}": n for k, n in by_status.items()},
    }


def _rejected_after_applying(db: Session, c: Campaign) -> int:
    """Rejected applications were offered first: they count as confirmed and answered."""
    return int(
        db.scalar(
            select(func.count())
            .select_from(Candidate)
            .where(
                Candidate.campaign_id == c.id,
                Candidate.status == "rejected",
                Candidate.offered_at.is_not(None),
            )
        )
        or 0
    )


def candidates_of(
    db: Session, c: Campaign, status: str | None = None, *, offset: int = 0, limit: int = 50
) -> tuple[list[Candidate], int]:
    if status is not None and status not in CANDIDATE_STATES:
        raise invalid(
            "status",
            Text(
                "必须是以下之一：" + codes(CANDIDATE_STATES),
                f"one of {', '.join(CANDIDATE_STATES)}",
            ),
        )
    where = [Candidate.campaign_id == c.id]
    if status is not None:
        where.append(Candidate.status == status)
    total = int(db.scalar(select(func.count()).select_from(Candidate).where(*where)) or 0)
    rows = db.scalars(
        select(Candidate).where(*where).order_by(Candidate.id).offset(offset).limit(limit)
    )
    return list(rows), total


def candidate(db: Session, candidate_id: int, department: str | None = None) -> Candidate:
    """A candidate; with ``department``, only one of that department's campaigns."""
    found = db.get(Candidate, candidate_id)
    if found is None or (department is not None and found.campaign.department != department):
        raise Problem("not-found", detail=f"没有候选对象 {candidate_id}")
    return found


def explain_candidate(
    db: Session, library: Library, c: Candidate, *, actor: str | None = None
) -> Explanation:
    """Why a candidate qualifies, at the campaign's date. An officer reading it reads personal
    data, so that is in the ledger (and in the person's 谁用了我的数据); the person reading
    their own is not recorded (``actor`` None)."""
    rule = library.rule(c.campaign.rule)
    found = library.explain(rule, c.campaign.evaluated_on, c.subject, answered(rule, c))
    if actor is not None:
        ledger.record(
            db,
            actor,
            "programs.explained",
            subject=c.subject,
            purpose=PURPOSE,
            grant=c.campaign.code,
            detail={"rule": c.campaign.rule, "evaluated_on": c.campaign.evaluated_on.isoformat()},
        )
    return found


# --- the department's confirmation ------------------------------------------------------------


def _offer_text(c: Campaign, outcome: str, amount: int | None) -> tuple[str, str]:
    policy = c.name
    if outcome == "eligible":
        standard = "" if amount is None else f"，标准 {amount / 100:.2f} 元"
        return (
            f"您可享受{policy}",
            f"经{c.department}核对，您符合{policy}的条件{standard}。"
            "请登录数慧“为我推荐的政策”查看依据，并确认是否领取。",
        )
    return (
        f"您可能符合{policy}",
        f"{c.department}发现您可能符合{policy}的条件，但部分信息尚缺。"
        "请登录数慧“为我推荐的政策”补充信息后申请。",
    )


def confirm(
    db: Session,
    c: Campaign,
    ids: Sequence[int] | None,
    *,
    actor: str,
    department: str | None,
    now: datetime | None = None,
) -> int:
    """Confirms candidates (``ids``; None: every one still pending) and offers them the
    benefit: the offer appears in the recipient's portal and a message waits in the outbox.

    One ``UPDATE … RETURNING`` flips exactly the rows still pending and says which they were,
    so a city-wide confirmation loads no ORM objects (`bench/bench_campaigns.py`); asked for
    ids of which some are not pending, it refuses and the caller's transaction rolls the
    update back."""
    if c.department != department:
        raise Problem(
            "forbidden",
            detail=f"仅{c.department}可确认",
            errors=[
                FieldError(
                    "department", Text(f"只有{c.department}可以办理", f"only {c.department}")
                )
            ],
        )
    now = as_utc(now or utcnow())
    wanted = None if ids is None else set(ids)
    flip = (
        update(Candidate)
        .where(Candidate.campaign_id == c.id, Candidate.status == "pending")
        .values(status="offered", reviewed_by=actor, reviewed_at=now, offered_at=now)
        .returning(Candidate.id, Candidate.subject, Candidate.outcome, Candidate.amount)
        .execution_options(synchronize_session=False)
    )
    if wanted is not None:
        flip = flip.where(Candidate.id.in_(wanted))
    chosen = sorted(db.execute(flip).all())
    if wanted is not None and len(chosen) != len(wanted):
        stray = sorted(wanted - {row.id for row in chosen})
        raise Problem(
            "conflict",
            detail="部分候选对象不在本任务的待确认名单中",
            errors=[
                FieldError(
                    "ids",
                    Text(
                        f"这些候选人不在本批待确认的名单中：{stray[:10]}",
                        f"not pending in this campaign: {stray[:10]}",
                    ),
                )
            ],
        )
    entries: list[ledger.Entry] = []
    messages: list[dict[str, Any]] = []
    for row in chosen:
        title, body = _offer_text(c, row.outcome, row.amount)
        for channel in ("portal", "sms"):
            messages.append(
                {
                    "recipient": row.subject,
                    "channel": channel,
                    "title": title,
                    "body": body,
                    "candidate_id": row.id,
                    "created_at": now,
                }
            )
        entries.append(
            ledger.Entry(
                actor,
                "programs.offered",
                subject=row.subject,
                purpose=PURPOSE,
                grant=c.code,
                detail={"rule": c.rule, "outcome": row.outcome, "amount": row.amount},
            )
        )
    if messages:
        db.execute(insert(OutboxMessage), messages)
    ledger.record_many(db, entries)
    # Candidates already loaded in this session (a page showing them next) are read again.
    db.expire_all()
    return len(chosen)


def reject(
    db: Session,
    c: Campaign,
    ids: Sequence[int],
    reason: str,
    *,
    actor: str,
    department: str | None,
    now: datetime | None = None,
) -> int:
    """Not confirmed, with the reason (kept, and in the ledger)."""
    if c.department != department:
        raise Problem(
            "forbidden",
            errors=[
                FieldError(
                    "department", Text(f"只有{c.department}可以办理", f"only {c.department}")
                )
            ],
        )
    why = " ".join(reason.split())
    if not why:
        raise invalid(
            "reason", Text("请说明不予确认的原因", "say why the candidate is not confirmed")
        )
    if len(why) > REASON_MAX:
        raise invalid("reason", Text(f"最多 {REASON_MAX} 个字", f"at most {REASON_MAX} characters"))
    if not ids:
        raise invalid("ids", Text("请至少选择一位候选人", "choose at least one candidate"))
    now = as_utc(now or utcnow())
    chosen = _pending(db, c, ids)
    for row in chosen:
        row.status, row.reviewed_by, row.reviewed_at, row.reason = "rejected", actor, now, why
    db.flush()
    ledger.record_many(
        db,
        [
            ledger.Entry(
                actor,
                "programs.rejected",
                subject=row.subject,
                purpose=PURPOSE,
                grant=c.code,
                detail={"rule": c.rule, "reason": why},
            )
            for row in chosen
        ],
    )
    return len(chosen)


def _pending(db: Session, c: Campaign, ids: Sequence[int] | None) -> list[Candidate]:
    query = select(Candidate).where(Candidate.campaign_id == c.id, Candidate.status == "pending")
    if ids is None:
        return list(db.scalars(query.order_by(Candidate.id)))
    wanted = set(ids)
    found = list(db.scalars(query.where(Candidate.id.in_(wanted)).order_by(Candidate.id)))
    if len(found) != len(wanted):
        stray = sorted(wanted - {row.id for row in found})
        raise Problem(
            "conflict",
            detail="部分候选对象不在本任务的待确认名单中",
            errors=[
                FieldError(
                    "ids",
                    Text(
                        f"这些候选人不在本批待确认的名单中：{stray[:10]}",
                        f"not pending in this campaign: {stray[:10]}",
                    ),
                )
            ],
        )
    return found


# --- the recipient ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Application:
    values: dict[str, Any]  # each missing input's value, of the variable's type
    texts: dict[str, str]  # the same, as stored and shown (是/否, 2026-01-31, 1200)


def _canonical(value: bool | int | float | str | date) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _answer_value(var: Variable, text: str) -> bool | int | float | str | date:
    """An answer as a value of the variable's type. Money counted in fen ("分", "分/月") is
    typed in 元 ("800", "800.00", "800元") and kept in fen, as the data core keeps it."""
    if var.type in ("int", "number") and is_fen_unit(var.unit):
        return parse_yuan(text)
    return parse_value(var.type, text)


def _application(rule: Rule, row: Candidate, answers: Mapping[str, str]) -> Application:
    """One answer for each input the rule was missing, nothing else, each read as a value of
    the variable's type (a yes/no, a whole number, a date…)."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name in row.missing:
        text = " ".join(str(answers.get(name, "")).split())
        var = rule.variables.get(name)
        zh = var.zh if var is not None else name
        if not text:
            errors.append(FieldError(f"answers.{name}", Text(f"必须填写：{zh}", f"required: {zh}")))
        elif len(text) > ANSWER_MAX:
            errors.append(
                FieldError(
                    f"answers.{name}",
                    Text(f"最多 {ANSWER_MAX} 个字", f"at most {ANSWER_MAX} characters"),
                )
            )
        elif var is None:  # the rule changed since the campaign ran: nothing to read it as
            errors.append(
                FieldError(
                    f"answers.{name}",
                    Text("这项政策已不再需要这一项", "no longer an input of the policy"),
                )
            )
        else:
            try:
                values[name] = _answer_value(var, text)
            except ValueError as exc:
                errors.append(FieldError(f"answers.{name}", f"{zh}: {exc}"))
    stray = sorted(set(answers) - set(row.missing))
    errors += [FieldError(f"answers.{s}", Text("这一项不需要填写", "not asked for")) for s in stray]
    if errors:
        raise Problem("validation", detail="申请信息不完整或格式不对", errors=errors)
    return Application(values, {k: _canonical(x) for k, x in values.items()})


def answered(rule: Rule, row: Candidate) -> dict[str, Any] | None:
    """The application's answers as values of the rule's variables (None: no application).
    An answer the rule can no longer read (its input dropped or retyped since, or free text
    kept from before answers were typed) is left out: that input shows as missing again."""
    if row.application is None:
        return None
    values: dict[str, Any] = {}
    for name, text in row.application.items():
        var = rule.variables.get(name)
        if var is None:
            continue
        try:
            values[name] = parse_value(var.type, text)
        except ValueError:
            continue
    return values


@dataclass(frozen=True)
class ParameterHistory:
    name: str
    zh: str
    unit: str | None
    reference: str
    values: list[tuple[date, Any]]


def parameter_history(rule: Rule) -> list[ParameterHistory]:
    return [
        ParameterHistory(p.name, p.zh, p.unit, p.reference, [(v.start, v.value) for v in p.values])
        for p in rule.parameters.values()
    ]
