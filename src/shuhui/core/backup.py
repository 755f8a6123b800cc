"""Backups of a production instance: the PostgreSQL database and the data directory's data core
and ledger folder, with a manifest that lets anyone check them, and their restore.

A backup is a folder (made ``0700``, its files ``0600``: it holds personal data) of four files:

- ``ledger.tar``: ``<data dir>/ledger`` (the published checkpoints and the leaves mirror), read
  under the checkpointer's lock (``trust.ledger.publish``), *before* the dump: every checkpoint
  the file holds is then in the dump too, so ``shuhui audit verify`` on the restored pair finds
  none missing;
- ``database.dump``: ``pg_dump -Fc`` of the operational database (one consistent snapshot);
- ``datacore.tar``: ``<data dir>/datacore`` and ``<data dir>/truth`` (the Parquet versions and
  the ``catalog.json`` that switches both), *after* the dump, ``catalog.json`` first: every
  version the dumped catalog and ledger name is in the archive. A version published meanwhile
  is there without its ledger entry, which the recovery at the next start records
  (``catalog.publishing``). Left out: flock files, unfinished loads' staging folders and
  DuckDB's spill folder;
- ``manifest.json``, written last (a folder without it is an unfinished backup): when, which
  database, the Alembic revision read back from the dump itself, and each file's size and
  SHA-256.

:func:`verify` recomputes the sizes and hashes. :func:`restore` verifies, then loads the dump
into an *empty* database with ``pg_restore`` in one transaction (a failure leaves it empty) and,
when given a data directory, unpacks the archives there (into folders that must not hold
anything yet). The rest of a data directory (``keys/``, uploads, e-licence PDFs, recordings) is
not in a backup: the platform's private keys are copied by the operator's own means.

The PostgreSQL client programs (``pg_dump``, ``pg_restore``, package ``postgresql-client``) do
the work. The SQLAlchemy URL becomes a libpq connection string for them; a password never goes
on their command line, only into their environment (``PGPASSWORD``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

import shuhui
from shuhui.core.db import make_engine
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.locks import flocked

FORMAT = "shuhui-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
LEDGER_TAR = "ledger.tar"
DATACORE_TAR = "datacore.tar"
# The folders of the data directory each archive holds.
ARCHIVES: dict[str, tuple[str, ...]] = {
    LEDGER_TAR: ("ledger",),
    DATACORE_TAR: ("datacore", "truth"),
}
# The ledger checkpointer's lock (trust.ledger.publish.LOCK; core cannot import trust).
LEDGER_LOCK = Path("ledger") / "checkpoint.lock"
# What an archive leaves out: unfinished loads' staging folders (anywhere), DuckDB's spill
# folder (datacore.spill: <data dir>/datacore/spill) and every flock file (``*.lock``).
STAGING = ".staging-"
SPILL = "spill"

Progress = Callable[[Text], None]


# --- the database URL as libpq sees it ------------------------------------------------------


@dataclass(frozen=True)
class Libpq:
    """How the PostgreSQL client programs reach a database: a connection string without the
    password, and the environment they run with (the password, if the URL has one)."""

    conninfo: str
    database: str
    host: str
    password: str | None = field(default=None, repr=False)

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


def _quote(value: str) -> str:
    """A libpq connection-string value: quoted when it has to be, ``\\`` and ``'`` escaped."""
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _postgres_url(url: str, name: str) -> URL:
    try:
        parsed: URL | None = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.get_backend_name() != "postgresql":
        raise Problem(
            "validation",
            Text(
                "备份与恢复只支持 PostgreSQL 数据库（postgresql+psycopg://…）。"
                "SQLite 数据库请在停机后复制其文件。",
                "Backups and restores need a PostgreSQL database (postgresql+psycopg://…). "
                "Copy a SQLite database's file while the platform is stopped.",
            ),
            errors=[FieldError(name, Text("不是 PostgreSQL 地址", "not a PostgreSQL URL"))],
        )
    return parsed


