"""Personal signing keys: a platform-held key (云签名, its private half a key file in
``<data dir>/keys/people/``) or a key the person holds (the platform knows the public half).
A person has one active key at a time; issuing, registering and replacing keys are in the ledger.

When someone other than the holder sets an account's password (an admin's reset, the operator's
``shuhui users passwd``), the person's platform-held key is revoked at once, in that transaction
(identity calls :func:`_password_set_by_someone_else`, registered below): whoever set the
password could otherwise sign with it. What was signed before stays valid (a signature is
checked against the key's revocation time). A new key is issued at the next signature after
the person has set their own password (``context.sign`` refuses until then)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Final, NamedTuple, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.authorisations.models import PersonalKey
from shuhui.trust.crypto import keystore
from shuhui.trust.crypto.sm import SM2PrivateKey, SM2PublicKey
from shuhui.trust.identity import service as identity
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger

PERSONAL_KEYS: Final = cast(Table, PersonalKey.__table__)


# The signer's key as a decision reads it: a Core statement built once (an ORM select of the
# same columns costs the ORM's compile step on every call).
SIGNER_KEY: Final = select(
    PERSONAL_KEYS.c.citizen_id, PERSONAL_KEYS.c.revoked_at, PERSONAL_KEYS.c.public_key_pem
).where(PERSONAL_KEYS.c.key_id == bindparam("key_id"))


class Signer(NamedTuple):
    """A signing key as a signature is checked against it (the columns of :data:`SIGNER_KEY`)."""

    citizen_id: str
    revoked_at: datetime | None
    public_key_pem: str


PERSONAL_KEY_DIR: Final = Path("keys") / "people"


def personal_key_path(data_dir: Path, key_id: str) -> Path:
    if not key_id.isalnum():
        raise ValueError(f"bad key id {key_id!r}")
    return data_dir / PERSONAL_KEY_DIR / f"{key_id}.pem"


def platform_private_key(data_dir: Path, key_id: str) -> SM2PrivateKey:
    """The private half of a platform-held key; its absence is the platform's fault, not the
    person's, so it is an error, not a refusal."""
    path = personal_key_path(data_dir, key_id)
    key = keystore.read(path)
    if key is None:
        raise FileNotFoundError(path)
    return key


def active_key(db: Session, citizen_id: str) -> PersonalKey | None:
    return db.scalar(
        select(PersonalKey)
        .where(PersonalKey.citizen_id == citizen_id, PersonalKey.revoked_at.is_(None))
        .order_by(PersonalKey.id.desc())
    )


def _new_key(
    db: Session, citizen_id: str, public: SM2PublicKey, custody: str, *, actor: str
) -> PersonalKey:
    """Stores a person's new signing key; a person has one at a time, so earlier ones end."""
    now = utcnow()
    for old in db.scalars(
        select(PersonalKey).where(
            PersonalKey.citizen_id == citizen_id, PersonalKey.revoked_at.is_(None)
        )
    ):
        old.revoked_at = now
        ledger.record(db, actor, "key.revoked", subject=citizen_id, detail={"key_id": old.key_id})
    row = PersonalKey(
        citizen_id=citizen_id,
        key_id=public.fingerprint(),
        public_key_pem=public.to_pem(),
        custody=custody,
        created_at=now,
    )
    db.add(row)
    db.flush()
    held = "platform custody" if custody == "platform" else "held by the person"
    ledger.record(
        db,
        actor,
        "key.issued" if custody == "platform" else "key.registered",
        subject=citizen_id,
        purpose=f"personal signing key ({held})",
        detail={"key_id": row.key_id, "algorithm": "SM2", "custody": custody},
    )
    return row


def issue_platform_key(db: Session, data_dir: Path, citizen_id: str, *, actor: str) -> PersonalKey:
    """A platform-held key (云签名) for a person, replacing any earlier active key."""
    key = SM2PrivateKey.generate()
    row = _new_key(db, citizen_id, key.public_key, "platform", actor=actor)
    keystore.write(personal_key_path(data_dir, row.key_id), key)
    return row


def register_holder_key(
    db: Session, citizen_id: str, public_key_pem: str, *, actor: str
) -> PersonalKey:
    """Registers a key the person holds themself (e.g. ``openssl genpkey -algorithm SM2``)."""
    try:
        public = SM2PublicKey.from_pem(public_key_pem)
    except ValueError as exc:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "public_key_pem", Text("不是有效的 SM2 公钥", f"not an SM2 public key: {exc}")
                )
            ],
        ) from None
    if db.scalar(select(PersonalKey).where(PersonalKey.key_id == public.fingerprint())):
        raise Problem(
            "conflict",
            errors=[
                FieldError("public_key_pem", Text("这个密钥已经登记过", "key already registered"))
            ],
        )
    return _new_key(db, citizen_id, public, "holder", actor=actor)


def revoke_platform_keys(db: Session, citizen_id: str, *, actor: str, reason: str) -> int:
    """Revokes the person's active platform-held key (a key they hold themself stays: nobody
    else has its private half). Returns how many were revoked."""
    now = utcnow()
    revoked = 0
    for key in db.scalars(
        select(PersonalKey).where(
            PersonalKey.citizen_id == citizen_id,
            PersonalKey.revoked_at.is_(None),
            PersonalKey.custody == "platform",
        )
    ):
        key.revoked_at = now
        revoked += 1
        ledger.record(
            db,
            actor,
            "key.revoked",
            subject=citizen_id,
            purpose="password set by someone other than the holder",
            detail={"key_id": key.key_id, "custody": key.custody, "reason": reason},
        )
    db.flush()
    return revoked


def _password_set_by_someone_else(db: Session, user: User, actor: str) -> None:
    if user.citizen_id:
        revoke_platform_keys(
            db, user.citizen_id, actor=actor, reason=f"password of {user.username} set by {actor}"
        )


identity.on_password_set_for("authorisations.keys", _password_set_by_someone_else)
