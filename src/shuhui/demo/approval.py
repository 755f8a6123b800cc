"""Smart approval (智审慧办) in the demo: a history of cases for the officers' workbenches and the
metrics page, and an agent acting for the demo enterprise under a signed mandate.

**The case history.** About a hundred cases over the past ~40 working days across the city's
service items, made through the same services a person's clicks call, each with ``now=`` the
day it happened: the form pre-filled (``approval.prefill``: the registers, the shared tables and
the e-certificates that waive materials, all real reads), the rest typed from the form's own
``examples``, materials uploaded (about half pre-checked: a sample page per kind and its real
pre-check, ``shuhui.demo.prechecks``), submitted; then the department's demo officer accepts or
asks for corrections (一次性告知; the applicant corrects and resubmits), reviews, the second
department countersigns where the item says, approves most and rejects a few with a reason, and
issues the result (the sealed e-licence with ``publish="later"``; :func:`publish_licences`
then writes them all to the data core in one table version, after this transaction commits).
Some cases stop at each step — waiting to be accepted, corrected, reviewed, countersigned,
decided or issued, some of those due soon or overdue — and some finished ones are rated, a few
badly (each bad rating opens the department's follow-up).

The applicants are the city's own residents (person items) and live enterprises (enterprise
items), drawn with a fixed seed, never one that a demo account is bound to: the demo accounts'
own case lists hold none of the history (only the work-injury demo's two applications,
``shuhui.demo.injury``), and the demo citizen holds no 残疾人证 from this history (the
Chromium test applies for one, then for the subsidy it opens). An applicant without an account
is an unsaved ``User`` named :data:`HISTORY_ACTOR` (``demo:history``: no account can take a
name with a colon) bearing the applicant's ID, so every ledger entry the applicant's steps
write names that actor, and one entry (``demo.approval.prepared``, by whoever ran the demo) says
what was made as demo data. The officers' steps are the demo officers', as their clicks would be.

**The agent.** The demo account ``daiban`` (刘代办, a citizen) holds the demo enterprise's signed
mandate (委托授权) for several of its delegable items: drafted and signed by the enterprise's
registered legal representative, the account ``enterprise`` (``trust.authorisations``), so the
agent can apply for the enterprise (``POST /api/v1/approval/cases {item, applicant}``).

**The window.** A few residents' applications filed at a service-hall window by the
department's demo officer (``shuhui.demo.counter``), so the online share is measured over a mix.

Run again, nothing changes: the history is made once (it exists when any case was made by
:data:`HISTORY_ACTOR`), the mandate once (while one covering the items is in force).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from shuhui.approval import cases, licences, prefill, ratings, tasks
from shuhui.approval.items import Catalogue, Material, ServiceItem, load_catalogue
from shuhui.approval.journal import state_name
from shuhui.approval.precheck import store_upload
from shuhui.approval.queues import queue_counts
from shuhui.approval.schemas import RatingIn
from shuhui.core.clock import SHANGHAI, as_utc, local_today, utcnow
from shuhui.core.display import mask_citizen_id
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.demo import counter as demo_counter
from shuhui.demo import history
from shuhui.demo import injury as demo_injury
from shuhui.demo.city import Prepared
from shuhui.demo.prechecks import WRONG_ID_CARD, SamplePage, plain_page, sample_pages
from shuhui.trust.authorisations import service as authz
from shuhui.trust.identity.demo import DemoAccount
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.service import get_user_by_username, list_users
from shuhui.trust.ledger import service as ledger
from shuhui.trust.seals import service as seals

# The ledger's actor for the applicants' own steps: no account can bear a name with a colon.
HISTORY_ACTOR: Final = "demo:history"
# Who registers the departments' licence seals the history's licences carry, and for how long.
HISTORY_SEALS: Final = "demo:seals"
SEAL_DAYS: Final = 5 * 365
PURPOSE: Final = "demo: smart-approval case history (demo data)"
SEED: Final = 2026
CASES: Final = 96
WORKING_DAYS: Final = 40
# Where the demo's sample uploads are kept once, for every demo case that attaches them.
SAMPLES_FOLDER: Final = "demo-samples"

AGENT: Final = "daiban"  # the demo agent's username (代办)
# The demo enterprise's delegable items the agent may apply for, with these actions.
MANDATE_ITEMS: Final = ("QD-SP-0003", "QD-SP-0014", "QD-SP-0017", "QD-SP-0023", "QD-GA-0002")
MANDATE_ACTIONS: Final = ("apply", "supplement", "query", "collect")
MANDATE_DAYS: Final = 365

ROLE_NAMES: Final = {
    "accept": "待受理",
    "review": "待审查",
    "countersign": "待会签",
    "decide": "待决定",
    "issue": "待出证",
}


@dataclass
class Summary:
    """What the demo prepared for smart approval, and what waits for whom."""

    made: bool = False  # the history was made by this run
    cases: int = 0
    states: Counter[str] = field(default_factory=Counter)
    licences: int = 0
    counter: int = 0  # applications filed at a window by this run (shuhui.demo.counter)
    prepared: list[Prepared] = field(default_factory=list)  # the officers and the agent


def prepare(
    db: Session,
    settings: Settings,
    core: DataCore,
    accounts: Sequence[DemoAccount],
    *,
    actor: str,
    now: datetime | None = None,
    cases_wanted: int = CASES,
) -> Summary:
    """The case history and the agent's mandate, in the caller's transaction (see the module's
    docstring); then what waits for whom. Needs the demo accounts bound to the city
    (``shuhui.demo.city.prepare``) and the city built: an empty data core prepares nothing."""
    summary = Summary()
    if not core.tables():
        return summary
    now = as_utc(now or utcnow())
    catalogue = load_catalogue(settings.city_content)
    officers = _officers(db, accounts)
    if not _history_made(db):
        made = _make_history(
            db, settings, core, catalogue, officers, now=now, wanted=cases_wanted, actor=actor
        )
        summary.made = True
        summary.cases = len(made)
        summary.states = Counter(c.state for c in made)
        summary.licences = sum(1 for c in made if c.licence_no)
    agent = _agent_mandate(db, settings, core, catalogue, accounts, now=now)
    if agent is not None:
        summary.prepared.append(agent)
    summary.counter = demo_counter.prepare(db, settings, core, catalogue, officers, now=now)
    # The injury demo's applications wait in the officer's queue too: made before it is counted.
    injured = demo_injury.prepare(db, settings, core, catalogue, accounts, actor=actor, now=now)
    summary.prepared.extend(_waiting(db, officers, made_now=summary.made))
    summary.prepared.extend(injured)
    return summary


def publish_licences(db: Session, core: DataCore, *, actor: str) -> int:
    """The history's e-licences written to the data core's ``e_certificates``, all in one table
    version (``tasks.sync_licences``): run in a transaction of its own once :func:`prepare`'s
    has committed. Returns how many were written."""
    if not core.tables():
        return 0
    return len(tasks.sync_licences(db, core, actor=actor).written)


# --- who is who ---------------------------------------------------------------------------------


def _user(applicant: history.Applicant) -> User:
    """The applicant as the services see a person at the keyboard: never saved."""
    person = applicant.kind == "person"
    return User(
        username=HISTORY_ACTOR,
        display_name=applicant.name,
        citizen_id=applicant.id if person else None,
        credit_code=None if person else applicant.id,
        department=None,
    )


def _officers(db: Session, accounts: Sequence[DemoAccount]) -> dict[str, User]:
    """The demo officer of each department (the first the content names)."""
    found: dict[str, User] = {}
    for a in accounts:
        if Role.officer in a.roles and a.department and a.department not in found:
            user = get_user_by_username(db, a.username)
            if user is not None:
                found[a.department] = user
    return found


def _officer(officers: dict[str, User], department: str) -> User:
    if department not in officers:
        raise LookupError(f"no demo officer of {department}: add one to demo-accounts.yaml")
    return officers[department]


def _history_made(db: Session) -> bool:
    return bool(cases.cases_of(db, User(username=HISTORY_ACTOR), limit=1))


def _taken_ids(db: Session) -> set[str]:
    """Every ID an account is bound to: the history never applies as one of them."""
    out: set[str] = set()
    for user in list_users(db):
        out.update(i for i in (user.citizen_id, user.credit_code) if i)
    return out


# --- the history ----------------------------------------------------------------------------------


def _make_history(
    db: Session,
    settings: Settings,
    core: DataCore,
    catalogue: Catalogue,
    officers: dict[str, User],
    *,
    now: datetime,
    wanted: int,
    actor: str,
) -> list[Any]:
    rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
    days = history.working_days_before(local_today(now), WORKING_DAYS * 2)
    items = [i for i in catalogue.items.values() if i.in_force(days[-1])]
    items.sort(key=lambda i: i.code)
    for item in items:  # every department with a step has its officer, before anything is made
        _officer(officers, item.department)
        if item.countersign:
            _officer(officers, item.countersign)
    pools = history.Pools(core, _taken_ids(db), rng)
    plans = history.plan(rng, items, pools, days, wanted=wanted)
    run = _History(db, settings, core, officers, since=_at(days[-1], 0))
    made = [run.case(plan) for plan in plans]
    ledger.record(
        db,
        actor,
        "demo.approval.prepared",
        purpose=PURPOSE,
        detail={
            "cases": len(made),
            "applicant_actor": HISTORY_ACTOR,
            "from": min((p.steps[0].day for p in plans), default=days[1]).isoformat(),
            "to": max((p.steps[-1].day for p in plans), default=days[1]).isoformat(),
            "seed": SEED,
            "first": made[0].code if made else None,
            "last": made[-1].code if made else None,
        },
    )
    return made


def _at(day: date, minute: int) -> datetime:
    """``minute`` minutes after midnight of ``day`` in Qingdao, as UTC."""
    return as_utc(datetime.combine(day, time(0, 0), tzinfo=SHANGHAI) + timedelta(minutes=minute))


def _times(plan: history.Plan) -> Iterator[tuple[history.Step, datetime]]:
    """Each step at a time of its day: the first of a day in office hours, the next ones some
    minutes apart."""
    rng = random.Random(plan.seed)  # noqa: S311
    previous: datetime | None = None
    for step in plan.steps:
        at = _at(step.day, 8 * 60 + 45 + rng.randint(0, 300))
        if previous is not None and step.day == local_today(previous):
            at = previous + timedelta(minutes=rng.randint(5, 45))
        previous = at
        yield step, at


class _History:
    """Carries out the plans: each case's steps, in order, through the services."""

    def __init__(
        self,
        db: Session,
        settings: Settings,
        core: DataCore,
        officers: dict[str, User],
        *,
        since: datetime,
    ) -> None:
        self.db = db
        self.settings = settings
        self.core = core
        self.officers = officers
        self.since = since  # the history's first day: its seals are in force from then
        self.stored: dict[tuple[str, str], tuple[SamplePage, Any]] = {}

    def case(self, plan: history.Plan) -> Any:
        db, item = self.db, plan.item
        applicant = _user(plan.applicant)
        case: Any = None
        for step, at in _times(plan):
            if step.action == "create":
                filled = prefill.prefill(db, self.core, item, user=applicant, now=at)
                case = cases.create_draft(
                    db, item=item, prefill=filled, actor=HISTORY_ACTOR, now=at
                )
                offered = {n for n, f in filled.fields.items() if f.value is not None}
                typed = {n: v for n, v in plan.typed.items() if n not in offered}
                cases.save_form(db, case, typed, actor=HISTORY_ACTOR, now=at)
                waived = {row.material for row in cases.materials_of(db, case) if row.waived}
                for material in plan.uploads:
                    if material.code not in waived:
                        wrong = plan.wrong_card == material.code
                        self.attach(case, material, plan.prechecked, at, wrong=wrong)
            elif step.action == "submit":
                cases.submit(db, case, item, actor=HISTORY_ACTOR, now=at)
            elif step.action == "resubmit":
                asked = {entry.get("material") for entry in case.correction or []}
                for again in (m for m in item.materials if m.code in asked):
                    self.attach(case, again, plan.prechecked, at)
                cases.resubmit(db, case, item, actor=HISTORY_ACTOR, now=at)
            elif step.action == "rate":
                stars, pick = step.detail
                finished = case.issued_at or case.decided_at
                comment = history.rating_comment(
                    stars,
                    corrected=bool(case.correction_count),
                    late=bool(case.promised_due and local_today(finished) > case.promised_due),
                    rejected=case.state == "rejected",
                    pick=pick,
                )
                given = RatingIn(stars=stars, comment=comment)
                ratings.rate(db, applicant, case.code, given, now=at)
            else:
                self.officer_step(case, item, step, at)
        return case

    def page(self, material: Material, *, wrong: bool) -> tuple[SamplePage, Any]:
        """The page uploaded as ``material``, stored once: its kind's sample page (the wrong
        identity card, if so), or a plain page naming it."""
        if material.kind is not None:
            key = WRONG_ID_CARD if wrong and material.kind == "id-card" else material.kind
            wanted = (key, "")
        else:
            wanted = (material.code, material.name_zh)
        if wanted not in self.stored:
            page = sample_pages()[wanted[0]] if not wanted[1] else plain_page(*wanted)
            kept = store_upload(
                self.settings.data_dir, SAMPLES_FOLDER, wanted[0], page.content, page.name
            )
            self.stored[wanted] = (page, kept)
        return self.stored[wanted]

    def attach(
        self, case: Any, material: Material, prechecked: bool, at: datetime, *, wrong: bool = False
    ) -> None:
        page, kept = self.page(material, wrong=wrong)
        checked = prechecked and page.result is not None
        cases.attach_material(
            self.db,
            case,
            material.code,
            file_name=page.name,
            content_type=kept.content_type,
            size=kept.size,
            sha256=kept.sha256,
            stored_as=kept.stored_as,
            precheck=page.result if checked else None,
            precheck_ok=page.ok if checked else None,
            actor=HISTORY_ACTOR,
            now=at,
        )

    def officer_step(self, case: Any, item: ServiceItem, step: history.Step, at: datetime) -> None:
        db = self.db
        task = next(t for t in cases.tasks_of(db, case) if t.closed_at is None)
        officer = _officer(self.officers, task.department)
        if step.action == "issue" and item.issues is not None:
            at = self.sealable(case.department, at)
            licence = licences.issue_licence(
                db,
                self.settings.data_dir,
                self.core,
                case=case,
                item=item,
                officer=officer.username,
                now=at,
                publish="later",
                city_content=self.settings.city_content,
            )
            cases.mark_issued(
                db, case, licence_no=licence.certificate_no, actor=officer.username, now=at
            )
            return
        reason, corrections = step.detail if step.detail else (None, None)
        if step.action == "correct":
            corrections = _corrections(db, case, item)
        cases.complete_task(
            db,
            task.id,
            officer=officer,
            outcome=step.action,
            reason=reason,
            corrections=corrections,
            now=at,
        )

    def sealable(self, department: str, at: datetime) -> datetime:
        """When the department's licence seal can seal a licence issued at ``at``. A seal
        registered now is in force from now, so the history's seals are registered first,
        in force from the history's first day (as a department's seal would have been in use
        then). A seal registered after ``at`` already (a database that issued licences before
        the demo did) seals from its own start."""
        seal = licences.licence_seal(department, local_today(at), self.settings.city_content)
        found = seals.get_seal(self.db, seal.code)
        if found is None:
            seals.create_seal(
                self.db,
                self.settings.data_dir,
                code=seal.code,
                name=seal.name,
                department=seal.department,
                valid_from=self.since,
                valid_to=utcnow() + timedelta(days=SEAL_DAYS),
                actor=HISTORY_SEALS,
                # A run that failed after writing the key left it: this run adopts it.
                adopt=seals.leftover_key(self.settings.data_dir, seal.code),
            )
            return at
        return max(at, as_utc(found.valid_from) + timedelta(minutes=1))


