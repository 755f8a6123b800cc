"""The catalog's long work as a background job (``catalog.sync``): registering the data core's
new table versions and assessing each one's data quality (``service.sync_datacore`` with the
assessment), started by a data operator from the catalog's page; its progress the tables done.
One transaction: the datasets, their quality reports and the ``catalog.synced`` entry are there
together or not at all, and a version already registered is left as it is, so a run taken up
again after its worker died does the rest. Asked again while one is queued or running, it is
that one."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from shuhui.catalog import service
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore
from shuhui.jobs.kinds import JobKind, Outcome, Prepared, Run
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role, roles_needed

SYNC: Final = "catalog.sync"
WHO: Final = (Role.data_operator, Role.admin)


class SyncIn(BaseModel):
    """Nothing to choose: every table of the data core whose version is new."""

    model_config = ConfigDict(extra="forbid")


def sync_kind(core: DataCore, catalog: service.CityCatalog) -> JobKind[SyncIn]:
    def prepare(db: Session, user: User, params: SyncIn) -> Prepared[SyncIn]:
        if not (user.role_set & set(WHO)):
            raise Problem("forbidden", detail=roles_needed(*WHO))
        return Prepared(
            params,
            Text(
                "登记数据底座的新版本并评估数据质量", "Register new table versions, assess quality"
            ),
            key=SYNC,
        )

    def work(run: Run[SyncIn]) -> Outcome:
        def table(name: str, done: int, total: int) -> None:
            title = core.spec(name).title
            run.progress(done, total, Text(f"登记并评估：{title}", f"Registering: {name}"))

        found = service.sync_datacore(
            run.db, core, catalog, actor=run.actor, assess_quality=True, progress=table
        )
        new, changed = len(found.registered), len(found.updated)
        return Outcome(
            {
                "registered": new,
                "updated": changed,
                "unchanged": len(found.unchanged),
                "skipped": len(found.skipped),
            },
            Text(
                f"新登记 {new} 个数据集，更新 {changed} 个，均已评估数据质量",
                f"{new} datasets registered, {changed} updated, their quality assessed",
            ),
            link="/catalog",
        )

    return JobKind(
        SYNC,
        Text("数据目录登记与质量评估", "Catalog registration and quality"),
        SyncIn,
        prepare,
        work,
    )
