"""Readying an instance's operational database before anything is recorded in it: the newest
schema, the ledger's hash settled, the platform key issued. Every command that writes calls it
(``db upgrade``, ``demo``, ``serve``, ``data load``, ``synth``, ``catalog sync``); repeating it
changes nothing.

A command that readied a database signs a checkpoint over what it recorded when it ends
(:func:`checkpoint_readied`, which the top-level ``shuhui`` command calls as it closes): the
ledger is checkpointed by the platform after every load, city build or change made at the
command line, not only while a server runs."""

from __future__ import annotations

import logging

from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.migrate import upgrade
from shuhui.core.settings import Settings
from shuhui.trust.ledger.keys import ensure_platform_key
from shuhui.trust.ledger.service import ensure_algorithm

log = logging.getLogger("shuhui.trust.ledger.setup")
# The databases this process readied (and so may have recorded into), by data directory.
_readied: dict[str, Settings] = {}


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
    _readied[str(settings.data_dir)] = settings


def checkpoint_readied() -> None:
    """Signs and publishes a checkpoint over each readied ledger that has grown since its newest
    (``ledger.publish``); a failure is logged, never raised, as the command's work is done."""
    from shuhui.trust.ledger.keys import platform_key
    from shuhui.trust.ledger.publish import Publisher

    while _readied:
        _, settings = _readied.popitem()
        engine = make_engine(settings.sqlalchemy_url)
        try:
            key = platform_key(settings.data_dir)
            Publisher(settings, key, make_session_factory(engine)).run_once(force=True, wait=True)
        except Exception:
            log.exception("the ledger's checkpoint at the end of the command failed")
        finally:
            engine.dispose()
