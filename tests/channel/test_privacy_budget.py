"""The privacy budget of the district statistics (a noised aggregate): the same query on the
same table versions gets the same answer, distinct queries stop at the grant's budget, a
refusal spends nothing, and the budget is stored (it outlives the process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuhui.channel import gateway
from shuhui.channel.calls import Outcome, Refusal
from shuhui.channel.models import Call, PrivacyBudget
from shuhui.core.clock import local_today, utcnow
from shuhui.core.db import transaction
from shuhui.core.regions import qingdao_districts
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.channel.conftest import grant_for, register
from tests.fixtures import add_account, as_user

pytestmark = pytest.mark.both_backends

STATS = "district-statistics"
PATH = f"/api/v1/channel/products/{STATS}"
PURPOSE = "人口老龄化研究"
INSTITUTE = "12370200MB12345671"


@dataclass
class Institute:
    app: FastAPI
    client: TestClient  # the institute's account
    bureau: TestClient
    officer: TestClient
    key: str
    grant: str


@pytest.fixture
def institute(synced_city_app: FastAPI) -> Iterator[Institute]:
    """A research institute in the public-governance zone with a grant for the district
    statistics at the product's default budget (ε 5 per table version, 0.5 a query)."""
    app = synced_city_app
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="academy",
                display_name="青岛社科院",
                password=DEMO_PASSWORD,
                roles=[Role.consumer],
                credit_code=INSTITUTE,
            ),
        )
    client, bureau, officer = (as_user(app, u) for u in ("academy", "operator", "officer"))
    register(client, "青岛市社会科学院", "research", "public", bureau)
    grant = grant_for(client, officer, bureau, [STATS], PURPOSE, usage="public_governance")
    key = client.post("/api/v1/channel/keys", json={"grants": [grant], "label": "研究"})
    assert key.status_code == 201, key.text
    yield Institute(app, client, bureau, officer, key.json()["secret"], grant)


def call(app: FastAPI, key: str, **params: Any) -> Any:
    return TestClient(app).post(
        PATH, json={"purpose": PURPOSE, "params": params}, headers={"X-API-Key": key}
    )


def budget_of(response: Any) -> tuple[float, float, float]:
    h = response.headers
    return (
        float(h["X-Privacy-Budget-Total"]),
        float(h["X-Privacy-Budget-Remaining"]),
        float(h["X-Privacy-Epsilon-Spent"]),
    )


def stored(app: FastAPI, month: bool = False) -> list[PrivacyBudget]:
    """The budgets spent per table version (``month``: per calendar month)."""
    with app.state.session_factory() as db:
        scope = PrivacyBudget.scope.startswith("month:")
        return list(db.scalars(select(PrivacyBudget).where(scope if month else ~scope)))


def true_counts(app: FastAPI, district: str) -> dict[tuple[str, str], int]:
    product = app.state.city_channel.products.by_code[STATS]
    prepared = app.state.channel_engine.prepared(product, local_today(utcnow()))
    rows = prepared.con.execute(
        "SELECT age_band, sex, sum(residents) FROM prepared WHERE district_code = ? GROUP BY 1, 2",
        (district,),
    ).fetchall()
    return {(band, sex): int(n) for band, sex, n in rows}


def identical_calls(app: FastAPI, key: str, n: int, **params: Any) -> list[Outcome]:
    """``n`` identical calls through the gateway as the server makes them under load: decided,
    then recorded in groups of 100 (one transaction each, :mod:`shuhui.channel.writes`)."""
    outcomes: list[Outcome] = []
    payload = {"purpose": PURPOSE, "params": params}
    for _ in range(0, n, 100):
        with transaction(app.state.session_factory) as db:
            pending = [
                gateway.decide_call(
                    db,
                    app.state.city_channel,
                    app.state.channel_engine,
                    api_key=key,
                    product_code=STATS,
                    payload=payload,
                    keys=app.state.channel_keys,
                )
                for _ in range(min(100, n - len(outcomes)))
            ]
            outcomes += gateway.record_calls(db, pending)
    return outcomes


