"""The enterprise platform's API (/api/v1/enterprise): one's own file, an officer's look at an
enterprise's file (with its purpose, in the ledger), needs posted, matched and worked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from shuhui.core.bounds import Limit, Offset
from shuhui.core.errors import Problem
from shuhui.enterprise import needs, profile, service
from shuhui.enterprise.access import (
    AnyUser,
    EnterpriseUser,
    OfficerUser,
    content_of,
    credit_code_of,
)
from shuhui.enterprise.schemas import (
    NEED_CODE_PATTERN,
    NeedCloseIn,
    NeedIn,
    NeedStepIn,
    ProfileLookIn,
    RatingIn,
)
from shuhui.enterprise.views import catalogue_of, library_of, lookups_of, need_out
from shuhui.trust.identity.deps import DB
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/enterprise", tags=["enterprise platform (企业综合服务)"])
NeedCode = Annotated[str, Path(min_length=1, max_length=32, pattern=NEED_CODE_PATTERN)]
StateFilter = Annotated[str | None, Query(pattern=r"^(received|handling|closed)$")]


@api.get("/me/profile", summary="My enterprise's file (一企一档)")
def my_profile(request: Request, db: DB, user: EnterpriseUser) -> JSONResponse:
    found = profile.for_enterprise(
        db, lookups_of(request), credit_code_of(user), catalogue_of(request)
    )
    return JSONResponse(found.as_dict())


@api.post(
    "/profiles",
    summary="An enterprise's file, opened by an officer with a purpose (in the ledger)",
)
def officer_profile(
    request: Request, db: DB, user: OfficerUser, body: ProfileLookIn
) -> JSONResponse:
    if Role.officer not in user.role_set:
        raise Problem("forbidden", "只有部门工作人员可以说明事由后查看企业档案")
    found = profile.for_officer(db, lookups_of(request), user, body, catalogue_of(request))
    return JSONResponse(found.as_dict())


@api.post("/needs/preview", summary="What would answer a need, before posting it")
def preview(request: Request, user: EnterpriseUser, body: NeedIn) -> JSONResponse:
    found = service.preview(
        lookups_of(request),
        catalogue_of(request),
        library_of(request),
        user,
        body,
        content=content_of(request),
    )
    return JSONResponse({"matches": found.as_list()})


@api.post("/needs", status_code=201, summary="Post a need: matched, routed, with a time limit")
def post_need(request: Request, db: DB, user: EnterpriseUser, body: NeedIn) -> JSONResponse:
    content = content_of(request)
    need, _ = service.post_need(
        db,
        lookups_of(request),
        catalogue_of(request),
        library_of(request),
        user,
        body,
        content=content,
    )
    return JSONResponse(need_out(need, content=content, db=db), status_code=201)


@api.get("/needs", summary="My enterprise's needs, or an officer's queue")
def list_needs(
    request: Request,
    db: DB,
    user: AnyUser,
    state: StateFilter = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    content = content_of(request)
    if Role.enterprise in user.role_set:
        found = needs.needs_of(db, credit_code_of(user), limit=limit)
    else:
        found = needs.queue(db, user, state=state, content=content, limit=limit, offset=offset)
    return [need_out(n, content=content) for n in found]


@api.get("/needs/{code}", summary="One need, with its steps and what matched it")
def one_need(request: Request, db: DB, user: AnyUser, code: NeedCode) -> dict[str, Any]:
    content = content_of(request)
    if Role.enterprise in user.role_set:
        need = needs.need_for_enterprise(db, credit_code_of(user), code)
    else:
        need = needs.need_for_officer(db, user, code, content)
    return need_out(need, content=content, db=db)


@api.post("/needs/{code}/take", summary="An officer of the department takes the need (办理)")
def take(
    request: Request, db: DB, user: OfficerUser, code: NeedCode, body: NeedStepIn
) -> dict[str, Any]:
    content = content_of(request)
    need = needs.take(db, user, code, body, content=content)
    return need_out(need, content=content, db=db)


@api.post("/needs/{code}/close", summary="The department closes the need (办结), saying how")
def close(
    request: Request, db: DB, user: OfficerUser, code: NeedCode, body: NeedCloseIn
) -> dict[str, Any]:
    content = content_of(request)
    need = needs.close(db, user, code, body, content=content)
    return need_out(need, content=content, db=db)


@api.post("/needs/{code}/rating", summary="The enterprise rates a closed need, once")
def rate(
    request: Request, db: DB, user: EnterpriseUser, code: NeedCode, body: RatingIn
) -> dict[str, Any]:
    content = content_of(request)
    need = needs.rate(db, user, credit_code_of(user), code, body)
    return need_out(need, content=content, db=db)