def _corrections(db: Session, case: Any, item: ServiceItem) -> list[tuple[str, str]]:
    """What the department asks to be corrected, all at once (一次性告知): a material the
    pre-check flagged, else an uploaded one, else a typed field."""
    uploaded = [row for row in cases.materials_of(db, case) if row.stored_as]
    flagged = [row for row in uploaded if row.precheck_ok is False]
    if flagged:
        issue = (flagged[0].precheck or {}).get("issues", [{}])[0].get("reason", "")
        return [(f"materials.{flagged[0].material}", f"材料预审已提示：{issue}请上传本人有效证件")]
    if uploaded:
        reason = "扫描件不清晰、缺少签字页，请上传完整清晰的扫描件"
        return [(f"materials.{uploaded[0].material}", reason)]
    filled = {row.field for row in cases.fields_of(db, case) if row.filled_value is not None}
    # A field the applicant typed; where the platform filled every one, one they may correct
    # (an earlier value they chose, else the last).
    typed = next((f.name for f in item.form.fields if f.name not in filled), None)
    if typed is None:
        fields = item.form.fields
        typed = next((f.name for f in fields if f.history), fields[-1].name)
    return [(typed, "填写内容与现场核查情况不一致，请核实后重新填写")]


# --- the agent ------------------------------------------------------------------------------------


