"""Smart approval's background work: what runs apart from a request and can be run again.

``sync_licences`` writes to the data core's ``e_certificates`` every issued licence not yet
there (``Licence.datacore_version`` None): those issued with ``publish="later"``, and those
whose write failed or whose process died between the licence's commit and the write. All of
them go in one table version. It is idempotent: a licence whose row the data core already holds
(the process died after the write but before its transaction committed) is not written again,
only marked, and a write is an upsert on the table's key, so no run ever makes a duplicate row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import licences
from shuhui.approval.models import Licence
from shuhui.datacore.errors import TableNotFound
from shuhui.datacore.store import DataCore
from shuhui.standard.tables import CERTIFICATES
from shuhui.trust.ledger import service as ledger

SYSTEM = "system"
# Licences written per table version: a run that finds more writes several versions.
BATCH = 50_000


@dataclass(frozen=True)
class LicenceSync:
    written: list[str] = field(default_factory=list)  # certificate numbers written now
    found: list[str] = field(default_factory=list)  # already in the data core, only marked
    versions: list[int] = field(default_factory=list)  # table versions made


def _present(datacore: DataCore, pending: list[Licence]) -> dict[tuple[str, str], int]:
    """Which of ``pending`` the data core's current e_certificates holds: (type, no) → the
    current version."""
    try:
        version = datacore.table(CERTIFICATES.name).version
    except TableNotFound:
        return {}
    keys = pa.table(
        {
            "certificate_type": [lic.certificate_type for lic in pending],
            "certificate_no": [lic.certificate_no for lic in pending],
        }
    )
    con = datacore.connect(tables=[CERTIFICATES.name])
    try:
        con.register("wanted", keys)
        rows = con.sql(
            "SELECT w.certificate_type, w.certificate_no FROM wanted w JOIN e_certificates e"
            " ON e.certificate_type = w.certificate_type AND e.certificate_no = w.certificate_no"
        ).fetchall()
    finally:
        con.close()
    return {(str(t), str(n)): version for t, n in rows}


def sync_licences(
    db: Session,
    datacore: DataCore,
    progress: Callable[[int, int], None] | None = None,
    *,
    actor: str = SYSTEM,
) -> LicenceSync:
    """Writes every licence missing from the data core (see the module's docstring), in the
    caller's transaction; ``progress`` is told (licences done, licences pending)."""
    pending = list(
        db.scalars(select(Licence).where(Licence.datacore_version.is_(None)).order_by(Licence.id))
    )
    done = LicenceSync()
    if not pending:
        return done
    present = _present(datacore, pending)
    found = [lic for lic in pending if (lic.certificate_type, lic.certificate_no) in present]
    for lic in found:
        lic.datacore_version = present[(lic.certificate_type, lic.certificate_no)]
        done.found.append(lic.certificate_no)
    if found:
        ledger.record_many(
            db, licences.published_entries(actor, found, "e-certificate found in the data core")
        )
    missing = [lic for lic in pending if lic.datacore_version is None]
    if progress is not None:
        progress(len(found), len(pending))
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        done.versions.append(licences.write_licences(db, datacore, batch, actor=actor))
        done.written.extend(lic.certificate_no for lic in batch)
        if progress is not None:
            progress(len(found) + start + len(batch), len(pending))
    db.flush()
    return done
