"""Smart approval over HTTP (``/api/v1/approval/…``): for now the pre-filled form of a service
item, for the applicant or, under a mandate, for someone else."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from shuhui.approval import prefill as prefilling
from shuhui.approval.items import Catalogue, ServiceItem, load_catalogue
from shuhui.approval.lookups import Key, lookups_for
from shuhui.approval.schemas import PrefilledFormOut
from shuhui.core.clock import local_today
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import problem_answer
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/approval", tags=["smart approval (智审慧办)"])

# A citizen or an enterprise account; the role check is async (no trip through the thread pool).
Applicant = Annotated[User, Depends(require_role(Role.citizen, Role.enterprise))]
ItemCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
ApplicantId = Annotated[
    str | None,
    Query(
        min_length=18,
        max_length=18,
        description="apply for this citizen ID or credit code (an agent, under their mandate)",
    ),
]


async def find_item(request: Request) -> Callable[[str], ServiceItem | None]:
    """How a route finds a service item by code: the city's catalogue (tests bind their own).
    Async: it waits for nothing once the catalogue is loaded (at start), so it takes no trip
    through the thread pool."""
    return _catalogue(str(request.app.state.settings.city_content)).get


@lru_cache(maxsize=4)
def _catalogue(city_content: str) -> Catalogue:
    return load_catalogue(FilePath(city_content))


Items = Annotated[Callable[[str], ServiceItem | None], Depends(find_item)]


def item_in_force(items: Callable[[str], ServiceItem | None], code: str, on: date) -> ServiceItem:
    item = items(code)
    if item is None or not item.in_force(on):
        raise Problem(
            "not-found",
            detail=f"没有正在办理的事项 {code}",
            errors=[
                FieldError("code", Text("没有这个事项，或已停止办理", "no such item in force"))
            ],
        )
    return item


# SQLite lets one transaction write at a time, and a writer that finds it locked waits in
# SQLite's busy handler, sleeping in growing steps (up to 100 ms) and failing after the busy
# timeout: under load that, not the work, made the forms' tail (p99 of 1-5 s and "database is
# locked" at 10-50 connections, bench/bench_prefill.py). Every form writes (its ledger entry), so
# forms queue for the write here instead — a thread lock, then a lock file across the server's
# workers — and each is woken the moment the one before it commits. PostgreSQL queues writers
# itself (the ledger head's row lock).
class _Writes:
    """The queue of one database's form writes: a thread lock, then a lock file (kept open)."""

    def __init__(self, path: FilePath) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_WRITES: dict[str, _Writes] = {}
_WRITES_GUARD = threading.Lock()


@contextmanager
def one_writer(request: Request) -> Iterator[None]:
    settings = request.app.state.settings
    if not str(settings.sqlalchemy_url).startswith("sqlite"):
        yield
        return
    path = FilePath(settings.data_dir) / "approval" / "writes.lock"
    with _WRITES_GUARD:
        writes = _WRITES.get(str(path))
        if writes is None:
            writes = _WRITES[str(path)] = _Writes(path)
    with writes.held():
        yield


@api.get(
    "/items/{code}/form",
    response_model=PrefilledFormOut,
    summary="The item's form pre-filled for the applicant (身份自动填 / 历史选择填 / 共享系统填)",
    responses={403: {"description": "no mandate covers applying for this applicant"}},
)
def prefilled_form(
    request: Request,
    db: DB,
    user: Applicant,
    items: Items,
    code: ItemCode,
    applicant: ApplicantId = None,
) -> Response:
    """Each field with its value and source (table, version, key masked, time read), the
    materials e-certificates waive, and what could not be used. Reading the data is recorded in
    the ledger (the applicant sees it at 谁用了我的数据); so is an agent's use of a mandate, or
    its refusal (403 ``mandate-refused``, answered rather than raised so that it is committed).

    The form is read first, then recorded one writer at a time (``one_writer``) and committed
    before the lock is let go: the request's reads take no lock, so the lock is held for the
    writes alone."""
    item = item_in_force(items, code, local_today())
    datacore: DataCore = request.app.state.datacore
    read = prefilling.read_form(db, datacore, item, user=user, applicant_id=applicant)
    with one_writer(request):
        try:
            filled = prefilling.record_form(db, read)
        except Problem as refused:
            if refused.slug != "mandate-refused":
                db.rollback()
                raise
            db.commit()
            return problem_answer(request, refused)
        except BaseException:
            db.rollback()
            raise
        db.commit()
    # Made and checked here once: FastAPI would validate the model it is given a second time.
    body = PrefilledFormOut.of(item, filled).model_dump_json(by_alias=True)
    return Response(body, media_type="application/json")


def prepare_later(
    datacore: DataCore, city_content: FilePath, also: Iterable[tuple[str, Key]] = ()
) -> None:
    """At server start: the key indexes every item's form reads, and those of ``also`` (the
    services above approval that read by key), built (or mapped) in the background, so the
    first forms and queries do not wait for them."""
    catalogue = _catalogue(str(city_content))
    needs = prefilling.lookup_needs(catalogue.items.values())
    lookups_for(datacore).prepare_later([*needs, *also])
