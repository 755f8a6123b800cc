"""One-thing bundles (一件事): one form asks each fact once, a filing fans out into a case at
each department, a faulty form files nothing, a sub-case refused loses none of the others, and
the one result notice goes out exactly once, when the last part ends."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuhui.approval import service as approval
from shuhui.core.content import ContentError
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.datacore.store import DataCore
from shuhui.hrss import bundle_cases
from shuhui.hrss.bundles import load_bundles, union_of
from shuhui.hrss.models import BundleCase, BundlePart
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user
from tests.programs.conftest import resident

OFFICERS = {  # the demo officer of each department a bundle reaches
    "青岛市人力资源和社会保障局": "officer",
    "青岛市医疗保障局": "medical",
    "青岛住房公积金管理中心": "fund",
}


def count(app: FastAPI, model: Any) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def entries(app: FastAPI, action: str) -> list[LedgerEntry]:
    with transaction(app.state.session_factory) as db:
        return list(db.scalars(select(LedgerEntry).where(LedgerEntry.action == action)))


def test_a_bundle_asks_each_fact_once_and_its_items_share_the_holder() -> None:
    bundles = load_bundles()
    for code in ("retirement", "hiring"):
        bundle = bundles.get(code)
        assert bundle is not None and len(bundle.items) == 4
        assert len({i.department for i in bundle.items}) >= 3
        asked_apart = sum(len(i.form.fields) for i in bundle.items)
        names = [f.name for f in bundle.fields]
        assert len(names) == len(set(names)) < asked_apart
        assert all(i.holder == bundle.holder for i in bundle.items)
        # A field any item requires is required in the union.
        for item in bundle.items:
            for f in item.form.fields:
                if f.required:
                    found = bundle.field(f.name)
                    assert found is not None and found.required


def test_two_items_that_mean_different_things_by_one_name_are_refused() -> None:
    catalogue = load_bundles().catalogue
    first = catalogue.items["QD-RS-0009"]
    field = first.form.fields[0]
    clash = replace(field, schema={**field.schema, "type": "integer"})
    other = replace(first, code="QD-XX-0001", form=replace(first.form, fields=(clash,)))
    with pytest.raises(ContentError, match="one name must mean one fact"):
        union_of(Path("bundles.yaml"), "test", (first, other))


def _near_retirement(app: FastAPI) -> str:
    core = DataCore.from_settings(app.state.settings)
    rows = core.sql(
        "SELECT r.citizen_id FROM residents r JOIN insurance_enrolments e USING (citizen_id)"
        " WHERE e.insurance_type = '养老' AND e.status = '参保缴费'"
        " ORDER BY r.birth_date, r.citizen_id LIMIT 1"
    ).to_pylist()
    assert rows
    return str(rows[0]["citizen_id"])


def _values(form: list[dict[str, Any]]) -> dict[str, Any]:
    """The pre-filled form completed as a person would: each empty field its first example."""
    out = {}
    for f in form:
        value = f["value"]
        if value is None:
            examples = f["schema"].get("examples") or []
            value = examples[0] if examples else None
        if value is not None:
            out[f["name"]] = value
    return out


def decide_all(app: FastAPI, case_code: str, department: str, outcome: str = "approve") -> None:
    """The department's officer takes the case through its steps to the result."""
    officer = as_user(app, OFFICERS[department])
    for _ in range(6):
        tasks = [
            t
            for t in officer.get("/api/v1/approval/tasks").json()
            if t["case"]["code"] == case_code
        ]
        if not tasks:
            break
        task = tasks[0]
        if task["role"] == "issue":
            done = officer.post(f"/api/v1/approval/cases/{case_code}/issue")
        else:
            wanted = {"accept": "accept", "review": "pass", "decide": outcome}[task["role"]]
            said = {"reason": "经核查不符合办理条件"} if wanted == "reject" else {}
            done = officer.post(
                f"/api/v1/approval/tasks/{task['id']}", json={"outcome": wanted, **said}
            )
            if done.status_code == 422 and task["role"] == "accept":  # an instant item decides
                said = {"reason": "经核查不符合办理条件"} if outcome == "reject" else {}
                done = officer.post(
                    f"/api/v1/approval/tasks/{task['id']}", json={"outcome": outcome, **said}
                )
        assert done.status_code == 200, done.text


def file_retirement(app: FastAPI, person: TestClient) -> dict[str, Any]:
    form = person.get("/api/v1/hrss/bundles/retirement/form")
    assert form.status_code == 200, form.text
    filed = person.post(
        "/api/v1/hrss/bundles/retirement", json={"values": _values(form.json()["form"])}
    )
    assert filed.status_code == 201, filed.text
    body: dict[str, Any] = filed.json()
    return body


def test_a_person_files_once_and_gets_one_notice_when_every_department_is_done(
    city_app: FastAPI,
) -> None:
    who = _near_retirement(city_app)
    person = resident(city_app, "retiree1", who)
    form = person.get("/api/v1/hrss/bundles/retirement/form").json()
    asked_apart = form["fields_asked_separately"]
    assert len(form["form"]) == form["fields"] < asked_apart
    assert any(f["value"] and f["source"] == "residents" for f in form["form"])

    status = file_retirement(city_app, person)
    assert status["overall"] == "in_progress"
    parts = status["parts"]
    assert len(parts) == 4 and all(p["case"] and p["state"] == "submitted" for p in parts)
    assert len({p["department"] for p in parts}) == 3
    (filed,) = entries(city_app, "hrss.bundle_filed")
    assert filed.subject == who and len(json.loads(filed.leaf)["detail"]["parts"]) == 4

    for part in parts[:-1]:
        decide_all(city_app, part["case"], part["department"])
    assert entries(city_app, "hrss.bundle_finished") == []
    assert person.get("/api/v1/messages").json()["total"] == 0
    decide_all(city_app, parts[-1]["case"], parts[-1]["department"], outcome="reject")

    done = person.get(f"/api/v1/hrss/bundle-cases/{status['code']}").json()
    assert done["overall"] == "done" and done["notified"]
    inbox = person.get("/api/v1/messages").json()
    assert inbox["total"] == 1
    (notice,) = inbox["items"]
    assert "退休一件事" in notice["title"] and status["code"] in notice["body"]
    assert "不予许可" in notice["body"]
    assert len(entries(city_app, "hrss.bundle_finished")) == 1


