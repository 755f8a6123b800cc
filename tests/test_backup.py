"""Backups and the production shape: a restore drill on the real PostgreSQL of the suite
(``SHUHUI_TEST_POSTGRES_URL``), refusals that change nothing, a tampered backup caught; the
container image built where an engine runs; ``compose.yaml`` held to the settings the code reads.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from sqlalchemy import make_url, text

from shuhui.core import backup
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.core.migrate import head_revision
from shuhui.core.settings import Settings
from shuhui.datacore.schema import Column, TableSpec
from shuhui.datacore.store import DataCore
from shuhui.trust.identity import service as identity_service
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.audit import FILE, audit
from shuhui.trust.ledger.keys import ensure_platform_key, platform_key
from shuhui.trust.ledger.publish import Publisher
from tests.fixtures import POSTGRES_URL, Stage, Templates, make_settings

ROOT = Path(__file__).resolve().parents[1]
needs_postgres = pytest.mark.skipif(
    POSTGRES_URL is None, reason="SHUHUI_TEST_POSTGRES_URL is not set"
)

SPEC = TableSpec(
    name="backup_drill",
    title="备份演练",
    department="测试局",
    columns=(Column("code", "string", "编码"), Column("n", "int64", "数")),
    primary_key=("code",),
)
PASSWORD = "drill-secret-Pw"


# --- libpq arguments from a SQLAlchemy URL (no database) ----------------------------------------


def test_a_url_becomes_a_connection_string_without_its_password() -> None:
    target = backup.libpq(
        "postgresql+psycopg://shuhui:s3cr%40t%20pw@db.example:5433/city?sslmode=require"
    )
    assert target.conninfo == "host=db.example port=5433 user=shuhui dbname=city sslmode=require"
    assert target.database == "city"
    assert "s3cr" not in target.conninfo and "s3cr" not in repr(target)
    assert target.environ()["PGPASSWORD"] == "s3cr@t pw"


def test_a_socket_url_with_options_is_quoted_for_libpq() -> None:
    target = backup.libpq(
        "postgresql+psycopg://postgres@/t1?host=/tmp/pg&port=55432"
        "&options=-c%20synchronous_commit%3Doff&password=it's"
    )
    assert target.conninfo == (
        "user=postgres dbname=t1 host=/tmp/pg port=55432 options='-c synchronous_commit=off'"
    )
    assert target.password == "it's"


def test_sqlite_and_nameless_urls_are_refused() -> None:
    for url in ("sqlite:///var/shuhui.db", "postgresql+psycopg://u@h:5432"):
        with pytest.raises(Problem) as refused:
            backup.libpq(url)
        assert refused.value.slug == "validation"
        assert isinstance(refused.value.detail, Text) and refused.value.detail.en


# --- the restore drill (PostgreSQL) -------------------------------------------------------------


@pytest.fixture
def databases(templates: Templates) -> Iterator[Callable[[Stage], str]]:
    """New PostgreSQL databases of the suite's server, dropped after the test."""
    if POSTGRES_URL is None:
        pytest.skip("SHUHUI_TEST_POSTGRES_URL is not set")
    postgres = templates.postgres()
    made: list[str] = []

    def new(stage: Stage) -> str:
        made.append(postgres.create(stage))
        return postgres.url(made[-1])

    yield new
    for name in made:
        postgres.drop_later(name)


