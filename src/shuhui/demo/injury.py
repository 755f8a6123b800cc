"""The work-injury services in the demo (shuhui.hrss.injury and .assessment).

**A recognition to watch.** The demo enterprise's application for one of its employees
(工伤认定申请（用人单位申请）, QD-RS-0018), filed and accepted 55 days ago, its accident twelve
days before that: on the officer's 工伤认定时限 it is five days from its decision due date, so
the row warns and the workbench counts it.

**Labour-capacity assessment (劳动能力鉴定).** The account whose ``demo_city`` is
``{assess: <kind>}`` (``worker``; a kind of ``hrss/assessment.yaml``) is bound to an employee
of the city with a wage on record, and their application is filed through the same services a
person's clicks call (pre-filled, the rest from the form's examples, the two materials as demo
pages), accepted by the 人社局 demo officer, its panel drawn from the committee's pool (with a
fixed seed, so the same experts each run) and its video examination arranged for tomorrow
morning. From there the demo is the flow itself: the examining expert opens the call, the
worker joins it from 劳动能力鉴定, the expert writes the findings, the panel signs its opinions
and the officer concludes.

Run again, nothing changes: each application is made once (while its applicant has one).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from shuhui.approval import cases
from shuhui.approval import service as approval
from shuhui.approval.items import Catalogue
from shuhui.approval.precheck import store_upload
from shuhui.core.clock import SHANGHAI, as_utc, local_today, utcnow
from shuhui.core.display import mask_citizen_id
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.demo.city import Prepared
from shuhui.demo.prechecks import plain_page
from shuhui.hrss import assessment
from shuhui.trust.identity.demo import DemoAccount, bind_demo_account, demo_staff
from shuhui.trust.identity.models import User
from shuhui.trust.identity.service import get_user_by_username, list_users

EMPLOYER: Final = "enterprise"  # the demo account whose recognition application it is
RECOGNITION_ITEM: Final = "QD-RS-0018"
FILED_DAYS_AGO: Final = 55
ACCIDENT_DAYS_BEFORE: Final = 12
SEED: Final = 2026
# What the demo's application says beyond what the registers fill.
TYPED: Final = {
    "injury_site": "上肢",
    "applicant_relation": "本人",
    "diagnosis": "右手食指末节骨折，内固定术后，屈伸功能部分受限",
}


def _officer(db: Session, accounts: Sequence[DemoAccount], department: str) -> User | None:
    for a in accounts:
        if a.department == department:
            found = get_user_by_username(db, a.username)
            if found is not None:
                return found
    return None


def _file(
    db: Session,
    settings: Settings,
    core: DataCore,
    catalogue: Catalogue,
    applicant: User,
    item_code: str,
    now: datetime,
    typed: dict[str, Any],
) -> Any:
    """An application as its applicant files it: pre-filled, ``typed`` and the form's examples
    for the rest, each material a demo page, submitted at ``now``."""
    item = catalogue.items[item_code]
    made = approval.start_application(
        db, core, catalogue, user=applicant, item_code=item_code, now=now
    )
    view = approval.form_view(db, catalogue, made)
    values: dict[str, Any] = dict(typed)
    for f in (f for g in view.groups for f in g.fields):
        spec = item.form.field(f.name)
        if spec is not None and spec.required and f.value in (None, "") and f.name not in values:
            values[f.name] = spec.schema["examples"][0]
    approval.save(db, catalogue, made, values, actor=applicant.username, now=now)
    for m in view.materials:
        if m.waived:
            continue
        page = plain_page(m.code, m.name)
        stored = store_upload(settings.data_dir, made.code, m.code, page.content, page.name)
        # A demo page, not read: attached as kept, as an upload the pre-check has no reader for.
        reading = approval.Reading(m.code, stored, None)
        approval.attach_reading(db, catalogue, made, reading, actor=applicant.username, now=now)
    approval.send(db, catalogue, made, actor=applicant.username, now=now)
    return made


def _accept(db: Session, case: Any, officer: User, now: datetime) -> None:
    for task in cases.tasks_of(db, case):
        if task.closed_at is None and task.role == "accept":
            cases.complete_task(db, task.id, officer=officer, outcome="accept", now=now)


def _employee(core: DataCore, credit_code: str) -> dict[str, Any] | None:
    """An employee of the enterprise in the employment register (the latest hired)."""
    with core.connect(tables=("employment_spells", "residents")) as con:
        found = con.execute(
            "SELECT r.name, r.citizen_id, s.start_date FROM employment_spells s"
            " JOIN residents r USING (citizen_id) WHERE s.credit_code = ?"
            " ORDER BY s.start_date DESC, r.citizen_id LIMIT 1",
            [credit_code],
        ).fetchone()
    rows = [dict(zip(("name", "citizen_id", "start_date"), found, strict=True))] if found else []
    return rows[0] if rows else None


def _recognition(
    db: Session,
    settings: Settings,
    core: DataCore,
    catalogue: Catalogue,
    accounts: Sequence[DemoAccount],
    now: datetime,
) -> None:
    """The demo enterprise's application for an employee, accepted weeks ago (the docstring)."""
    employer = get_user_by_username(db, EMPLOYER)
    if employer is None or not employer.credit_code or RECOGNITION_ITEM not in catalogue.items:
        return
    every = (*cases.RUNNING, *cases.FINISHED, *cases.EDITABLE)
    if any(
        c.applicant_id == employer.credit_code
        for c in approval.cases_of_item(db, RECOGNITION_ITEM, every)
    ):
        return
    employee = _employee(core, employer.credit_code)
    if employee is None:
        return
    filed = now - timedelta(days=FILED_DAYS_AGO)
    accident = local_today(filed) - timedelta(days=ACCIDENT_DAYS_BEFORE)
    department = catalogue.items[RECOGNITION_ITEM].department
    officer = _officer(db, accounts, department)
    if officer is None:
        raise LookupError(f"no demo officer of {department}: add one to demo-accounts.yaml")
    typed = {
        "employee_name": employee["name"],
        "employee_citizen_id": employee["citizen_id"],
        "hired_date": str(employee["start_date"]),
        "injury_date": accident.isoformat(),
        "injury_place": "本单位生产车间",
        "diagnosis": "左前臂尺骨骨折",
    }
    made = _file(db, settings, core, catalogue, employer, RECOGNITION_ITEM, filed, typed)
    _accept(db, made, officer, filed)