def test_identical_calls_get_one_answer_and_averaging_gives_it_back(
    institute: Institute,
) -> None:
    ins = institute
    district = next(d.code for d in qingdao_districts() if d.kind != "city")
    outcomes = identical_calls(ins.app, ins.key, 400, district_code=district)
    assert all(o.reason is None for o in outcomes), outcomes[0].body
    results = [o.body["result"] for o in outcomes]
    first = results[0]
    assert first["rows"] and all(r == first for r in results)
    assert {o.body["answer_sha256"] for o in outcomes} == {outcomes[0].body["answer_sha256"]}
    # Averaging the 400 answers gives the one answer back, not the true count: the noise was
    # drawn once (the true counts differ from it wherever that draw was not 0).
    for i, row in enumerate(first["rows"]):
        if row["residents"] is not None:
            mean = sum(r["rows"][i]["residents"] for r in results) / len(results)
            assert mean == row["residents"]
    shown = {(r["age_band"], r["sex"]) for r in first["rows"]}
    assert shown <= set(true_counts(ins.app, district))
    # The mechanism and its ε are OpenDP's: discrete Laplace over the three counts at once.
    noise = first["privacy"]["noise"]
    assert noise["mechanism"] == "discrete_laplace" and noise["library"] == "opendp"
    assert noise["epsilon_per_query"] == 0.5 and noise["scale"] == pytest.approx(6.0)
    # Only the first call spent ε — the 399 others, in its group or after, are replays.
    charged = [o.budget.charged for o in outcomes if o.budget is not None]
    assert charged == [500_000] + [0] * 399
    assert outcomes[0].body["privacy_budget"]["replayed"] is False
    assert outcomes[-1].body["privacy_budget"]["replayed"] is True
    [account] = stored(ins.app)
    assert account.spent_micro == 500_000 and account.queries == 1
    assert account.scope.startswith("residents@")
    [month] = stored(ins.app, month=True)
    assert month.spent_micro == 500_000 and month.total_micro == 10_000_000
    # Through HTTP: the same answer again, its budget in the headers, nothing spent.
    answered = call(ins.app, ins.key, district_code=district)
    assert answered.status_code == 200
    assert answered.json()["result"] == first
    assert budget_of(answered) == (5.0, 4.5, 0.0)
    fresh = call(ins.app, ins.key)  # a distinct query (the whole city): new noise, paid for
    assert budget_of(fresh) == (5.0, 4.0, 0.5)


def test_distinct_queries_stop_at_the_budget_and_the_refusal_spends_nothing(
    institute: Institute,
) -> None:
    ins = institute
    districts = [d.code for d in qingdao_districts() if d.kind != "city"]
    queries = [{"district_code": d, "sex": s} for d in districts for s in ("男", "女")]
    remaining = []
    for params in queries[:10]:  # ε 5 at 0.5 a query: ten distinct queries
        answered = call(ins.app, ins.key, **params)
        assert answered.status_code == 200, answered.text
        remaining.append(budget_of(answered)[1])
    assert remaining == [4.5, 4.0, 3.5, 3.0, 2.5, 2.0, 1.5, 1.0, 0.5, 0.0]
    # The eleventh distinct query would disclose more than the grant allows: refused. This is
    # what stops differencing (the whole city minus all but one district, …) at the budget.
    refused = call(ins.app, ins.key, **queries[10])
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/privacy-budget-spent")
    assert problem["title"] == "隐私预算已用完"
    assert problem["reason"] == "privacy-budget-spent"
    assert problem["reason_zh"] == "该数据产品在当前数据版本上的隐私预算已用完"
    assert problem["privacy_budget"]["remaining"] == "0"
    assert problem["privacy_budget"]["scope"] == "version"
    assert budget_of(refused) == (5.0, 0.0, 0.0)
    assert "X-RateLimit-Remaining" in refused.headers
    # The OpenAPI document declares the budget headers where it declares the rate limit's.
    document = TestClient(ins.app).get("/openapi.json").json()
    answers = document["paths"][PATH]["post"]["responses"]
    assert {"X-Privacy-Budget-Remaining", "X-RateLimit-Remaining"} <= set(answers["200"]["headers"])
    assert "X-Privacy-Budget-Total" in answers["403"]["headers"]
    subject = document["paths"]["/api/v1/channel/products/underwriting-health-check"]["post"]
    assert "X-Privacy-Budget-Total" not in subject["responses"]["200"]["headers"]
    # A query already answered is still answered, identically and free.
    again = call(ins.app, ins.key, **queries[0])
    assert again.status_code == 200 and budget_of(again) == (5.0, 0.0, 0.0)
    [account] = stored(ins.app)
    assert account.spent_micro == 5_000_000 and account.queries == 10
    # The refusal is metered and in the ledger like every refusal.
    with ins.app.state.session_factory() as db:
        metered = db.scalars(select(Call).where(Call.reason == "privacy-budget-spent")).all()
        assert len(metered) == 1 and metered[0].status == 403 and metered[0].product == STATS
        entry = db.scalar(select(LedgerEntry).where(LedgerEntry.seq == metered[0].ledger_seq))
        assert entry is not None and entry.action == "channel.refused"
        assert json.loads(entry.leaf)["detail"]["reason"] == "privacy-budget-spent"
        answered_entry = db.scalar(
            select(LedgerEntry)
            .where(LedgerEntry.action == "channel.answered")
            .order_by(LedgerEntry.seq)
        )
        assert answered_entry is not None
        assert json.loads(answered_entry.leaf)["detail"]["epsilon_spent"] == "0.5"
    # The console shows what is left: 隐私预算 剩余 0 / 共 5.
    page = ins.client.get("/channel")
    assert page.status_code == 200
    assert "隐私预算 剩余 0 / 共 5" in " ".join(page.text.split())


