"""Mandates (委托授权) and certificate-use authorisations (用证授权) over HTTP:
``/api/v1/authorisations…``."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from shuhui.core.clock import utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import problem_answer
from shuhui.trust.authorisations import context
from shuhui.trust.authorisations import service as authz
from shuhui.trust.authorisations.context import (
    Officer,
    acting_as,
    identity_ids,
    may_see,
    signatory_of,
)
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.schemas import (
    AuthorisationOut,
    CertUseIn,
    CertUseUseIn,
    DecideIn,
    DecisionOut,
    EventOut,
    KeyIn,
    MandateIn,
    MandateUseIn,
    RevokeIn,
    SignIn,
    VerificationOut,
    VerifyCodeIn,
)
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.identity.deps import DB, CurrentUser
from shuhui.trust.ledger.models import LedgerEntry

api = APIRouter(prefix="/api/v1/authorisations", tags=["authorisations"])


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


def _refused(request: Request, decision: authz.Decision) -> JSONResponse:
    """The 403 for a refusal, answered rather than raised: the service has recorded the refusal
    in the ledger in this request's transaction, and a handler that returns commits it (one
    raising would roll it back)."""
    assert decision.reason is not None
    problem = Problem(
        "authorisation-refused",
        detail=decision.reason[1],
        errors=[FieldError("authorisation", decision.reason[0])],
        extra={"chain": list(decision.chain), "at_fault": decision.at_fault},
    )
    return problem_answer(request, problem)


@api.post("/mandates", response_model=AuthorisationOut, status_code=201, summary="Draft a mandate")
def create_mandate(
    request: Request, db: DB, user: CurrentUser, body: MandateIn
) -> AuthorisationOut:
    return _out(context.create_mandate(request, db, user, body))


@api.post(
    "/cert-uses",
    response_model=AuthorisationOut,
    status_code=201,
    summary="Draft a certificate-use authorisation",
)
def create_cert_use(
    request: Request, db: DB, user: CurrentUser, body: CertUseIn
) -> AuthorisationOut:
    return _out(context.create_cert_use(request, db, user, body))


@api.post(
    "/{code}/sign",
    response_model=AuthorisationOut,
    summary="Sign (activates it)",
    responses={
        403: {
            "description": "not the signatory; or the password was set by an administrator "
            "and the person has not yet set their own (recorded in the audit ledger)"
        }
    },
)
def sign(request: Request, db: DB, user: CurrentUser, code: str, body: SignIn) -> Response:
    try:
        signed = context.sign(request, db, user, code, body)
    except context.RecordedRefusal as refusal:
        return problem_answer(request, refusal)
    return JSONResponse(_out(signed).model_dump(mode="json"))


@api.post("/{code}/revoke", response_model=AuthorisationOut, summary="Revoke, with sub-delegations")
def revoke(db: DB, user: CurrentUser, code: str, body: RevokeIn) -> AuthorisationOut:
    a = authz.revoke(db, code, by=identity_ids(user), reason=body.reason, actor=user.username)
    return _out(a)


@api.post("/keys", status_code=201, summary="Register your own SM2 public key for signing")
def register_key(request: Request, db: DB, user: CurrentUser, body: KeyIn) -> Response:
    try:
        # Whoever set the password could otherwise register a key of theirs in the person's name.
        context.own_password_first(db, user, None, signatory_of(user), "")
    except context.RecordedRefusal as refusal:
        return problem_answer(request, refusal)
    row = authz.register_holder_key(
        db, signatory_of(user), body.public_key_pem, actor=user.username
    )
    return JSONResponse({"key_id": row.key_id, "custody": row.custody}, status_code=201)


# --- reading ----------------------------------------------------------------------------------


@api.get("", response_model=list[AuthorisationOut], summary="Authorisations I am party to")
def mine(db: DB, user: CurrentUser) -> list[AuthorisationOut]:
    now = utcnow()
    return [_out(a, now) for a in authz.involving(db, identity_ids(user))]


@api.get("/{code}", response_model=AuthorisationOut, summary="One authorisation (its parties)")
def show(db: DB, user: CurrentUser, code: str) -> AuthorisationOut:
    a = authz.get_or_404(db, code)
    may_see(user, a)
    return _out(a)


@api.get("/{code}/envelope", summary="Document, signature and key, to verify offline (OpenSSL)")
def envelope(db: DB, user: CurrentUser, code: str) -> dict[str, Any]:
    a = authz.get_or_404(db, code)
    may_see(user, a)
    return authz.envelope(db, a)


@api.get("/{code}/events", response_model=list[EventOut], summary="Every state change and use")
def events(db: DB, user: CurrentUser, code: str) -> list[EventOut]:
    a = authz.get_or_404(db, code)
    may_see(user, a)
    return [_event(e) for e in authz.events(db, [a.code])]


# --- using and checking -------------------------------------------------------------------------


@api.post("/mandates/use", response_model=DecisionOut, summary="Act for a principal (counts a use)")
def use_mandate(
    request: Request, db: DB, user: CurrentUser, body: MandateUseIn
) -> DecisionOut | JSONResponse:
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
        return _refused(request, decision)
    return DecisionOut(**decision.as_dict())


@api.post("/cert-uses/use", response_model=DecisionOut, summary="Use a holder's certificate")
def use_certificate(
    request: Request, db: DB, user: CurrentUser, body: CertUseUseIn
) -> DecisionOut | JSONResponse:
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
        return _refused(request, decision)
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
