"""Reading: the authorisations someone is party to, their events, the ledger entries about a
person (谁用了我的数据) and the envelope to verify a signature offline."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shuhui.trust.authorisations.models import Authorisation, PersonalKey
from shuhui.trust.authorisations.terms import FORMAT
from shuhui.trust.ledger.models import LedgerEntry


def involving(db: Session, identities: Sequence[str]) -> list[Authorisation]:
    """Authorisations someone granted, is subject of, signed, or received; newest first."""
    if not identities:
        return []
    return list(
        db.scalars(
            select(Authorisation)
            .where(
                or_(
                    Authorisation.principal_id.in_(identities),
                    Authorisation.grantor_id.in_(identities),
                    Authorisation.signatory_id.in_(identities),
                    Authorisation.grantee_id.in_(identities),
                )
            )
            .order_by(Authorisation.id.desc())
        )
    )


def is_party(a: Authorisation, identities: Iterable[str]) -> bool:
    return bool({a.principal_id, a.grantor_id, a.signatory_id, a.grantee_id} & set(identities))


def events(db: Session, codes: Sequence[str], limit: int = 500) -> list[LedgerEntry]:
    """Every ledger entry about these authorisations: state changes, uses, refusals, checks."""
    return list(
        db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.grant.in_(codes))
            .order_by(LedgerEntry.seq.desc())
            .limit(limit)
        )
    )


def entries_about(
    db: Session, subjects: Sequence[str], *, before: int | None = None, limit: int = 50
) -> list[LedgerEntry]:
    """Ledger entries whose subject is one of ``subjects``, newest first (谁用了我的数据)."""
    query = select(LedgerEntry).where(LedgerEntry.subject.in_(subjects))
    if before is not None:
        query = query.where(LedgerEntry.seq < before)
    return list(db.scalars(query.order_by(LedgerEntry.seq.desc()).limit(limit)))


def envelope(db: Session, a: Authorisation) -> dict[str, Any]:
    """Everything a third party needs to check the signature offline."""
    key = (
        None
        if a.key_id is None
        else db.scalar(select(PersonalKey).where(PersonalKey.key_id == a.key_id))
    )
    return {
        "format": FORMAT,
        "document": base64.b64encode(a.document).decode("ascii"),
        "signature": None if a.signature is None else base64.b64encode(a.signature).decode("ascii"),
        "key_id": a.key_id,
        "public_key_pem": None if key is None else key.public_key_pem,
        "distinguishing_id": "1234567812345678",
    }