def test_the_budget_is_stored_and_outlives_the_process(institute: Institute) -> None:
    from shuhui.web.app import create_app

    ins = institute
    assert call(ins.app, ins.key).status_code == 200
    first = call(ins.app, ins.key, sex="女")
    assert budget_of(first) == (5.0, 4.0, 0.5)
    restarted = create_app(ins.app.state.settings)  # a new process: nothing held in memory
    try:
        again = call(restarted, ins.key, sex="女")
        assert again.status_code == 200
        assert again.json()["result"]["rows"] == first.json()["result"]["rows"]
        assert budget_of(again) == (5.0, 4.0, 0.0)
        assert budget_of(call(restarted, ins.key, sex="男")) == (5.0, 3.5, 0.5)
    finally:
        restarted.state.engine.dispose()


def test_a_call_refused_for_the_rate_limit_spends_no_budget(institute: Institute) -> None:
    ins = institute
    slow = grant_for(
        ins.client,
        ins.officer,
        ins.bureau,
        [STATS],
        "老龄化趋势研究",
        usage="public_governance",
        rate_per_minute=1,
    )
    key = ins.client.post("/api/v1/channel/keys", json={"grants": [slow], "label": "慢"})
    secret = key.json()["secret"]
    app = ins.app
    at = (utcnow() + timedelta(minutes=1)).replace(second=5)  # after the grant begins

    def one(minute: int, **params: Any) -> Outcome:
        with transaction(app.state.session_factory) as db:
            return gateway.call(
                db,
                app.state.city_channel,
                app.state.channel_engine,
                api_key=secret,
                product_code=STATS,
                payload={"purpose": "老龄化趋势研究", "params": params},
                now=at + timedelta(minutes=minute),
            )

    first, replay = one(0, sex="男"), one(1, sex="男")
    assert first.budget is not None and replay.budget is not None
    assert (first.budget.charged, replay.budget.charged) == (500_000, 0)  # a replay is free
    limited = one(1, sex="女")  # a new query, but over the rate limit: refused before spending
    assert limited.reason == Refusal.RATE_LIMITED
    [account] = stored(app)
    assert account.spent_micro == 500_000 and account.queries == 1
    answered = one(2, sex="女")
    assert answered.reason is None and answered.budget is not None
    assert answered.budget.spent == 1_000_000


