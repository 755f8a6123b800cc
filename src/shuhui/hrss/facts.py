"""The HR & social-security services' figures as facts (``core.facts.Fact``), for
``shuhui.insight``'s maps: one-thing bundles (一件事) filed, how long a bundle and each of its
parts took, and proactive reminders (事前主动提醒) sent and taken up.

Read from hrss's own tables; what a bundle's part took comes from its approval case through
``approval.facts.spans`` (hrss does not read approval's tables), and an applicant's district
through approval's registers (``approval.facts.Districts``). Months are Qingdao's, as every
figure of the platform counts them.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import calendar
from shuhui.approval import facts as approval_facts
from shuhui.approval.facts import DistrictOf
from shuhui.core.clock import as_utc, local_today
from shuhui.core.facts import Fact, month_of
from shuhui.hrss.models import BundleCase, BundlePart, Reminder
from shuhui.hrss.reminders import ReminderKind

# What a reminder's button starts (``reminders.yaml``: ``start``): a bundle's page, or an item's.
BUNDLE_START: Final = re.compile(r"^/hrss/bundles/(?P<code>[a-z0-9-]+)/?$")
ITEM_START: Final = re.compile(r"^/approval/items/(?P<code>[A-Za-z0-9-]+)(/.*)?$")
# A part's case ended with a result (a withdrawn part was not handled to the end).
RESULTS: Final = ("issued", "rejected")


def _local_month(at: datetime) -> date:
    return month_of(local_today(at))


def _count(found: dict[tuple[str | None, date | None, str | None], list[float]]) -> list[Fact]:
    return [Fact(value=v, district=d, month=m, group=g) for (d, m, g), (v, _) in found.items()]


def _share(found: dict[tuple[str | None, date | None, str | None], list[float]]) -> list[Fact]:
    return [
        Fact(value=v, base=b, district=d, month=m, group=g)
        for (d, m, g), (v, b) in found.items()
        if b
    ]


def _cells() -> dict[tuple[str | None, date | None, str | None], list[float]]:
    return defaultdict(lambda: [0.0, 0.0])


# --- one-thing bundles ----------------------------------------------------------------------


def bundles_filed(db: Session, districts: DistrictOf) -> list[Fact]:
    """Bundles filed, per bundle (the group), month filed and the applicant's district."""
    rows = db.execute(select(BundleCase.bundle, BundleCase.applicant_id, BundleCase.filed_at)).all()
    districts.prefetch((None, applicant) for _, applicant, _ in rows)
    cells = _cells()
    for bundle, applicant, filed_at in rows:
        cells[(districts(None, applicant), _local_month(filed_at), bundle)][0] += 1
    return _count(cells)


def bundle_days(db: Session, districts: DistrictOf) -> list[Fact]:
    """Working days from filing a bundle to the end of its last part (its one result notice),
    waiting for corrections included: what the applicant waited. Value the days, base the
    bundles (an average), by the month finished and the bundle. A filing none of whose parts
    could be filed ends at once with nothing handled, and is left out."""
    handled = (
        select(BundlePart.bundle_case_id)
        .where(BundlePart.case_code.is_not(None))
        .distinct()
        .scalar_subquery()
    )
    query = select(
        BundleCase.bundle, BundleCase.applicant_id, BundleCase.filed_at, BundleCase.finished_at
    ).where(BundleCase.finished_at.is_not(None), BundleCase.id.in_(handled))
    rows = db.execute(query).all()
    districts.prefetch((None, applicant) for _, applicant, _, _ in rows)
    cells = _cells()
    for bundle, applicant, filed_at, finished_at in rows:
        ended = local_today(finished_at)
        days = max(0, calendar.working_days_between(local_today(filed_at), ended))
        cell = cells[(districts(None, applicant), month_of(ended), bundle)]
        cell[0] += days
        cell[1] += 1
    return _share(cells)


