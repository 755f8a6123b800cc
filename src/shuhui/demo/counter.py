"""Window filings (窗口办理) in the demo: a few residents came to the service hall over the past
days and the department's demo officer filed their applications at the window
(``approval.counter``), so the metrics' online share (网办率) is measured over a mix, as the
city's is (most, not all, online).

The items are those a window can file whole — every required material waived by an
e-certificate or none needed; a filing the checks refuse is rolled back to its savepoint and the
next item tried. The residents are the city's own (Qingdao-born, none a demo account's), drawn
with a fixed seed; each filing is the officer's, with the purpose they state, on a past working
day. Run again, nothing changes: the filings are made once (when no case came by the window).
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from shuhui.approval import counter
from shuhui.approval.items import Catalogue
from shuhui.approval.schemas import CounterFilingIn
from shuhui.core.clock import SHANGHAI, local_today
from shuhui.core.errors import Problem
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.demo.history import working_days_before
from shuhui.trust.identity.models import User
from shuhui.trust.identity.service import list_users

WANTED: Final = 6
SEED: Final = 2027
PURPOSE: Final = "申请人到服务大厅窗口现场办理"


def _residents(core: DataCore, taken: set[str], n: int) -> list[str]:
    with core.connect(tables=("residents", "death_registrations")) as con:
        rows = con.execute(
            "SELECT citizen_id FROM residents WHERE starts_with(citizen_id, '3702')"
            " AND citizen_id NOT IN (SELECT citizen_id FROM death_registrations)"
            " ORDER BY citizen_id LIMIT 400"
        ).fetchall()
    free = [str(r[0]) for r in rows if r[0] not in taken]
    random.Random(SEED).shuffle(free)  # noqa: S311 (demo data, not secrets)
    return free[:n]


def _values(item: Any) -> dict[str, Any]:
    """What the officer types: each required field the registers do not fill, as its example."""
    return {
        f.name: f.schema["examples"][0]
        for f in item.form.fields
        if f.required and f.fill is None and f.schema.get("examples")
    }


def prepare(
    db: Session,
    settings: Settings,
    core: DataCore,
    catalogue: Catalogue,
    officers: dict[str, User],
    *,
    now: datetime,
) -> int:
    """Up to :data:`WANTED` window filings (the module's docstring); how many were made."""
    if counter.filed_any(db):
        return 0
    today = local_today(now)
    items = sorted(
        (
            i
            for i in catalogue.items.values()
            if i.holder == "person" and i.in_force(today) and i.department in officers
        ),
        key=lambda i: i.code,
    )
    taken = {u.citizen_id for u in list_users(db) if u.citizen_id}
    people = _residents(core, taken, WANTED * 3)
    days = working_days_before(today, 10)[1:]  # the past ten working days
    made = 0
    for n, item in enumerate(items):
        if made >= WANTED or not people:
            break
        day = days[n % len(days)]
        at = datetime.combine(day, time(9, 30), tzinfo=SHANGHAI) + timedelta(minutes=17 * n)
        given = CounterFilingIn(
            item=item.code,
            applicant=people[-1],
            identity_checked=True,
            purpose=PURPOSE,
            values=_values(item),
        )
        try:
            with db.begin_nested():
                counter.file_at_counter(
                    db,
                    core,
                    catalogue,
                    officer=officers[item.department],
                    given=given,
                    content_dir=settings.city_content,
                    now=at,
                )
        except Problem:
            continue  # a material to upload, or a fact the registers lack: not for the window
        people.pop()
        made += 1
    return made


__all__ = ["WANTED", "prepare"]