@pytest.fixture
def source(tmp_path: Path, databases: Callable[[Stage], str]) -> Settings:
    """An instance in use: a migrated database with an account, ledger entries (checkpointed and
    published to the ledger folder, then two more) and a data-core table in two versions. Its
    URL carries a password (the test server trusts every local connection)."""
    url = make_url(databases(Stage.MIGRATED)).set(password=PASSWORD)
    settings = make_settings(tmp_path / "source", url.render_as_string(hide_password=False))
    settings.ensure_data_dir()
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    try:
        with transaction(sessions) as db:
            ledger.ensure_algorithm(db, settings.ledger_hash)
        key = ensure_platform_key(settings, "test")
        with transaction(sessions) as db:
            identity_service.create_user(
                db,
                UserCreate(
                    username="drill",
                    display_name="演练 张",
                    password="a long rehearsal passphrase",
                    roles=["officer"],
                ),
                actor="admin",
            )
            for n in range(5):
                ledger.record(db, "test", "backup.drill", subject=f"row:{n}", detail={"n": n})
        Publisher(settings, key, sessions).run_once(force=True, wait=True)
        with transaction(sessions) as db:
            ledger.record(db, "test", "backup.drill", subject="after-checkpoint")
            ledger.record(db, "test", "backup.drill", subject="after-checkpoint-2")
    finally:
        engine.dispose()
    core = DataCore.from_settings(settings)
    for n in (3, 7):
        rows = {"code": [f"c{i}" for i in range(n)], "n": list(range(n))}
        core.load(SPEC, pa.table(rows, schema=SPEC.arrow_schema), today=date(2026, 12, 1))
    # What an archive leaves out: DuckDB's spill, a dead load's staging folder, flock files.
    (settings.data_dir / "datacore" / "spill" / "c1").mkdir(parents=True)
    (settings.data_dir / "datacore" / "spill" / "c1" / "tmp.bin").write_bytes(b"x")
    staging = settings.data_dir / "datacore" / "tables" / SPEC.name / ".staging-dead"
    staging.mkdir()
    (staging / "part-00000.parquet").write_bytes(b"half")
    return settings


