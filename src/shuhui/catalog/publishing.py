"""What follows a data-core publish in the operational database, and its recovery.

A publish is, in order: Parquet parts staged, manifests written, ``catalog.json`` switched (one
``os.replace``, data and truth tables together — :mod:`shuhui.datacore.storage`), one
``data.loaded`` ledger entry per new version (:func:`record_loaded`, while the publish is still
marked live), then the catalog registers the new versions (``service.sync_datacore``). The files
are on disk and the ledger and catalog in the database, so no transaction spans them: a process
killed between two steps leaves a version served without its entry, or the catalog behind.

:func:`recover` repairs that, and is run where the platform starts (``create_served_app``, and
every command that loads: ``data load``, ``synth``, ``demo``): it tidies the files (dead loads'
staging folders, versions named but never switched to), records every version that is or was
served and has no entry (actor ``system``, the detail saying it was recovered), and syncs the
catalog if it lags the served versions. Versions of a publish still live in another process are
left to it. Recoveries run one at a time (``recovery.lock``), each is idempotent, and when
nothing is missing one query of the ledger and one of the catalog are all it costs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shuhui.catalog import service
from shuhui.catalog.models import Dataset
from shuhui.core.db import transaction
from shuhui.datacore.schema import TableSpec
from shuhui.datacore.store import DataCore, LoadResult, PublishedVersion
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.crypto.sm import sm3_hex
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.models import LedgerEntry

__all__ = ["RECOVERED", "SYSTEM", "Recovery", "missing_entries", "record_loaded", "recover"]

log = logging.getLogger(__name__)

SYSTEM = "system"
# What a recovered entry's detail says of itself.
RECOVERED = "启动时补记：该版本已发布，但发布进程在入账前中断 (recorded at start-up)"


@dataclass(frozen=True)
class Recovery:
    removed: list[Path] = field(default_factory=list)  # staging folders, unpublished versions
    recorded: list[str] = field(default_factory=list)  # "residents v3", entries made
    synced: list[str] = field(default_factory=list)  # tables the catalog registered anew
    disagreements: list[str] = field(default_factory=list)  # DataCore.disagreements()

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.recorded or self.synced)


def _detail(
    manifest: Path,
    *,
    version: int,
    rows: int,
    written: int,
    operation: str,
    truth: bool,
    source: Mapping[str, str | int],
) -> dict[str, JsonValue]:
    return {
        "version": version,
        "rows": rows,
        "written": written,
        "operation": operation,
        "truth": truth,
        # The version's manifest: its schema, files, rows, source and time.
        "manifest_sm3": sm3_hex(manifest.read_bytes()),
        "source": dict(source),
    }


def record_loaded(
    db: Session,
    actor: str,
    core: DataCore,
    loaded: Sequence[tuple[TableSpec, LoadResult]],
    source: Mapping[str, str | int],
) -> None:
    """One ``data.loaded`` entry per new table version, in the caller's transaction."""
    ledger.record_many(
        db,
        [
            ledger.Entry(
                actor,
                "data.loaded",
                subject=f"table:{spec.name}",
                detail=_detail(
                    core.storage_for(spec).manifest_path(spec.name, result.version),
                    version=result.version,
                    rows=result.rows,
                    written=result.written,
                    operation=result.operation,
                    truth=spec.truth,
                    source=source,
                ),
            )
            for spec, result in loaded
        ],
    )


def _recorded(db: Session) -> set[tuple[str, str]]:
    """(subject, manifest SM3) of every ``data.loaded`` entry: one query."""
    found: set[tuple[str, str]] = set()
    rows = db.execute(
        select(LedgerEntry.subject, LedgerEntry.leaf).where(LedgerEntry.action == "data.loaded")
    )
    for subject, leaf in rows:
        detail = json.loads(bytes(leaf)).get("detail") or {}
        found.add((str(subject), str(detail.get("manifest_sm3", ""))))
    return found


def missing_entries(
    db: Session, published: Sequence[PublishedVersion]
) -> list[tuple[PublishedVersion, str, dict[str, Any]]]:
    """Those of ``published`` that have no ``data.loaded`` entry (matched by their manifest's
    SM3, so a data directory rebuilt from scratch is not mistaken for its predecessor), with
    that SM3 and the manifest."""
    recorded = _recorded(db)
    found = []
    for version in published:
        try:
            raw = version.manifest.read_bytes()
        except FileNotFoundError:
            continue  # an old version another publish has just collected: nothing to record
        digest = sm3_hex(raw)
        if (f"table:{version.table}", digest) not in recorded:
            found.append((version, digest, json.loads(raw)))
    return found


def _catalog_lags(db: Session, core: DataCore, catalog: service.CityCatalog) -> bool:
    """Whether a catalogued table's served version is not the one the catalog describes."""
    served = {v.table: v.version for v in core.published() if v.current and not v.truth}
    described = {n: v for n, v in db.execute(select(Dataset.table_name, Dataset.version))}
    return any(
        described.get(name) != version
        for name, version in served.items()
        if catalog.resources.get(name) is not None
    )


def recover(
    factory: sessionmaker[Session],
    core: DataCore,
    catalog: service.CityCatalog,
    *,
    actor: str = SYSTEM,
    assess_quality: bool = True,
) -> Recovery:
    """Brings the files, the ledger and the catalog to what the data core serves (see the
    module's docstring). Safe to run any time, by several processes at once."""
    with core.catalog.recovering():
        settled = core.settle()
        recorded: list[str] = []
        synced: list[str] = []
        with transaction(factory) as db:
            missing = missing_entries(db, settled.published)
            if missing:
                entries = []
                for version, digest, manifest in missing:
                    detail: dict[str, JsonValue] = {
                        "version": version.version,
                        "rows": int(manifest["rows"]),
                        "written": int(manifest.get("appended_rows", 0)),
                        "operation": str(manifest["operation"]),
                        "truth": version.truth,
                        "manifest_sm3": digest,
                        "source": {"label": str(manifest["source"])},
                        "recovered": RECOVERED,
                    }
                    entries.append(
                        ledger.Entry(
                            actor, "data.loaded", subject=f"table:{version.table}", detail=detail
                        )
                    )
                    recorded.append(f"{version.table} v{version.version}")
                ledger.record_many(db, entries)
            if _catalog_lags(db, core, catalog):
                result = service.sync_datacore(
                    db, core, catalog, actor=actor, assess_quality=assess_quality
                )
                service.related_by_keywords(db)
                synced = result.registered + result.updated
    done = Recovery(settled.removed, recorded, synced, core.disagreements())
    if done.changed:  # the CLI says it in colour; a server's log says it here
        log.info(
            "recovered a killed publish: removed %d leftovers, recorded %s, catalog synced %s",
            len(done.removed),
            ", ".join(recorded) or "nothing",
            ", ".join(synced) or "nothing",
        )
    for problem in done.disagreements:
        log.error("data and truth disagree: %s", problem)
    return done