def _injured(core: DataCore, taken: set[str]) -> dict[str, Any] | None:
    """An employee of the city in work, under 55, with a wage on record and no account yet
    (Qingdao-born first, then the lowest ID): the demo's injured worker."""
    with core.connect(tables=("employment_spells", "residents")) as con:
        rows = con.execute(
            "SELECT r.citizen_id, r.name FROM employment_spells s JOIN residents r"
            " USING (citizen_id) WHERE s.end_date IS NULL AND s.monthly_wage_fen > 0"
            " AND r.birth_date > current_date - INTERVAL 55 YEAR"
            " ORDER BY NOT starts_with(r.citizen_id, '3702'), r.citizen_id LIMIT 50"
        ).fetchall()
    for citizen_id, name in rows:
        if citizen_id not in taken:
            return {"citizen_id": citizen_id, "name": name}
    return None


def _bound_worker(
    db: Session, core: DataCore, accounts: Sequence[DemoAccount], account: DemoAccount, actor: str
) -> tuple[User, bool] | None:
    """The ``assess`` account, bound to an injured employee of the city (once)."""
    user = get_user_by_username(db, account.username)
    if user is None:
        return None
    if user.citizen_id and assessment.of_worker(db, user.citizen_id):
        return user, False  # bound and filed by an earlier run
    taken = {u.citizen_id for u in list_users(db) if u.id != user.id and u.citizen_id}
    found = _injured(core, taken)
    if found is None:  # a city without employees (the tests' apps have none)
        return None
    changed = bind_demo_account(
        db,
        user.username,
        name=found["name"],
        actor=actor,
        staff=demo_staff(db, accounts),
        citizen_id=found["citizen_id"],
    )
    db.refresh(user)
    return user, changed


def prepare(
    db: Session,
    settings: Settings,
    core: DataCore,
    catalogue: Catalogue,
    accounts: Sequence[DemoAccount],
    *,
    actor: str,
    now: datetime | None = None,
) -> list[Prepared]:
    """The enterprise's recognition application, and the injured worker's assessment up to its
    arranged examination (see the module's docstring), in the caller's transaction; what waits
    for the worker and the panel."""
    now = as_utc(now or utcnow())
    _recognition(db, settings, core, catalogue, accounts, now)
    rules = assessment.rules(settings.city_content)
    account = next((a for a in accounts if a.demo_city and a.demo_city[0] == "assess"), None)
    if account is None or rules.item not in catalogue.items:
        return []
    bound = _bound_worker(db, core, accounts, account, actor)
    if bound is None or not bound[0].citizen_id:
        return []
    worker, changed = bound
    citizen_id = str(worker.citizen_id)
    mine = assessment.of_worker(db, citizen_id)
    if not mine:
        department = catalogue.items[rules.item].department
        officer = _officer(db, accounts, department)
        if officer is None:
            raise LookupError(f"no demo officer of {department}: add one to demo-accounts.yaml")
        made = _file(db, settings, core, catalogue, worker, rules.item, now, TYPED)
        _accept(db, made, officer, now)
        assessment.draw_panel(
            db,
            made.code,
            officer=officer,
            city_content=settings.city_content,
            now=now,
            rng=random.Random(SEED),  # noqa: S311 (the demo draws the same panel each run)
        )
        tomorrow = local_today(now) + timedelta(days=1)
        at = datetime.combine(tomorrow, time(10), tzinfo=SHANGHAI)
        assessment.schedule_exam(
            db, made.code, at, officer=officer, city_content=settings.city_content, now=now
        )
        mine = assessment.of_worker(db, citizen_id)
        changed = True
    found = mine[0]
    shown = f"{worker.display_name}（{mask_citizen_id(citizen_id)}）"
    if found.state == assessment.CONCLUDED:
        return [Prepared(worker.username, shown, "劳动能力鉴定已作出结论", changed)]
    out = [
        Prepared(worker.username, shown, f"劳动能力鉴定 {found.case_code}：视频检查待进行", changed)
    ]
    for n, username in enumerate(found.panel):
        expert = rules.expert(username)
        if expert is None:
            continue
        waiting = (
            f"劳动能力鉴定 {found.case_code}：主检专家，视频检查待进行"
            if n == 0
            else f"劳动能力鉴定 {found.case_code}：专家组成员，检查后出具意见"
        )
        out.append(Prepared(username, expert.shown, waiting, changed))
    return out
