"""Spark as the batch engine: a session that sees the data core's published tables.

DuckDB in this process is the default engine; with ``SHUHUI_ENGINE=spark`` (or a job's own
flag) batch work runs on Spark instead, through PySpark, on ``local[N]`` or a standalone
cluster (``scripts/spark-cluster.sh``). Spark reads the very Parquet files a version's manifest
lists, as temporary views named like DuckDB's, so the same compiled query (emitted as Spark
SQL by sqlglot) answers the same question over the same version.

A session costs seconds to start (a JVM), so one is kept per process and master and reused;
views are replaced per run, so a run always reads the version current when it started.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore, PublishedFiles

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from shuhui.core.settings import Settings

# What the compiled rules assume of SQL, set on every session (shuhui.rules.expressions):
# ANSI mode off, so x / 0 is NULL (unknown) as the compiler means it rather than an error, and
# one time zone, so a date read from Parquet is the date DuckDB reads.
SESSION_CONF: Final[dict[str, str]] = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # A city's tables are tens of files at most; adaptive execution merges small shuffle
    # partitions, so the default of 200 costs nothing on big inputs and little on small ones.
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
}

LOG_CONFIG: Final = Path(__file__).with_name("spark-log4j2.properties")

_sessions: dict[str, SparkSession] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class SparkTables:
    """What a session was given to read: each table's version (for the run's record)."""

    versions: dict[str, int]


def java_home() -> str | None:
    """The JDK Spark runs on: ``JAVA_HOME`` if set, else the ``java`` on the path."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java is None:
        return None
    return str(Path(java).resolve().parent.parent)


def unavailable() -> Problem:
    return Problem(
        "not-ready",
        detail=Text(
            "Spark 引擎不可用：本机未安装 PySpark 或 Java（运行 scripts/system-deps.sh runtime "
            "与 pip install 'shuhui[spark]'）",
            "the Spark engine is unavailable: PySpark or Java is not installed here "
            "(run scripts/system-deps.sh runtime and pip install 'shuhui[spark]')",
        ),
        status=503,
    )


def session(
    master: str, driver_memory: str = "2g", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """The process's Spark session for ``master`` (started on first use; ``conf`` is added to
    :data:`SESSION_CONF` then, and ignored once the session runs)."""
    with _lock:
        found = _sessions.get(master)
        if found is not None and not _stopped(found):
            return found
        home = java_home()
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise unavailable() from exc
        if home is None:
            raise unavailable()
        os.environ.setdefault("JAVA_HOME", home)
        if master.startswith("local"):
            # One machine: bind to loopback rather than guess an interface (and warn about it).
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = SparkSession.builder.master(master).appName("shuhui")
        builder = builder.config("spark.driver.memory", driver_memory)
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"
        )
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions(master)))
        for key, value in {**SESSION_CONF, **(conf or {})}.items():
            builder = builder.config(key, value)
        started = builder.getOrCreate()
        started.sparkContext.setLogLevel("ERROR")
        _sessions[master] = started
        return started


def shuffle_partitions(master: str) -> int:
    """Partitions after a shuffle: twice the cores of ``local[N]`` (Spark's 200 cost a task
    each, seconds on a small city); a cluster keeps 200, merged by adaptive execution."""
    if master.startswith("local"):
        inside = master[len("local") :].strip("[]")
        cores = (os.cpu_count() or 2) if inside in ("", "*") else int(inside)
        return max(2, 2 * cores)
    return 200


def _stopped(spark: SparkSession) -> bool:
    context = spark.sparkContext
    # PySpark's own test for a stopped context: it drops the Java context on stop().
    return context._jsc is None


def from_settings(settings: Settings) -> SparkSession:
    return session(settings.spark_master, settings.spark_driver_memory)


def stop_all() -> None:
    with _lock:
        for spark in _sessions.values():
            spark.stop()
        _sessions.clear()
        _views.clear()


def register(spark: SparkSession, core: DataCore, tables: Iterable[str]) -> SparkTables:
    """Makes each named table (its current version) a temporary view of ``spark``, reading the
    files its manifest lists; returns the versions read. A table not published is left out
    (the caller says which are missing, as for DuckDB)."""
    published = core.published_files(tables)
    for files in published.values():
        _view(spark, files)
    return SparkTables({name: files.version for name, files in published.items()})


# The files each view of a session reads: a view is made again only when they change (a new
# version, another data directory), since making one reads every file's footer, a Spark job.
_views: dict[tuple[int, str], tuple[str, ...]] = {}


def _view(spark: SparkSession, files: PublishedFiles) -> None:
    paths = tuple(str(path) for path in files.files)
    key = (id(spark), files.table)
    with _lock:
        if _views.get(key) == paths and spark.catalog.tableExists(files.table):
            return
        spark.read.parquet(*paths).createOrReplaceTempView(files.table)
        _views[key] = paths


def present(spark: SparkSession, tables: Iterable[str]) -> set[str]:
    """Which of ``tables`` the session can read by name."""
    return {name for name in tables if spark.catalog.tableExists(name)}