class _Register:
    """The business register as the trust layer asks it (``EnterpriseRegistry``): the legal
    representative of an enterprise, from the data core's ``enterprises``."""

    def __init__(self, core: DataCore) -> None:
        self.core = core

    def legal_representative(self, credit_code: str) -> str | None:
        con = self.core.connect(tables=["enterprises"])
        try:
            row = con.execute(
                "SELECT legal_rep_citizen_id FROM enterprises WHERE credit_code = ? LIMIT 1",
                [credit_code],
            ).fetchone()
        finally:
            con.close()
        return None if row is None else str(row[0])


def _covering_mandate(db: Session, agent: User, principal: str, now: datetime) -> bool:
    for a in authz.involving(db, [str(agent.citizen_id)]):
        if (
            a.kind == "mandate"
            and a.principal_id == principal
            and a.grantee_id == agent.citizen_id
            and authz.effective_status(a, now) == "active"
            and set(MANDATE_ITEMS) <= set(authz.scope_of(a))
        ):
            return True
    return False


def _agent_mandate(
    db: Session,
    settings: Settings,
    core: DataCore,
    catalogue: Catalogue,
    accounts: Sequence[DemoAccount],
    *,
    now: datetime,
) -> Prepared | None:
    """The demo enterprise's signed mandate for the agent (see the module's docstring); None
    when the content names no agent."""
    agent = get_user_by_username(db, AGENT)
    enterprise = next(
        (
            user
            for a in accounts
            if Role.enterprise in a.roles
            and (user := get_user_by_username(db, a.username)) is not None
            and user.credit_code
        ),
        None,
    )
    if agent is None or enterprise is None or not agent.citizen_id:
        return None
    principal = str(enterprise.credit_code)
    names = "、".join(
        item.name_zh for code in MANDATE_ITEMS if (item := catalogue.get(code)) is not None
    )
    member = f"{agent.display_name}（{mask_citizen_id(agent.citizen_id)}）"
    waiting = f"受{enterprise.display_name}委托，可代为申请：{names}"
    if _covering_mandate(db, agent, principal, now):
        return Prepared(agent.username, member, waiting, False)
    if not enterprise.citizen_id or not enterprise.password_by_holder:
        raise LookupError(
            "the demo enterprise has no legal representative who may sign: bind it first"
        )
    from shuhui.core.content import load_items

    items = load_items(settings.city_content / "service-items.yaml", "service-items")
    mandate = authz.create_mandate(
        db,
        items,
        _Register(core),
        grantor=authz.Party("enterprise", principal, enterprise.display_name),
        signatory_id=enterprise.citizen_id,
        agent=authz.Party("person", agent.citizen_id, agent.display_name),
        scope=list(MANDATE_ITEMS),
        actions=list(MANDATE_ACTIONS),
        valid_from=now,
        valid_to=now + timedelta(days=MANDATE_DAYS),
        actor=enterprise.username,
        now=now,
    )
    authz.sign(
        db,
        settings.data_dir,
        mandate.code,
        signer_citizen_id=enterprise.citizen_id,
        actor=enterprise.username,
        now=now,
    )
    return Prepared(agent.username, member, waiting, True)


# --- what waits for whom --------------------------------------------------------------------------


def _waiting(db: Session, officers: dict[str, User], *, made_now: bool) -> list[Prepared]:
    """Each demo officer's open steps by role, how many due soon or overdue, and the open
    follow-ups of bad ratings."""
    out: list[Prepared] = []
    for department, officer in sorted(officers.items(), key=lambda kv: kv[1].username):
        counts = queue_counts(db, department)
        parts = [f"{ROLE_NAMES.get(role, role)} {c.open}" for role, c in counts.items()]
        urgent = sum(c.urgent for c in counts.values())
        if urgent:
            parts.append(f"即将到期或已超期 {urgent}")
        followups = ratings.followup_counts(db, officer)
        if followups.open:
            parts.append(f"差评待整改 {followups.open}")
        if parts:
            out.append(Prepared(officer.username, department, "，".join(parts), made_now))
    return out


__all__ = [
    "AGENT",
    "CASES",
    "HISTORY_ACTOR",
    "MANDATE_ITEMS",
    "WORKING_DAYS",
    "Summary",
    "prepare",
    "publish_licences",
    "state_name",
]
