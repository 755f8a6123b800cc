"""Properties of the channel's rules: small-group suppression, noise, tiered prices, and the
parameter parser, over generated inputs."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.channel import payload
from shuhui.channel.billing import tiered
from shuhui.channel.city import city_channel
from shuhui.channel.engine import protect
from shuhui.channel.privacy import add_noise
from shuhui.channel.products import Param, Privacy
from shuhui.core.errors import Problem
from shuhui.core.settings import Settings
from shuhui.trust.crypto.canonical import canonical_json

COLUMNS = ("group", "people", "insured", "retired")
PRIVACY = Privacy(k_min=10, group_size="people", counts=("people", "insured", "retired"))


@st.composite
def groups(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for i in range(draw(st.integers(0, 12))):
        people = draw(st.integers(0, 60))
        rows.append(
            {
                "group": f"g{i}",
                "people": people,
                "insured": draw(st.integers(0, people)),
                "retired": draw(st.integers(0, people)),
            }
        )
    return rows


@given(groups())
def test_no_shown_count_singles_out_fewer_than_k(rows: list[dict[str, Any]]) -> None:
    answer = protect(COLUMNS, rows, PRIVACY)
    k = PRIVACY.k_min
    assert answer.suppressed_groups == sum(1 for r in rows if r["people"] < k)
    for out in answer.rows:
        size = out["people"]
        assert size >= k
        for name in ("insured", "retired"):
            value = out[name]
            if value is not None:
                assert value == 0 or value >= k
                assert size - value == 0 or size - value >= k


# OpenDP's exact sampler takes milliseconds per answer: fewer examples, epsilons that repeat
# (the mechanism is made once per epsilon).
@settings(max_examples=40)
@given(groups(), st.sampled_from([0.1, 0.25, 0.5, 1.0, 2.5, 5.0]))
def test_noise_keeps_counts_whole_and_never_negative(
    rows: list[dict[str, Any]], epsilon: float
) -> None:
    noisy = Privacy(10, "people", ("people", "insured", "retired"), epsilon)
    answer = protect(COLUMNS, rows, noisy)
    used = add_noise(answer.rows, noisy)
    # One person moves each of the three counts of one group by at most 1: OpenDP's privacy
    # map, asked about that distance, says the release costs the product's epsilon.
    assert used is not None and used.sensitivity == 3
    assert used.epsilon <= epsilon * (1 + 1e-9)
    assert abs(used.scale - 3 / epsilon) <= 1e-6 * used.scale
    shown = {r["group"] for r in answer.rows}
    assert shown == {r["group"] for r in rows if r["people"] >= 10}  # decided on true counts
    for out in answer.rows:
        for name in ("people", "insured", "retired"):
            assert out[name] is None or (isinstance(out[name], int) and out[name] >= 0)


@given(st.integers(0, 300_000))
def test_tiered_price_covers_every_call_once(calls: int) -> None:
    settings = Settings()
    city = city_channel(settings.city_content)
    product = city.products.by_code["underwriting-health-check"]
    bands, fen = tiered(product, calls)
    assert sum(n for _band, n, _each, _fen in bands) == calls
    assert fen == sum(n * each for _band, n, each, _fen in bands)
    # Cumulative tiers: a further call never costs more than the one before it.
    prices = [each for _band, _n, each, _fen in bands]
    assert prices == sorted(prices, reverse=True)


PARAMS = (
    Param("citizen_id", "citizen_id", True, "公民身份号码"),
    Param("credit_code", "credit_code", True, "统一社会信用代码"),
    Param("years", "integer", False, "年数", default=5, minimum=1, maximum=10),
    Param("district_code", "division", False, "区划"),
    Param("sex", "choice", False, "性别", choices=("男", "女")),
    Param("month", "date", False, "月份"),
)


@given(
    st.sampled_from(PARAMS),
    st.one_of(st.none(), st.text(max_size=24), st.integers(), st.booleans(), st.floats()),
)
def test_a_parameter_parses_or_is_refused_naming_it(param: Param, value: Any) -> None:
    try:
        parsed = param.parse(value, date(2026, 11, 29))
    except Problem as refused:
        assert refused.http_status == 422
        assert refused.errors[0].field == f"params.{param.name}"
    else:
        if value is None:
            assert parsed == param.default
        elif param.type == "integer":
            assert isinstance(parsed, int) and 1 <= parsed <= 10


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(st.characters(categories=["Cs", "Cc", "Lo", "Ll"]), max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(st.characters(categories=["Cs", "Cc", "Ll"]), max_size=4), inner)
    ),
    max_leaves=12,
)


@given(JSONISH, st.booleans())
def test_a_call_body_is_usable_or_refused_naming_a_showable_field(
    value: Any, ascii_only: bool
) -> None:
    """Whatever the body, reading and checking it raises nothing; what passes the check the
    ledger's canonical JSON, PostgreSQL and the answer's UTF-8 take; a refusal names a field
    as text."""
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    read = payload.read(body)
    refused = read.problem if isinstance(read, payload.Malformed) else payload.check(read)
    if refused is None:
        # What the response renderer does (no NaN), and what the ledger does with text.
        shown = json.dumps(read, ensure_ascii=False, allow_nan=False)
        shown.encode("utf-8")
        assert "\\u0000" not in shown
        if isinstance(read, dict) and isinstance(read.get("purpose"), str):
            canonical_json({"purpose": read["purpose"]})
    else:
        assert refused.http_status == 422
        field = refused.errors[0].field
        field.encode("utf-8")
        assert "\x00" not in field and len(field) <= 600
