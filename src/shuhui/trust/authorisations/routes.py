"""Mandates (委托授权) and certificate-use authorisations (用证授权) over HTTP, and the pages
我的授权, 谁用了我的数据 and the officer's 授权核验."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from shuhui.core.clock import SHANGHAI, as_utc, utcnow
from shuhui.core.content import Items, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import render, tr
from shuhui.trust.authorisations import service as authz
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.service import Party
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.identity import service
from shuhui.trust.identity.deps import DB, CurrentUser, require_role
from shuhui.trust.identity.models import Role, User
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.models import LedgerEntry

api = APIRouter(prefix="/api/v1/authorisations", tags=["authorisations"])
pages = APIRouter(include_in_schema=False)

Officer = Annotated[User, Depends(require_role(Role.officer))]


# --- context ----------------------------------------------------------------------------------


# The content this module reads: (file under content/<city>/, kind).
CONTENT: Final = (
    ("service-items.yaml", "service-items"),
    ("certificate-types.yaml", "certificate-types"),
)


def check_content(city_content: Path) -> None:
    """Loads (and so checks) the content at startup: a broken file stops the server, with the
    file, item and field named, instead of failing the first person who opens a form."""
    for name, kind in CONTENT:
        load_items(city_content / name, kind)


def service_items(request: Request) -> Items:
    return load_items(request.app.state.settings.city_content / CONTENT[0][0], CONTENT[0][1])


def certificate_types(request: Request) -> Items:
    return load_items(request.app.state.settings.city_content / CONTENT[1][0], CONTENT[1][1])


def registry(request: Request) -> authz.EnterpriseRegistry:
    found: authz.EnterpriseRegistry = request.app.state.enterprise_registry
    return found


def _data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


def identities(user: User) -> list[Party]:
    """The parties a logged-in account can act as: the person, and the organisation it is for."""
    out: list[Party] = []
    if user.citizen_id:
        out.append(Party("person", user.citizen_id, user.display_name))
    if user.credit_code:
        out.append(Party("enterprise", user.credit_code, user.department or user.display_name))
    return out


def identity_ids(user: User) -> list[str]:
    return [p.id for p in identities(user)]


def acting_as(user: User, kind: str, where: str) -> Party:
    for party in identities(user):
        if party.kind == kind:
            return party
    reason = (
        "your account has no citizen ID" if kind == "person" else "your account has no credit code"
    )
    raise Problem(
        "forbidden", detail="当前账户不能以该身份授权或办理", errors=[FieldError(where, reason)]
    )


def signatory_of(user: User) -> str:
    if not user.citizen_id:
        raise Problem(
            "forbidden",
            detail="签署授权须由实名自然人（本人或法定代表人）完成",
            errors=[FieldError("signatory", "the account has no citizen ID")],
        )
    return user.citizen_id


def _may_see(user: User, a: Authorisation) -> None:
    if not authz.is_party(a, identity_ids(user)):
        raise Problem("forbidden", detail="只有授权相关方可以查看此授权")


# --- API models -------------------------------------------------------------------------------


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["person", "enterprise"]
    id: str = Field(min_length=18, max_length=18, examples=["11010519491231002X"])
    name: str = Field(min_length=1, max_length=128)

    def party(self, where: str) -> Party:
        return authz.parse_party(self.kind, self.id, self.name, where)


class MandateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grantor: Literal["person", "enterprise"] = Field(
        default="person", description="grant as yourself, or for your enterprise (legal rep)"
    )
    agent: PartyIn
    scope: list[str] = Field(min_length=1, max_length=50, description="service-item codes")
    actions: list[str] = Field(min_length=1, max_length=10, examples=[["apply", "query"]])
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime
    max_uses: int | None = Field(default=None, ge=1, le=authz.MAX_USES)
    subdelegation: bool = False
    parent: str | None = Field(default=None, max_length=32, description="sub-delegate from")


class CertUseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder: Literal["person", "enterprise"] = "person"
    relying_party: PartyIn
    certificate_types: list[str] = Field(min_length=1, max_length=20)
    certificate_no: str | None = Field(default=None, max_length=64)
    purpose: str = Field(min_length=1, max_length=256)
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime
    max_uses: int | None = Field(
        default=None, ge=1, le=authz.MAX_USES, description="1 = single use"
    )


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(
        default=None, max_length=256, description="to sign with your platform key (云签名)"
    )
    signature_base64: str | None = Field(
        default=None,
        max_length=512,
        description="DER SM2 signature over the document, made with your registered key",
    )


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=256)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key_pem: str = Field(min_length=1, max_length=4096)


class MandateUseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    principal_id: str = Field(min_length=18, max_length=18)
    matter: str = Field(min_length=1, max_length=64, description="service-item code")
    action: str = Field(min_length=1, max_length=32)
    agent: Literal["person", "enterprise"] = Field(
        default="person", description="act as yourself, or as your organisation"
    )


class CertUseUseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder_id: str = Field(min_length=18, max_length=18)
    certificate_type: str = Field(min_length=1, max_length=64)
    certificate_no: str | None = Field(default=None, max_length=64)
    purpose: str = Field(min_length=1, max_length=256)


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: PartyIn
    principal_id: str = Field(min_length=18, max_length=18)
    matter: str = Field(min_length=1, max_length=64)
    action: str = Field(min_length=1, max_length=32)


class VerifyCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32)
    purpose: str = Field(default="officer verification", min_length=1, max_length=256)


class AuthorisationOut(BaseModel):
    code: str
    kind: str
    status: str
    principal: dict[str, str]
    grantor: dict[str, str]
    signatory: str
    grantee: dict[str, str]
    scope: list[str]
    actions: list[str]
    certificate_no: str | None
    purpose: str | None
    valid_from: str
    valid_to: str
    max_uses: int | None
    uses: int
    subdelegation: bool
    parent: str | None
    created_at: str
    signed_at: str | None
    key_id: str | None
    ended_at: str | None
    end_reason: str | None
    document_base64: str


class DecisionOut(BaseModel):
    allowed: bool
    reason: str | None
    reason_zh: str | None
    chain: list[str]
    at_fault: str | None


class EventOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    subject: str | None
    purpose: str | None
    grant: str | None


class VerificationOut(BaseModel):
    authorisation: AuthorisationOut
    status: str
    signature_valid: bool
    problem: str | None
    chain: list[str]
    chain_problem: str | None


def _out(a: Authorisation, now: datetime | None = None) -> AuthorisationOut:
    return AuthorisationOut(
        code=a.code,
        kind=a.kind,
        status=authz.effective_status(a, now or utcnow()),
        principal={"kind": a.principal_kind, "id": a.principal_id, "name": a.principal_name},
        grantor={"kind": a.grantor_kind, "id": a.grantor_id},
        signatory=a.signatory_id,
        grantee={"kind": a.grantee_kind, "id": a.grantee_id, "name": a.grantee_name},
        scope=[str(s) for s in authz.scope_of(a)],
        actions=[str(s) for s in authz.actions_of(a)],
        certificate_no=a.certificate_no,
        purpose=a.purpose,
        valid_from=authz.iso(a.valid_from),
        valid_to=authz.iso(a.valid_to),
        max_uses=a.max_uses,
        uses=a.uses,
        subdelegation=a.subdelegation,
        parent=a.parent_code,
        created_at=authz.iso(a.created_at),
        signed_at=authz.iso(a.signed_at) if a.signed_at else None,
        key_id=a.key_id,
        ended_at=authz.iso(a.ended_at) if a.ended_at else None,
        end_reason=a.end_reason,
        document_base64=base64.b64encode(a.document).decode("ascii"),
    )


def _event(e: LedgerEntry) -> EventOut:
    return EventOut(
        seq=e.seq,
        at=authz.iso(e.recorded_at),
        actor=e.actor,
        action=e.action,
        subject=e.subject,
        purpose=e.purpose,
        grant=e.grant,
    )


def _refused(db: Session, decision: authz.Decision) -> Problem:
    # The refusal is in the ledger; commit it before the error response rolls the rest back.
    db.commit()
    assert decision.reason is not None
    return Problem(
        "authorisation-refused",
        detail=decision.reason[1],
        errors=[FieldError("authorisation", decision.reason[0])],
        extra={"chain": list(decision.chain), "at_fault": decision.at_fault},
    )


# --- creating and signing -----------------------------------------------------------------------


def _create_mandate(request: Request, db: Session, user: User, body: MandateIn) -> Authorisation:
    now = utcnow()
    return authz.create_mandate(
        db,
        service_items(request),
        registry(request),
        grantor=acting_as(user, body.grantor, "grantor"),
        signatory_id=signatory_of(user),
        agent=body.agent.party("agent"),
        scope=body.scope,
        actions=body.actions,
        valid_from=body.valid_from or now,
        valid_to=body.valid_to,
        max_uses=body.max_uses,
        subdelegation=body.subdelegation,
        parent_code=body.parent,
        actor=user.username,
        now=now,
    )


def _create_cert_use(request: Request, db: Session, user: User, body: CertUseIn) -> Authorisation:
    now = utcnow()
    return authz.create_cert_use(
        db,
        certificate_types(request),
        registry(request),
        holder=acting_as(user, body.holder, "holder"),
        signatory_id=signatory_of(user),
        relying_party=body.relying_party.party("relying_party"),
        certificate_types_wanted=body.certificate_types,
        certificate_no=body.certificate_no,
        purpose=body.purpose,
        valid_from=body.valid_from or now,
        valid_to=body.valid_to,
        max_uses=body.max_uses,
        actor=user.username,
        now=now,
    )


@api.post("/mandates", response_model=AuthorisationOut, status_code=201, summary="Draft a mandate")
def create_mandate(
    request: Request, db: DB, user: CurrentUser, body: MandateIn
) -> AuthorisationOut:
    return _out(_create_mandate(request, db, user, body))


@api.post(
    "/cert-uses",
    response_model=AuthorisationOut,
    status_code=201,
    summary="Draft a certificate-use authorisation",
)
def create_cert_use(
    request: Request, db: DB, user: CurrentUser, body: CertUseIn
) -> AuthorisationOut:
    return _out(_create_cert_use(request, db, user, body))


def _sign(request: Request, db: Session, user: User, code: str, body: SignIn) -> Authorisation:
    signer = signatory_of(user)
    if (body.password is None) == (body.signature_base64 is None):
        raise Problem(
            "validation",
            errors=[
                FieldError("password", "give your password, or a signature made with your key")
            ],
        )
    signature = None
    if body.password is not None:
        # Signing with a platform-held key needs the person, not just their session cookie.
        if not service.verify_password(user.password_hash, body.password):
            raise Problem("invalid-credentials", errors=[FieldError("password", "wrong password")])
    else:
        try:
            signature = base64.b64decode(body.signature_base64 or "", validate=True)
        except ValueError:  # binascii.Error, or a non-ASCII string
            raise Problem(
                "validation", errors=[FieldError("signature_base64", "not base64")]
            ) from None
    return authz.sign(
        db,
        _data_dir(request),
        code,
        signer_citizen_id=signer,
        signature=signature,
        actor=user.username,
    )


@api.post("/{code}/sign", response_model=AuthorisationOut, summary="Sign (activates it)")
def sign(request: Request, db: DB, user: CurrentUser, code: str, body: SignIn) -> AuthorisationOut:
    return _out(_sign(request, db, user, code, body))


@api.post("/{code}/revoke", response_model=AuthorisationOut, summary="Revoke, with sub-delegations")
def revoke(db: DB, user: CurrentUser, code: str, body: RevokeIn) -> AuthorisationOut:
    a = authz.revoke(db, code, by=identity_ids(user), reason=body.reason, actor=user.username)
    return _out(a)


@api.post("/keys", status_code=201, summary="Register your own SM2 public key for signing")
def register_key(db: DB, user: CurrentUser, body: KeyIn) -> dict[str, str]:
    row = authz.register_holder_key(
        db, signatory_of(user), body.public_key_pem, actor=user.username
    )
    return {"key_id": row.key_id, "custody": row.custody}


# --- reading ----------------------------------------------------------------------------------


@api.get("", response_model=list[AuthorisationOut], summary="Authorisations I am party to")
def mine(db: DB, user: CurrentUser) -> list[AuthorisationOut]:
    now = utcnow()
    return [_out(a, now) for a in authz.involving(db, identity_ids(user))]


@api.get("/{code}", response_model=AuthorisationOut, summary="One authorisation (its parties)")
def show(db: DB, user: CurrentUser, code: str) -> AuthorisationOut:
    a = authz.get_or_404(db, code)
    _may_see(user, a)
    return _out(a)


@api.get("/{code}/envelope", summary="Document, signature and key, to verify offline (OpenSSL)")
def envelope(db: DB, user: CurrentUser, code: str) -> dict[str, Any]:
    a = authz.get_or_404(db, code)
    _may_see(user, a)
    return authz.envelope(db, a)


@api.get("/{code}/events", response_model=list[EventOut], summary="Every state change and use")
def events(db: DB, user: CurrentUser, code: str) -> list[EventOut]:
    a = authz.get_or_404(db, code)
    _may_see(user, a)
    return [_event(e) for e in authz.events(db, [a.code])]


# --- using and checking -------------------------------------------------------------------------


@api.post("/mandates/use", response_model=DecisionOut, summary="Act for a principal (counts a use)")
def use_mandate(db: DB, user: CurrentUser, body: MandateUseIn) -> DecisionOut:
    agent = acting_as(user, body.agent, "agent")
    decision = authz.decide_mandate(
        db, agent=agent, action=body.action, matter=body.matter, principal_id=body.principal_id
    )
    detail: dict[str, JsonValue] = {"action": body.action, "matter": body.matter}
    decision = authz.record_use(
        db,
        decision,
        kind="mandate",
        actor=user.username,
        grantee=agent,
        principal_id=body.principal_id,
        detail=detail,
    )
    if not decision.allowed:
        raise _refused(db, decision)
    return DecisionOut(**decision.as_dict())


@api.post("/cert-uses/use", response_model=DecisionOut, summary="Use a holder's certificate")
def use_certificate(db: DB, user: CurrentUser, body: CertUseUseIn) -> DecisionOut:
    relying = acting_as(user, "enterprise", "relying_party")
    decision = authz.decide_cert_use(
        db,
        relying_party=relying,
        holder_id=body.holder_id,
        certificate_type=body.certificate_type,
        certificate_no=body.certificate_no,
        purpose=body.purpose,
    )
    detail: dict[str, JsonValue] = {
        "certificate_type": body.certificate_type,
        "certificate_no": body.certificate_no,
    }
    decision = authz.record_use(
        db,
        decision,
        kind="cert_use",
        actor=user.username,
        grantee=relying,
        principal_id=body.holder_id,
        detail=detail,
        purpose=authz.normalise_purpose(body.purpose),
    )
    if not decision.allowed:
        raise _refused(db, decision)
    return DecisionOut(**decision.as_dict())


@api.post(
    "/mandates/decide", response_model=DecisionOut, summary="May agent A do X on M for P now?"
)
def decide(db: DB, officer: Officer, body: DecideIn) -> DecisionOut:
    """For the officer at the counter: answers without counting a use; the check is recorded."""
    agent = body.agent.party("agent")
    decision = authz.decide_mandate(
        db, agent=agent, action=body.action, matter=body.matter, principal_id=body.principal_id
    )
    authz.record_check(
        db,
        decision,
        actor=officer.username,
        agent=agent,
        principal_id=body.principal_id,
        detail={"action": body.action, "matter": body.matter},
    )
    return DecisionOut(**decision.as_dict())


def _verification_out(v: authz.Verification) -> VerificationOut:
    return VerificationOut(
        authorisation=_out(v.authorisation),
        status=v.status,
        signature_valid=v.signature_valid,
        problem=None if v.problem is None else v.problem[0],
        chain=[link.code for link in v.chain],
        chain_problem=None if v.chain_problem is None else v.chain_problem[0],
    )


@api.post(
    "/verify", response_model=VerificationOut, summary="Verify an authorisation code (officer)"
)
def verify_code(db: DB, officer: Officer, body: VerifyCodeIn) -> VerificationOut:
    v = authz.verify_code(db, body.code, actor=officer.username, purpose=body.purpose)
    return _verification_out(v)


# --- pages: 我的授权 ------------------------------------------------------------------------------


def _titles(request: Request) -> dict[str, Any]:
    return {
        "kind_titles": authz.KIND_TITLES,
        "status_titles": authz.STATUS_TITLES,
        "action_titles": authz.MANDATE_ACTIONS,
        "action_names": ACTION_NAMES,
        "items": service_items(request),
        "cert_types": certificate_types(request),
    }


def _page_user(user: User) -> dict[str, Any]:
    return {"me": user, "my_ids": identity_ids(user), "parties": identities(user)}


@pages.get("/me/authorisations", response_class=HTMLResponse)
def my_authorisations(request: Request, db: DB, user: CurrentUser) -> Response:
    now = utcnow()
    mine_ids = identity_ids(user)
    rows = authz.involving(db, mine_ids)
    for a in rows:
        authz.settle(db, a, now)
    granted = [a for a in rows if a.grantor_id in mine_ids or a.principal_id in mine_ids]
    received = [a for a in rows if a.grantee_id in mine_ids and a not in granted]
    return render(
        request,
        "my_authorisations.html",
        {"granted": granted, "received": received, **_titles(request), **_page_user(user)},
    )


def _form_defaults(kind: str) -> dict[str, Any]:
    today = utcnow().date()
    return {
        "kind": kind,
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=90 if kind == "mandate" else 30)).isoformat(),
    }


@pages.get("/me/authorisations/new", response_class=HTMLResponse)
def new_form(
    request: Request,
    user: CurrentUser,
    kind: Annotated[Literal["mandate", "cert_use"], Query()] = "mandate",
) -> Response:
    return render(
        request,
        "authorisation_new.html",
        {"form": _form_defaults(kind), "error": None, **_titles(request), **_page_user(user)},
    )


def _day(value: str, where: str, end: bool) -> datetime:
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise Problem("validation", errors=[FieldError(where, "not a date")]) from None
    if day.tzinfo is None:
        # A date typed in the form is a Beijing date: the window runs to the end of that day.
        day = day.replace(tzinfo=SHANGHAI)
    if end and (day.hour, day.minute, day.second) == (0, 0, 0):
        day = day + timedelta(days=1) - timedelta(seconds=1)
    return as_utc(day)


@pages.post("/me/authorisations/new", response_class=HTMLResponse)
async def new_submit(request: Request, db: DB, user: CurrentUser) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    kind = values.get("kind", "mandate")
    try:
        party = authz.parse_party(
            values.get("grantee_kind", ""),
            values.get("grantee_id", "").strip().upper(),
            values.get("grantee_name", ""),
            "agent" if kind == "mandate" else "relying_party",
        )
        start = _day(values.get("valid_from", ""), "valid_from", end=False)
        end = _day(values.get("valid_to", ""), "valid_to", end=True)
        now = utcnow()
        # "From today" means from now: an authorisation does not reach back before it exists.
        start = max(start, now)
        uses_text = values.get("max_uses", "").strip()
        max_uses = int(uses_text) if uses_text.isdigit() else None
        if uses_text and max_uses is None:
            raise Problem("validation", errors=[FieldError("max_uses", "a whole number")])
        as_kind = values.get("as", "person")
        if kind == "mandate":
            a = authz.create_mandate(
                db,
                service_items(request),
                registry(request),
                grantor=acting_as(user, as_kind, "grantor"),
                signatory_id=signatory_of(user),
                agent=party,
                scope=[str(v) for v in form.getlist("scope")],
                actions=[str(v) for v in form.getlist("actions")],
                valid_from=start,
                valid_to=end,
                max_uses=max_uses,
                subdelegation=values.get("subdelegation") == "on",
                parent_code=values.get("parent") or None,
                actor=user.username,
                now=now,
            )
        else:
            a = authz.create_cert_use(
                db,
                certificate_types(request),
                registry(request),
                holder=acting_as(user, as_kind, "holder"),
                signatory_id=signatory_of(user),
                relying_party=party,
                certificate_types_wanted=[str(v) for v in form.getlist("scope")],
                certificate_no=values.get("certificate_no"),
                purpose=values.get("purpose", ""),
                valid_from=start,
                valid_to=end,
                max_uses=1 if values.get("single_use") == "on" else max_uses,
                actor=user.username,
                now=now,
            )
    except Problem as exc:
        db.rollback()
        message = exc.detail or "；".join(f"{e.field}: {e.reason}" for e in exc.errors)
        if exc.errors and exc.detail:
            message += "（" + "；".join(f"{e.field}: {e.reason}" for e in exc.errors) + "）"
        form_values: dict[str, Any] = dict(values)
        form_values["scope_list"] = form.getlist("scope")
        form_values["actions_list"] = form.getlist("actions")
        return render(
            request,
            "authorisation_new.html",
            {"form": form_values, "error": message, **_titles(request), **_page_user(user)},
            status=422,
        )
    return RedirectResponse(f"/me/authorisations/{a.code}", status_code=303)


@pages.get("/me/authorisations/{code}", response_class=HTMLResponse)
def detail(request: Request, db: DB, user: CurrentUser, code: str) -> Response:
    a = authz.get_or_404(db, code)
    _may_see(user, a)
    now = utcnow()
    status = authz.settle(db, a, now)
    chain = authz.chain_of(db, a)
    children = authz.children_of(db, a)
    codes = [a.code] + [c.code for c in children]
    return render(
        request,
        "authorisation_detail.html",
        {
            "a": a,
            "status": status,
            "chain": chain,
            "children": children,
            "events": authz.events(db, codes),
            "signature_problem": authz.signature_problem(db, a),
            "can_sign": a.status == "pending" and user.citizen_id == a.signatory_id,
            "can_revoke": status not in authz.ENDED
            and bool({a.grantor_id, a.principal_id, a.signatory_id} & set(identity_ids(user))),
            "notice": request.query_params.get("notice"),
            **_titles(request),
            **_page_user(user),
        },
    )


@pages.post("/me/authorisations/{code}/sign", response_class=HTMLResponse)
def sign_page(
    request: Request,
    db: DB,
    user: CurrentUser,
    code: str,
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    try:
        _sign(request, db, user, code, SignIn(password=password))
    except Problem as exc:
        db.rollback()
        reason = (
            tr(request, "密码错误，未签署", "Wrong password; not signed")
            if exc.type.slug == "invalid-credentials"
            else (exc.detail or "; ".join(e.reason for e in exc.errors))
        )
        return RedirectResponse(f"/me/authorisations/{code}?notice={reason}", status_code=303)
    return RedirectResponse(f"/me/authorisations/{code}", status_code=303)


@pages.post("/me/authorisations/{code}/revoke", response_class=HTMLResponse)
def revoke_page(
    db: DB, user: CurrentUser, code: str, reason: Annotated[str, Form(max_length=256)] = ""
) -> Response:
    authz.revoke(db, code, by=identity_ids(user), reason=reason, actor=user.username)
    return RedirectResponse(f"/me/authorisations/{code}", status_code=303)


# --- pages: 谁用了我的数据 ------------------------------------------------------------------------


@pages.get("/me/data-uses", response_class=HTMLResponse)
def data_uses(
    request: Request, db: DB, user: CurrentUser, before: Annotated[int | None, Query(ge=0)] = None
) -> Response:
    ids = identity_ids(user)
    page = 50
    rows = authz.entries_about(db, ids, before=before, limit=page + 1) if ids else []
    more = len(rows) > page
    rows = rows[:page]
    return render(
        request,
        "data_uses.html",
        {
            "entries": rows,
            "next_before": rows[-1].seq if more else None,
            "ledger_size": ledger.committed_size(db),
            "action_names": ACTION_NAMES,
            **_page_user(user),
        },
    )


# What each ledger action means to the person it is about.
ACTION_NAMES: dict[str, tuple[str, str]] = {
    "mandate.created": ("起草委托授权", "Mandate drafted"),
    "mandate.signed": ("签署委托授权", "Mandate signed"),
    "mandate.used": ("代理人凭委托办理", "Agent acted under the mandate"),
    "mandate.refused": ("代理人办理被拒绝", "Agent refused"),
    "mandate.checked": ("工作人员核查委托", "Officer checked a mandate"),
    "mandate.verified": ("工作人员核验授权码", "Officer verified the code"),
    "mandate.revoked": ("撤销委托授权", "Mandate revoked"),
    "mandate.expired": ("委托授权到期", "Mandate expired"),
    "mandate.exhausted": ("委托次数用完", "Mandate uses exhausted"),
    "cert_use.created": ("起草用证授权", "Certificate-use authorisation drafted"),
    "cert_use.signed": ("签署用证授权", "Certificate-use authorisation signed"),
    "cert_use.used": (
        "机构凭授权使用了我的证照或数据",
        "An institution used my certificate or data under my authorisation",
    ),
    "cert_use.refused": ("机构用证被拒绝", "Certificate use refused"),
    "cert_use.verified": ("工作人员核验授权码", "Officer verified the code"),
    "cert_use.revoked": ("撤销用证授权", "Certificate-use authorisation revoked"),
    "cert_use.expired": ("用证授权到期", "Certificate-use authorisation expired"),
    "cert_use.exhausted": ("用证次数用完", "Certificate-use authorisation exhausted"),
    "key.issued": ("签发个人签名密钥", "Personal signing key issued"),
    "channel.refused": ("数据通道调用被拒绝", "A data-channel call about me was refused"),
    "key.registered": ("登记个人签名密钥", "Personal signing key registered"),
    "key.revoked": ("注销个人签名密钥", "Personal signing key revoked"),
    "programs.explained": (
        "部门工作人员查看了我的政策核对依据",
        "An officer looked at why a policy applies to me",
    ),
    "programs.offered": ("部门主动向我推送政策", "A department offered me a policy"),
    "programs.rejected": ("部门核对后未予推送", "A department did not confirm a policy for me"),
    "programs.accepted": ("我确认领取政策待遇", "I accepted a policy's benefit"),
    "programs.declined": ("我谢绝了推送的政策", "I declined an offered policy"),
    "programs.applied": ("我补充信息申请政策", "I completed an application"),
    "programs.application_approved": ("部门批准我的申请", "My application was approved"),
    "programs.application_rejected": ("部门未批准我的申请", "My application was rejected"),
    "programs.granted": ("开始享受政策待遇", "Benefit granted"),
}


# --- pages: the officer's verification --------------------------------------------------------


@pages.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request, officer: Officer) -> Response:
    return render(
        request, "authorisation_verify.html", {"result": None, "code": "", **_titles(request)}
    )


@pages.post("/verify", response_class=HTMLResponse)
def verify_submit(
    request: Request,
    db: DB,
    officer: Officer,
    code: Annotated[str, Form(max_length=64)],
    purpose: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    why = purpose.strip() or "窗口核验"
    try:
        result = authz.verify_code(db, code, actor=officer.username, purpose=why)
    except Problem:
        message = tr(request, f"授权码 {code} 不存在", f"No authorisation with code {code}")
        return render(
            request,
            "authorisation_verify.html",
            {"result": None, "code": code, "error": message, **_titles(request)},
            status=404,
        )
    return render(
        request,
        "authorisation_verify.html",
        {"result": result, "code": result.authorisation.code, "error": None, **_titles(request)},
    )
