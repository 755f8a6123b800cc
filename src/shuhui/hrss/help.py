"""Video help (社保视联办: 问 + 帮 + 办): a citizen asks for help from the service page they are on,
an agent of the bureau takes the request from the queue, and they talk over WebRTC video while
the agent sees the citizen's form as it is filled and proposes values the citizen accepts.

The media go peer to peer between the two browsers; only the signalling passes through the
platform, over its own WebSocket (``/ws/hrss/help/{code}``): each message a side sends is a
``hrss_help_signals`` row, and each side's socket reads the other's rows after the last it saw
(a few times a second), so the two sockets may land in different server processes. Messages
are bounded (kind, size); the form's values pass through and are not stored beyond the session
(its signals are deleted when it closes).

Who may: the citizen who asked (their own session), the agent who took it (an officer of a
department the documents' content names as a reader). Taking a request is an ``hrss.help_taken``
ledger entry (the agent will see the person's form), closing it ``hrss.help_closed`` with the
times and the outcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.requestbody import loads
from shuhui.hrss.models import HelpRequest, HelpSignal
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger

CODE: Final = re.compile(r"^SLB-\d{8}-\d{4,}$")
PAGE: Final = re.compile(r"^/[A-Za-z0-9/_\-.]{0,255}$")
# What a side may send: WebRTC signalling, the form as filled, a proposal and its answer.
KINDS: Final = frozenset(
    {"hello", "offer", "answer", "ice", "form", "propose", "accept", "decline", "bye"}
)
MAX_MESSAGE: Final = 64 * 1024  # an SDP offer is a few KB; a form a few hundred bytes
WAITING, ACTIVE, CLOSED = "waiting", "active", "closed"


def _next_code(db: Session, at: datetime) -> str:
    stem = f"SLB-{local_today(at):%Y%m%d}-"
    latest = db.scalar(select(func.max(HelpRequest.code)).where(HelpRequest.code.like(f"{stem}%")))
    return f"{stem}{(int(latest[len(stem) :]) + 1) if latest else 1:04d}"


def ask(
    db: Session, user: User, *, page: str, topic: str, now: datetime | None = None
) -> HelpRequest:
    """A citizen's request for help from ``page`` (a path of this site)."""
    if Role.citizen not in user.role_set or not user.citizen_id:
        raise Problem("forbidden", detail=Text("请以个人身份登录后发起视频帮办", "citizens only"))
    if not PAGE.match(page):
        raise Problem(
            "validation",
            errors=[FieldError("page", Text("应为本平台的页面地址", "a path of this site"))],
        )
    open_one = db.scalar(
        select(HelpRequest).where(
            HelpRequest.citizen_id == user.citizen_id,
            HelpRequest.state != CLOSED,
            HelpRequest.scheduled_for.is_(None),
        )
    )
    if open_one is not None:
        return open_one  # one session at a time: asking again returns it
    at = as_utc(now or utcnow())
    made = HelpRequest(
        code=_next_code(db, at),
        citizen_id=user.citizen_id,
        username=user.username,
        page=page,
        topic=topic[:128],
        state=WAITING,
        asked_at=at,
        proposals=0,
        accepted=0,
    )
    db.add(made)
    db.flush()
    ledger.record(
        db,
        user.username,
        "hrss.help_asked",
        subject=user.citizen_id,
        purpose="视频帮办",
        detail={"request": made.code, "page": page},
    )
    return made


def schedule(
    db: Session,
    *,
    citizen_id: str,
    username: str,
    agent: str,
    page: str,
    topic: str,
    at: datetime,
    now: datetime | None = None,
) -> HelpRequest:
    """A video session the bureau arranges for ``at`` between the person and ``agent`` (an
    assessment's examination): not in the help queue; the person joins it from ``page``. The
    arranging act writes its own ledger entry."""
    if not PAGE.match(page):
        raise ValueError(f"a session is joined from a path of this site, not {page!r}")
    made = HelpRequest(
        code=_next_code(db, as_utc(now or utcnow())),
        citizen_id=citizen_id,
        username=username,
        page=page,
        topic=topic[:128],
        state=ACTIVE,
        agent=agent,
        asked_at=as_utc(now or utcnow()),
        scheduled_for=as_utc(at),
        proposals=0,
        accepted=0,
    )
    db.add(made)
    db.flush()
    return made


def cancel_arranged(db: Session, code: str, *, outcome: str, now: datetime | None = None) -> None:
    """Ends an arranged session the bureau moves or drops (neither side ended it), its signals
    deleted as at any close; the arranging act writes its own ledger entry."""
    found = get(db, code)
    if found is None or found.scheduled_for is None or found.state == CLOSED:
        return
    found.state, found.closed_at, found.outcome = CLOSED, as_utc(now or utcnow()), outcome[:500]
    db.execute(delete(HelpSignal).where(HelpSignal.request_id == found.id))
    db.flush()


def begin(db: Session, found: HelpRequest, now: datetime | None = None) -> None:
    """The agent opened the call: the talk's time counts from the first time."""
    if found.picked_at is None and found.state == ACTIVE:
        found.picked_at = as_utc(now or utcnow())
        db.flush()


