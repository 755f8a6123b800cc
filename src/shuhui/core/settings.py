"""Configuration from ``SHUHUI_*`` environment variables and ``.env``.

Every file the platform writes lives under one data directory, so two instances with two data
directories never touch each other's state.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shuhui.core.content import DEFAULT_DIR as DEFAULT_CONTENT_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHUHUI_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("var"), description="root of all state")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite in the data directory"
    )
    secret_key: str | None = Field(
        default=None,
        description="signs CSRF tokens; default is a random key kept in the data directory",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(
        default=1, ge=1, le=64, description="web server processes (one per core serves most)"
    )
    cookie_secure: bool = True
    forwarded_allow_ips: str = Field(
        default="",
        pattern=r"^[0-9A-Fa-f.:/, *]{0,500}$",
        description="addresses of the reverse proxies whose X-Forwarded-For is believed "
        "(comma-separated, CIDR allowed); empty: none, the client is the peer",
    )
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="largest request body read, in bytes (routes taking uploads declare more); "
        "larger ones are refused with 413 before they are read",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    content_dir: Path = Field(
        default=DEFAULT_CONTENT_DIR,
        description="what the city configures: service items, rules, products (see content/)",
    )
    city: str = Field(default="qingdao", pattern=r"^[a-z][a-z0-9_-]*$", description="content set")
    ledger_hash: Literal["sm3", "sha256"] = Field(
        default="sm3", description="the audit ledger's hash; fixed once the ledger has entries"
    )
    # The audit ledger's checkpoints (trust.ledger.publish): signed at least every N entries and
    # every interval while the ledger grows, published to <data dir>/ledger/ and to witnesses.
    ledger_origin: str = Field(
        default="shuhui.local/audit-ledger",
        pattern=r"^[^\s+]{1,200}$",
        description="names this instance's ledger in its checkpoints (the origin adds /<hash>)",
    )
    ledger_checkpoint_every: int = Field(default=1000, ge=1, le=10_000_000)
    ledger_checkpoint_interval: float = Field(default=60.0, gt=0, le=86_400, description="seconds")
    ledger_witnesses: str = Field(
        default="", description="'<URL> <witness vkey>' pairs, comma-separated, to push to"
    )
    ocr_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="ONNX Runtime threads for the pre-check's OCR (at most the cores are used)",
    )
    # The safety-risk monitoring's MQTT broker (shuhui.monitor.telemetry): sensors publish to
    # shuhui/<device id>/telemetry there; `shuhui monitor consume` subscribes.
    mqtt_url: str = Field(
        default="mqtt://127.0.0.1:1883",
        pattern=r"^mqtts?://[^\s/]{1,200}(:[0-9]{1,5})?$",
        description="the MQTT broker sensors publish readings to",
    )

    # How often at most the monitoring wall fetches its devices' points again when their status
    # summary changes: each fetch is every device of the city.
    monitor_points_every: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="seconds at least between the monitoring wall's fetches of its device points",
    )

    # The batch engine (shuhui.datacore.spark): DuckDB in this process by default; Spark reads the
    # same published Parquet files, on ``local[N]`` or a standalone cluster's master.
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="the engine batch work (rule runs) runs on"
    )
    spark_master: str = Field(
        default="local[2]",
        pattern=r"^(local(\[([0-9]{1,3}|\*)\])?|spark://[^\s/]{1,200}:[0-9]{1,5})$",
        description="Spark's master: local[N] in this process, or spark://host:port",
    )
    spark_driver_memory: str = Field(
        default="2g", pattern=r"^[0-9]{1,6}[mg]$", description="the Spark driver's heap"
    )

    # Background jobs (shuhui.jobs): a Redis server's queue when set, consumed by `shuhui jobs
    # worker`; unset, a SQLite queue in the data directory, consumed inside the served app.
    redis_url: str | None = Field(
        default=None,
        pattern=r"^rediss?://[^\s]{1,500}$",
        description="the Redis server whose queue background jobs go through (redis://host:6379/0)",
    )

    @field_validator("data_dir", "content_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'shuhui.db'}"

    @property
    def city_content(self) -> Path:
        return self.content_dir / self.city

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def signing_key(self) -> bytes:
        """The configured secret, or one generated once and kept beside the data it protects."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.ensure_data_dir() / "secret.key"
        if not path.exists():
            # Nodes starting together on one data directory race here: each writes a key whole
            # beside the name and links it in, so the first one linked is every node's key and
            # nobody reads a file before its key is in it.
            staged = path.with_name(f".secret.key.{secrets.token_hex(8)}.tmp")
            fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            try:
                os.link(staged, path)
            except FileExistsError:
                pass
            finally:
                staged.unlink()
        return path.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
