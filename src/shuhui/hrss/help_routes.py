"""Video help over HTTP and WebSocket: asking (``/api/v1/hrss/help``), the agents' queue and
taking a request, closing it; the pages (the agents' queue and call page); and the signalling
socket ``/ws/hrss/help/{code}`` (mounted on its own: a WebSocket has no CSRF token, so it checks
that the page opening it is this site's, and reads the login from the session cookie)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.core.forms import validate_form
from shuhui.core.http import SESSION_COOKIE, render
from shuhui.hrss import certificates, help
from shuhui.hrss.routes import content_of
from shuhui.trust.identity.deps import DB, CurrentUser
from shuhui.trust.identity.service import resolve_session

api = APIRouter(prefix="/api/v1/hrss/help", tags=["video help (社保视联办)"])
pages = APIRouter(include_in_schema=False)
socket = APIRouter()
Code = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^SLB-\d{8}-\d{4,}$")]
POLL_SECONDS = 0.2


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: str = Field(
        min_length=1,
        max_length=256,
        pattern=help.PAGE.pattern,
        description="the page help is asked from: a path of this site",
    )
    topic: str = Field(
        default="", max_length=128, description="what it is about (the page's title)"
    )


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(default="", max_length=500, description="how it ended, in a few words")


def request_out(r: Any) -> dict[str, Any]:
    return {
        "code": r.code,
        "page": r.page,
        "topic": r.topic,
        "state": r.state,
        "agent": r.agent,
        "asked_at": r.asked_at.isoformat(),
        "picked_at": r.picked_at.isoformat() if r.picked_at else None,
        "closed_at": r.closed_at.isoformat() if r.closed_at else None,
        "outcome": r.outcome,
        "proposals": r.proposals,
        "accepted": r.accepted,
    }


def _readers(request: Request) -> tuple[str, ...]:
    return certificates.document_kind(local_today(), content_of(request)).readers


@api.post("", status_code=201, summary="Ask for video help from a service page")
def ask(db: DB, user: CurrentUser, body: AskIn) -> dict[str, Any]:
    return request_out(help.ask(db, user, page=body.page, topic=body.topic))


@api.get("/queue", summary="The requests waiting and in progress (the bureau's agents)")
def queue(request: Request, db: DB, user: CurrentUser) -> list[dict[str, Any]]:
    help.check_agent(user, _readers(request))
    return [request_out(r) for r in help.queue(db)]


@api.post("/{code}/take", summary="Take a waiting request (an agent)")
def take(request: Request, db: DB, user: CurrentUser, code: Code) -> dict[str, Any]:
    help.check_agent(user, _readers(request))
    return request_out(help.take(db, user, code))


@api.post("/{code}/close", summary="End the session (either side), with its outcome")
def close(db: DB, user: CurrentUser, code: Code, body: CloseIn) -> dict[str, Any]:
    return request_out(help.close(db, user, code, outcome=body.outcome))


# --- pages ------------------------------------------------------------------------------------


@pages.get("/hrss/help", response_class=HTMLResponse)
def queue_page(request: Request, db: DB, user: CurrentUser) -> Response:
    help.check_agent(user, _readers(request))
    return render(request, "hrss_help_queue.html", {"requests": help.queue(db)})


@pages.post("/hrss/help/{code}/take", response_class=HTMLResponse)
def take_page(request: Request, db: DB, user: CurrentUser, code: Code) -> Response:
    help.check_agent(user, _readers(request))
    help.take(db, user, code)
    return RedirectResponse(f"/hrss/help/{code}", status_code=303)


@pages.get("/hrss/help/{code}", response_class=HTMLResponse)
def call_page(request: Request, db: DB, user: CurrentUser, code: Code) -> Response:
    found = help.get(db, code)
    if found is None or help.side_of(found, user) != "agent":
        raise Problem("not-found", detail=f"没有视频帮办 {code}")
    help.begin(db, found)
    return render(request, "hrss_help_call.html", {"r": found})


@pages.post("/hrss/help/{code}/close", response_class=HTMLResponse)
async def close_page(request: Request, db: DB, user: CurrentUser, code: Code) -> Response:
    body = validate_form(CloseIn, await request.form())
    found = help.close(db, user, code, outcome=body.outcome)
    # An arranged session (an assessment's examination) ends back on the page it belongs to.
    back = found.page if found.scheduled_for is not None else "/hrss/help"
    return RedirectResponse(back, status_code=303)


# --- the signalling socket --------------------------------------------------------------------


def _who(websocket: WebSocket, code: str) -> tuple[int, str] | None:
    factory = websocket.app.state.session_factory
    with transaction(factory) as db:
        user = resolve_session(db, websocket.cookies.get(SESSION_COOKIE))
        found = help.get(db, code)
        if user is None or found is None or found.state == help.CLOSED:
            return None
        try:
            return found.id, help.side_of(found, user)
        except Problem:
            return None


def _same_site(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin", "")
    host = websocket.headers.get("host", "")
    return bool(host) and origin in (f"http://{host}", f"https://{host}")


def _exchange(
    websocket: WebSocket,
    request_id: int,
    side: str,
    after: int,
    sent: tuple[str, dict[str, Any]] | None,
) -> tuple[list[help.Signal], bool]:
    with transaction(websocket.app.state.session_factory) as db:
        found = help.by_id(db, request_id)
        if found is None or found.state == help.CLOSED:
            return [], True
        if sent is not None:
            help.send(db, found, side, *sent)
        return help.received(db, found, side, after), False


@socket.websocket("/ws/hrss/help/{code}")
async def signalling(websocket: WebSocket, code: str) -> None:
    if not help.CODE.match(code) or not _same_site(websocket):
        await websocket.close(code=1008)
        return
    who = await run_in_threadpool(_who, websocket, code)
    if who is None:
        await websocket.close(code=1008)
        return
    request_id, side = who
    await websocket.accept()
    after = 0
    inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def listen() -> None:
        while True:
            text = await websocket.receive_text()
            try:
                inbox.put_nowait(help.read_message(text))
            except ValueError as refused:
                await websocket.send_json({"kind": "error", "payload": {"reason": str(refused)}})

    listener = asyncio.create_task(listen())
    try:
        while not listener.done():
            sent = inbox.get_nowait() if not inbox.empty() else None
            signals, ended = await run_in_threadpool(
                _exchange, websocket, request_id, side, after, sent
            )
            for s in signals:
                await websocket.send_json({"kind": s.kind, "payload": s.payload})
                after = s.id
            if ended:
                await websocket.send_json({"kind": "bye", "payload": {}})
                break
            if inbox.empty():
                await asyncio.sleep(POLL_SECONDS)
    except WebSocketDisconnect:
        pass
    finally:
        listener.cancel()
        with contextlib.suppress(BaseException):
            await listener
        with contextlib.suppress(RuntimeError):
            await websocket.close()
