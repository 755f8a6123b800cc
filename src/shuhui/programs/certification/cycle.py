"""The certification cycle on a date: every pension in payment, its recipient's evidence from the
rule, and what follows — certified by data, told and later visited and suspended, or stopped for
death with the overpayment to recover — in one transaction (a crash leaves the previous state;
the next run of the date does the whole of it).

The evidence comes from one DuckDB query: the rule's values (``rules.service.values_sql``) for
every person, joined to the pensions in payment and to the payments made for months after a
recorded death. Python then walks the pensioners once, against what the operational database
already holds for their certification year (loaded in a few queries, not per person), and
writes in bulk: new certifications, outbox messages, ledger entries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table, insert, select, tuple_
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.programs.certification import fastpath
from shuhui.programs.certification.config import Cycle, check_against
from shuhui.programs.certification.models import (
    Certification,
    CycleRun,
    HomeVisit,
    Overpayment,
    PaymentHold,
    Resumption,
)
from shuhui.programs.certification.windows import (
    add_months,
    check_date,
    months_between,
    street_office,
    window_of,
)
from shuhui.programs.models import OutboxMessage
from shuhui.programs.service import Library
from shuhui.rules import service as rules_service
from shuhui.rules.engines import spark_sql
from shuhui.rules.language import Rule
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.ledger import service as ledger

CERTIFICATIONS: Final = cast(Table, Certification.__table__)
PURPOSE: Final = "养老保险待遇领取资格认证（人社厅发〔2018〕54号）"
PROGRESS_EVERY: Final = 50_000
# The counts a run reports (CycleRun.counts, ``--json``).
COUNT_NAMES: Final = (
    "recipients",
    "certified",
    "undetermined",
    "deceased",
    "notified",
    "visits",
    "suspended",
    "resumed",
    "stopped",
    "overpayments",
)

Progress = Callable[[int, int], None]


@dataclass
class CycleResult:
    """What a run did: ``already_run`` when the date had been run (nothing was changed), and
    the counts (of that earlier run then)."""

    run_on: date
    already_run: bool
    counts: dict[str, int]
    ms: int
    run_id: int
    versions: dict[str, int] = field(default_factory=dict)


@dataclass
class _Pension:
    pension_id: str
    monthly_fen: int
    district_code: str | None
    paid_after_death: int
    overpaid_fen: int


@dataclass
class _Person:
    citizen_id: str
    birth: date | None
    certified: bool  # the rule: drawing, alive, enough evidence
    died: bool
    died_on: date | None
    score: int
    fired: list[str]
    pensions: list[_Pension]


# Where the rule's values go in the query written for DuckDB, when Spark runs it.
VALUES_PLACEHOLDER: Final = "SELECT * FROM shuhui_rule_values"


def _evidence_sql(con: Any, rule: Rule, cycle: Cycle, on: date, engine: str = "duckdb") -> str:
    names = [
        "birth_date",
        "evidence",
        *cycle.death_variables,
        *cycle.death_dates,
        *(s.variable for s in cycle.sources),
    ]
    # The rule for the pensioners only: every layer of its query then carries a quarter of the
    # residents (the sources are still grouped whole, then joined to them).
    day = on.isoformat()
    among = f"SELECT DISTINCT citizen_id FROM pension_recipients WHERE status = '正常发放' AND start_date <= DATE '{day}'"  # noqa: E501, S608
    values = rules_service.values_sql(
        con, rule, on, list(dict.fromkeys(names)), among=among, dialect=engine
    )
    if engine != "duckdb":
        # The rule's part compiled in the engine's dialect from its tree; the rest, written
        # here for DuckDB, translated around it.
        return spark_sql(
            _evidence_around(VALUES_PLACEHOLDER, cycle, on),
            {VALUES_PLACEHOLDER: values},
        )
    return _evidence_around(values, cycle, on)


def _evidence_around(values: str, cycle: Cycle, on: date) -> str:
    died = " OR ".join(f'coalesce(r."{n}", false)' for n in cycle.death_variables)
    died_on = ", ".join(f'r."{n}"' for n in cycle.death_dates)
    fired = ", ".join(f'coalesce(r."{s.variable}", false)' for s in cycle.sources)
    # The codes of the sources that fired, as a list (the fast path stores it as JSON).
    codes = ", ".join(
        f"""CASE WHEN coalesce(r."{s.variable}", false) THEN ['{s.code}'] ELSE []::VARCHAR[] END"""
        for s in cycle.sources
    )
    if len(cycle.sources) > 1:
        codes = f"flatten([{codes}])"
    on_sql = f"DATE '{on.isoformat()}'"
    # The pensions in payment on the date, their recipient's evidence, and what the data core
    # shows paid for months after a recorded death (the overpayment to recover). Every piece is
    # ours: the compiled rule, variable names the loader checked, an ISO date.
    return f"""
        WITH r AS ({values}),
        base AS (
            SELECT p.pension_id, p.citizen_id, p.monthly_amount_fen, p.district_code,
                   r.outcome, r.birth_date, r.evidence, ({died}) AS died,
                   coalesce({died_on}) AS died_on, [{fired}] AS fired, {codes} AS codes
            FROM pension_recipients p JOIN r ON r.key = p.citizen_id
            WHERE p.status = '正常发放' AND p.start_date <= {on_sql}
        ),
        after AS (
            SELECT b.pension_id, count(*) AS n, sum(pp.amount_fen) AS fen
            FROM base b JOIN pension_payments pp ON pp.pension_id = b.pension_id
            WHERE b.died AND pp.month > b.died_on AND pp.month <= {on_sql}
              AND date_trunc('month', pp.month) > date_trunc('month', b.died_on)
            GROUP BY b.pension_id
        )
        SELECT b.citizen_id, b.pension_id, b.monthly_amount_fen, b.district_code, b.outcome,
               b.birth_date, b.evidence, b.died, b.died_on, b.fired,
               coalesce(a.n, 0) AS after_n, coalesce(a.fen, 0) AS after_fen, b.codes
        FROM base b LEFT JOIN after a ON a.pension_id = b.pension_id
        ORDER BY b.citizen_id, b.pension_id
    """  # noqa: S608


def _evidence_tables(rule: Rule) -> list[str]:
    """The tables the evidence query reads: the rule's, and the pensions and their payments."""
    return list(dict.fromkeys([*rule.tables, "pension_recipients", "pension_payments"]))


