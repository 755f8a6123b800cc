"""Authorisations on the workbench of a person or an enterprise: what they granted that is about
to lapse, drafts waiting for their signature, and who used their data lately (谁用了我的数据).
Counts only, over the indexed party and subject columns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.workbench import Todo
from shuhui.trust.authorisations.context import identity_ids
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger.models import LedgerEntry

EXPIRING_WITHIN: Final = timedelta(days=30)
RECENT_USES: Final = timedelta(days=7)


def count_expiring(
    db: Session, identities: Sequence[str], *, now: datetime, within: timedelta = EXPIRING_WITHIN
) -> int:
    """Active authorisations granted by or for ``identities`` that end within ``within``."""
    if not identities:
        return 0
    query = select(func.count()).where(
        or_(
            Authorisation.principal_id.in_(identities),
            Authorisation.grantor_id.in_(identities),
        ),
        Authorisation.status == "active",
        Authorisation.valid_to > now,
        Authorisation.valid_to <= now + within,
    )
    return int(db.scalar(query) or 0)


def count_to_sign(db: Session, identities: Sequence[str]) -> int:
    """Drafts naming one of ``identities`` as grantor, not yet signed."""
    if not identities:
        return 0
    query = select(func.count()).where(
        Authorisation.grantor_id.in_(identities), Authorisation.status == "pending"
    )
    return int(db.scalar(query) or 0)


def count_recent_uses(
    db: Session, identities: Sequence[str], username: str, *, since: datetime
) -> int:
    """Ledger entries about ``identities`` since ``since`` made by someone else: uses of their
    data, decisions about them, refusals."""
    if not identities:
        return 0
    query = select(func.count()).where(
        LedgerEntry.subject.in_(identities),
        LedgerEntry.recorded_at >= since,
        LedgerEntry.actor != username,
    )
    return int(db.scalar(query) or 0)


def todos(db: Session, user: User, *, now: datetime | None = None) -> list[Todo]:
    if not user.role_set & {Role.citizen, Role.enterprise}:
        return []
    now = as_utc(now or utcnow())
    ids = identity_ids(user)
    expiring = count_expiring(db, ids, now=now)
    return [
        Todo(
            "authorisations.expiring",
            "30 天内到期的授权",
            "Authorisations ending within 30 days",
            expiring,
            "/me/authorisations",
            "到期后对方将不能再使用，如需继续请重新授权",
            "Once ended the other party can no longer use them; grant again to continue",
            urgent=expiring > 0,
        ),
        Todo(
            "authorisations.to_sign",
            "待签署的授权",
            "Authorisations to sign",
            count_to_sign(db, ids),
            "/me/authorisations",
            "已起草但尚未签署，签署后才生效",
            "Drafted but not signed: they take effect once signed",
        ),
        Todo(
            "authorisations.uses",
            "近 7 天使用我的数据",
            "Uses of my data in the last 7 days",
            count_recent_uses(db, ids, user.username, since=now - RECENT_USES),
            "/me/data-uses",
            "谁在什么时候、为什么用了您的数据",
            "Who used your data, when and why",
        ),
    ]