def libpq(url: str, name: str = "database_url") -> Libpq:
    """The libpq form of a PostgreSQL SQLAlchemy URL (``postgresql+psycopg://user:pw@host:port/db``
    and its query parameters, e.g. ``?host=/run/postgresql`` for a Unix socket), as the psycopg
    dialect hands it to libpq: the URL's parts, then its query parameters over them."""
    parsed = _postgres_url(url, name)
    params: dict[str, str] = {}
    if parsed.host:
        params["host"] = parsed.host
    if parsed.port:
        params["port"] = str(parsed.port)
    if parsed.username:
        params["user"] = parsed.username
    if parsed.database:
        params["dbname"] = parsed.database
    password = parsed.password
    for key, value in parsed.query.items():
        if key == "password":
            password = value if isinstance(value, str) else value[-1]
            continue
        if isinstance(value, str):
            params[key] = value
        elif key == "host":  # several hosts, each maybe host:port (SQLAlchemy's multihost form)
            hosts, ports = [], []
            for item in value:
                host, colon, port = item.rpartition(":")
                local = item.startswith("/")
                hosts.append(item if local or not colon else host)
                ports.append("" if local or not colon else port)
            params["host"] = ",".join(hosts)
            if any(ports):
                params["port"] = ",".join(ports)
        else:
            params[key] = ",".join(value)
    database = params.get("dbname")
    if not database:
        raise Problem(
            "validation",
            Text("数据库地址中缺少数据库名", "the database URL names no database"),
            errors=[FieldError(name, Text("缺少数据库名", "no database name"))],
        )
    conninfo = " ".join(f"{key}={_quote(value)}" for key, value in params.items())
    return Libpq(conninfo, database, params.get("host", ""), str(password) if password else None)


# --- running the client programs --------------------------------------------------------------


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Problem(
            "not-ready",
            Text(
                f"找不到 {name}：请安装 PostgreSQL 客户端（Debian 软件包 postgresql-client）",
                f"{name} not found: install the PostgreSQL client programs "
                "(Debian package postgresql-client)",
            ),
        )
    return found