def fingerprint(url: str) -> dict[str, Any]:
    """Every table's row count and an MD5 over its rows, and every sequence's last value."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                )
            ).scalars()
            found: dict[str, Any] = {}
            for table in list(tables):
                found[table] = tuple(
                    conn.execute(
                        text(
                            f"SELECT count(*), md5(coalesce(string_agg(x::text, '|' "
                            f"ORDER BY x::text), '')) FROM \"{table}\" x"
                        )
                    ).one()
                )
            sequences = conn.execute(
                text("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")
            ).all()
            found["sequences"] = [tuple(row) for row in sequences]
            return found
    finally:
        engine.dispose()


def ledger_state(settings: Settings, public: Any) -> tuple[list[Any], list[Any], list[str]]:
    """The ledger's entries (seq, leaf, leaf hash), its checkpoints, and ``shuhui audit
    verify``'s findings over the database and the data directory's published checkpoints."""
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as db:
            entries = [
                (e.seq, bytes(e.leaf), bytes(e.leaf_hash))
                for e in ledger.entries(db, 0, ledger.committed_size(db))
            ]
            checkpoint = ledger.latest_checkpoint(db)
            assert checkpoint is not None
            checkpoints = [(checkpoint.tree_size, bytes(checkpoint.root_hash), checkpoint.note)]
            assert list(ledger.verify_ledger(db, public)) == []
            report = audit(db, public, settings.data_dir, settings.ledger_origin)
            assert report.checkpoints.get(FILE, 0) >= 1, "the published checkpoints are missing"
            return entries, checkpoints, [issue.text for issue in report.issues]
    finally:
        engine.dispose()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    """Every program the backup module runs: its arguments and environment."""
    seen: list[tuple[list[str], dict[str, str]]] = []
    real = subprocess.run

    def run(args: list[str], *rest: Any, **kwargs: Any) -> Any:
        seen.append((list(args), dict(kwargs.get("env") or {})))
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", run)
    return seen


@needs_postgres
def test_restore_drill(
    source: Settings,
    databases: Callable[[Stage], str],
    tmp_path: Path,
    calls: list[tuple[list[str], dict[str, str]]],
) -> None:
    folder = tmp_path / "backup"
    said: list[Text] = []
    started = time.perf_counter()
    made = backup.create(source.sqlalchemy_url, source.data_dir, folder, progress=said.append)
    backed_up = time.perf_counter() - started

    manifest = backup.read_manifest(folder)
    assert manifest == made.manifest
    assert manifest["database"]["name"] == make_url(source.sqlalchemy_url).database
    assert manifest["database"]["alembic_revision"] == head_revision()
    assert set(manifest["files"]) == {backup.DUMP, backup.LEDGER_TAR, backup.DATACORE_TAR}
    for name, described in manifest["files"].items():
        assert described["bytes"] == (folder / name).stat().st_size > 0
        assert re.fullmatch(r"[0-9a-f]{64}", described["sha256"])
        assert (folder / name).stat().st_mode & 0o077 == 0
    assert [t.en for t in said][:3] == [
        "archiving the ledger folder (ledger/)",
        f"dumping {manifest['database']['name']} (pg_dump)",
        "archiving the data core (datacore/, truth/)",
    ]
    # The password went to the programs in their environment, never on a command line.
    dumps = [
        (args, env) for args, env in calls if Path(args[0]).name == "pg_dump" and len(args) > 2
    ]
    assert dumps and dumps[0][1]["PGPASSWORD"] == PASSWORD
    assert all(PASSWORD not in " ".join(args) for args, _env in calls)
    assert backup.verify(folder).ok

    target = databases(Stage.EMPTY)
    assert backup.relations(target) == []
    restored_dir = tmp_path / "restored"
    started = time.perf_counter()
    done = backup.restore(folder, target, data_dir=restored_dir)
    restore_seconds = time.perf_counter() - started
    print(  # the drill's times, shown with -s / -rP
        f"\nbackup {backed_up:.2f} s {[(s.name, s.seconds) for s in made.steps]}; "
        f"restore {restore_seconds:.2f} s {[(s.name, s.seconds) for s in done.steps]}; "
        f"dump {manifest['files'][backup.DUMP]['bytes']:,} bytes"
    )
    assert done.revision == head_revision()
    # What archives leave out is not there: DuckDB's spill, the dead load's staging, flocks.
    assert not (restored_dir / "datacore" / "spill").exists()
    assert not list(restored_dir.rglob(".staging-*")) and not list(restored_dir.rglob("*.lock"))

    # The same rows in every table, the same sequences.
    assert fingerprint(target) == fingerprint(source.sqlalchemy_url)
    restored = make_settings(restored_dir, target)
    public = platform_key(source.data_dir).public_key
    # The same ledger, verifying the same, the published checkpoints included.
    assert ledger_state(restored, public) == ledger_state(source, public)
    assert ledger_state(restored, public)[2] == []
    engine = make_engine(target)
    try:
        with transaction(make_session_factory(engine)) as db:
            account = identity_service.get_user_by_username(db, "drill")
            assert account is not None and account.display_name == "演练 张"
            # The restored database takes new writes (its sequences and head came along).
            ledger.record(db, "test", "backup.drill", subject="after-restore")
    finally:
        engine.dispose()

    # The data core: the same versions and rows; what archives leave out is not there.
    ours, theirs = DataCore.from_settings(source), DataCore.from_settings(restored)
    assert [(t.name, t.version, t.rows) for t in theirs.tables()] == [
        (t.name, t.version, t.rows) for t in ours.tables()
    ]
    query = f"SELECT code, n FROM {SPEC.name} ORDER BY n"
    assert theirs.sql(query).to_pylist() == ours.sql(query).to_pylist()


@pytest.fixture
def made(source: Settings, tmp_path: Path) -> Path:
    folder = tmp_path / "backup"
    backup.create(source.sqlalchemy_url, source.data_dir, folder)
    return folder


@needs_postgres
def test_restoring_into_a_database_that_is_not_empty_is_refused_and_changes_nothing(
    made: Path, databases: Callable[[Stage], str], tmp_path: Path
) -> None:
    target = databases(Stage.MIGRATED)
    engine = make_engine(target)
    try:
        with transaction(make_session_factory(engine)) as db:
            ledger.record(db, "test", "already.here")
    finally:
        engine.dispose()
    before = fingerprint(target)
    data_dir = tmp_path / "untouched"
    with pytest.raises(Problem) as refused:
        backup.restore(made, target, data_dir=data_dir)
    problem = refused.value
    assert problem.slug == "conflict" and problem.http_status == 409
    assert isinstance(problem.detail, Text)
    assert "不是空的" in problem.detail and "未做任何改动" in problem.detail
    assert "is not empty" in problem.detail.en and "Nothing was changed" in problem.detail.en
    assert fingerprint(target) == before
    assert not data_dir.exists()


@needs_postgres
def test_restoring_into_data_folders_that_hold_files_is_refused_before_the_database(
    made: Path, databases: Callable[[Stage], str], tmp_path: Path
) -> None:
    target = databases(Stage.EMPTY)
    (tmp_path / "busy" / "ledger").mkdir(parents=True)
    (tmp_path / "busy" / "ledger" / "checkpoints.log").write_text("someone's\n")
    with pytest.raises(Problem) as refused:
        backup.restore(made, target, data_dir=tmp_path / "busy")
    assert refused.value.slug == "conflict"
    assert backup.relations(target) == []


@needs_postgres
@pytest.mark.parametrize("name", [backup.DUMP, backup.DATACORE_TAR, backup.LEDGER_TAR])
def test_a_tampered_backup_fails_verify_and_is_not_restored(
    made: Path, databases: Callable[[Stage], str], name: str
) -> None:
    path = made / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, same size: only the SHA-256 can tell
    path.write_bytes(bytes(data))
    checked = backup.verify(made)
    assert not checked.ok
    assert [p.en for p in checked.problems] == [
        f"{name} does not match its SHA-256 in the manifest: altered or damaged"
    ]
    target = databases(Stage.EMPTY)
    with pytest.raises(Problem) as refused:
        backup.restore(made, target)
    assert refused.value.slug == "validation"
    assert backup.relations(target) == []


@needs_postgres
def test_a_missing_or_truncated_file_and_a_missing_manifest_fail_verify(made: Path) -> None:
    with (made / backup.LEDGER_TAR).open("ab") as handle:
        handle.write(b"\0")
    (made / backup.DATACORE_TAR).unlink()
    problems = [p.en for p in backup.verify(made).problems]
    assert problems[0] == f"{backup.DATACORE_TAR} is missing"
    assert problems[1].startswith(f"{backup.LEDGER_TAR} has ")
    (made / backup.MANIFEST).unlink()
    assert "not a backup, or an unfinished one" in backup.verify(made).problems[0].en


@needs_postgres
def test_a_backup_is_written_into_a_new_folder_only(source: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "other").write_text("x")
    with pytest.raises(Problem) as refused:
        backup.create(source.sqlalchemy_url, source.data_dir, folder)
    assert refused.value.slug == "conflict"
    assert sorted(p.name for p in folder.iterdir()) == ["other"]


@needs_postgres
def test_the_commands_say_each_step_and_print_json(
    source: Settings,
    databases: Callable[[Stage], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from shuhui.core import backup_cli
    from shuhui.core.settings import get_settings

    monkeypatch.setenv("SHUHUI_DATABASE_URL", source.sqlalchemy_url)
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(source.data_dir))
    monkeypatch.setenv("SHUHUI_DEFAULT_LOCALE", "en")
    get_settings.cache_clear()
    monkeypatch.setattr(backup_cli.console, "width", 1000)
    runner = CliRunner()
    folder = tmp_path / "by-command"
    try:
        made = runner.invoke(backup_cli.app, ["create", "--to", str(folder), "--json"])
        assert made.exit_code == 0, made.output
        assert json.loads(made.stdout)["manifest"] == backup.read_manifest(folder)
        assert "dumping" in made.stderr and "backup made" in made.stderr

        checked = runner.invoke(backup_cli.app, ["verify", str(folder), "--json"])
        assert checked.exit_code == 0 and json.loads(checked.stdout)["ok"] is True

        refused = runner.invoke(
            backup_cli.app, ["restore", str(folder), "--database-url", source.sqlalchemy_url]
        )
        assert refused.exit_code == 2
        assert "is not empty" in refused.stderr

        target = databases(Stage.EMPTY)
        done = runner.invoke(
            backup_cli.app, ["restore", str(folder), "--database-url", target, "--json"]
        )
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["alembic_revision"] == head_revision()
        assert "files not restored (no --data-dir)" in done.stderr

        with (folder / backup.DUMP).open("ab") as handle:
            handle.write(b"\0")
        broken = runner.invoke(backup_cli.app, ["verify", str(folder)])
        assert broken.exit_code == 1
        assert f"{backup.DUMP} has " in broken.stderr
    finally:
        get_settings.cache_clear()


# --- the container image and compose.yaml -------------------------------------------------------


def test_the_image_builds_where_a_container_engine_runs(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no container engine here: the docker client is not installed")
    try:
        info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.skip("no container engine here: docker info did not answer within 60 s")
    if info.returncode != 0:
        said = (info.stderr.strip().splitlines() or ["(no message)"])[-1]
        pytest.skip(f"no container engine here: docker info failed — {said}")
    tag = "shuhui-test:backup-drill"
    subprocess.run([docker, "build", "--tag", tag, str(ROOT)], check=True, timeout=3600)
    try:
        ran = subprocess.run(
            [docker, "run", "--rm", tag, "shuhui", "version"],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        assert ran.stdout.strip() == __import__("shuhui").__version__
        for program in ("pg_dump", "pg_restore"):
            subprocess.run(
                [docker, "run", "--rm", tag, program, "--version"], check=True, timeout=300
            )
    finally:
        subprocess.run([docker, "image", "rm", "--force", tag], check=False, timeout=300)


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_compose_sets_only_variables_the_settings_read() -> None:
    services = compose()["services"]
    fields = {f"SHUHUI_{name.upper()}" for name in Settings.model_fields}
    seen: set[str] = set()
    for name, service in services.items():
        for variable in environment(service):
            if variable.startswith("SHUHUI_"):
                assert variable in fields, f"{name} sets unknown {variable}"
                seen.add(variable)
    assert {
        "SHUHUI_DATABASE_URL",
        "SHUHUI_DATA_DIR",
        "SHUHUI_MQTT_URL",
        "SHUHUI_SECRET_KEY",
        "SHUHUI_HOST",
        "SHUHUI_SPARK_MASTER",
    } <= seen


def test_compose_is_the_production_shape() -> None:
    loaded = compose()
    services = loaded["services"]
    shuhui = {n: s for n, s in services.items() if "SHUHUI_DATABASE_URL" in environment(s)}
    apps = {n: s for n, s in shuhui.items() if s.get("command") in (None, ["shuhui", "serve"])}
    assert len(apps) >= 2 or any(
        (s.get("deploy") or {}).get("replicas", 1) >= 2 for s in apps.values()
    ), "two app nodes"
    migrate = services["migrate"]
    assert migrate["command"] == ["shuhui", "db", "upgrade"]
    assert migrate.get("restart", "no") == "no"
    data_dirs = {environment(s)["SHUHUI_DATA_DIR"] for s in shuhui.values()}
    assert len(data_dirs) == 1, "every node sees the data directory at one path"
    (data_dir,) = data_dirs
    for name, service in shuhui.items():
        assert f"shuhui-data:{data_dir}" in service.get("volumes", []), name
        assert (
            environment(service)["SHUHUI_SECRET_KEY"] == environment(migrate)["SHUHUI_SECRET_KEY"]
        )
    for name, service in apps.items():
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert environment(service)["SHUHUI_HOST"] == "0.0.0.0", name
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto")
    assert "org.apache.spark.deploy.master.Master" in services["spark-master"]["command"]
    worker = services["spark-worker"]["command"]
    assert "org.apache.spark.deploy.worker.Worker" in worker
    assert "spark://spark-master:7077" in worker
    assert {"postgres-data", "shuhui-data"} <= set(loaded["volumes"])
    # Every file the services mount from the repository is there.
    for name, service in services.items():
        for volume in service.get("volumes", []):
            host = str(volume).split(":", 1)[0]
            if host.startswith("./"):
                assert (ROOT / host).exists(), f"{name} mounts missing {host}"


def test_the_image_checks_a_health_route_the_app_serves() -> None:
    from shuhui.web.routes import health

    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    found = re.search(r"^HEALTHCHECK .*?https?://[^/\s'\"]+(/\w+)", dockerfile, re.M | re.S)
    assert found, "a HEALTHCHECK"
    assert found.group(1) in {getattr(route, "path", None) for route in health.routes}
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.MULTILINE), "runs as a non-root user"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for kept_out in (".venv", "var", ".git"):
        assert any(line.strip("/") == kept_out for line in ignored), kept_out
