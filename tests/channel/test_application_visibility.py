"""Who sees an access application, its purpose and legal basis: the consumer its own, an
officer those made of their department's data, the data bureau every one."""

from __future__ import annotations

from tests.channel.conftest import Channel
from tests.fixtures import as_user


def test_officers_see_only_their_departments_applications(channel: Channel) -> None:
    """The fixture's application is for a product of 卫健委 (the `health` officer's
    department); `officer` is of 人社局."""
    ch = channel
    officer = as_user(ch.app, "officer")
    (mine,) = ch.insurer.get("/api/v1/channel/applications").json()
    code = mine["code"]
    listed = {a["code"] for a in ch.health.get("/api/v1/channel/applications").json()}
    assert code in listed
    assert code in {a["code"] for a in ch.bureau.get("/api/v1/channel/applications").json()}
    theirs = officer.get("/api/v1/channel/applications")
    assert theirs.status_code == 200 and code not in {a["code"] for a in theirs.json()}
    # The detail: the consumer's own, the providing department's, the bureau's; not found
    # for another department's officer, whose review is not found either.
    detail = ch.health.get(f"/api/v1/channel/applications/{code}")
    assert detail.status_code == 200 and detail.json()["legal_basis"] == mine["legal_basis"]
    assert ch.bureau.get(f"/api/v1/channel/applications/{code}").status_code == 200
    assert ch.insurer.get(f"/api/v1/channel/applications/{code}").status_code == 200
    hidden = officer.get(f"/api/v1/channel/applications/{code}")
    assert hidden.status_code == 404 and code in hidden.json()["detail"]
    missing = officer.get("/api/v1/channel/applications/SQ-NONE").json()
    assert {k: missing[k] for k in ("type", "status")} == {
        k: hidden.json()[k] for k in ("type", "status")
    }  # as if it did not exist
    reviewed = officer.post(
        f"/api/v1/channel/applications/{code}/review", json={"decision": "approve"}
    )
    assert reviewed.status_code == 404
    # The review pages: the officer's lists do not name it; the providing department's do.
    assert code not in officer.get("/channel/review").text
    assert code in ch.health.get("/channel/review").text
    assert code in ch.bureau.get("/channel/review").text