def _people(rows: list[tuple[Any, ...]], cycle: Cycle) -> Iterator[_Person]:
    codes = [s.code for s in cycle.sources]
    person: _Person | None = None
    for row in rows:
        citizen, pension, monthly, district, outcome, birth, score, died, died_on, fired = row[:10]
        p = _Pension(str(pension), int(monthly), district, int(row[10]), int(row[11]))
        if person is None or person.citizen_id != citizen:
            if person is not None:
                yield person
            person = _Person(
                citizen_id=str(citizen),
                birth=birth,
                certified=outcome == "eligible",
                died=bool(died),
                died_on=died_on,
                score=int(score or 0),
                fired=[c for c, f in zip(codes, fired, strict=True) if f],
                pensions=[],
            )
        person.pensions.append(p)
    if person is not None:
        yield person


class _Run:
    """One run's state: what the database holds for the years concerned, and what to write."""

    def __init__(
        self, db: Session, cycle: Cycle, rule: Rule, on: date, now: datetime, actor: str
    ) -> None:
        self.db, self.cycle, self.rule, self.on, self.now, self.actor = (
            db,
            cycle,
            rule,
            on,
            now,
            actor,
        )
        self.counts = dict.fromkeys(COUNT_NAMES, 0)
        self.fast: list[tuple[Any, ...]] = []  # certified by data, straight from DuckDB
        self.entries: list[ledger.Entry] = []
        self.new_certs: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        # Work that needs a new certification's id, done once they are inserted.
        self.after_insert: list[tuple[tuple[str, int], Callable[[int], None]]] = []
        years = (on.year - 1, on.year)
        self.done: set[tuple[str, int]] = set()  # certified (final for the year)
        self.open: dict[tuple[str, int], Certification] = {}  # undetermined or deceased
        rows = db.execute(
            select(Certification.citizen_id, Certification.year, Certification.outcome).where(
                Certification.year.in_(years)
            )
        ).all()
        for citizen, year, outcome in rows:
            if outcome == "certified":
                self.done.add((citizen, year))
        for cert in db.scalars(
            select(Certification).where(
                Certification.year.in_(years), Certification.outcome != "certified"
            )
        ):
            self.open[(cert.citizen_id, cert.year)] = cert
        self.holds = {h.pension_id: h for h in db.scalars(select(PaymentHold))}
        self.visited = set(db.scalars(select(HomeVisit.certification_id)))
        self.overpaid = set(db.scalars(select(Overpayment.pension_id)))
        self.last_certified: dict[str, date] = {}
        if cycle.anchor == "last_certification":
            for citizen, day in db.execute(
                select(Certification.citizen_id, Certification.certified_on).where(
                    Certification.certified_on.is_not(None)
                )
            ):
                if day is None or day > on:
                    continue
                if (
                    day > self.last_certified.get(citizen, day)
                    or citizen not in self.last_certified
                ):
                    self.last_certified[citizen] = day

    # --- recording ------------------------------------------------------------------------

    def entry(self, item: ledger.Entry) -> None:
        self.entries.append(item)

    def with_cert(self, key: tuple[str, int], then: Callable[[int], None]) -> None:
        cert = self.open.get(key)
        if cert is not None:
            then(cert.id)
        else:
            self.after_insert.append((key, then))

    # --- one pensioner ----------------------------------------------------------------------

    def person(self, p: _Person) -> None:
        if p.birth is None:
            return  # no window can be placed; the data core always holds a birth date
        self.counts["recipients"] += 1
        year, start, end = window_of(
            self.cycle, p.birth, self.on, self.last_certified.get(p.citizen_id)
        )
        key = (p.citizen_id, year)
        if p.died:
            stopped = self.holds.get
            if all(
                (h := stopped(x.pension_id)) is not None and h.status == "stopped"
                for x in p.pensions
            ):
                return  # found in an earlier run (maybe of another year): nothing is left to do
            self.deceased(p, key, start, end)
        elif key in self.done:
            return
        elif p.certified:
            self.certified(p, key, start, end)
        else:
            self.undetermined(p, key, start, end)

    def _new(
        self, p: _Person, key: tuple[str, int], start: date, end: date, outcome: str
    ) -> dict[str, Any]:
        row = {
            "citizen_id": p.citizen_id,
            "year": key[1],
            "window_start": start,
            "window_end": end,
            "outcome": outcome,
            "method": "data" if outcome == "certified" else None,
            "evidence": p.fired,
            "score": p.score,
            "rule": self.rule.code,
            "evaluated_on": self.on,
            "run_id": None,  # set once the run row exists
            "certified_on": self.on if outcome == "certified" else None,
            "died_on": p.died_on if outcome == "deceased" else None,
            "district_code": p.pensions[0].district_code,
            "notified_at": None,
            "updated_at": self.now,
        }
        self.new_certs.append(row)
        return row

    def certified(self, p: _Person, key: tuple[str, int], start: date, end: date) -> None:
        self.counts["certified"] += 1
        self.done.add(key)
        cert = self.open.get(key)
        if cert is None:
            self._new(p, key, start, end, "certified")  # in the run's entry, not one each
            return
        cert.outcome, cert.method, cert.certified_on = "certified", "data", self.on
        cert.evidence, cert.score, cert.evaluated_on = p.fired, p.score, self.on
        cert.updated_at = self.now
        self.entry(
            ledger.Entry(
                self.actor,
                "certification.certified",
                subject=p.citizen_id,
                purpose=PURPOSE,
                detail={
                    "year": key[1],
                    "method": "data",
                    "evidence": list(p.fired),
                    "score": p.score,
                },
            )
        )
        self.resume(p.citizen_id, cert.id)

    def resume(self, citizen: str, cert_id: int) -> None:
        for hold in [h for h in self.holds.values() if h.citizen_id == citizen]:
            if hold.status != "suspended":
                continue
            resume_hold(self.db, hold, cert_id, self.on, self.now, self.actor, self.entries)
            del self.holds[hold.pension_id]
            self.counts["resumed"] += 1

    def undetermined(self, p: _Person, key: tuple[str, int], start: date, end: date) -> None:
        self.counts["undetermined"] += 1
        cert = self.open.get(key)
        notified_on = self.on
        if cert is None:
            self._new(p, key, start, end, "undetermined")["notified_at"] = self.now
            self.notify(p.citizen_id, key[1], end)
        elif cert.notified_at is not None:
            notified_on = local_today(as_utc(cert.notified_at))
        office = street_office(p.pensions[0].district_code)
        if self.on >= end - timedelta(days=self.cycle.visit_lead_days):

            def visit(cert_id: int) -> None:
                if cert_id in self.visited:
                    return
                self.visited.add(cert_id)
                self.db.add(
                    HomeVisit(
                        certification_id=cert_id,
                        citizen_id=p.citizen_id,
                        department=office,
                        due_on=end,
                        status="open",
                        created_at=self.now,
                    )
                )
                self.counts["visits"] += 1
                self.entry(
                    ledger.Entry(
                        self.actor,
                        "certification.visit_assigned",
                        subject=p.citizen_id,
                        purpose=PURPOSE,
                        detail={"year": key[1], "department": office, "due_on": end.isoformat()},
                    )
                )

            self.with_cert(key, visit)
        lapsed = max(
            end + timedelta(days=self.cycle.suspend_after_days),
            notified_on + timedelta(days=self.cycle.notice_days),
        )
        if self.on > lapsed:
            since = add_months(lapsed, 1)

            def suspend(cert_id: int) -> None:
                for pension in p.pensions:
                    if pension.pension_id in self.holds:
                        continue
                    hold = PaymentHold(
                        pension_id=pension.pension_id,
                        citizen_id=p.citizen_id,
                        monthly_amount_fen=pension.monthly_fen,
                        status="suspended",
                        since=since,
                        certification_id=cert_id,
                        updated_at=self.now,
                    )
                    self.db.add(hold)
                    self.holds[pension.pension_id] = hold
                    self.counts["suspended"] += 1
                    self.entry(
                        ledger.Entry(
                            self.actor,
                            "certification.suspended",
                            subject=p.citizen_id,
                            purpose=PURPOSE,
                            detail={
                                "pension_id": pension.pension_id,
                                "year": key[1],
                                "since": since.isoformat(),
                                "window_end": end.isoformat(),
                            },
                        )
                    )

            self.with_cert(key, suspend)

    def notify(self, citizen: str, year: int, end: date) -> None:
        self.counts["notified"] += 1
        title = "请完成本年度养老保险待遇领取资格认证"
        body = (
            f"您好！系统暂未比对到您{year}年度的生存信息。请在{end.isoformat()}前登录数慧平台，"
            "在“我的养老金认证”页面签署本人声明完成认证；逾期未认证的将暂停发放养老金，"
            "认证后恢复发放并补发。如行动不便，街道工作人员将上门服务。"
        )
        for channel in self.cycle.channels:
            self.messages.append(
                {
                    "recipient": citizen,
                    "channel": channel,
                    "title": title,
                    "body": body,
                    "candidate_id": None,
                    "created_at": self.now,
                }
            )
        self.entry(
            ledger.Entry(
                self.actor,
                "certification.notified",
                subject=citizen,
                purpose=PURPOSE,
                detail={"year": year, "channels": list(self.cycle.channels), "by": end.isoformat()},
            )
        )

    def deceased(self, p: _Person, key: tuple[str, int], start: date, end: date) -> None:
        cert = self.open.get(key)
        if cert is not None and cert.outcome == "deceased":
            return  # found in an earlier run: stopped and its overpayment opened then
        self.counts["deceased"] += 1
        if cert is None and key not in self.done:
            self._new(p, key, start, end, "deceased")
        elif cert is not None:
            cert.outcome, cert.method, cert.died_on = "deceased", None, p.died_on
            cert.evaluated_on, cert.updated_at = self.on, self.now
        else:  # certified earlier this year, died since: the year's outcome is the death
            self.db.query(Certification).filter(
                Certification.citizen_id == key[0], Certification.year == key[1]
            ).update(
                {
                    "outcome": "deceased",
                    "method": None,
                    "died_on": p.died_on,
                    "evaluated_on": self.on,
                    "updated_at": self.now,
                }
            )
            self.done.discard(key)
        died_on = p.died_on or self.on
        stopped_from = add_months(died_on, 1)

        def stop(cert_id: int) -> None:
            for pension in p.pensions:
                hold = self.holds.get(pension.pension_id)
                if hold is not None and hold.status == "stopped":
                    continue
                if hold is None:
                    hold = PaymentHold(
                        pension_id=pension.pension_id,
                        citizen_id=p.citizen_id,
                        monthly_amount_fen=pension.monthly_fen,
                        status="stopped",
                        since=stopped_from,
                        certification_id=cert_id,
                        updated_at=self.now,
                    )
                    self.db.add(hold)
                    self.holds[pension.pension_id] = hold
                else:  # suspended before the death was known: now stopped
                    hold.status, hold.since, hold.certification_id = (
                        "stopped",
                        stopped_from,
                        cert_id,
                    )
                    hold.updated_at = self.now
                self.counts["stopped"] += 1
                self.entry(
                    ledger.Entry(
                        self.actor,
                        "certification.stopped",
                        subject=p.citizen_id,
                        purpose=PURPOSE,
                        detail={
                            "pension_id": pension.pension_id,
                            "died_on": died_on.isoformat(),
                            "from": stopped_from.isoformat(),
                        },
                    )
                )
                if pension.paid_after_death and pension.pension_id not in self.overpaid:
                    self.overpaid.add(pension.pension_id)
                    self.db.add(
                        Overpayment(
                            pension_id=pension.pension_id,
                            citizen_id=p.citizen_id,
                            died_on=died_on,
                            stopped_from=stopped_from,
                            months=pension.paid_after_death,
                            amount_fen=pension.overpaid_fen,
                            recovered_fen=0,
                            status="open",
                            certification_id=cert_id,
                            created_at=self.now,
                        )
                    )
                    self.counts["overpayments"] += 1
                    self.entry(
                        ledger.Entry(
                            self.actor,
                            "certification.overpayment",
                            subject=p.citizen_id,
                            purpose=PURPOSE,
                            detail={
                                "pension_id": pension.pension_id,
                                "months": pension.paid_after_death,
                                "amount_fen": pension.overpaid_fen,
                            },
                        )
                    )

        self.with_cert(key, stop)

    # --- writing ----------------------------------------------------------------------------

    def finish(self, started: float, versions: dict[str, int]) -> CycleRun:
        ms = round((time.perf_counter() - started) * 1000)
        run = CycleRun(
            run_on=self.on,
            rule=self.rule.code,
            versions=versions,
            counts=dict(self.counts),
            ms=ms,
            created_by=self.actor,
            created_at=self.now,
        )
        self.db.add(run)
        self.db.flush()
        for row in self.new_certs:
            row["run_id"] = run.id
        for cert in self.open.values():
            if cert.evaluated_on == self.on:
                cert.run_id = run.id
        if self.new_certs:
            # Core's executemany: the ORM's bulk path costs ~10x more a row.
            self.db.connection().execute(insert(CERTIFICATIONS), self.new_certs)
        if self.fast:
            fastpath.insert_fast(self.db, self.fast, run.id)
        if self.after_insert:
            keys = [k for k, _ in self.after_insert]
            ids: dict[tuple[str, int], int] = {}
            for chunk in range(0, len(keys), 500):
                part = keys[chunk : chunk + 500]
                for cid, citizen, year in self.db.execute(
                    select(Certification.id, Certification.citizen_id, Certification.year).where(
                        tuple_(Certification.citizen_id, Certification.year).in_(part)
                    )
                ):
                    ids[(citizen, year)] = cid
            for key, then in self.after_insert:
                then(ids[key])
        if self.messages:
            self.db.execute(insert(OutboxMessage), self.messages)
        run.counts = dict(self.counts)  # with what was done once the new rows had their ids
        counts: dict[str, JsonValue] = {k: int(n) for k, n in self.counts.items()}
        self.entries.insert(
            0,
            ledger.Entry(
                self.actor,
                "certification.cycle_run",
                subject=self.rule.code,
                purpose=PURPOSE,
                detail={
                    "run_on": self.on.isoformat(),
                    "counts": counts,
                    "versions": {k: int(n) for k, n in versions.items()},
                },
            ),
        )
        self.db.flush()
        ledger.record_many(self.db, self.entries)
        run.ms = round((time.perf_counter() - started) * 1000)
        return run


