"""The platform's own SM2 key, which signs the ledger's checkpoints, and its issuance in the ledger.

Kept as PKCS#8 PEM in the data directory, readable only by its owner. An operator can replace it
with a key from an HSM export or ``openssl genpkey -algorithm SM2``.

A key is put in place by :func:`ensure_platform_key` — which ``shuhui db upgrade``, ``demo``,
``serve``, ``data load``, ``synth`` and ``audit verify`` call — and that writes a ``key.issued``
ledger entry whose subject is the key's fingerprint. The entry is committed *before* the key file
appears, so a crash can leave an entry for a key that never came into use, never a key in use that
the ledger does not name. A key file that is there without an entry (a key an operator put in
place, one made by an older version, or one :func:`platform_key` had to make) is recorded by the
next of those commands, with ``"origin": "found"``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.locks import flocked
from shuhui.core.settings import Settings
from shuhui.trust.crypto import keystore
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.models import LedgerEntry

KEY_FILE = Path("keys") / "platform-sm2.pem"
LOCK_FILE = Path("keys") / "platform-sm2.lock"
ISSUED = "key.issued"

log = logging.getLogger("shuhui.trust.ledger.keys")


def platform_key(data_dir: Path) -> SM2PrivateKey:
    """The key in place, for the web app; ``shuhui db upgrade`` (or ``serve``) put it there.

    If there is none — an app on a database migrated some other way, as in tests — one is made
    here and a warning logged: this function does not touch the database, so the key is not yet in
    the ledger, and the next ``shuhui db upgrade``, ``serve`` or ``demo`` records it.
    """
    with flocked(data_dir / LOCK_FILE):
        key = _read(data_dir)
        if key is None:
            key = SM2PrivateKey.generate()
            keystore.put_in_place(keystore.stage(data_dir / KEY_FILE, key), data_dir / KEY_FILE)
            log.warning(
                "platform key %s created without a ledger entry; "
                "`shuhui db upgrade` records its issuance",
                key.public_key.short_id,
            )
    return key


def ensure_platform_key(settings: Settings, actor: str, *, adopt: bool = True) -> SM2PrivateKey:
    """The platform key, issued (and recorded as ``key.issued`` by ``actor``) if there is none.

    With ``adopt``, a key file already there whose fingerprint no ``key.issued`` entry names is
    recorded now. ``shuhui audit verify`` passes ``adopt=False``: checking the ledger does not
    write to it unless it has to issue the key it checks with.
    Needs the ledger's tables: call it after migrating (and after the ledger's hash is settled,
    since the entry may be the ledger's first).
    """
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    try:
        # One process at a time decides, so two starting together issue one key and one entry.
        with flocked(settings.data_dir / LOCK_FILE):
            key = _read(settings.data_dir)
            if key is not None:
                if adopt:
                    with transaction(sessions) as db:
                        if not issued(db, key.public_key.fingerprint()):
                            _record(db, actor, key, "found")
                return key
            key = SM2PrivateKey.generate()
            path = settings.data_dir / KEY_FILE
            staged = keystore.stage(path, key)
            try:
                with transaction(sessions) as db:
                    _record(db, actor, key, "generated")
                # Under the lock, and the key file was absent when it was taken.
                keystore.put_in_place(staged, path, replace=True)
            finally:
                staged.unlink(missing_ok=True)
            return key
    finally:
        engine.dispose()


def issued(db: Session, fingerprint: str) -> bool:
    """Whether a ``key.issued`` entry names the key with this fingerprint."""
    found = db.scalar(
        select(LedgerEntry.seq)
        .where(LedgerEntry.action == ISSUED, LedgerEntry.subject == fingerprint)
        .limit(1)
    )
    return found is not None


def _record(
    db: Session, actor: str, key: SM2PrivateKey, origin: Literal["generated", "found"]
) -> None:
    public = key.public_key
    ledger.record(
        db,
        actor,
        ISSUED,
        subject=public.fingerprint(),
        detail={
            "purpose": "ledger checkpoints",
            "algorithm": "SM2",
            "public_key_pem": public.to_pem(),
            "file": str(KEY_FILE),
            "origin": origin,
        },
    )


def _read(data_dir: Path) -> SM2PrivateKey | None:
    return keystore.read(data_dir / KEY_FILE)
