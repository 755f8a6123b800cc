"""The platform key: issued once, recorded in the ledger before it is in use, never silently."""

from __future__ import annotations

import getpass
import json
import logging
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from shuhui.core.db import make_engine, make_session_factory
from shuhui.core.settings import Settings
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.ledger.keys import KEY_FILE, ensure_platform_key, platform_key
from shuhui.trust.ledger.models import LedgerEntry

pytestmark = pytest.mark.both_backends


def ledger_entries(url: str, action: str | None = None) -> list[dict[str, Any]]:
    """The ledger's entries as recorded (the hashed JSON), oldest first; of one action if given."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            query = select(LedgerEntry.leaf).order_by(LedgerEntry.seq)
            if action is not None:
                query = query.where(LedgerEntry.action == action)
            return [json.loads(leaf) for leaf in db.scalars(query)]
    finally:
        engine.dispose()


def key_on_disk(data_dir: Path) -> SM2PrivateKey:
    return SM2PrivateKey.from_pem((data_dir / KEY_FILE).read_text())


def shuhui(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shuhui.cli", *args], capture_output=True, text=True,
        timeout=120, check=False,
        env={**os.environ, "SHUHUI_DATA_DIR": str(settings.data_dir),
             "SHUHUI_DATABASE_URL": settings.sqlalchemy_url},
    )  # fmt: skip


def test_db_upgrade_leaves_a_fresh_instance_with_its_key_issued_in_the_ledger(
    settings: Settings,
) -> None:
    first = shuhui(settings, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    key = key_on_disk(settings.data_dir)
    assert stat.S_IMODE((settings.data_dir / KEY_FILE).stat().st_mode) == 0o600
    (entry,) = ledger_entries(settings.sqlalchemy_url)
    assert (entry["seq"], entry["actor"], entry["action"]) == (
        0,
        f"cli:{getpass.getuser()}",
        "key.issued",
    )
    assert entry["subject"] == key.public_key.fingerprint()
    assert entry["detail"] == {
        "purpose": "ledger checkpoints",
        "algorithm": "SM2",
        "public_key_pem": key.public_key.to_pem(),
        "file": "keys/platform-sm2.pem",
        "origin": "generated",
    }
    # Upgrading again issues nothing new, and the ledger checks out.
    assert shuhui(settings, "db", "upgrade").returncode == 0
    assert len(ledger_entries(settings.sqlalchemy_url)) == 1
    assert key_on_disk(settings.data_dir) == key
    verified = shuhui(settings, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "账本完好：共 1 条记录" in verified.stderr.replace("\n", "")


def test_the_key_is_issued_once_and_the_app_loads_it(migrated: Settings) -> None:
    from shuhui.web.app import create_app

    key = ensure_platform_key(migrated, "system")
    assert ensure_platform_key(migrated, "system") == key
    app = create_app(migrated)
    try:
        assert app.state.ledger_key == key
    finally:
        app.state.engine.dispose()
    entries = ledger_entries(migrated.sqlalchemy_url)
    assert [(e["actor"], e["action"], e["subject"]) for e in entries] == [
        ("system", "key.issued", key.public_key.fingerprint())
    ]


def test_no_key_comes_into_use_unless_its_entry_is_committed(settings: Settings) -> None:
    settings.ensure_data_dir()  # but not migrated: there is no ledger to record in
    with pytest.raises(SQLAlchemyError):
        ensure_platform_key(settings, "system")
    keys = settings.data_dir / KEY_FILE.parent
    assert sorted(p.name for p in keys.iterdir()) == ["platform-sm2.lock"]


def test_a_key_found_without_an_entry_is_recorded_when_found(
    migrated: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # What the app does when no command issued the key (a database migrated some other way):
    # it makes one, says so, and the next `db upgrade` / `serve` / `demo` records it.
    logger = logging.getLogger("shuhui.trust.ledger.keys")
    logger.addHandler(caplog.handler)
    try:
        made = platform_key(migrated.data_dir)
    finally:
        logger.removeHandler(caplog.handler)
    assert "created without a ledger entry" in caplog.text
    assert ledger_entries(migrated.sqlalchemy_url) == []
    # Checking the ledger does not write to it for a key that is already there...
    assert ensure_platform_key(migrated, "cli:auditor", adopt=False) == made
    assert ledger_entries(migrated.sqlalchemy_url) == []
    # ...setting the instance up does, once.
    assert ensure_platform_key(migrated, "cli:operator") == made
    assert ensure_platform_key(migrated, "cli:operator") == made
    (entry,) = ledger_entries(migrated.sqlalchemy_url)
    assert (entry["action"], entry["subject"], entry["detail"]["origin"]) == (
        "key.issued",
        made.public_key.fingerprint(),
        "found",
    )


def test_a_replaced_key_is_recorded_too(migrated: Settings) -> None:
    old = ensure_platform_key(migrated, "system")
    # An operator puts a key from elsewhere (an HSM export, openssl genpkey) in its place.
    new = SM2PrivateKey.generate()
    (migrated.data_dir / KEY_FILE).write_text(new.to_pem())
    assert ensure_platform_key(migrated, "cli:operator") == new
    subjects = [e["subject"] for e in ledger_entries(migrated.sqlalchemy_url, "key.issued")]
    assert subjects == [old.public_key.fingerprint(), new.public_key.fingerprint()]


def test_processes_starting_together_issue_one_key(migrated: Settings) -> None:
    keys: list[SM2PrivateKey] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            keys.append(ensure_platform_key(migrated, "system"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({k.public_key.fingerprint() for k in keys}) == 1
    assert len(ledger_entries(migrated.sqlalchemy_url, "key.issued")) == 1
