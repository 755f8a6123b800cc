"""The plan of the demo's case history (:mod:`shuhui.demo.approval` carries it out): which items,
whose applications, how far each got, and on which working days each step happened — all drawn
from one seeded generator, so the same city and the same day plan the same history.

How far a case got (its *fate*): issued or rejected, or waiting — to be accepted, for the
applicant's correction, for review, countersign, decision or issue. A case waiting on a running
clock (accepted and not finished) is placed so that its promised date is past (overdue), within
two working days (due soon) or further off. About a third of the cases sent without the
pre-check are sent back for correction once, an eighth of those with it. Some finished cases
are rated, a few badly.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

import duckdb

from shuhui.approval import calendar
from shuhui.approval.items import Material, ServiceItem
from shuhui.datacore.store import DataCore

# (fate, weight) by the kind of process.
FATES: Final[dict[str, tuple[tuple[str, int], ...]]] = {
    "approval-standard": (
        ("issued", 50),
        ("rejected", 5),
        ("wait_accept", 9),
        ("wait_correction", 6),
        ("wait_review", 10),
        ("wait_decide", 8),
        ("wait_issue", 5),
    ),
    "approval-countersign": (
        ("issued", 45),
        ("rejected", 6),
        ("wait_accept", 8),
        ("wait_correction", 5),
        ("wait_review", 8),
        ("wait_countersign", 10),
        ("wait_decide", 6),
        ("wait_issue", 4),
    ),
    "approval-instant": (
        ("issued", 60),
        ("rejected", 5),
        ("wait_accept", 12),
        ("wait_correction", 6),
        ("wait_issue", 6),
    ),
}
FINISHED: Final = ("issued", "rejected")
# Where a waiting case stops: after the last of these steps.
STOPS_AFTER: Final = {
    "wait_review": "accept",
    "wait_countersign": "pass",
    "wait_decide": "before-decide",
    "wait_issue": "decide",
}
URGENCY: Final = (("overdue", 3), ("due_soon", 3), ("later", 4))
CORRECTED: Final = {True: 0.12, False: 0.35}  # by whether the pre-check was used
RATED: Final = 0.45
OPTIONAL: Final = 0.4  # the share of optional fields filled in and optional materials uploaded
# (stars, weight): mostly content, a few not.
STARS: Final = ((5, 50), (4, 25), (3, 10), (2, 8), (1, 7))
# What a rating says, by its stars; a bad one says what went wrong with that case.
PRAISE: Final = {
    5: ("全程网上办理，很多内容自动填好了，很方便", "办理很快，基本不用交材料", ""),
    4: ("整体满意", "工作人员答复及时", ""),
    3: ("还可以，等待时间有点长", ""),
}
COMPLAINTS: Final = {
    "corrected": "补正要求说得不够清楚，来回改了一次",
    "late": "超过承诺时限才办结，也没有提前告知",
    "rejected": "不予许可的理由没讲清楚，不知道该怎么改",
    "other": "办理进度查不到，打了好几次电话才问清楚",
}
REJECTIONS: Final = (
    "经审查，申请人不符合该事项规定的申请条件",
    "经现场核查，经营场所与申请材料所述不一致",
    "申请材料中的关键信息经核实与登记信息不符",
)
DISAGREEMENT: Final = "会签意见：现场条件不符合相关标准要求"
# Items whose applicants come from a particular part of the city (else: adults).
POOLS: Final = {
    "QD-CL-0001": "no_disability_card",
    "QD-MZ-0001": "disability_card",
    "QD-RS-0002": "unemployed",
    "QD-RS-0008": "graduates",
    "QD-JY-0001": "graduates",
    "QD-SP-0019": "graduates",
    "QD-RS-0001": "elderly",
    "QD-RS-0006": "elderly",
    "QD-GA-0001": "teenagers",
}
# Items applied for more often than the rest (weights of the extra cases).
POPULAR: Final = {"QD-SP-0001": 4, "QD-SP-0003": 4, "QD-RS-0002": 3, "QD-SP-0002": 3}
CANDIDATES: Final = 400  # drawn from each pool at most
SALT: Final = "shuhui-demo-history"  # the draw's order: md5 of this and the member's ID
# The pools' queries: the living of an age (and holding, or not, a valid certificate of a type,
# or registered unemployed), the live enterprises; in a stable order, the same city giving the
# same candidates every time.
_ALIVE = (
    "SELECT citizen_id, name FROM residents WHERE birth_date BETWEEN ? AND ? "
    "AND citizen_id NOT IN (SELECT citizen_id FROM death_registrations)"
)
_CARD = (
    "citizen_id {} (SELECT holder_citizen_id FROM e_certificates WHERE certificate_type = ? "
    "AND status = '有效' AND holder_citizen_id IS NOT NULL)"
)
_DRAW = f" ORDER BY md5(? || citizen_id) LIMIT {CANDIDATES}"
PEOPLE: Final = _ALIVE + _DRAW
HOLDERS: Final = _ALIVE + " AND " + _CARD.format("IN") + _DRAW
NOT_HOLDERS: Final = _ALIVE + " AND " + _CARD.format("NOT IN") + _DRAW
UNEMPLOYED: Final = (
    _ALIVE + " AND citizen_id IN (SELECT citizen_id FROM unemployment_registrations)" + _DRAW  # noqa: S608 (constants)
)
ENTERPRISES: Final = (
    "SELECT credit_code, name FROM enterprises WHERE status = '存续' "  # noqa: S608 (constants)
    f"ORDER BY md5(? || credit_code) LIMIT {CANDIDATES}"
)


@dataclass(frozen=True)
class Step:
    action: (
        str  # create submit correct resubmit accept pass agree disagree approve reject issue rate
    )
    day: date
    detail: Any = None  # (reason, corrections) of an officer's step; (stars, pick) of a rating


@dataclass(frozen=True)
class Applicant:
    kind: str  # person | enterprise
    id: str
    name: str


@dataclass(frozen=True)
class Plan:
    item: ServiceItem
    applicant: Applicant
    fate: str
    prechecked: bool
    seed: int
    steps: tuple[Step, ...]
    typed: dict[str, Any] = field(default_factory=dict)
    uploads: tuple[Material, ...] = ()
    wrong_card: str | None = None  # an id-card material first uploaded with a wrong number


def working_days_before(today: date, count: int) -> list[date]:
    """``[today, the working day before it, the one before that, …]``: ``count`` working days
    back (index k is the k-th working day before today; index 0 is today whatever it is)."""
    days = [today]
    day = today
    while len(days) <= count:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            days.append(day)
    return days


class Pools:
    """The city's members an application may come from, each drawn once, never one an account
    is bound to (``taken``)."""

    def __init__(self, core: DataCore, taken: set[str], rng: random.Random) -> None:
        self.core = core
        self.used = set(taken)
        self.rng = rng
        self.tables = {t.name for t in core.tables()}
        self.found: dict[str, list[tuple[str, str]]] = {}

    def _query(self, pool: str, today: date) -> tuple[str, list[Any]]:
        def born(older: int, younger: int) -> list[Any]:
            return [
                today.replace(year=today.year - older),
                today.replace(year=today.year - younger),
            ]

        if pool == "enterprises":
            return ENTERPRISES, [SALT]
        if pool in ("disability_card", "no_disability_card", "graduates"):
            wanted = "毕业证书" if pool == "graduates" else "残疾人证"
            query = HOLDERS if pool != "no_disability_card" else NOT_HOLDERS
            return query, [*born(60, 18), wanted, SALT]
        if pool == "unemployed":
            return UNEMPLOYED, [*born(60, 18), SALT]
        ages = {"teenagers": (17, 16), "elderly": (75, 60)}.get(pool, (60, 18))
        return PEOPLE, [*born(*ages), SALT]

    def members(self, pool: str, today: date) -> list[tuple[str, str]]:
        """The pool's candidates (ID, name), at most ``CANDIDATES``, in the draw's order; none
        where the city lacks a table the pool is drawn from."""
        if pool not in self.found:
            query, args = self._query(pool, today)
            con = self.core.connect()
            try:
                rows = con.execute(query, args).fetchall()
            except duckdb.Error:
                rows = []
            finally:
                con.close()
            self.found[pool] = [(str(k), str(n)) for k, n in rows]
        return self.found[pool]

    def take(self, pool: str, today: date) -> Applicant | None:
        """The next member of the pool not yet drawn (anyone of age once it runs dry)."""
        for key, name in self.members(pool, today):
            if key not in self.used:
                self.used.add(key)
                return Applicant("enterprise" if pool == "enterprises" else "person", key, name)
        if pool not in ("adults", "enterprises"):
            return self.take("adults", today)
        return None


def _counts(rng: random.Random, items: Sequence[ServiceItem], wanted: int) -> list[ServiceItem]:
    """``wanted`` applications: every item in turn, then the popular ones more."""
    order = list(items)
    rng.shuffle(order)
    chosen = [order[i % len(order)] for i in range(min(wanted, 2 * len(order)))]
    weights = [POPULAR.get(i.code, 1) for i in order]
    chosen += rng.choices(order, weights=weights, k=max(0, wanted - len(chosen)))
    return chosen


def _weighted(rng: random.Random, choices: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` working days over ``parts`` steps."""
    if parts == 0:
        return []
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _gaps(
    rng: random.Random, item: ServiceItem, fate: str, corrected: bool
) -> list[tuple[str, int, Any]]:
    """The steps the case took, each with the working days since the one before."""
    steps: list[tuple[str, int, Any]] = [("create", 0, None), ("submit", 0, None)]
    if fate == "wait_accept":
        return steps
    if corrected or fate == "wait_correction":
        steps.append(("correct", rng.randint(0, 1), None))
        if fate == "wait_correction":
            return steps
        steps.append(("resubmit", rng.randint(1, 3), None))
    rejected = fate == "rejected"
    decision = ("reject", (rng.choice(REJECTIONS), None)) if rejected else ("approve", None)
    if item.process == "approval-instant":
        steps.append((decision[0], rng.randint(0, 1), decision[1]))
        after: list[tuple[str, Any]] = [] if rejected else [("issue", None)]
        handling = rng.randint(0, 1)
    else:
        steps.append(("accept", rng.randint(0, 1), None))
        promised = item.promised_days
        late = rng.random() < 0.12
        handling = promised + rng.randint(1, 3) if late else rng.randint(promised // 4, promised)
        after = [("pass", None)]
        if item.countersign is not None:
            disagree = rejected and rng.random() < 0.5
            after.append(("disagree", (DISAGREEMENT, None)) if disagree else ("agree", None))
        after.append(decision)
        if not rejected:
            after.append(("issue", None))
    for (action, detail), gap in zip(after, _split(rng, handling, len(after)), strict=True):
        steps.append((action, gap, detail))
    return _stop(steps, fate)


def _stop(steps: list[tuple[str, int, Any]], fate: str) -> list[tuple[str, int, Any]]:
    """The steps up to where a waiting case waits."""
    last = STOPS_AFTER.get(fate)
    if last is None:
        return steps
    actions = [a for a, _, _ in steps]
    if last == "before-decide":
        cut = next(i for i, a in enumerate(actions) if a in ("approve", "reject"))
    elif last == "decide":
        cut = next(i for i, a in enumerate(actions) if a in ("approve", "reject")) + 1
    else:
        cut = actions.index(last) + 1
    return steps[:cut]


def rating_comment(stars: int, *, corrected: bool, late: bool, rejected: bool, pick: int) -> str:
    """What the applicant writes with ``stars``: praise, or what went wrong with the case."""
    if stars in PRAISE:
        return PRAISE[stars][pick % len(PRAISE[stars])]
    if corrected:
        return COMPLAINTS["corrected"]
    if late:
        return COMPLAINTS["late"]
    return COMPLAINTS["rejected" if rejected else "other"]


def _placed(
    rng: random.Random, item: ServiceItem, fate: str, gaps: list[tuple[str, int, Any]], most: int
) -> int:
    """How many working days before today the case was submitted."""
    span = sum(g for _, g, _ in gaps)
    if fate in FINISHED:
        return rng.randint(span + 1, max(span + 1, most))
    if fate in ("wait_accept", "wait_correction"):
        return span + rng.randint(1, 3 if fate == "wait_accept" else 8)
    # Waiting on a running clock: placed by when its promised date falls.
    accepted_at = next(
        i for i, (a, _, _) in enumerate(gaps) if a in ("accept", "approve", "reject")
    )
    before = sum(g for _, g, _ in gaps[: accepted_at + 1])
    since = span - before  # working days from acceptance to the last step taken
    urgency = _weighted(rng, URGENCY)
    promised = item.promised_days
    if urgency == "overdue":
        accepted = promised + rng.randint(1, 4)
    elif urgency == "due_soon":
        accepted = promised - rng.randint(0, 1)
    else:
        accepted = rng.randint(1, max(1, promised - 3))
    return max(accepted, since + 1) + before


def plan(
    rng: random.Random,
    items: Sequence[ServiceItem],
    pools: Pools,
    days: Sequence[date],
    *,
    wanted: int,
) -> list[Plan]:
    """The history's cases, oldest submission first (the order their codes are given in)."""
    today = days[0]
    plans: list[tuple[int, int, Plan]] = []
    for n, item in enumerate(_counts(rng, items, wanted)):
        pool = "enterprises" if item.holder == "enterprise" else POOLS.get(item.code, "adults")
        applicant = pools.take(pool, today)
        if applicant is None:
            continue
        fate = _weighted(rng, FATES.get(item.process, FATES["approval-standard"]))
        # An applicant still waiting on a correction for an identity card is the one who ran
        # the pre-check and sent the card it flagged (the story the officers' queue shows).
        card = next((m for m in item.materials if m.kind == "id-card"), None)
        prechecked = rng.random() < 0.5 or (fate == "wait_correction" and card is not None)
        corrected = fate not in ("wait_accept", "wait_correction") and (
            rng.random() < CORRECTED[prechecked]
        )
        gaps = _gaps(rng, item, fate, corrected)
        if fate in FINISHED and rng.random() < RATED:
            gaps.append(("rate", rng.randint(0, 2), (_weighted(rng, STARS), rng.randrange(6))))
        start = min(_placed(rng, item, fate, gaps, len(days) // 2), len(days) - 1)
        steps: list[Step] = []
        index = start
        for action, gap, detail in gaps:
            index -= gap
            steps.append(Step(action, days[max(index, 1)], detail))
        # What the applicant adds beyond what is asked: never on an item that needs nothing.
        extra = 0.0 if item.zero_submission else OPTIONAL
        uploads = tuple(m for m in item.materials if m.required or rng.random() < extra)
        wrong = None
        if card is not None and prechecked and (corrected or fate == "wait_correction"):
            # The card the pre-check flagged, sent anyway (even where the card is optional):
            # the department asks for it again.
            uploads = tuple(m for m in item.materials if m in uploads or m is card)
            wrong = card.code
        typed = {
            f.name: f.schema["examples"][0]
            for f in item.form.fields
            if f.schema.get("examples") and (f.required or rng.random() < extra)
        }
        made = Plan(
            item=item,
            applicant=applicant,
            fate=fate,
            prechecked=prechecked,
            seed=rng.randrange(2**31),
            steps=tuple(steps),
            typed=typed,
            uploads=uploads,
            wrong_card=wrong,
        )
        plans.append((start, n, made))
    plans.sort(key=lambda p: (-p[0], p[1]))
    return [p for _, _, p in plans]


__all__ = ["Applicant", "Plan", "Pools", "Step", "plan", "working_days_before"]