def part_days(db: Session, districts: DistrictOf) -> list[Fact]:
    """Working days each part of a bundle took at its department, from filing to its result
    (issued or rejected), less the days it waited for the applicant's correction. Value the
    days, base the parts (an average), by the month the part ended and its department."""
    query = (
        select(BundlePart.case_code, BundleCase.applicant_id)
        .join(BundleCase, BundleCase.id == BundlePart.bundle_case_id)
        .where(BundlePart.case_code.is_not(None), BundlePart.ended.in_(RESULTS))
    )
    parts = {str(code): str(applicant) for code, applicant in db.execute(query)}
    districts.prefetch((None, applicant) for applicant in parts.values())
    cells = _cells()
    for code, span in approval_facts.spans(db, parts).items():
        days = span.working_days
        if span.finished_on is None or days is None:
            continue
        cell = cells[(districts(None, parts[code]), month_of(span.finished_on), span.department)]
        cell[0] += days
        cell[1] += 1
    return _share(cells)


# --- proactive reminders --------------------------------------------------------------------


@dataclass(frozen=True)
class Reminded:
    """One reminder sent, and whether its recipient then filed what its button starts."""

    reminder: str
    recipient: str
    due: date
    sent_at: datetime
    taken_up: bool


def _filings(
    db: Session, kind: ReminderKind, recipients: set[str]
) -> Mapping[str, list[datetime]] | None:
    """When each recipient filed what ``kind``'s button starts, sorted; None where the button
    starts neither a bundle nor an item (a figure cannot tell)."""
    bundle = BUNDLE_START.match(kind.start)
    if bundle is not None:
        found: dict[str, list[datetime]] = defaultdict(list)
        query = select(BundleCase.applicant_id, BundleCase.filed_at).where(
            BundleCase.bundle == bundle["code"]
        )
        for applicant, at in db.execute(query):
            if applicant in recipients:
                found[applicant].append(as_utc(at))
        return {k: sorted(v) for k, v in found.items()}
    item = ITEM_START.match(kind.start)
    if item is not None:
        filed = approval_facts.submissions(db, item["code"], recipients)
        return {k: sorted(as_utc(at) for at in v) for k, v in filed.items()}
    return None


def reminded(db: Session, kinds: Mapping[str, ReminderKind]) -> list[Reminded]:
    """Every reminder sent whose kind the content still names, with whether the person filed
    the bundle or item its button starts on or after the moment it was sent (at any time
    since). Reminders of a kind no longer in the content are left out: what they started is
    no longer known."""
    rows = list(
        db.execute(
            select(Reminder.reminder, Reminder.recipient, Reminder.due, Reminder.sent_at).order_by(
                Reminder.id
            )
        )
    )
    by_kind: dict[str, set[str]] = defaultdict(set)
    for code, recipient, _, _ in rows:
        by_kind[code].add(recipient)
    filings = {
        code: _filings(db, kinds[code], people) for code, people in by_kind.items() if code in kinds
    }
    out = []
    for code, recipient, due, sent_at in rows:
        filed = filings.get(code)
        if filed is None:
            continue
        sent = as_utc(sent_at)
        times = filed.get(recipient, [])
        taken = bisect_left(times, sent) < len(times)  # a filing at or after the reminder
        out.append(Reminded(code, recipient, due, sent, taken))
    return out


def reminders_sent(db: Session, districts: DistrictOf) -> list[Fact]:
    """Reminders sent (one per person and due date), per reminder (the group), month sent and
    the recipient's district of residence."""
    rows = db.execute(select(Reminder.reminder, Reminder.recipient, Reminder.sent_at)).all()
    districts.prefetch(("person", recipient) for _, recipient, _ in rows)
    cells = _cells()
    for code, recipient, sent_at in rows:
        cells[(districts("person", recipient), _local_month(sent_at), code)][0] += 1
    return _count(cells)


def reminders_taken_up(
    db: Session, districts: DistrictOf, kinds: Mapping[str, ReminderKind]
) -> list[Fact]:
    """Reminders after which the person filed what the button starts, over the reminders sent
    (:func:`reminded`), per reminder, month sent and district."""
    found = reminded(db, kinds)
    districts.prefetch(("person", r.recipient) for r in found)
    cells = _cells()
    for r in found:
        cell = cells[(districts("person", r.recipient), _local_month(r.sent_at), r.reminder)]
        cell[0] += 1 if r.taken_up else 0
        cell[1] += 1
    return _share(cells)
