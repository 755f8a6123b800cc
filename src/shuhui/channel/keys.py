"""API keys: issued to a consumer for some of its active grants (the secret shown once),
rotated and revoked; and what the gateway remembers about a key between calls."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.channel.common import REVISION, as_json, bump
from shuhui.channel.grants import grant_active, grants
from shuhui.channel.models import ApiKey, Consumer, Grant
from shuhui.channel.onboarding import member_zones
from shuhui.core.clock import as_utc, utcnow
from shuhui.core.errors import Problem, invalid
from shuhui.core.i18n import Text
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.ledger import service as ledger

KEY_PREFIX: Final = "shk_"
KEY_DAYS: Final = 366


def digest(secret: str) -> str:
    # Keys are 256 random bits: a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(api_key: str) -> tuple[str, str] | None:
    parts = api_key.split("_", 2)  # the secret part may hold "_" itself
    if len(parts) != 3 or parts[0] + "_" != KEY_PREFIX or len(parts[1]) != 8:
        return None
    return parts[1], api_key


def issue_key(
    db: Session,
    consumer: Consumer,
    *,
    grant_codes: Sequence[str],
    label: str,
    actor: str,
    days: int = KEY_DAYS,
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key for some of the consumer's active grants; the secret is returned once."""
    now = as_utc(now or utcnow())
    wanted = sorted(set(grant_codes))
    if not wanted:
        raise invalid(
            "grants",
            Text("一个密钥至少要用于一项已批准的使用许可", "a key serves at least one grant"),
        )
    held = {g.code: g for g in grants(db, consumer.id)}
    for code in wanted:
        if code not in held or not grant_active(held[code], now):
            raise invalid(
                "grants",
                Text(
                    f"{code} 不是本单位有效的使用许可",
                    f"{code}: not an active grant of this consumer",
                ),
            )
    if not label.strip() or len(label) > 64:
        raise invalid("label", Text("1 到 64 个字", "1-64 characters"))
    if not 1 <= days <= KEY_DAYS:
        raise invalid("days", f"1-{KEY_DAYS}")
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        prefix=prefix,
        digest=digest(secret),
        consumer_id=consumer.id,
        label=label.strip(),
        grants=as_json(wanted),
        created_at=now,
        created_by=actor,
        expires_at=now + timedelta(days=days),
    )
    db.add(key)
    db.flush()
    bump(db)
    ledger.record(
        db,
        actor,
        "channel.key.issued",
        detail={"consumer": consumer.credit_code, "key": prefix, "grants": list[JsonValue](wanted)},
    )
    return key, secret


def consumer_keys(db: Session, consumer_id: int) -> list[ApiKey]:
    return list(
        db.scalars(
            select(ApiKey).where(ApiKey.consumer_id == consumer_id).order_by(ApiKey.id.desc())
        )
    )


def own_key(db: Session, consumer: Consumer, prefix: str) -> ApiKey:
    key = db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or key.consumer_id != consumer.id:
        raise Problem("not-found", detail=f"没有密钥 {prefix}")
    return key


def revoke_key(
    db: Session, consumer: Consumer, prefix: str, *, actor: str, now: datetime | None = None
) -> ApiKey:
    now = as_utc(now or utcnow())
    key = own_key(db, consumer, prefix)
    if key.revoked_at is not None:
        raise Problem("conflict", detail="该密钥已撤销")
    key.revoked_at = now
    bump(db)
    ledger.record(
        db, actor, "channel.key.revoked", detail={"consumer": consumer.credit_code, "key": prefix}
    )
    return key


def rotate_key(
    db: Session, consumer: Consumer, prefix: str, *, actor: str, now: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key with the same grants; the old one stops working at once."""
    now = as_utc(now or utcnow())
    old = own_key(db, consumer, prefix)
    if old.revoked_at is not None:
        raise Problem("conflict", detail="该密钥已撤销，不能轮换")
    active = [
        c
        for c in json.loads(old.grants)
        if any(g.code == c and grant_active(g, now) for g in grants(db, consumer.id))
    ]
    new, secret = issue_key(db, consumer, grant_codes=active, label=old.label, actor=actor, now=now)
    old.revoked_at, old.replaced_by = now, new.prefix
    bump(db)
    ledger.record(
        db,
        actor,
        "channel.key.rotated",
        detail={"consumer": consumer.credit_code, "key": prefix, "new_key": new.prefix},
    )
    return new, secret


# --- what the gateway remembers about a key ----------------------------------------------------


@dataclass(frozen=True)
class KeyFacts:
    """A key as the gateway needs it: the key, its consumer, its grants, the zones joined, and
    the channel's revision the call found (what the hosted products are read at)."""

    key: ApiKey
    grants: list[Grant]
    zones: frozenset[str]
    revision: int = 0


class KeyCache:
    """Keys looked up at a channel revision, kept while the revision stands: a call reads one
    number instead of the key, its grants and the consumer's zones. A revoked key, grant or
    membership bumps the revision in the same transaction, so the next call sees it."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._keys: dict[str, KeyFacts | None] = {}

    def facts(self, db: Session, prefix: str) -> KeyFacts | None:
        revision = int(db.execute(REVISION).scalar_one())
        with self._lock:
            if revision != self._revision:
                self._keys.clear()
                self._revision = revision
            if prefix in self._keys:  # read at this very revision: they carry it
                return self._keys[prefix]
        key = db.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        found = None
        if key is not None:
            codes = set(json.loads(key.grants))
            held = [g for g in grants(db, key.consumer_id) if g.code in codes]
            found = KeyFacts(key, held, frozenset(member_zones(db, key.consumer_id)), revision)
        with self._lock:
            if revision == self._revision:
                if len(self._keys) >= self.capacity:
                    self._keys.clear()
                self._keys[prefix] = found
        return found
