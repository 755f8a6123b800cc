"""Deciding: may this agent act, may this party use this certificate, now? Every link of
the chain is re-verified; candidates and links are read as rows. And the officer's verification
of an authorisation code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.trust.authorisations.keys import PERSONAL_KEYS, SIGNER_KEY, Signer
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.signing import settle, signature_problem
from shuhui.trust.authorisations.terms import (
    AUTHORISATIONS,
    R_ACTION,
    R_CERT,
    R_EXHAUSTED,
    R_EXPIRED,
    R_NONE,
    R_NOT_YET,
    R_PENDING,
    R_PURPOSE,
    R_REVOKED,
    R_SCOPE,
    Link,
    LinkRow,
    Party,
    actions_of,
    chain_of,
    effective_status,
    get_or_404,
    normalise_purpose,
    scope_of,
)
from shuhui.trust.ledger import service as ledger


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: tuple[str, str] | None = None
    chain: tuple[str, ...] = ()
    # The link at fault when refused (None when no authorisation applies at all).
    at_fault: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": None if self.reason is None else self.reason[0],
            "reason_zh": None if self.reason is None else self.reason[1],
            "chain": list(self.chain),
            "at_fault": self.at_fault,
        }


@dataclass
class _Candidate:
    links: list[Link]
    covers: bool
    failure: tuple[str, str] | None = None
    at_fault: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def state_failure(
    db: Session, link: Link, now: datetime, signers: Mapping[str, Signer | None] | None = None
) -> tuple[str, str] | None:
    problem = signature_problem(db, link, signers)
    if problem is not None:
        return problem
    status = effective_status(link, now)
    if status == "revoked":
        return R_REVOKED
    if status == "expired":
        return R_EXPIRED
    if status == "exhausted" or (link.max_uses is not None and link.uses >= link.max_uses):
        return R_EXHAUSTED
    if status == "pending":
        return R_PENDING
    if now < link.valid_from:
        return R_NOT_YET
    return None


def _decide(
    db: Session,
    candidates: list[LinkRow],
    now: datetime,
    covers: Any,
    signers: Mapping[str, Signer | None] | None = None,
) -> Decision:
    found: list[_Candidate] = []
    for leaf in candidates:
        links = chain_of(db, leaf)
        scope_failure = None
        for link in links:
            scope_failure = covers(link)
            if scope_failure is not None:
                break
        found.append(_Candidate(links, scope_failure is None, scope_failure, leaf.code))
    for cand in found:
        if not cand.covers:
            continue
        for link in cand.links:
            failure = state_failure(db, link, now, signers)
            if failure is not None:
                cand.failure, cand.at_fault = failure, link.code
                break
        else:
            return Decision(True, None, tuple(link.code for link in cand.links), None)
    if not found:
        return Decision(False, R_NONE)
    # Say the most useful thing: why a covering authorisation does not apply, else why none covers.
    best = next((c for c in found if c.covers), found[0])
    return Decision(False, best.failure, tuple(link.code for link in best.links), best.at_fault)


def _candidates(kind: str) -> Any:
    """The authorisations of one kind from a principal to a grantee, newest first, each with
    its signer's key: a statement built once, with the parties bound per decision (building it
    per call cost as much as running it). The key comes in the same read, where a read of its
    own was one more round trip for every data-channel call."""
    columns = AUTHORISATIONS.c
    return (
        select(
            AUTHORISATIONS,
            *(c.label(f"signer_{c.name}") for c in SIGNER_KEY.selected_columns),
        )
        .select_from(
            AUTHORISATIONS.outerjoin(PERSONAL_KEYS, PERSONAL_KEYS.c.key_id == columns.key_id)
        )
        .where(
            columns.kind == kind,
            columns.grantee_kind == bindparam("grantee_kind"),
            columns.grantee_id == bindparam("grantee_id"),
            columns.principal_id == bindparam("principal_id"),
        )
        .order_by(columns.id.desc())
    )


CANDIDATES: Final = {kind: _candidates(kind) for kind in ("mandate", "cert_use")}
_LINK_COLUMNS: Final = len(AUTHORISATIONS.c)
_LINK_NAMES: Final = tuple(c.name for c in AUTHORISATIONS.c)


def _newest_first(
    db: Session, kind: str, grantee: Party, principal_id: str
) -> tuple[list[LinkRow], dict[str, Signer | None]]:
    """The candidates, and their signers' keys by key id (None: no such key)."""
    db.flush()  # as an ORM query would: the rows must include this session's changes
    rows = db.execute(
        CANDIDATES[kind],
        {"grantee_kind": grantee.kind, "grantee_id": grantee.id, "principal_id": principal_id},
    )
    links, signers = [], {}
    for row in rows:
        link = LinkRow(**dict(zip(_LINK_NAMES, row[:_LINK_COLUMNS], strict=True)))
        links.append(link)
        if link.key_id is not None:
            citizen_id, revoked_at, public_key_pem = row[_LINK_COLUMNS:]
            signers[link.key_id] = (
                None if citizen_id is None else Signer(citizen_id, revoked_at, public_key_pem)
            )
    return links, signers


def decide_mandate(
    db: Session,
    *,
    agent: Party,
    action: str,
    matter: str,
    principal_id: str,
    now: datetime | None = None,
) -> Decision:
    """May ``agent`` do ``action`` on service item ``matter`` for ``principal_id`` now?"""
    now = as_utc(now or utcnow())
    candidates, signers = _newest_first(db, "mandate", agent, principal_id)

    def covers(link: Link) -> tuple[str, str] | None:
        if matter not in scope_of(link):
            return R_SCOPE
        if action not in actions_of(link):
            return R_ACTION
        return None

    return _decide(db, candidates, now, covers, signers)


def decide_cert_use(
    db: Session,
    *,
    relying_party: Party,
    holder_id: str,
    certificate_type: str,
    purpose: str,
    certificate_no: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """May ``relying_party`` use the holder's certificate of this type for this purpose now?"""
    now = as_utc(now or utcnow())
    what = normalise_purpose(purpose)
    candidates, signers = _newest_first(db, "cert_use", relying_party, holder_id)

    def covers(link: Link) -> tuple[str, str] | None:
        if certificate_type not in scope_of(link):
            return R_CERT
        if link.certificate_no is not None and link.certificate_no != certificate_no:
            return R_CERT
        if link.purpose != what:
            return R_PURPOSE
        return None

    return _decide(db, candidates, now, covers, signers)


@dataclass(frozen=True)
class Verification:
    authorisation: Authorisation
    status: str
    signature_valid: bool
    problem: tuple[str, str] | None
    chain: list[Link]
    chain_problem: tuple[str, str] | None


def verify_code(
    db: Session, code: str, *, actor: str, purpose: str, now: datetime | None = None
) -> Verification:
    """An officer checks an authorisation code; the check itself is recorded for the principal."""
    now = as_utc(now or utcnow())
    a = get_or_404(db, code)
    status = settle(db, a, now, actor="system")
    problem = signature_problem(db, a)
    chain = chain_of(db, a)
    chain_problem = None
    for link in chain[:-1]:
        failure = state_failure(db, link, now)
        if failure is not None:
            chain_problem = (f"{link.code}: {failure[0]}", f"上级授权 {link.code}：{failure[1]}")
            break
    ledger.record(
        db,
        actor,
        f"{a.kind}.verified",
        subject=a.principal_id,
        purpose=purpose,
        grant=a.code,
        detail={
            "status": status,
            "signature_valid": problem is None or problem == R_PENDING,
        },
    )
    return Verification(a, status, problem is None, problem, chain, chain_problem)
