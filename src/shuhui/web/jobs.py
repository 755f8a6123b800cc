"""The kinds of background job the platform runs, gathered from the domains that own the work:
the app factory hands them to its job queue (``app.state.jobs``), and ``shuhui jobs worker``
to its own (``jobs.cli.make_app``). A new kind is added here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from shuhui.catalog import service as catalog_service
from shuhui.catalog import tasks as catalog_tasks
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.jobs.kinds import JobKind
from shuhui.programs import service as programs_service
from shuhui.programs import tasks as programs_tasks
from shuhui.programs.certification import tasks as certification_tasks


def kinds(
    settings: Settings,
    library: programs_service.Library,
    core: DataCore,
    catalog: catalog_service.CityCatalog,
) -> tuple[JobKind[Any], ...]:
    return (
        programs_tasks.campaign_kind(library),
        certification_tasks.cycle_kind(library, settings),
        catalog_tasks.sync_kind(core, catalog),
    )


def worker_kinds(settings: Settings, factory: sessionmaker[Session]) -> tuple[JobKind[Any], ...]:
    """The kinds for a worker process of its own (it has no app to take the library from)."""
    core = DataCore.from_settings(settings)
    library = programs_service.Library(settings, core)
    return kinds(settings, library, core, catalog_service.city_catalog(settings.city_content))
