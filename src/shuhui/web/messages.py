"""The message centre (站内消息): the pages and the API over ``programs.messages``.

``/messages`` lists the person's messages, newest first, a page at a time; opening one marks it
read; "全部标为已读" marks them all. The API (``GET /api/v1/messages``, ``POST
/api/v1/messages/{id}/read``, ``POST /api/v1/messages/read-all``) does the same for a client.
A message that is not the caller's is "not found" whether or not it exists. The header's unread
badge comes from :func:`unread_for_layout`, which the layout calls once per page.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import render
from shuhui.programs import messages
from shuhui.trust.identity.deps import DB, CurrentUser

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/messages", tags=["messages (站内消息)"])

PER_PAGE: Final = 20
OFFSET_MAX: Final = 1_000_000
PAGE_MAX: Final = OFFSET_MAX // PER_PAGE
# Bounded in the schema, so the OpenAPI document says what a client may send.
Offset = Annotated[
    int, Query(ge=0, le=OFFSET_MAX, description="where the page starts (0 = the newest)")
]
Limit = Annotated[int, Query(ge=1, le=messages.PAGE_MAX, description="messages per page")]
# A page's number is taken as text and read here, so a bad one is refused in the page's words.
PageNumber = Annotated[str, Query(max_length=12)]
MessageId = Annotated[str, Path(max_length=20)]
# ASCII digits only: str.isdigit() takes "²", which int() refuses.
WHOLE = re.compile(r"-?[0-9]{1,12}")
DIGITS = re.compile(r"[0-9]{1,18}")


def whole(value: str, field: str, label: str, low: int, high: int) -> int:
    """``value`` as a whole number in [low, high], or the refusal naming ``field`` in Chinese."""
    text = value.strip()
    number = int(text) if WHOLE.fullmatch(text) else None
    if number is None:
        reason = f"{label}须为整数"
    elif not low <= number <= high:
        reason = f"{label}须在 {low} 到 {high:,} 之间"
    else:
        return number
    raise Problem(
        "validation", detail=f"分页参数无效：{reason}", errors=[FieldError(field, reason)]
    )


def parse_message_id(value: str) -> int:
    # An identifier that cannot be one is a message that does not exist, as for anyone else's.
    if not DIGITS.fullmatch(value):
        raise Problem("not-found", detail=f"没有编号为 {value} 的消息")
    return int(value)


def unread_for_layout(request: Request) -> int:
    """The header's unread count: one indexed COUNT, once per request, in its own short
    session (error pages render after the request's session has closed). A page that changed
    the count in its own transaction sets ``request.state.unread_messages`` itself."""
    known = getattr(request.state, "unread_messages", None)
    if isinstance(known, int):
        return known
    viewer = getattr(request.state, "user", None)
    count = 0
    if viewer is not None and messages.recipients(viewer):
        with request.app.state.session_factory() as db:
            count = messages.unread_count(db, viewer)
    request.state.unread_messages = count
    return count


# --- the API ----------------------------------------------------------------------------------


class MessageOut(BaseModel):
    id: int
    title: str
    body: str
    sent_at: datetime
    read_at: datetime | None
    read: bool
    link: str | None = None
    link_label: str | None = None

    @classmethod
    def of(cls, m: messages.Message) -> MessageOut:
        return cls(
            id=m.id,
            title=m.title,
            body=m.body,
            sent_at=m.sent_at,
            read_at=m.read_at,
            read=m.read_at is not None,
            link=m.link,
            link_label=m.link_label,
        )


class MessagePage(BaseModel):
    items: list[MessageOut]
    total: int
    unread: int
    offset: int
    limit: int


class ReadAllOut(BaseModel):
    marked: int
    unread: int


@api.get("", summary="My messages, newest first (站内消息)")
def list_messages(
    db: DB, user: CurrentUser, offset: Offset = 0, limit: Limit = PER_PAGE
) -> MessagePage:
    start, size = offset, limit
    rows, total = messages.inbox(db, user, offset=start, limit=size)
    return MessagePage(
        items=[MessageOut.of(m) for m in rows],
        total=total,
        unread=messages.unread_count(db, user),
        offset=start,
        limit=size,
    )


@api.post("/read-all", summary="Mark all my messages read")
def read_all(db: DB, user: CurrentUser) -> ReadAllOut:
    marked = messages.mark_all_read(db, user)
    return ReadAllOut(marked=marked, unread=messages.unread_count(db, user))


@api.post("/{message_id}/read", summary="Mark one of my messages read")
def read_one(db: DB, user: CurrentUser, message_id: MessageId) -> MessageOut:
    return MessageOut.of(messages.mark_read(db, user, parse_message_id(message_id)))


# --- the pages --------------------------------------------------------------------------------


@pages.get("/messages", response_class=HTMLResponse)
def inbox_page(request: Request, db: DB, user: CurrentUser, page: PageNumber = "1") -> Response:
    number = whole(page, "page", "页码", 1, PAGE_MAX)
    rows, total = messages.inbox(db, user, offset=(number - 1) * PER_PAGE, limit=PER_PAGE)
    unread = messages.unread_count(db, user)
    request.state.unread_messages = unread
    pages_in_all = max(1, -(-total // PER_PAGE))
    context: dict[str, Any] = {
        "rows": rows,
        "total": total,
        "unread": unread,
        "page": number,
        "pages": pages_in_all,
        "has_inbox": bool(messages.recipients(user)),
        "done": request.query_params.get("done") == "all-read",
    }
    return render(request, "messages.html", context)


@pages.get("/messages/{message_id}", response_class=HTMLResponse)
def message_page(request: Request, db: DB, user: CurrentUser, message_id: MessageId) -> Response:
    found = messages.mark_read(db, user, parse_message_id(message_id))
    request.state.unread_messages = messages.unread_count(db, user)
    return render(request, "message.html", {"message": found})


@pages.post("/messages/read-all", response_class=HTMLResponse)
def read_all_page(db: DB, user: CurrentUser) -> Response:
    messages.mark_all_read(db, user)
    return RedirectResponse("/messages?done=all-read", status_code=303)