def _run(args: list[str], target: Libpq) -> None:
    """Runs a client program against ``target``; a Problem with its message if it fails."""
    done = subprocess.run(  # noqa: S603 (a program found on PATH, arguments made here)
        args,
        env=target.environ(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if done.returncode != 0:
        name = Path(args[0]).name
        said = done.stderr.decode(errors="replace").strip()[-2000:]
        raise Problem(
            "internal",
            Text(
                f"{name} 失败（退出码 {done.returncode}）：{said}",
                f"{name} failed (exit {done.returncode}): {said}",
            ),
        )


def pg_dump_version() -> str:
    return subprocess.run(  # noqa: S603
        [_program("pg_dump"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def dump_revision(dump: Path) -> str | None:
    """The Alembic revision the dump holds: its ``alembic_version`` row, read from the archive."""
    found = subprocess.run(  # noqa: S603
        [
            _program("pg_restore"),
            "--data-only",
            "--table=alembic_version",
            "--file=-",
            str(dump),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise Problem(
            "validation",
            Text(
                f"无法读取数据库备份 {dump.name}：{found.stderr.strip()}",
                f"cannot read the database dump {dump.name}: {found.stderr.strip()}",
            ),
        )
    rows: list[str] = []
    copying = False
    for line in found.stdout.splitlines():
        if copying:
            if line == "\\.":
                break
            rows.append(line)
        elif re.match(r"^COPY \S*alembic_version \(version_num\) FROM stdin;$", line):
            copying = True
    return rows[0] if len(rows) == 1 else None


# --- files ------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _walk(folder: Path, *, top: bool = True) -> Iterator[Path]:
    """The folder's files and subfolders, sorted, without locks, staging folders and spill."""
    try:
        children = sorted(folder.iterdir())
    except FileNotFoundError:  # removed while being read (an old version collected)
        return
    for child in children:
        if child.is_dir() and not child.is_symlink():
            if child.name.startswith(STAGING) or (top and child.name == SPILL):
                continue
            yield child
            yield from _walk(child, top=False)
        elif not child.name.endswith(".lock"):
            yield child


def _archive(data_dir: Path, folders: tuple[str, ...], path: Path) -> tuple[int, int]:
    """Writes a tar of ``folders`` of ``data_dir`` (each ``catalog.json`` first, so the archive
    never names a version it lacks); returns (files, files gone before they were read)."""
    files = gone = 0
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in folders:
            root = data_dir / name
            if not root.is_dir():
                continue
            tar.add(root, arcname=name, recursive=False)
            first = root / "catalog.json"
            if first.is_file():
                # Read once, whole: it is replaced (renamed over) at every publish.
                data = first.read_bytes()
                info = tar.gettarinfo(first, arcname=f"{name}/catalog.json")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                files += 1
            for member in _walk(root):
                if member == first:
                    continue
                try:
                    tar.add(member, arcname=str(member.relative_to(data_dir)), recursive=False)
                except FileNotFoundError:
                    gone += 1  # an old version's file, collected while the archive was made
                    continue
                files += member.is_file()
    return files, gone


def _write_file(path: Path, data: bytes) -> None:
    staged = path.with_name(path.name + ".tmp")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged, path)


# --- create -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float


@dataclass
class Made:
    folder: Path
    manifest: dict[str, Any]
    steps: list[Step]

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


def _timed(steps: list[Step], name: str, started: float) -> None:
    steps.append(Step(name, round(time.perf_counter() - started, 3)))


def _new_folder(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Problem(
            "conflict",
            Text(
                f"备份目录 {folder} 已存在且不为空：请指定一个新目录",
                f"the backup folder {folder} exists and is not empty: give a new one",
            ),
            errors=[FieldError("to", Text("目录不为空", "not empty"))],
        )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)


def create(
    database_url: str, data_dir: Path, folder: Path, *, progress: Progress | None = None
) -> Made:
    """Backs up the database at ``database_url`` and ``data_dir``'s data core and ledger folder
    into the new (or empty) ``folder``."""
    say = progress or (lambda _message: None)
    source = libpq(database_url)
    pg_dump = _program("pg_dump")
    _program("pg_restore")  # the revision is read back from the dump with it
    _new_folder(folder)
    steps: list[Step] = []
    counts: dict[str, dict[str, int]] = {}

    say(Text("归档账本发布文件（ledger/）", "archiving the ledger folder (ledger/)"))
    started = time.perf_counter()
    ledger_lock = data_dir / LEDGER_LOCK
    if ledger_lock.parent.is_dir():
        # Under the checkpointer's lock: no checkpoint is half appended, and every one the file
        # holds is in the database already (it is stored there before it is published).
        with flocked(ledger_lock):
            files, gone = _archive(data_dir, ARCHIVES[LEDGER_TAR], folder / LEDGER_TAR)
    else:
        files, gone = _archive(data_dir, ARCHIVES[LEDGER_TAR], folder / LEDGER_TAR)
    counts[LEDGER_TAR] = {"files": files, "gone": gone}
    _timed(steps, "ledger", started)

    say(Text(f"导出数据库 {source.database}（pg_dump）", f"dumping {source.database} (pg_dump)"))
    started = time.perf_counter()
    fd = os.open(folder / DUMP, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    _run(
        [
            pg_dump,
            "--format=custom",
            "--no-password",
            f"--file={folder / DUMP}",
            f"--dbname={source.conninfo}",
        ],
        source,
    )
    revision = dump_revision(folder / DUMP)
    _timed(steps, "database", started)

    say(Text("归档数据底座（datacore/、truth/）", "archiving the data core (datacore/, truth/)"))
    started = time.perf_counter()
    files, gone = _archive(data_dir, ARCHIVES[DATACORE_TAR], folder / DATACORE_TAR)
    counts[DATACORE_TAR] = {"files": files, "gone": gone}
    _timed(steps, "datacore", started)

    say(Text("计算校验和，写入清单", "hashing the files, writing the manifest"))
    started = time.perf_counter()
    described: dict[str, dict[str, Any]] = {}
    for name in (DUMP, LEDGER_TAR, DATACORE_TAR):
        path = folder / name
        path.chmod(0o600)
        _fsync(path)
        described[name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        if name in counts:
            described[name] |= {"folders": list(ARCHIVES[name]), **counts[name]}
    _timed(steps, "manifest", started)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "shuhui_version": shuhui.__version__,
        "database": {
            "name": source.database,
            "host": source.host,
            "alembic_revision": revision,
            "pg_dump": pg_dump_version(),
        },
        "data_dir": str(data_dir),
        "files": described,
        "seconds": {step.name: step.seconds for step in steps},
    }
    _write_file(
        folder / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
    )
    _fsync(folder)
    return Made(folder, manifest, steps)


# --- verify -----------------------------------------------------------------------------------


@dataclass
class Verified:
    folder: Path
    manifest: dict[str, Any] | None
    problems: list[Text]

    @property
    def ok(self) -> bool:
        return not self.problems


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Problem(
            "validation",
            Text(
                f"{folder} 中没有 {MANIFEST}：这不是备份，或备份没有完成",
                f"no {MANIFEST} in {folder}: not a backup, or an unfinished one",
            ),
        ) from None
    except (OSError, ValueError) as exc:
        raise Problem(
            "validation",
            Text(f"无法读取备份清单 {path}：{exc}", f"cannot read the manifest {path}: {exc}"),
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise Problem(
            "validation",
            Text(
                f"{path} 不是可识别的备份清单（应为 {FORMAT}）",
                f"{path} is not a backup manifest this version reads ({FORMAT})",
            ),
        )
    return manifest


def verify(folder: Path, *, progress: Progress | None = None) -> Verified:
    """Recomputes each file's size and SHA-256 against the manifest; names what differs."""
    say = progress or (lambda _message: None)
    try:
        manifest = read_manifest(folder)
    except Problem as problem:
        detail = problem.detail or ""
        return Verified(
            folder, None, [detail if isinstance(detail, Text) else Text(detail, detail)]
        )
    problems: list[Text] = []
    files = manifest.get("files")
    if not isinstance(files, dict) or DUMP not in files:
        return Verified(
            folder, manifest, [Text("清单中没有数据库备份", "the manifest lists no dump")]
        )
    for name, expected in sorted(files.items()):
        path = folder / name
        if Path(name).name != name or not isinstance(expected, dict):
            problems.append(Text(f"清单中的文件名无效：{name}", f"invalid file name: {name}"))
            continue
        say(Text(f"校验 {name}", f"checking {name}"))
        if not path.is_file():
            problems.append(Text(f"缺少文件 {name}", f"{name} is missing"))
            continue
        size = path.stat().st_size
        if size != expected.get("bytes"):
            problems.append(
                Text(
                    f"{name} 的大小为 {size} 字节，清单中为 {expected.get('bytes')} 字节",
                    f"{name} has {size} bytes, the manifest says {expected.get('bytes')}",
                )
            )
            continue
        if _sha256(path) != expected.get("sha256"):
            problems.append(
                Text(
                    f"{name} 的 SHA-256 与清单不符：文件被改动或损坏",
                    f"{name} does not match its SHA-256 in the manifest: altered or damaged",
                )
            )
    return Verified(folder, manifest, problems)


def _en(text: str | None) -> str:
    return getattr(text, "en", str(text))


# --- restore ----------------------------------------------------------------------------------


@dataclass
class Restored:
    folder: Path
    database: str
    revision: str | None
    data_dir: Path | None
    steps: list[Step]

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


def relations(database_url: str) -> list[str]:
    """The tables, views and sequences of a PostgreSQL database outside the system schemas
    (``schema.name``, sorted): none in an empty one."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
                    "ORDER BY 1"
                )
            )
            return [str(row[0]) for row in rows]
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise Problem(
            "not-ready",
            Text(f"连不上目标数据库：{reason}", f"cannot connect to the target database: {reason}"),
        ) from None
    finally:
        engine.dispose()


def _revision_of(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return None if found is None else str(found)
    finally:
        engine.dispose()


def _refuse_non_empty(database: str, found: list[str]) -> Problem:
    shown = "、".join(found[:5]) + ("…" if len(found) > 5 else "")
    shown_en = ", ".join(found[:5]) + ("…" if len(found) > 5 else "")
    return Problem(
        "conflict",
        Text(
            f"目标数据库 {database} 不是空的（有 {len(found)} 个表、视图或序列，如 {shown}）："
            "恢复只写入空数据库，请新建一个空数据库（CREATE DATABASE）后再恢复。未做任何改动。",
            f"the target database {database} is not empty ({len(found)} tables, views or "
            f"sequences, e.g. {shown_en}): a restore only writes into an empty database; "
            "create an empty one (CREATE DATABASE) and restore into it. Nothing was changed.",
        ),
        errors=[FieldError("database_url", Text("数据库不为空", "database not empty"))],
    )


def _check_data_dir(data_dir: Path) -> None:
    for archive in (LEDGER_TAR, DATACORE_TAR):
        for name in ARCHIVES[archive]:
            target = data_dir / name
            if target.exists() and (not target.is_dir() or any(target.iterdir())):
                raise Problem(
                    "conflict",
                    Text(
                        f"数据目录中的 {target} 已有内容：恢复只写入空目录。未做任何改动。",
                        f"{target} already holds files: a restore only writes into empty "
                        "folders. Nothing was changed.",
                    ),
                    errors=[FieldError("data_dir", Text("目录不为空", "folder not empty"))],
                )


def restore(
    folder: Path,
    database_url: str,
    *,
    data_dir: Path | None = None,
    progress: Progress | None = None,
) -> Restored:
    """Verifies the backup in ``folder``, loads its dump into the empty database at
    ``database_url`` and, given ``data_dir``, unpacks its archives there. Refuses, changing
    nothing, a backup that does not verify, a database that is not empty and folders of
    ``data_dir`` that hold files."""
    say = progress or (lambda _message: None)
    target = libpq(database_url)
    pg_restore = _program("pg_restore")
    steps: list[Step] = []

    found = relations(database_url)
    if found:
        raise _refuse_non_empty(target.database, found)
    if data_dir is not None:
        _check_data_dir(data_dir)

    started = time.perf_counter()
    checked = verify(folder, progress=progress)
    if not checked.ok or checked.manifest is None:
        reasons = checked.problems
        raise Problem(
            "validation",
            Text(
                "备份未通过校验，不予恢复：" + "；".join(reasons),
                "the backup does not verify; not restored: " + "; ".join(_en(r) for r in reasons),
            ),
            errors=[FieldError("backup", reason) for reason in reasons],
        )
    manifest = checked.manifest
    _timed(steps, "verify", started)

    say(
        Text(
            f"恢复数据库到 {target.database}（pg_restore）",
            f"restoring into {target.database} (pg_restore)",
        )
    )
    started = time.perf_counter()
    _run(
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-acl",
            "--no-password",
            f"--dbname={target.conninfo}",
            str(folder / DUMP),
        ],
        target,
    )
    _timed(steps, "database", started)
    expected = manifest["database"].get("alembic_revision")
    revision = _revision_of(database_url) if expected is not None else None
    if revision != expected:
        raise Problem(
            "internal",
            Text(
                f"恢复后的数据库版本为 {revision}，备份中为 {expected}",
                f"the restored database is at revision {revision}, the backup at {expected}",
            ),
        )

    if data_dir is not None:
        say(
            Text(
                f"解开数据底座与账本发布文件到 {data_dir}",
                f"unpacking the data core and the ledger folder into {data_dir}",
            )
        )
        started = time.perf_counter()
        data_dir.mkdir(parents=True, exist_ok=True)
        for archive in (LEDGER_TAR, DATACORE_TAR):
            if archive in manifest["files"]:
                with tarfile.open(folder / archive) as tar:
                    tar.extractall(data_dir, filter="data")
        _timed(steps, "files", started)
    return Restored(folder, target.database, revision, data_dir, steps)