def resume_hold(
    db: Session,
    hold: PaymentHold,
    cert_id: int,
    on: date,
    now: datetime,
    actor: str,
    entries: list[ledger.Entry] | None = None,
) -> Resumption:
    """A suspended pension resumed on ``on``: paid again from the next month, and the months
    withheld — from the month suspended to the month of certification, both included — paid
    back (人社部发〔2015〕32号第四十九条: 次月恢复发放并补发暂停月份)."""
    months = max(0, months_between(hold.since, on)) if on >= hold.since else 0
    back = Resumption(
        pension_id=hold.pension_id,
        citizen_id=hold.citizen_id,
        suspended_from=hold.since,
        resumed_on=on,
        months=months,
        monthly_amount_fen=hold.monthly_amount_fen,
        back_pay_fen=months * hold.monthly_amount_fen,
        certification_id=cert_id,
        created_at=now,
    )
    db.add(back)
    db.delete(hold)
    item = ledger.Entry(
        actor,
        "certification.resumed",
        subject=hold.citizen_id,
        purpose=PURPOSE,
        detail={
            "pension_id": hold.pension_id,
            "suspended_from": hold.since.isoformat(),
            "months": months,
            "back_pay_fen": back.back_pay_fen,
        },
    )
    if entries is None:
        db.flush()
        ledger.record_many(db, [item])
    else:
        entries.append(item)
    return back


