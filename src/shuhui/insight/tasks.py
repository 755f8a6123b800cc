"""The monthly analysis reports on a schedule: once a month has ended, each map's report for it
is made and kept in the data directory (``insight/reports/<YYYY-MM>/<map>.pdf``), listed on the
map's page for anyone who may see the map, each one an ``insight.report_made`` ledger entry.

Who makes them: every served process checks when it starts and every hour after
(:func:`schedule_in_background`), and ``shuhui insight reports --due`` does the same once (for a
timer of the operating system, or the compose file's). Several processes, on one machine or
several sharing the data directory, make each report once: a report is claimed by creating its
lock file exclusively, written to a temporary name and moved into place whole, so a reader never
sees half a PDF and a process killed midway leaves a lock that the next check after an hour
takes over."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.core.settings import Settings
from shuhui.insight import report, service
from shuhui.trust.ledger import service as ledger

log = logging.getLogger(__name__)
REPORTS: Final = Path("insight") / "reports"
ACTOR: Final = "system:insight-reports"
STALE_LOCK: Final = 3600.0  # seconds after which a lock is taken to be a dead process's
EVERY: Final = 3600.0


@dataclass(frozen=True)
class Stored:
    map: str
    month: date
    path: Path
    size: int
    made_at: datetime


def folder(settings: Settings) -> Path:
    return settings.data_dir / REPORTS


def path_of(settings: Settings, map_code: str, month: date) -> Path:
    return folder(settings) / f"{month:%Y-%m}" / f"{map_code}.pdf"


def last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def stored(settings: Settings, map_code: str | None = None) -> list[Stored]:
    """The reports kept, newest month first."""
    found = []
    root = folder(settings)
    if not root.is_dir():
        return []
    for month_dir in root.iterdir():
        try:
            month = date.fromisoformat(f"{month_dir.name}-01")
        except ValueError:
            continue
        for pdf in month_dir.glob("*.pdf"):
            if map_code is not None and pdf.stem != map_code:
                continue
            info = pdf.stat()
            made = datetime.fromtimestamp(info.st_mtime).astimezone()
            found.append(Stored(pdf.stem, month, pdf, info.st_size, made))
    return sorted(found, key=lambda s: (s.month, s.map), reverse=True)


def due(settings: Settings, today: date) -> list[tuple[str, date]]:
    """The maps whose report for last month is not kept yet."""
    month = last_month(today)
    return [
        (code, month)
        for code in service.maps(settings)
        if not path_of(settings, code, month).exists()
    ]


def _claim(lock: Path) -> bool:
    lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        try:
            if time.time() - lock.stat().st_mtime < STALE_LOCK:
                return False
            lock.unlink()  # a process that died while making it
        except FileNotFoundError:
            pass
        return _claim(lock)
    with os.fdopen(fd, "w") as f:
        f.write(str(os.getpid()))
    return True


def make_due(
    settings: Settings,
    factory: sessionmaker[Session],
    today: date | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Stored]:
    """Makes every report due (see :func:`due`) that no other process is making; returns those
    made here."""
    today = today or local_today()
    todo = due(settings, today)
    made: list[Stored] = []
    for done, (code, month) in enumerate(todo):
        if progress is not None:
            progress(code, done, len(todo))
        target = path_of(settings, code, month)
        lock = target.with_suffix(".lock")
        if not _claim(lock):
            continue
        try:
            if target.exists():
                continue
            with transaction(factory) as db:
                reader = service.Reader(settings, db, today)
                pdf = report.monthly(reader, service.map_of(settings, code), month).pdf
                partial = target.with_suffix(f".{os.getpid()}.part")
                partial.write_bytes(pdf)
                os.replace(partial, target)
                ledger.record(
                    db,
                    ACTOR,
                    "insight.report_made",
                    detail={"map": code, "month": f"{month:%Y-%m}", "bytes": len(pdf)},
                )
            made.extend(s for s in stored(settings, code) if s.month == month)
        finally:
            lock.unlink(missing_ok=True)
    if progress is not None:
        progress("", len(todo), len(todo))
    return made


def schedule_in_background(
    settings: Settings, factory: sessionmaker[Session], every: float = EVERY
) -> threading.Thread:
    """Checks for reports due now and every ``every`` seconds, in a daemon thread."""

    def loop() -> None:
        while True:
            try:
                made = make_due(settings, factory)
                if made:
                    log.info("insight: %d monthly reports made", len(made))
            except Exception:
                log.exception("insight: making the monthly reports failed; next check later")
            time.sleep(every)

    thread = threading.Thread(target=loop, name="insight-reports", daemon=True)
    thread.start()
    return thread
