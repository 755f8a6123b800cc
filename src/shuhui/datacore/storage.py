"""On-disk layout of the data core, and the one atomic step that publishes new versions.

    <root>/catalog.json                 current version of every table: the single switch
    <root>/catalog.lock                 held while the switch is flipped
    <root>/tables/<name>/v000007.json   manifest of version 7: schema, files, rows, source
    <root>/tables/<name>/v000007/       Parquet parts written by version 7
    <root>/tables/<name>/.staging-…/    a load in progress (never read)

Versions are immutable. A load writes new parts into staging, and publishing renames them in
and replaces ``catalog.json`` in one ``os.replace``: a reader sees the old catalog or the new one,
never a half-loaded table, and a failed load leaves nothing behind but its staging folder.
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

from shuhui.datacore.schema import Column, TableSpec

KEEP_VERSIONS = 3


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
        )


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tables_dir = root / "tables"

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.json"

    def table_dir(self, name: str) -> Path:
        return self.tables_dir / name

    def read_catalog(self) -> dict[str, int]:
        try:
            data = json.loads(self.catalog_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): int(v) for k, v in data.get("tables", {}).items()}

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

    def new_staging(self, name: str, token: str) -> Path:
        path = self.table_dir(name) / f".staging-{token}"
        path.mkdir(parents=True, exist_ok=False)
        return path

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "catalog.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def publish(self, catalog: dict[str, int]) -> None:
        write_json_atomically(self.catalog_path, {"tables": dict(sorted(catalog.items()))})

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
