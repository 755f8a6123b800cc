"""The message centre (站内消息): the portal messages of the outbox, as their recipient reads them.

A campaign's offer puts two messages in ``program_outbox``: one for the SMS gateway and one for
the portal. The portal's are the recipient's inbox here. A recipient is a citizen ID or a
credit code, so an account reads the messages addressed to either of its own; anyone else's
message is "not found", never "forbidden" (that would tell them it exists).

Reading one's own messages is not a third party's access to personal data, and marking them
read is the person's own bookkeeping of their inbox: it decides nothing about anyone and changes
no right or duty, so neither is a ledger entry (the offer that sent the message already is one,
``programs.offered``). Counting the unread runs on every page a logged-in person sees, so it is
one ``COUNT`` over the ``(recipient, channel, read_at)`` index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.errors import Problem
from shuhui.programs.models import OutboxMessage

PORTAL: Final = "portal"
# A message's link: a path of this site (never another site's, nor a scheme).
LOCAL_PATH: Final = re.compile(r"^/(?![/\\])[A-Za-z0-9/_\-.?=&%]{0,255}$")
PAGE_MAX: Final = 100


class Addressee(Protocol):
    """Whoever has an inbox: an account, or the snapshot of it a page holds."""

    @property
    def citizen_id(self) -> str | None: ...

    @property
    def credit_code(self) -> str | None: ...


@dataclass(frozen=True)
class Message:
    """A message as its recipient reads it (the outbox row stays this module's)."""

    id: int
    title: str
    body: str
    sent_at: datetime
    read_at: datetime | None
    link: str | None = None  # a path of this site where one click acts on it
    link_label: str | None = None

    @classmethod
    def of(cls, row: OutboxMessage) -> Message:
        return cls(
            row.id, row.title, row.body, row.created_at, row.read_at, row.link, row.link_label
        )


def recipients(who: Addressee) -> list[str]:
    """The identifiers messages to ``who`` are addressed to: the person, the organisation."""
    return [i for i in (who.citizen_id, who.credit_code) if i]


def _inbox(who: Addressee) -> ColumnElement[bool] | None:
    ids = recipients(who)
    if not ids:
        return None
    return and_(OutboxMessage.recipient.in_(ids), OutboxMessage.channel == PORTAL)


def unread_count(db: Session, who: Addressee) -> int:
    inbox = _inbox(who)
    if inbox is None:
        return 0
    query = select(func.count()).select_from(OutboxMessage)
    return int(db.scalar(query.where(inbox, OutboxMessage.read_at.is_(None))) or 0)


def inbox(
    db: Session, who: Addressee, *, offset: int = 0, limit: int = 20
) -> tuple[list[Message], int]:
    """A page of ``who``'s messages, newest first, and how many there are in all."""
    where = _inbox(who)
    if where is None:
        return [], 0
    total = int(db.scalar(select(func.count()).select_from(OutboxMessage).where(where)) or 0)
    rows = db.scalars(
        select(OutboxMessage)
        .where(where)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .offset(offset)
        .limit(min(limit, PAGE_MAX))
    )
    return [Message.of(row) for row in rows], total


def recent(db: Session, who: Addressee, limit: int = 5) -> list[Message]:
    return inbox(db, who, limit=limit)[0]


def _own(db: Session, who: Addressee, message_id: int) -> OutboxMessage:
    """One of ``who``'s messages; another's, an SMS copy or none at all is the same 404."""
    found = db.get(OutboxMessage, message_id)
    if found is None or found.channel != PORTAL or found.recipient not in recipients(who):
        raise Problem("not-found", detail=f"没有编号为 {message_id} 的消息")
    return found


def message(db: Session, who: Addressee, message_id: int) -> Message:
    return Message.of(_own(db, who, message_id))


def mark_read(
    db: Session, who: Addressee, message_id: int, *, now: datetime | None = None
) -> Message:
    """Marks one message read (the first time only: when it was first read stays true)."""
    found = _own(db, who, message_id)
    if found.read_at is None:
        found.read_at = as_utc(now or utcnow())
        db.flush()
    return Message.of(found)


def mark_all_read(db: Session, who: Addressee, *, now: datetime | None = None) -> int:
    """Marks every unread message of ``who`` read; how many were."""
    where = _inbox(who)
    if where is None:
        return 0
    done = db.execute(
        update(OutboxMessage)
        .where(where, OutboxMessage.read_at.is_(None))
        .values(read_at=as_utc(now or utcnow()))
        .execution_options(synchronize_session=False)
    )
    db.expire_all()
    return int(getattr(done, "rowcount", 0) or 0)


def send(
    db: Session,
    recipient: str,
    title: str,
    body: str,
    *,
    sms: bool = True,
    link: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> int:
    """Puts a message for ``recipient`` (a citizen ID or credit code) in the outbox: the
    portal's copy, which is their 站内消息, with ``link`` (a path of this site and the button's
    words) as its one-click action, and an SMS copy for the gateway unless ``sms`` is False.
    Returns the portal message's id. The act that sends it writes its own ledger entry."""
    if link is not None and not LOCAL_PATH.match(link[0]):
        raise ValueError(f"a message links to a path of this site, not {link[0]!r}")
    at = as_utc(now or utcnow())
    kept = {"recipient": recipient, "title": title[:256], "body": body[:2048], "created_at": at}
    portal = OutboxMessage(
        channel=PORTAL,
        link=link[0] if link else None,
        link_label=link[1][:64] if link else None,
        **kept,
    )
    db.add(portal)
    if sms:
        db.add(OutboxMessage(channel="sms", **kept))
    db.flush()
    return portal.id
