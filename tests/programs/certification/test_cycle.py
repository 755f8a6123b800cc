"""The certification cycle on the test city: outcomes against the data, idempotence, a crash
mid-run, suspension (never a stop) for lack of evidence, resumption with back pay after the
recipient's own signed declaration, refusal of anyone else, death with its overpayment."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.programs.certification import cycle as cycle_module
from shuhui.programs.certification import service
from shuhui.programs.certification.models import (
    Certification,
    CycleRun,
    HomeVisit,
    Overpayment,
    PaymentHold,
    Resumption,
)
from shuhui.programs.certification.windows import add_months, months_between
from shuhui.programs.models import OutboxMessage
from shuhui.trust.ledger.models import LedgerEntry
from tests.programs.certification.conftest import FIRST, Cert, at

pytestmark = pytest.mark.both_backends


def count(cert: Cert, model: Any) -> int:
    with transaction(cert.factory) as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def actions(cert: Cert, subject: str) -> list[str]:
    with transaction(cert.factory) as db:
        return list(
            db.scalars(
                select(LedgerEntry.action)
                .where(LedgerEntry.subject == subject, LedgerEntry.action.like("certification.%"))
                .order_by(LedgerEntry.seq)
            )
        )


def datacore(cert: Cert, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with cert.library.connection() as con:
        return con.execute(sql, list(args)).fetchall()


def certs(cert: Cert, outcome: str) -> list[Certification]:
    with transaction(cert.factory) as db:
        rows = list(db.scalars(select(Certification).where(Certification.outcome == outcome)))
        db.expunge_all()
        return rows


def test_a_cycle_certifies_by_data_and_names_the_evidence(cert: Cert) -> None:
    result = cert.run(FIRST)
    counts = result.counts
    paid = datacore(
        cert, "SELECT count(DISTINCT citizen_id) FROM pension_recipients WHERE status = '正常发放'"
    )[0][0]
    assert not result.already_run
    assert counts["recipients"] == paid > 300
    assert counts["certified"] + counts["undetermined"] + counts["deceased"] == paid
    assert counts["certified"] / paid > 0.95
    assert counts["notified"] == counts["undetermined"] > 0
    assert count(cert, Certification) == paid
    # Two messages (portal, SMS) to each recipient without evidence, none tied to a campaign.
    assert count(cert, OutboxMessage) == 2 * counts["undetermined"]
    done = certs(cert, "certified")[0]
    assert done.method == "data" and done.evidence and done.score >= 2
    assert done.evaluated_on == FIRST and done.rule == "pension-certification"
    assert done.window_start <= FIRST and done.window_end >= done.window_start
    # The evidence is explained down to the rows, and the officer's look is in the ledger.
    with transaction(cert.factory) as db:
        why = service.explain(db, cert.library, done.id, actor="officer")
    assert why.outcome == "eligible"
    used = {i.name: i for i in why.inputs}
    fired = [used[name] for name in done.evidence]
    assert all(i.value is True and i.rows for i in fired)
    assert actions(cert, done.citizen_id)[-1] == "certification.viewed"
    with transaction(cert.factory) as db:
        run = db.scalar(select(CycleRun))
        assert run is not None and run.counts == counts
        assert run.versions["medical_visits"] >= 1
        entry = db.scalar(
            select(LedgerEntry).where(LedgerEntry.action == "certification.cycle_run")
        )
        assert entry is not None


def test_running_a_date_twice_changes_nothing(cert: Cert) -> None:
    first = cert.run(FIRST)
    sizes = [count(cert, m) for m in (Certification, OutboxMessage, LedgerEntry, PaymentHold)]
    again = cert.run(FIRST, at(FIRST + timedelta(days=1)))
    assert again.already_run and again.counts == first.counts and again.run_id == first.run_id
    assert [
        count(cert, m) for m in (Certification, OutboxMessage, LedgerEntry, PaymentHold)
    ] == sizes
    # A later date changes only what changed: nobody certified twice, nobody told twice.
    later = cert.run(FIRST + timedelta(days=1), at(FIRST + timedelta(days=2)))
    assert not later.already_run and later.counts["notified"] <= later.counts["undetermined"]
    assert count(cert, OutboxMessage) == sizes[1] + 2 * later.counts["notified"]


def test_a_future_date_is_refused_naming_the_field(cert: Cert) -> None:
    with pytest.raises(Problem) as refused:
        cert.run(date(2026, 11, 5), at(date(2026, 11, 4)))
    assert refused.value.type.status == 422
    assert [e.field for e in refused.value.errors] == ["date"]
    assert count(cert, CycleRun) == 0


def test_a_crash_mid_run_leaves_nothing_and_the_next_run_completes(
    cert: Cert, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = count(cert, LedgerEntry)

    def down(*_: Any, **__: Any) -> None:
        raise RuntimeError("the machine went down")

    # Down once the certifications, holds and messages are written, before the ledger's entries;
    # then down in the middle of the walk over the pensioners.
    for target, name in ((cycle_module.ledger, "record_many"), (cycle_module._Run, "deceased")):
        with monkeypatch.context() as patch:
            patch.setattr(target, name, down)
            with pytest.raises(RuntimeError):
                cert.run(FIRST)
        assert [count(cert, m) for m in (CycleRun, Certification, OutboxMessage)] == [0, 0, 0]
        assert [count(cert, m) for m in (PaymentHold, HomeVisit, Overpayment)] == [0, 0, 0]
        assert count(cert, LedgerEntry) == entries
    done = cert.run(FIRST)
    assert not done.already_run and count(cert, Certification) == done.counts["recipients"]


def _undetermined(cert: Cert) -> Certification:
    waiting = certs(cert, "undetermined")
    assert waiting
    return waiting[0]


def test_no_evidence_suspends_never_stops_and_self_certification_resumes_with_back_pay(
    cert: Cert,
) -> None:
    cert.run(FIRST)
    person = _undetermined(cert)
    cycle = service.cycle_for(cert.settings, FIRST)
    # Past the window's end and the notice's 30 days: suspended from the next month.
    lapsed = max(person.window_end, FIRST + timedelta(days=cycle.notice_days))
    later = lapsed + timedelta(days=2)
    result = cert.run(later, at(later))
    assert result.counts["suspended"] >= 1 and result.counts["stopped"] == 0
    with transaction(cert.factory) as db:
        holds = list(
            db.scalars(select(PaymentHold).where(PaymentHold.citizen_id == person.citizen_id))
        )
        visit = db.scalar(select(HomeVisit).where(HomeVisit.citizen_id == person.citizen_id))
        db.expunge_all()
    assert holds and {h.status for h in holds} == {"suspended"}
    assert {h.since for h in holds} == {add_months(lapsed, 1)}
    assert visit is not None and visit.department.endswith("街道办事处") and visit.status == "open"
    # Months later, still no evidence: still suspended, never stopped for lack of evidence.
    much_later = later + timedelta(days=120)
    cert.run(much_later, at(much_later))
    with transaction(cert.factory) as db:
        statuses = set(
            db.scalars(
                select(PaymentHold.status).where(PaymentHold.citizen_id == person.citizen_id)
            )
        )
    assert statuses == {"suspended"}
    # Someone else (an agent, even with a mandate) cannot certify for them: refused, recorded.
    # (The refusal's entry is kept: the transaction commits once pytest.raises has caught it.)
    with (
        transaction(cert.factory) as db,
        pytest.raises(service.CertificationRefused) as refused,
    ):
        service.self_certify(
            db,
            cert.settings.data_dir,
            person.citizen_id,
            signer_citizen_id="110105194001010011",
            actor="agent",
            now=at(much_later),
        )
    assert refused.value.type.status == 403
    assert actions(cert, person.citizen_id)[-1] == "certification.self_refused"
    # The recipient signs: certified by self, resumed with the months withheld paid back.
    signed_on = much_later + timedelta(days=3)
    with transaction(cert.factory) as db:
        done = service.self_certify(
            db,
            cert.settings.data_dir,
            person.citizen_id,
            signer_citizen_id=person.citizen_id,
            actor="pensioner",
            now=at(signed_on),
        )
        assert done.outcome == "certified" and done.method == "self" and done.signature
    with transaction(cert.factory) as db:
        backs = list(
            db.scalars(select(Resumption).where(Resumption.citizen_id == person.citizen_id))
        )
        left = db.scalar(select(func.count()).where(PaymentHold.citizen_id == person.citizen_id))
        visits = set(
            db.scalars(select(HomeVisit.status).where(HomeVisit.citizen_id == person.citizen_id))
        )
        assert visits == {"done"}
    assert left == 0 and len(backs) == len(holds)
    for back, hold in zip(
        sorted(backs, key=lambda b: b.pension_id),
        sorted(holds, key=lambda h: h.pension_id),
        strict=True,
    ):
        months = months_between(hold.since, signed_on)
        assert back.months == months >= 4
        assert back.back_pay_fen == months * hold.monthly_amount_fen
    trail = actions(cert, person.citizen_id)
    assert trail[-2:] == ["certification.signed", "certification.resumed"] or (
        trail[-1] == "certification.resumed" and "certification.signed" in trail
    )
    assert "certification.stopped" not in trail
    # Certifying again is a conflict, not a second certification.
    with transaction(cert.factory) as db, pytest.raises(Problem) as again:
        service.self_certify(
            db,
            cert.settings.data_dir,
            person.citizen_id,
            signer_citizen_id=person.citizen_id,
            actor="pensioner",
            now=at(signed_on),
        )
    assert again.value.type.status == 409


def test_a_visit_that_finds_nobody_leaves_the_pension_suspended(cert: Cert) -> None:
    cert.run(FIRST)
    person = _undetermined(cert)
    later = max(person.window_end, FIRST + timedelta(days=30)) + timedelta(days=2)
    cert.run(later, at(later))
    with transaction(cert.factory) as db:
        visit = db.scalar(select(HomeVisit).where(HomeVisit.citizen_id == person.citizen_id))
        assert visit is not None
        service.record_visit(
            db, cert.library, visit.id, outcome="not_found", actor="street", now=at(later)
        )
    with transaction(cert.factory) as db:
        statuses = set(
            db.scalars(
                select(PaymentHold.status).where(PaymentHold.citizen_id == person.citizen_id)
            )
        )
        assert statuses == {"suspended"}
        with pytest.raises(Problem) as done_already:
            service.record_visit(
                db, cert.library, visit.id, outcome="certified", actor="street", now=at(later)
            )
        assert done_already.value.type.status == 409


def test_death_stops_from_the_next_month_and_the_overpayment_is_tracked(cert: Cert) -> None:
    result = cert.run(FIRST)
    dead = certs(cert, "deceased")
    assert result.counts["deceased"] == len(dead) >= 1
    assert result.counts["stopped"] >= 1 and result.counts["overpayments"] >= 1
    person = dead[0]
    assert person.died_on is not None and person.method is None
    with transaction(cert.factory) as db:
        holds = list(
            db.scalars(select(PaymentHold).where(PaymentHold.citizen_id == person.citizen_id))
        )
        owed = list(
            db.scalars(select(Overpayment).where(Overpayment.citizen_id == person.citizen_id))
        )
        db.expunge_all()
    assert holds and {h.status for h in holds} == {"stopped"}
    assert {h.since for h in holds} == {add_months(person.died_on, 1)}
    # What the data core shows paid for months after the month of death, to the fen.
    paid = datacore(
        cert,
        "SELECT pension_id, count(*), sum(amount_fen) FROM pension_payments "
        "WHERE citizen_id = ? AND month >= ? GROUP BY pension_id",
        person.citizen_id,
        add_months(person.died_on, 1),
    )
    assert {(o.pension_id, o.months, o.amount_fen) for o in owed} == {
        (str(p), int(n), int(f)) for p, n, f in paid
    }
    over = owed[0]
    # Recovered in parts; more than remains is refused; the rest closes it.
    part = over.amount_fen // 3
    with transaction(cert.factory) as db:
        got = service.record_recovery(db, over.id, part, actor="finance", now=at(FIRST))
        assert got.status == "open" and got.recovered_fen == part
    with transaction(cert.factory) as db:
        with pytest.raises(Problem) as too_much:
            service.record_recovery(db, over.id, over.amount_fen, actor="finance", now=at(FIRST))
        assert [e.field for e in too_much.value.errors] == ["amount"]
    with transaction(cert.factory) as db:
        got = service.record_recovery(
            db, over.id, over.amount_fen - part, actor="finance", now=at(FIRST)
        )
        assert got.status == "recovered" and got.recovered_fen == over.amount_fen
    trail = actions(cert, person.citizen_id)
    assert "certification.stopped" in trail and trail.count("certification.recovered") == 2
    # The next run leaves the deceased alone: stopped once, owed once.
    later = FIRST + timedelta(days=40)
    again = cert.run(later, at(later))
    assert again.counts["stopped"] == 0 and again.counts["overpayments"] == 0


def test_the_dashboard_counts_the_year(cert: Cert) -> None:
    result = cert.run(FIRST)
    with transaction(cert.factory) as db:
        board = service.dashboard(db, FIRST.year)
        earlier = service.dashboard(db, FIRST.year - 1)
    both = [board, earlier]
    assert sum(sum(b.certified.values()) for b in both) == result.counts["certified"]
    assert sum(b.undetermined for b in both) == result.counts["undetermined"]
    assert sum(b.deceased for b in both) == result.counts["deceased"]
    assert 0.9 < board.rate <= 1.0 and board.runs and board.overpaid_fen >= 0
