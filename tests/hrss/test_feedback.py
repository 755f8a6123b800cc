"""事后自动反馈: when an HR & social-security case ends, the applicant is told how, once, with a
button to the case; a bundle's parts are told by the bundle's one notice, and other domains'
cases are not this service's to tell."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tests.fixtures import as_user
from tests.hrss.test_bundles import _near_retirement, _values, decide_all
from tests.programs.conftest import resident


def apply(app: FastAPI, person: Any, item: str) -> str:
    form = person.get(f"/api/v1/approval/items/{item}/form")
    assert form.status_code == 200, form.text
    schema = form.json()["schema"]["properties"]
    fields = [
        {"name": f["name"], "value": f["value"], "schema": schema[f["name"]]}
        for f in form.json()["fields"]
    ]
    made = person.post(
        "/api/v1/approval/submissions", json={"item": item, "values": _values(fields)}
    )
    assert made.status_code == 201, made.text
    code: str = made.json()["code"]
    return code


def test_the_applicant_is_told_the_result_once_with_a_button_to_the_case(
    city_app: FastAPI,
) -> None:
    person = resident(city_app, "hired1", _near_retirement(city_app))
    approved = apply(city_app, person, "QD-RS-0009")  # 灵活就业人员参保登记, decided at once
    decide_all(city_app, approved, "青岛市人力资源和社会保障局")
    rejected = apply(city_app, person, "QD-RS-0011")  # 城乡居民养老保险参保登记
    decide_all(city_app, rejected, "青岛市人力资源和社会保障局", outcome="reject")

    inbox = person.get("/api/v1/messages").json()
    assert inbox["total"] == 2
    told = {m["link"]: m for m in inbox["items"]}
    assert set(told) == {f"/approval/cases/{approved}", f"/approval/cases/{rejected}"}
    assert "已办结" in told[f"/approval/cases/{approved}"]["title"]
    refusal = told[f"/approval/cases/{rejected}"]
    assert "未予办理" in refusal["title"] and "经核查不符合办理条件" in refusal["body"]
    page = person.get(f"/messages/{refusal['id']}")
    assert f'href="/approval/cases/{rejected}"' in page.text and "查看办件" in page.text
    # Opening the case's page again tells nothing new.
    assert person.get(f"/approval/cases/{rejected}").status_code == 200
    assert person.get("/api/v1/messages").json()["total"] == 2
    assert as_user(city_app, "citizen").get("/api/v1/messages").json()["total"] == 0
