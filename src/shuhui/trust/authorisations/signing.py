"""Signing and what follows: checking a row against what was signed, the signatory's
signature (platform key after re-authentication, or their own), revocation with the
sub-delegations, and the ends a state change records (expired, exhausted)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.authorisations.keys import (
    SIGNER_KEY,
    Signer,
    active_key,
    issue_platform_key,
    platform_private_key,
)
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.terms import (
    ENDED,
    R_PENDING,
    R_SIGNATURE,
    R_TAMPERED,
    Link,
    children_of,
    document_of,
    effective_status,
    get_or_404,
    iso,
    status_zh,
)
from shuhui.trust.crypto.canonical import canonical_json
from shuhui.trust.crypto.sm import SM2PublicKey, sm3_hex, verify
from shuhui.trust.ledger import service as ledger


def signature_problem(
    db: Session, a: Link, signers: Mapping[str, Signer | None] | None = None
) -> tuple[str, str] | None:
    """None if the row is exactly what its signatory signed, with a key registered to them.
    ``signers``: keys read already with the row, by key id (None: no such key)."""
    if a.document != canonical_json(document_of(a)):
        return R_TAMPERED
    if a.signature is None or a.key_id is None:
        return R_PENDING
    if signers is not None and a.key_id in signers:
        key = signers[a.key_id]
    else:
        found = db.execute(SIGNER_KEY, {"key_id": a.key_id}).first()
        key = None if found is None else Signer(*found)
    if key is None or key.citizen_id != a.signatory_id:
        return R_SIGNATURE
    revoked = None if key.revoked_at is None else as_utc(key.revoked_at)
    if revoked is not None and a.signed_at is not None and revoked < a.signed_at:
        return R_SIGNATURE
    if not _verifies(key.public_key_pem, bytes(a.document), bytes(a.signature)):
        return R_SIGNATURE
    return None


@lru_cache(maxsize=16_384)
def _verifies(public_key_pem: str, document: bytes, signature: bytes) -> bool:
    """SM2 verification, remembered: every decision re-checks every link of its chain, and a
    data-channel check on one person repeats the same (key, document, signature) each call.
    The cache is keyed by the exact bytes, so an edited row is verified afresh (and fails)."""
    return verify(SM2PublicKey.from_pem(public_key_pem), document, signature)


def sign(
    db: Session,
    data_dir: Path,
    code: str,
    *,
    signer_citizen_id: str,
    signature: bytes | None = None,
    actor: str,
    now: datetime | None = None,
) -> Authorisation:
    """The signatory signs: with their platform key (after re-authentication, which the caller
    has done), or by handing over a signature made with the key they hold."""
    now = as_utc(now or utcnow())
    a = get_or_404(db, code)
    if a.signatory_id != signer_citizen_id:
        raise Problem(
            "forbidden",
            detail="只有授权的签署人可以签署",
            errors=[FieldError("code", Text("您不是这份授权的签署人", "not the signatory"))],
        )
    if a.status != "pending":
        raise Problem(
            "conflict",
            errors=[
                FieldError(
                    "code", Text(f"这份授权已是“{status_zh(a.status)}”", f"already {a.status}")
                )
            ],
        )
    if a.parent_code is not None:
        parent = get_or_404(db, a.parent_code)
        status = effective_status(parent, now)
        if status != "active":
            raise Problem(
                "conflict",
                errors=[
                    FieldError(
                        "parent",
                        Text(
                            f"上级委托的状态是“{status_zh(status)}”",
                            f"the parent mandate is {status}",
                        ),
                    )
                ],
            )
    key = active_key(db, signer_citizen_id)
    if signature is None:
        if key is None or key.custody != "platform":
            key = issue_platform_key(db, data_dir, signer_citizen_id, actor=actor)
        signature = platform_private_key(data_dir, key.key_id).sign(a.document)
    else:
        if key is None or key.custody != "holder":
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "signature",
                        Text("请先登记您自己的公钥", "register your own public key first"),
                    )
                ],
            )
        if not verify(SM2PublicKey.from_pem(key.public_key_pem), a.document, signature):
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "signature",
                        Text(
                            "用您的密钥核验签名未通过",
                            "does not verify over the document with your key",
                        ),
                    )
                ],
            )
    a.key_id = key.key_id
    a.signature = signature
    a.signed_at = now.replace(microsecond=0)
    a.status = "active"
    db.flush()
    ledger.record(
        db,
        actor,
        f"{a.kind}.signed",
        subject=a.principal_id,
        purpose=a.purpose,
        grant=a.code,
        detail={"key_id": key.key_id, "custody": key.custody, "document_sm3": sm3_hex(a.document)},
    )
    return a


def revoke(
    db: Session,
    code: str,
    *,
    by: Sequence[str],
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> Authorisation:
    """Revokes an authorisation and every sub-delegation made from it.

    ``by`` are the identities of whoever asks; the grantor, the principal or the signatory may
    revoke (the principal can always take back what is done in their name)."""
    now = as_utc(now or utcnow())
    a = get_or_404(db, code)
    if not {a.grantor_id, a.principal_id, a.signatory_id} & set(by):
        raise Problem("forbidden", detail="只有授权人可以撤销授权")
    why = " ".join(reason.split())[:256] or "revoked by the grantor"
    status = effective_status(a, now)
    if status in ENDED:
        raise Problem(
            "conflict",
            errors=[
                FieldError("code", Text(f"这份授权已是“{status_zh(status)}”", f"already {status}"))
            ],
        )
    end(db, a, "revoked", why, actor, now)
    for child in children_of(db, a):
        if effective_status(child, now) not in ENDED:
            end(db, child, "revoked", f"parent {child.parent_code} revoked", actor, now)
    return a


def end(
    db: Session,
    a: Authorisation,
    status: str,
    reason: str,
    actor: str,
    now: datetime,
    entries: list[ledger.Entry] | None = None,
) -> None:
    """Ends ``a``; its ledger entry goes to ``entries`` if given (the caller appends them in
    order), else straight to the ledger."""
    before = a.status
    a.status = status
    a.ended_at = now.replace(microsecond=0)
    a.end_reason = reason
    db.flush()
    append_entry(
        db,
        entries,
        ledger.Entry(
            actor,
            f"{a.kind}.{status}",
            subject=a.principal_id,
            purpose=a.purpose,
            grant=a.code,
            detail={"from": before, "reason": reason},
        ),
    )


def append_entry(db: Session, entries: list[ledger.Entry] | None, entry: ledger.Entry) -> None:
    if entries is None:
        ledger.record_many(db, [entry])
    else:
        entries.append(entry)


def settle(db: Session, a: Authorisation, now: datetime, actor: str = "system") -> str:
    """Records an expiry the clock has brought about, the first time anyone looks."""
    status = effective_status(a, now)
    if status != a.status:
        end(db, a, status, f"validity ended {iso(a.valid_to)}", actor, now)
    return status
