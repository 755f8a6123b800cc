"""On-disk layout of the data core, and the one atomic step that publishes new versions.

    <root>/catalog.json                 current version of every table, data and truth: the switch
    <root>/catalog.lock                 held while versions are named and the switch is flipped
    <root>/recovery.lock                held by the one recovery running (files, ledger and catalog)
    <root>/publishing/<token>.json      a publish between its switch and its ledger entry (flocked)
    <root>/tables/<name>/v000007.json   manifest of version 7: schema, files, rows, source
    <root>/tables/<name>/v000007/       Parquet parts written by version 7
    <root>/tables/<name>/.staging-…/    a load in progress (never read)
    <root>/tables/<name>/.staging-….lock  its owner's flock (and PID): gone owner, stale folder
    <truth root>/tables/…               the same layout for ground-truth tables; their current
                                        versions are in the same catalog.json ("truth")
    <root>/hosted/tables/…              the same layout for the tables organisations host
                                        (``hosted_…``); in the same catalog.json ("hosted")

Versions are immutable. A load writes new parts into staging, and publishing renames them in,
writes their manifests and replaces ``catalog.json`` in one ``os.replace`` (then fsyncs the
folder): a reader sees the old catalog or the new one, never a half-loaded table, and one switch
moves data and truth tables together. A version whose manifest is above its table's current
version was never published (its publish died before the switch): :meth:`Storage.drop_unpublished`
removes it under the catalog lock before a version number is given out again, so every version
on disk at or below the current one was current once.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shuhui.core.locks import flocked
from shuhui.datacore.schema import Column, TableSpec

KEEP_VERSIONS = 3
# The catalog's sections: data tables, ground-truth tables, tables organisations host.
SECTIONS = ("tables", "truth", "hosted")
# Written even when empty (the file's shape before hosted tables); other sections when in use.
ALWAYS_WRITTEN = ("tables", "truth")
STAGING = ".staging-"


@dataclass(frozen=True)
class Manifest:
    spec: TableSpec
    version: int
    rows: int
    files: tuple[str, ...]  # relative to the table folder
    loaded_at: str  # ISO 8601, UTC
    source: str
    operation: str  # "load" or "append"
    appended_rows: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    # The publish this version came with: one id for every table switched together (a city
    # build's data and truth tables), and the version each of them got, so a check can tell a
    # table served from another publish (DataCore.disagreements).
    generation: str = ""
    published_with: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        spec = asdict(self.spec)
        return {
            "version": self.version,
            "rows": self.rows,
            "files": list(self.files),
            "loaded_at": self.loaded_at,
            "source": self.source,
            "operation": self.operation,
            "appended_rows": self.appended_rows,
            "stats": self.stats,
            "generation": self.generation,
            "published_with": dict(sorted(self.published_with.items())),
            "spec": spec,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        raw = dict(data["spec"])
        columns = tuple(
            Column(**{**c, "values": tuple(c["values"]) if c.get("values") is not None else None})
            for c in raw.pop("columns")
        )
        spec = TableSpec(
            **{**raw, "columns": columns, "primary_key": tuple(raw.get("primary_key", ()))}
        )
        return cls(
            spec=spec,
            version=int(data["version"]),
            rows=int(data["rows"]),
            files=tuple(data["files"]),
            loaded_at=str(data["loaded_at"]),
            source=str(data["source"]),
            operation=str(data["operation"]),
            appended_rows=int(data.get("appended_rows", 0)),
            stats=dict(data.get("stats", {})),
            generation=str(data.get("generation", "")),
            published_with={str(k): int(v) for k, v in data.get("published_with", {}).items()},
        )


def fsync_dir(folder: Path) -> None:
    """Makes a rename or a new file in ``folder`` durable (the folder's entry, not the file)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _claim(path: Path, note: str) -> int:
    """Creates ``path`` and holds an flock on it for as long as the returned descriptor is
    open (the process's life at most: the kernel drops it when the process dies, kill -9
    included). Raises FileExistsError if the name is taken."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # A cleaner may have opened, locked and unlinked the file between its creation and our
        # lock (it took a new file's free lock for a dead owner's): then we hold an orphan.
        if os.stat(path).st_ino != os.fstat(fd).st_ino:
            raise FileExistsError(path)
        os.write(fd, note.encode())
    except BaseException:
        os.close(fd)
        raise
    return fd


def release(path: Path, fd: int) -> None:
    """Gives up a claim made by :func:`_claim`: the file goes first, then the lock."""
    path.unlink(missing_ok=True)
    os.close(fd)


def owner_gone(path: Path) -> int | None:
    """An flock on ``path`` if its owner is gone (the caller releases it), else None."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class Catalog:
    """``catalog.json``: the current version of every table, data (``tables``) and ground truth
    (``truth``), in one file replaced in one step — a city build's two trees switch together.

    A data directory from before the truth section read the truth tree's own catalog.json; the
    first publish moves it into this one (``legacy_truth``)."""

    def __init__(self, path: Path, legacy_truth: Path | None = None) -> None:
        self.path = path
        self.legacy_truth = legacy_truth

    def read(self) -> dict[str, dict[str, int]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        sections = {s: {str(k): int(v) for k, v in data.get(s, {}).items()} for s in SECTIONS}
        if "truth" not in data and self.legacy_truth is not None:
            try:
                old = json.loads(self.legacy_truth.read_text(encoding="utf-8"))
            except FileNotFoundError:
                old = {}
            sections["truth"] = {str(k): int(v) for k, v in old.get("tables", {}).items()}
        return sections

    def publish(self, sections: dict[str, dict[str, int]]) -> None:
        write_json_atomically(
            self.path,
            {
                s: dict(sorted(sections[s].items()))
                for s in SECTIONS
                if s in ALWAYS_WRITTEN or sections[s]
            },
        )
        if self.legacy_truth is not None:
            self.legacy_truth.unlink(missing_ok=True)  # superseded by the truth section

    @contextmanager
    def locked(self) -> Iterator[None]:
        with flocked(self.path.with_name("catalog.lock")):
            yield

    @contextmanager
    def recovering(self) -> Iterator[None]:
        """Held by a recovery from start to end: two processes starting together (the server's
        workers, a command) recover one after the other, the second finding nothing to do."""
        with flocked(self.path.with_name("recovery.lock")):
            yield

    @property
    def publishing_dir(self) -> Path:
        return self.path.with_name("publishing")

    def claim_publish(self, token: str, versions: dict[str, int]) -> tuple[Path, int]:
        """Marks a publish live from before its switch until its caller has recorded it: a
        recovery leaves its versions to it. Made under the catalog lock."""
        self.publishing_dir.mkdir(parents=True, exist_ok=True)
        path = self.publishing_dir / f"{token}.json"
        note = json.dumps({"pid": os.getpid(), "tables": versions}, sort_keys=True)
        return path, _claim(path, note)

    def live_publishes(self) -> tuple[set[tuple[str, int]], list[Path]]:
        """The (table, version) pairs of publishes still running, and the marks of dead ones."""
        live: set[tuple[str, int]] = set()
        dead: list[Path] = []
        if not self.publishing_dir.is_dir():
            return live, dead
        for path in sorted(self.publishing_dir.glob("*.json")):
            fd = owner_gone(path)
            if fd is not None:
                os.close(fd)
                dead.append(path)
                continue
            try:
                tables = json.loads(path.read_text(encoding="utf-8")).get("tables", {})
            except (FileNotFoundError, ValueError):
                continue  # released meanwhile, or being written: its publish is not switched
            live.update((str(k), int(v)) for k, v in tables.items())
        return live, dead


class Storage:
    """One tree of tables (the data core's, or the ground truth's) and its catalog section."""

    def __init__(self, root: Path, catalog: Catalog | None = None, section: str = "tables") -> None:
        self.root = root
        self.tables_dir = root / "tables"
        self.catalog = catalog or Catalog(root / "catalog.json")
        self.section = section

    @property
    def catalog_path(self) -> Path:
        return self.catalog.path

    def table_dir(self, name: str) -> Path:
        return self.tables_dir / name

    def read_catalog(self) -> dict[str, int]:
        return self.catalog.read()[self.section]

    def catalog_stamp(self) -> tuple[int, int]:
        try:
            st = self.catalog_path.stat()
        except FileNotFoundError:
            return (0, 0)
        return (st.st_mtime_ns, st.st_ino)

    def manifest_path(self, name: str, version: int) -> Path:
        return self.table_dir(name) / f"v{version:06d}.json"

    def read_manifest(self, name: str, version: int) -> Manifest:
        return Manifest.from_json(
            json.loads(self.manifest_path(name, version).read_text(encoding="utf-8"))
        )

    def versions(self, name: str) -> list[int]:
        folder = self.table_dir(name)
        if not folder.exists():
            return []
        return sorted(int(p.stem[1:]) for p in folder.glob("v[0-9]*.json"))

    def table_names(self) -> list[str]:
        if not self.tables_dir.is_dir():
            return []
        return sorted(p.name for p in self.tables_dir.iterdir() if p.is_dir())

    def new_staging(self, name: str, token: str) -> tuple[Path, int]:
        """A staging folder for one load, and the flock that says its owner is alive (held
        until :func:`release`; the kernel drops it if the process dies)."""
        folder = self.table_dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        self.clean_staging(name)
        for attempt in range(3):
            stem = f"{STAGING}{token}{attempt or ''}"
            try:
                fd = _claim(folder / f"{stem}.lock", f"{os.getpid()}\n")
            except FileExistsError:
                continue  # lost the lock file to a cleaner (see _claim): another name
            path = folder / stem
            path.mkdir()
            return path, fd
        raise FileExistsError(folder / f"{STAGING}{token}")

    def clean_staging(self, name: str) -> list[Path]:
        """Removes the staging folders (and their sort and spill folders) of loads whose owner
        is gone; a live load's are left alone, whoever runs this."""
        folder = self.table_dir(name)
        removed: list[Path] = []
        if not folder.is_dir():
            return removed
        for lock in sorted(folder.glob(f"{STAGING}*.lock")):
            fd = owner_gone(lock)
            if fd is None:
                continue
            try:
                stem = lock.name[: -len(".lock")]
                for stale in (folder / stem, folder / f"{stem}.sort", folder / f"{stem}.spill"):
                    if stale.is_dir():
                        shutil.rmtree(stale, ignore_errors=True)
                        removed.append(stale)
                lock.unlink(missing_ok=True)
            finally:
                os.close(fd)
        for stale in sorted(folder.glob(f"{STAGING}*")):
            token = stale.name[len(STAGING) :].split(".")[0]
            # A folder is made only once its owner's lock is held, and removed before the lock
            # is: a folder without one is a dead load's (or from before there were locks).
            if stale.is_dir() and not (folder / f"{STAGING}{token}.lock").exists():
                shutil.rmtree(stale, ignore_errors=True)
                removed.append(stale)
        return removed

    def drop_unpublished(self, name: str, current: int | None) -> list[Path]:
        """Removes versions above ``current`` (all, if the table has none): a publish that died
        before its switch left them. Call under the catalog lock (no publish is then between
        naming its versions and switching)."""
        folder = self.table_dir(name)
        removed: list[Path] = []
        if not folder.is_dir():
            return removed
        floor = current or 0
        for path in sorted(folder.glob("v[0-9]*")):
            stem = path.name.split(".")[0]
            if stem[1:].isdigit() and int(stem[1:]) > floor:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
        # A manifest write that died left its temporary file (only written under the lock).
        for tmp in folder.glob(".v*.json.*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
        return removed

    def collect_garbage(self, name: str) -> None:
        """Drops versions older than the last few; their files may still be in a reader's view."""
        versions = self.versions(name)
        keep = versions[-KEEP_VERSIONS:]
        referenced = {f for v in keep for f in self.read_manifest(name, v).files}
        for old in versions[:-KEEP_VERSIONS]:
            self.manifest_path(name, old).unlink(missing_ok=True)
        folder = self.table_dir(name)
        for part_dir in folder.glob("v[0-9]*"):
            if part_dir.is_dir() and not any(f.startswith(part_dir.name + "/") for f in referenced):
                shutil.rmtree(part_dir, ignore_errors=True)