def test_a_faulty_form_files_nothing_and_names_the_fields(city_app: FastAPI) -> None:
    person = resident(city_app, "retiree2", _near_retirement(city_app))
    cases_before = count(city_app, BundlePart)
    refused = person.post("/api/v1/hrss/bundles/retirement", json={"values": {"phone": "12345"}})
    assert refused.status_code == 422, refused.text
    assert "phone" in {e["field"] for e in refused.json()["errors"]}
    unknown = person.post("/api/v1/hrss/bundles/retirement", json={"values": {"nope": "1"}})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "nope"
    assert count(city_app, BundleCase) == 0 and count(city_app, BundlePart) == cases_before
    assert entries(city_app, "hrss.bundle_filed") == []
    # The pre-fills read the person's data: those reads stay in the ledger.
    assert entries(city_app, "approval.form.prefilled")


def test_a_refused_sub_case_loses_none_of_the_others(
    city_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = resident(city_app, "retiree3", _near_retirement(city_app))
    real = approval.file_prefilled

    def refuse_the_housing_fund(db: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        if item.code == "QD-GJJ-0001":
            raise Problem("conflict", detail="公积金系统暂时无法受理")
        return real(db, item, *args, **kwargs)

    monkeypatch.setattr(approval, "file_prefilled", refuse_the_housing_fund)
    status = file_retirement(city_app, person)
    assert status["overall"] == "partly_refused"
    states = {p["item"]: p["state"] for p in status["parts"]}
    assert states.pop("QD-GJJ-0001") == "refused"
    assert set(states.values()) == {"submitted"} and len(states) == 3
    refused = next(p for p in status["parts"] if p["item"] == "QD-GJJ-0001")
    assert "公积金系统暂时无法受理" in refused["refusal"]["detail"]
    # The three filed parts end; the notice says which part could not be filed.
    monkeypatch.undo()
    for part in status["parts"]:
        if part["case"]:
            decide_all(city_app, part["case"], part["department"])
    (notice,) = person.get("/api/v1/messages").json()["items"]
    assert "未能提交" in notice["body"]


def test_only_the_filer_sees_a_filing(city_app: FastAPI) -> None:
    person = resident(city_app, "retiree4", _near_retirement(city_app))
    code = file_retirement(city_app, person)["code"]
    assert as_user(city_app, "citizen").get(f"/api/v1/hrss/bundle-cases/{code}").status_code == 404
    assert person.get("/api/v1/hrss/bundle-cases/YJS-20260101-000001").status_code == 404
    assert person.get("/api/v1/hrss/bundle-cases/nope").status_code == 422
    page = person.get(f"/hrss/bundle-cases/{code}")
    assert page.status_code == 200 and "办理中" in page.text


def test_the_pages_file_a_bundle(city_app: FastAPI) -> None:
    person = resident(city_app, "retiree5", _near_retirement(city_app))
    listed = person.get("/hrss/bundles")
    assert listed.status_code == 200 and "退休一件事" in listed.text
    assert "员工录用" not in listed.text  # an enterprise's bundle
    shown = person.get("/hrss/bundles/retirement")
    assert shown.status_code == 200 and "一次提交" in shown.text
    form = person.get("/api/v1/hrss/bundles/retirement/form").json()["form"]
    data = {k: str(v) for k, v in _values(form).items()}
    bad = person.post("/hrss/bundles/retirement", data={**data, "phone": "123"})
    assert bad.status_code == 422 and "联系电话" in bad.text
    done = person.post("/hrss/bundles/retirement", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert person.get(done.headers["location"]).status_code == 200


@pytest.mark.both_backends
def test_two_departments_ending_the_last_parts_at_once_send_one_notice(
    city_app: FastAPI,
) -> None:
    """Each in a session and thread of its own, the last two parts end together: the filing's
    row lock has them take turns, so exactly one notice goes out (without it, each would see
    the other's part open and none would)."""
    person = resident(city_app, "retiree6", _near_retirement(city_app))
    status = file_retirement(city_app, person)
    parts = status["parts"]
    for part in parts[:2]:
        decide_all(city_app, part["case"], part["department"])
    barrier = threading.Barrier(2)

    def ends(case_code: str) -> None:
        with transaction(city_app.state.session_factory) as db:
            # Both have read the filing's parts before either ends its own.
            assert len(db.scalars(select(BundlePart)).all()) >= 4
            barrier.wait(timeout=10)
            bundle_cases.case_finished(db, SimpleNamespace(code=case_code, state="issued"))

    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(ends, p["case"]) for p in parts[2:]]:
            done.result(timeout=30)
    assert len(entries(city_app, "hrss.bundle_finished")) == 1
    assert person.get("/api/v1/messages").json()["total"] == 1