def check_agent(user: User, readers: tuple[str, ...]) -> None:
    if Role.officer not in user.role_set or user.department not in readers:
        raise Problem(
            "forbidden", detail=Text("只有人社部门的工作人员可以接听视频帮办", "HRSS staff only")
        )


def queue(db: Session) -> list[HelpRequest]:
    return list(
        db.scalars(
            select(HelpRequest)
            .where(HelpRequest.state.in_((WAITING, ACTIVE)), HelpRequest.scheduled_for.is_(None))
            .order_by(HelpRequest.asked_at)
        )
    )


def get(db: Session, code: str) -> HelpRequest | None:
    return (
        db.scalar(select(HelpRequest).where(HelpRequest.code == code)) if CODE.match(code) else None
    )


def by_id(db: Session, request_id: int) -> HelpRequest | None:
    return db.get(HelpRequest, request_id)


def _not_found(code: str) -> Problem:
    return Problem("not-found", detail=Text(f"没有视频帮办 {code}", f"no help request {code}"))


def take(db: Session, user: User, code: str, now: datetime | None = None) -> HelpRequest:
    """The agent takes a waiting request (once: another agent who took it first wins)."""
    found = get(db, code)
    if found is None:
        raise _not_found(code)
    at = as_utc(now or utcnow())
    done = db.execute(
        update(HelpRequest)
        .where(HelpRequest.id == found.id, HelpRequest.state == WAITING)
        .values(state=ACTIVE, agent=user.username, picked_at=at)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        db.refresh(found)
        if found.agent == user.username and found.state == ACTIVE:
            return found
        raise Problem(
            "conflict", detail=Text("该请求已由其他工作人员接听或已结束", "taken already")
        )
    db.refresh(found)
    ledger.record(
        db,
        user.username,
        "hrss.help_taken",
        subject=found.citizen_id,
        purpose="视频帮办：查看申请人正在填写的表单并协助办理",
        detail={"request": found.code, "page": found.page},
    )
    return found


def side_of(found: HelpRequest, user: User) -> str:
    """``citizen`` or ``agent`` for the two parties; a 404 for anyone else."""
    if user.citizen_id and found.citizen_id == user.citizen_id and Role.citizen in user.role_set:
        return "citizen"
    if found.agent is not None and found.agent == user.username:
        return "agent"
    raise _not_found(found.code)


def close(
    db: Session, user: User, code: str, *, outcome: str, now: datetime | None = None
) -> HelpRequest:
    found = get(db, code)
    if found is None:
        raise _not_found(code)
    side = side_of(found, user)
    if found.state == CLOSED:
        return found
    at = as_utc(now or utcnow())
    found.state, found.closed_at, found.outcome = CLOSED, at, outcome[:500] or None
    db.execute(delete(HelpSignal).where(HelpSignal.request_id == found.id))
    db.flush()
    waited = (found.picked_at or at) - found.asked_at
    talked = at - found.picked_at if found.picked_at else None
    ledger.record(
        db,
        user.username,
        "hrss.help_closed",
        subject=found.citizen_id,
        purpose="视频帮办结束",
        detail={
            "request": found.code,
            "by": side,
            "waited_s": int(waited.total_seconds()),
            "talked_s": int(talked.total_seconds()) if talked else 0,
            "proposals": found.proposals,
            "accepted": found.accepted,
            "outcome": found.outcome or "",
        },
    )
    return found


# --- the signals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    id: int
    kind: str
    payload: dict[str, Any]


def read_message(raw: str | bytes) -> tuple[str, dict[str, Any]]:
    """A side's message, bounded: ``{"kind": …, "payload": {…}}``; ValueError saying why."""
    if len(raw) > MAX_MESSAGE:
        raise ValueError("消息过大")
    try:
        data = loads(raw if isinstance(raw, bytes) else raw.encode("utf-8"), max_depth=8)
    except ValueError:
        raise ValueError("消息不是有效的 JSON") from None
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise ValueError("消息类型无效")
    payload = data.get("payload", {})
    if not isinstance(payload, dict):
        raise ValueError("消息内容应为对象")
    return str(data["kind"]), payload


def send(db: Session, found: HelpRequest, side: str, kind: str, payload: dict[str, Any]) -> None:
    if found.state == CLOSED:
        raise Problem("conflict", detail=Text("视频帮办已结束", "the session has ended"))
    db.add(
        HelpSignal(request_id=found.id, sender=side, kind=kind, payload=payload, sent_at=utcnow())
    )
    if kind == "propose" and side == "agent":
        found.proposals += 1
    elif kind == "accept" and side == "citizen":
        found.accepted += 1
    db.flush()


def received(db: Session, found: HelpRequest, side: str, after: int) -> list[Signal]:
    """The other side's messages after the one with id ``after``."""
    rows = db.scalars(
        select(HelpSignal)
        .where(HelpSignal.request_id == found.id, HelpSignal.sender != side, HelpSignal.id > after)
        .order_by(HelpSignal.id)
        .limit(200)
    )
    return [Signal(r.id, r.kind, r.payload) for r in rows]
