"""One enterprise, one file (一企一档): assembled from the data core and the platform's services
for the enterprise itself; an officer opens it only with a purpose, and each look is a ledger
entry the enterprise sees under 谁用了我的数据; an operator reads it from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from shuhui.cli import app as cli
from shuhui.core.db import transaction
from shuhui.core.settings import get_settings
from shuhui.datacore.store import DataCore
from shuhui.monitor.alarms.models import Alarm
from shuhui.trust.ledger.models import LedgerEntry
from tests.enterprise.test_needs import CSRF_INPUT, firm_client
from tests.fixtures import as_user

PROFILES = "/api/v1/enterprise/profiles"


def expected_staff(app: FastAPI, code: str) -> tuple[str, int]:
    """The latest month contributions hold, and the spells open in it, counted in DuckDB."""
    core = DataCore.from_settings(app.state.settings)
    row = core.sql(
        "WITH last AS (SELECT max(month) AS m FROM insurance_contributions) "
        "SELECT (SELECT m FROM last) AS m, count(*) AS n FROM employment_spells, last "
        f"WHERE credit_code = '{code}' AND start_date < m + INTERVAL 1 MONTH "
        "AND (end_date IS NULL OR end_date >= m)"
    ).to_pylist()[0]
    return str(row["m"])[:7], int(row["n"])


def test_the_enterprise_reads_its_own_file(city_app: FastAPI) -> None:
    firm, code = firm_client(city_app)
    found = firm.get("/api/v1/enterprise/me/profile")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["credit_code"] == code and body["registration"]["name"] == body["name"]
    month, staff = expected_staff(city_app, code)
    assert body["headcounts"][-1]["month"][:7] == month
    assert body["staff"] == staff > 0
    assert 0 < len(body["headcounts"]) <= 24
    assert body["tax"] and body["electricity"]
    tables = {s["table"] for s in body["sources"]}
    assert {"enterprises", "enterprise_headcounts", "enterprise_tax"} <= tables
    # The legal representative's ID is masked even to the enterprise's own page.
    assert "*" in body["registration"]["legal_rep_citizen_id"]
    # Its own look writes nothing in the ledger.
    with transaction(city_app.state.session_factory) as db:
        assert not db.scalars(
            select(LedgerEntry).where(LedgerEntry.action == "enterprise.profile_viewed")
        ).all()
    page = firm.get("/enterprise/profile")
    assert page.status_code == 200
    assert 'id="headcount-chart"' in page.text and "data-chart" in page.text
    assert body["name"] in firm.get("/enterprise").text


def test_an_officer_states_a_purpose_and_the_enterprise_sees_the_look(city_app: FastAPI) -> None:
    firm, code = firm_client(city_app)
    officer = as_user(city_app, "industry")
    missing = officer.post(PROFILES, json={"credit_code": code})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "purpose"
    bad = officer.post(PROFILES, json={"credit_code": code[:-1] + "0", "purpose": "核实诉求"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "credit_code"
    opened = officer.post(PROFILES, json={"credit_code": code, "purpose": "核实企业诉求办理情况"})
    assert opened.status_code == 200 and opened.json()["credit_code"] == code
    with transaction(city_app.state.session_factory) as db:
        looks = db.scalars(
            select(LedgerEntry).where(
                LedgerEntry.action == "enterprise.profile_viewed", LedgerEntry.subject == code
            )
        ).all()
    assert [(e.actor, e.purpose) for e in looks] == [("user:industry", "核实企业诉求办理情况")]
    uses = firm.get("/me/data-uses")
    assert "工作人员查看了本企业的一企一档" in uses.text and "核实企业诉求办理情况" in uses.text

    # Through the page, too: the form, then the file with the look said to be recorded.
    form = officer.get("/enterprise/files")
    token = CSRF_INPUT.search(form.text)
    assert token
    shown = officer.post(
        "/enterprise/files",
        data={"credit_code": code, "purpose": "走访企业前了解情况", "csrf_token": token.group(1)},
    )
    assert shown.status_code == 200 and 'id="look-recorded"' in shown.text
    refused = officer.post(
        "/enterprise/files", data={"credit_code": code, "purpose": "", "csrf_token": token.group(1)}
    )
    assert refused.status_code == 422 and "查询事由" in refused.text


def test_who_may_open_a_file(city_app: FastAPI) -> None:
    _, code = firm_client(city_app)
    citizen = as_user(city_app, "citizen")
    assert citizen.post(PROFILES, json={"credit_code": code, "purpose": "好奇"}).status_code == 403
    assert citizen.get("/api/v1/enterprise/me/profile").status_code == 403
    admin = as_user(city_app, "admin")  # no officer's purpose to state: not an officer
    assert admin.post(PROFILES, json={"credit_code": code, "purpose": "看看"}).status_code == 403
    officer = as_user(city_app, "industry")
    unknown = officer.post(
        PROFILES, json={"credit_code": "91370200MA3C4D5E6T", "purpose": "核实诉求"}
    )
    assert unknown.status_code in (404, 422)


@pytest.fixture
def shuhui(city_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    settings = city_app.state.settings
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHUHUI_DATABASE_URL", settings.sqlalchemy_url)
    monkeypatch.setenv("SHUHUI_DEFAULT_LOCALE", "zh-CN")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_command_line_prints_the_file_and_records_the_look(
    shuhui: CliRunner, city_app: FastAPI
) -> None:
    _, code = firm_client(city_app)
    done = shuhui.invoke(cli, ["enterprise", "profile", code, "--json"])
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body["credit_code"] == code and body["headcounts"]
    text = shuhui.invoke(cli, ["enterprise", "profile", code])
    assert text.exit_code == 0 and "在职职工" in text.stdout
    refused = shuhui.invoke(cli, ["enterprise", "profile", "not-a-code"])
    assert refused.exit_code == 2
    with transaction(city_app.state.session_factory) as db:
        looks = db.scalars(
            select(LedgerEntry).where(
                LedgerEntry.action == "enterprise.profile_viewed", LedgerEntry.subject == code
            )
        ).all()
    assert len(looks) == 2 and all(e.actor.startswith("cli:") for e in looks)


def test_the_file_shows_the_alarms_at_the_enterprise_s_monitored_plants(city_app: FastAPI) -> None:
    core = DataCore.from_settings(city_app.state.settings)
    rows = core.sql(
        "SELECT site_credit_code AS code, list(DISTINCT site_id ORDER BY site_id) AS sites "
        "FROM infrastructure_assets WHERE site_credit_code IS NOT NULL "
        "GROUP BY 1 ORDER BY 1 LIMIT 1"
    ).to_pylist()
    assert rows, "the test city has no hazardous-chemicals site that is an enterprise's plant"
    code, sites = str(rows[0]["code"]), [str(s) for s in rows[0]["sites"]]
    now = datetime.now(UTC)
    with transaction(city_app.state.session_factory) as db:
        for n, site in enumerate([*sites, "SITE-370202-9999"]):  # the last is someone else's
            db.add(
                Alarm(
                    code=f"GJ-TEST-{n}",
                    open_key=f"gas|{site}",
                    rule="gas",
                    kind="threshold",
                    scenario="hazchem",
                    source=site,
                    site=site,
                    district="370211",
                    level=2,
                    raised_level=2,
                    state="raised",
                    raised_at=now,
                    updated_at=now,
                )
            )
    officer = as_user(city_app, "industry")
    body = officer.post(PROFILES, json={"credit_code": code, "purpose": "检查厂区安全"}).json()
    assert body["sites"] == sites
    assert sorted(a["site"] for a in body["alarms"]) == sites
    assert {a["level_name"] for a in body["alarms"]} == {"二级"}
