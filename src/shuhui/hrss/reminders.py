"""Proactive reminders (事前主动提醒): a rule over the data core finds who should act soon, and
each is sent a message with a one-click start of the right item or bundle.

A reminder is content (``content/<city>/hrss/reminders.yaml``): the rule of the rule book that
finds the people (``policies/reminder-*.yaml``, with its own rule tests), the rule variable
that says when the matter falls due, the message, and the path its button starts. ``run``
evaluates the rule for a date through the rules engine, and for each person it finds who has
not been reminded of that due date yet: a portal message (站内消息, with the button) and its SMS
copy, an ``hrss_reminders`` row (unique on reminder, person and due date, so running again the
same day or the next sends nothing twice) and an ``hrss.reminded`` ledger entry — all in the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import DEFAULT_DIR, load_items
from shuhui.core.display import month_text
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.hrss.models import Reminder
from shuhui.programs import messages
from shuhui.programs import service as programs
from shuhui.rules import service as rules_service
from shuhui.trust.ledger import service as ledger

REMINDERS_FILE: Final = Path("hrss") / "reminders.yaml"
REMINDERS_KIND: Final = "hrss-reminders"


@dataclass(frozen=True)
class ReminderKind:
    code: str
    name: str
    rule: str
    due: str  # the rule variable holding the due date
    title: str
    body: str  # may say {due}
    start: str  # the path the message's button opens
    start_label: str
    valid_from: date
    valid_to: date | None
    reference: str

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


def kinds(city_content: Path | None = None) -> dict[str, ReminderKind]:
    path = (city_content or DEFAULT_DIR / "qingdao") / REMINDERS_FILE
    out = {}
    for item in load_items(path, REMINDERS_KIND).by_code.values():
        a = item.attrs
        out[item.code] = ReminderKind(
            code=item.code,
            name=item.name_zh,
            rule=str(a["rule"]),
            due=str(a["due"]),
            title=str(a["title"]),
            body=str(a["body"]),
            start=str(a["start"]),
            start_label=str(a["start_label"]),
            valid_from=item.valid_from,
            valid_to=item.valid_to,
            reference=item.reference,
        )
    return out


def kind_of(code: str, city_content: Path | None = None) -> ReminderKind:
    found = kinds(city_content).get(code)
    if found is None:
        raise Problem(
            "not-found",
            detail=Text(f"没有提醒 {code}", f"no reminder {code}"),
            errors=[FieldError("reminder", Text("提醒编码不存在", "unknown reminder"))],
        )
    return found


@dataclass(frozen=True)
class RunOutcome:
    reminder: str
    evaluated_on: date
    found: int  # people the rule finds
    sent: int  # reminded now
    already: int  # reminded of the same due date before


def _due(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def run(
    db: Session,
    library: programs.Library,
    kind: ReminderKind,
    on: date | None = None,
    *,
    actor: str,
    within: Collection[str] | None = None,
    now: datetime | None = None,
) -> RunOutcome:
    """Sends ``kind``'s reminders found on ``on`` (today by default); ``within`` limits them to
    those people (the demo reminds its own actor only)."""
    now = as_utc(now or utcnow())
    on = on or local_today(now)
    if on > local_today(now):
        raise Problem(
            "validation",
            errors=[FieldError("date", Text("不能晚于今天", "not after today"))],
        )
    if not kind.in_force(on):
        raise Problem("conflict", detail=Text(f"“{kind.name}”当日不在施行期内", "not in force"))
    rule = library.rule(kind.rule)
    with library.connection() as con:
        found = rules_service.candidates(con, rule, on, outcomes=("eligible",))
    if within is not None:
        wanted = set(within)
        found = [e for e in found if e.key in wanted]
    # Those reminded before (a city-wide run reads the reminder's rows once, not per person).
    earlier = select(Reminder.recipient, Reminder.due).where(Reminder.reminder == kind.code)
    if len(found) < 1000:
        earlier = earlier.where(Reminder.recipient.in_([e.key for e in found]))
    done = {(str(r), d) for r, d in db.execute(earlier)}
    entries = []
    sent = already = 0
    for e in found:
        due = _due(e.variables.get(kind.due))
        if due is None:
            continue
        if (e.key, due) in done:
            already += 1
            continue
        message = messages.send(
            db,
            e.key,
            kind.title,
            kind.body.format(due=month_text(due)),
            link=(kind.start, kind.start_label),
            now=now,
        )
        db.add(
            Reminder(
                reminder=kind.code,
                recipient=e.key,
                due=due,
                rule=rule.code,
                evaluated_on=on,
                message_id=message,
                sent_at=now,
            )
        )
        entries.append(
            ledger.Entry(
                actor,
                "hrss.reminded",
                subject=e.key,
                purpose=kind.name,
                detail={"reminder": kind.code, "rule": rule.code, "due": due.isoformat()},
            )
        )
        sent += 1
    db.flush()
    if entries:
        ledger.record_many(db, entries)
    return RunOutcome(kind.code, on, len(found), sent, already)


def of_person(db: Session, citizen_id: str) -> list[Reminder]:
    return list(
        db.scalars(
            select(Reminder).where(Reminder.recipient == citizen_id).order_by(Reminder.id.desc())
        )
    )
