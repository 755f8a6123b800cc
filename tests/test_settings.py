"""Configuration: SHUHUI_* variables and .env, and one data directory per instance."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shuhui.core.migrate import upgrade
from shuhui.core.settings import Settings
from shuhui.web.app import create_app


def test_environment_variables_configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SHUHUI_PORT", "9123")
    settings = Settings()
    assert settings.data_dir == (tmp_path / "d").resolve()
    assert settings.port == 9123
    assert settings.sqlalchemy_url == f"sqlite:///{(tmp_path / 'd').resolve() / 'shuhui.db'}"


def test_dotenv_file_configures(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHUHUI_DATA_DIR", raising=False)
    monkeypatch.delenv("SHUHUI_LOG_LEVEL", raising=False)
    (tmp_path / ".env").write_text("SHUHUI_DATA_DIR=from-dotenv\nSHUHUI_LOG_LEVEL=DEBUG\n")
    settings = Settings()
    assert settings.data_dir == (tmp_path / "from-dotenv").resolve()
    assert settings.log_level == "DEBUG"


def test_bad_setting_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHUHUI_PORT", "99999")
    with pytest.raises(ValueError, match="port"):
        Settings()


def test_two_instances_with_two_data_dirs_share_nothing(tmp_path: Path) -> None:
    apps = []
    for name in ("a", "b"):
        settings = Settings(data_dir=tmp_path / name, cookie_secure=False)
        settings.ensure_data_dir()
        upgrade(settings.sqlalchemy_url)
        apps.append(create_app(settings))
    a, b = apps
    assert a.state.signing_key != b.state.signing_key
    assert (tmp_path / "a" / "shuhui.db").exists() and (tmp_path / "b" / "shuhui.db").exists()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        p.name for p in (tmp_path / "b").iterdir()
    )
    with TestClient(a) as ca, TestClient(b) as cb:
        assert ca.get("/readyz").status_code == 200
        assert cb.get("/readyz").status_code == 200
    for application in apps:
        application.state.engine.dispose()


def test_generated_secret_is_kept_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "s")
    key = settings.signing_key()
    assert settings.signing_key() == key
    assert ((tmp_path / "s" / "secret.key").stat().st_mode & 0o077) == 0
