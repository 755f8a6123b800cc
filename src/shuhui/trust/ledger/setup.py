"""Readying an instance's operational database before anything is recorded in it: the newest
schema, the ledger's hash settled, the platform key issued. Every command that writes calls it
(``db upgrade``, ``demo``, ``serve``, ``data load``, ``synth``, ``catalog sync``); repeating it
changes nothing."""

from __future__ import annotations

from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.migrate import upgrade
from shuhui.core.settings import Settings
from shuhui.trust.ledger.keys import ensure_platform_key
from shuhui.trust.ledger.service import ensure_algorithm


def ready_database(settings: Settings, actor: str) -> None:
    """Migrates, settles the ledger's hash (``ValueError`` when the ledger already uses another),
    then issues the platform key: after the hash, as its issuance may be the ledger's first
    entry."""
    settings.ensure_data_dir()
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            ensure_algorithm(session, settings.ledger_hash)
    finally:
        engine.dispose()
    ensure_platform_key(settings, actor)