def test_the_reviewer_sets_the_budget_and_the_grant_shows_it(institute: Institute) -> None:
    ins = institute
    applied = ins.client.post(
        "/api/v1/channel/applications",
        json={
            "products": [STATS],
            "purpose": "社区养老服务规划",
            "legal_basis": "《统计法》",
            "usage": "public_governance",
            "days": 30,
        },
    )
    code = applied.json()["code"]
    assert ins.officer.post(
        f"/api/v1/channel/applications/{code}/review", json={"decision": "approve"}
    ).is_success
    review = f"/api/v1/channel/applications/{code}/review"
    for bad in (0, -1, 101, 0.2):  # 0.2: less than one query's ε (0.5)
        refused = ins.bureau.post(review, json={"decision": "approve", "privacy_budget": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["errors"][0]["field"] == "privacy_budget"
    page = ins.bureau.get("/channel/review")
    assert 'name="privacy_budget" value="5"' in page.text  # the product's default, offered
    approved = ins.bureau.post(review, json={"decision": "approve", "privacy_budget": 1.5})
    assert approved.status_code == 200, approved.text
    granted = [g for g in ins.client.get("/api/v1/channel/grants").json()]
    assert {g["purpose"]: g["privacy_budget"] for g in granted} == {
        PURPOSE: None,  # the product's default
        "社区养老服务规划": 1.5,
    }


def test_a_new_table_version_starts_a_new_budget(institute: Institute) -> None:
    ins = institute
    first = call(ins.app, ins.key)
    assert budget_of(first) == (5.0, 4.5, 0.5)
    core = ins.app.state.datacore
    deaths = core.sql("SELECT * FROM death_registrations")
    core.load(core.spec("death_registrations"), deaths, source="test")  # the same rows, again
    engine = ins.app.state.channel_engine
    engine.check_every, engine.sync_limit = 0.0, float("inf")  # see the new version at once
    again = call(ins.app, ins.key)
    assert again.status_code == 200
    assert budget_of(again) == (5.0, 4.5, 0.5)  # a new version's budget, and a new release
    versions = [r.json()["privacy_budget"]["versions"] for r in (first, again)]
    assert versions[0] != versions[1] and "death_registrations@" in versions[1]
    assert sorted(a.spent_micro for a in stored(ins.app)) == [500_000, 500_000]


def test_a_month_allows_only_so_many_versions_budgets(institute: Institute) -> None:
    """Republishing the tables cannot buy budgets without end: a month allows two versions'
    worth (versions_a_month), here 2 × ε 0.5 — one query per version."""
    ins = institute
    small = grant_for(
        ins.client,
        ins.officer,
        ins.bureau,
        [STATS],
        "养老设施布局研究",
        usage="public_governance",
        privacy_budget=0.5,
    )
    secret = ins.client.post(
        "/api/v1/channel/keys", json={"grants": [small], "label": "小"}
    ).json()["secret"]
    core, engine = ins.app.state.datacore, ins.app.state.channel_engine
    engine.check_every, engine.sync_limit = 0.0, float("inf")

    def republish() -> None:
        deaths = core.sql("SELECT * FROM death_registrations")
        core.load(core.spec("death_registrations"), deaths, source="test")

    def ask(**params: Any) -> Any:
        return TestClient(ins.app).post(
            PATH,
            json={"purpose": "养老设施布局研究", "params": params},
            headers={"X-API-Key": secret},
        )

    assert budget_of(ask(sex="男")) == (0.5, 0.0, 0.5)
    assert ask(sex="女").status_code == 403  # the version's budget
    republish()
    second = ask(sex="男")
    assert second.status_code == 200 and budget_of(second) == (0.5, 0.0, 0.5)
    assert second.json()["privacy_budget"]["month_spent"] == "1"
    republish()
    third = ask(sex="男")  # a fresh version, but the month's budget is spent
    assert third.status_code == 403 and third.json()["reason"] == "privacy-budget-spent"
    assert third.json()["privacy_budget"] | {"versions": None} == {
        "scope": "month",
        "total": "1",
        "remaining": "0",
        "versions": None,
    }
    assert third.json()["detail"].startswith("本月该数据产品的隐私预算已用完")
    assert budget_of(third) == (0.5, 0.0, 0.0)
    [month] = stored(ins.app, month=True)
    assert month.spent_micro == month.total_micro == 1_000_000