def run_cycle(
    db: Session,
    library: Library,
    cycle: Cycle,
    on: date,
    *,
    actor: str,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> CycleResult:
    """The cycle over every pension in payment on ``on`` (see :mod:`.service` for the API)."""
    now = as_utc(now or utcnow())
    check_date(on, now)
    done = db.scalar(select(CycleRun).where(CycleRun.run_on == on))
    if done is not None:
        return CycleResult(on, True, dict(done.counts), done.ms, done.id, dict(done.versions))
    rule = library.rule(cycle.rule)
    check_against(cycle, rule, on)
    started = time.perf_counter()
    versions = {t: n for t, n in library.versions().items() if t in rule.tables}
    versions.update({t: n for t, n in library.versions().items() if t in ("pension_payments",)})
    fast: list[tuple[Any, ...]] = []
    rows: list[tuple[Any, ...]] = []
    engine = library.engine()
    with library.connection() as con:
        evidence = _evidence_sql(con, rule, cycle, on, engine.name)
        # The fast path writes SQLite's storage formats itself, from DuckDB; another database
        # (or the last-certification anchor, whose windows need the database's dates), or the
        # evidence found on Spark, takes every row through the walk.
        if engine.name == "duckdb":
            if db.get_bind().dialect.name == "sqlite" and cycle.anchor == "birthday_month":
                fast, rows = fastpath.split(con, db, evidence, cycle, rule, on, now)
            else:
                rows = con.execute(evidence).fetchall()
    if engine.name != "duckdb":
        rows = engine.rows(evidence, _evidence_tables(rule))
    run = _Run(db, cycle, rule, on, now, actor)
    run.fast = fast
    run.counts["recipients"] += len(fast)
    run.counts["certified"] += len(fast)
    total, seen, shown = len(rows), 0, 0
    for person in _people(rows, cycle):
        run.person(person)
        seen += len(person.pensions)
        if progress is not None and seen - shown >= PROGRESS_EVERY:
            progress(seen, total)
            shown = seen
    record = run.finish(started, versions)
    if progress is not None:
        progress(total, total)
    return CycleResult(on, False, dict(record.counts), record.ms, record.id, versions)


@dataclass(frozen=True)
class Findings:
    """What a cycle on a date would find, per recipient (citizen IDs), written nowhere: the
    evaluation's view (``evaluation.evaluate``)."""

    recipients: frozenset[str]
    certified: frozenset[str]
    undetermined: frozenset[str]
    deceased: frozenset[str]


def findings(library: Library, cycle: Cycle, on: date) -> Findings:
    rule = library.rule(cycle.rule)
    check_against(cycle, rule, on)
    engine = library.engine()
    with library.connection() as con:
        evidence = _evidence_sql(con, rule, cycle, on, engine.name)
    rows = engine.rows(evidence, _evidence_tables(rule))
    everyone: set[str] = set()
    certified: set[str] = set()
    undetermined: set[str] = set()
    deceased: set[str] = set()
    for p in _people(rows, cycle):
        everyone.add(p.citizen_id)
        if p.died:
            deceased.add(p.citizen_id)
        elif p.certified:
            certified.add(p.citizen_id)
        else:
            undetermined.add(p.citizen_id)
    return Findings(
        frozenset(everyone), frozenset(certified), frozenset(undetermined), frozenset(deceased)
    )
