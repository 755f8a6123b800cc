"""A keyed gateway call whose body is out of bounds (nested too deep, a lone surrogate in its
purpose) is refused with a problem, never a 500, and counted like any refusal; one too large is
refused before the gateway reads it (tests/web/test_body_limits.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from shuhui.trust.ledger.models import LedgerEntry
from tests.channel.conftest import PURPOSE, Channel

UNDERWRITING = "/api/v1/channel/products/underwriting-health-check"


def test_malformed_bodies_are_refused_and_counted(channel: Channel) -> None:
    ch = channel
    client = TestClient(ch.app)
    headers = {"X-API-Key": ch.key, "content-type": "application/json"}
    bodies = (
        b"[" * 100_000 + b"]" * 100_000,
        b'{"purpose": "\\ud800", "params": {}}',
        f'{{"purpose": "{PURPOSE}\\u0000", "params": {{}}}}'.encode(),
    )
    for body in bodies:
        response = client.post(UNDERWRITING, content=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["reason"] == "invalid-params"
    refusals = ch.bureau.get("/api/v1/channel/dashboard").json()["refusals"]
    assert refusals["invalid-params"] == len(bodies)
    with ch.app.state.session_factory() as db:
        actions = [e.action for e in db.scalars(select(LedgerEntry))]
    assert actions.count("channel.refused") == len(bodies)
