"""The submission check as a parser of whatever a client sends: it never fails on any JSON,
names each faulty field once by its path, reports every required field missing, passes a valid
form, and holds identifiers to their check characters (GB 11643, GB 32100)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.approval import formcheck
from shuhui.approval.schemas import FormValuesIn
from shuhui.core.errors import Problem
from shuhui.core.forms import validate
from shuhui.core.ids import check, generate_citizen_ids, generate_credit_codes
from tests.approval.case_items import FOOD, FOOD_SCHEMA, INSTANT

PROPERTIES = set(FOOD_SCHEMA["properties"])
REQUIRED = set(FOOD_SCHEMA["required"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
names = st.sampled_from(sorted(PROPERTIES)) | st.text(min_size=1, max_size=12)
VALID = {
    "enterprise_name": "青岛海湾示范科技有限公司",
    "credit_code": "91370202MA3C4D5E6T",
    "legal_rep_name": "王法人",
    "legal_rep_id_number": "370212193805117155",
    "shop_name": "海湾小馆",
    "site_area": 85.5,
    "business_kind": "热食类食品制售",
    "opening_date": "2026-10-01",
}


@settings(max_examples=50)
@given(st.dictionaries(names, json_values, max_size=12))
def test_any_json_gets_an_answer_naming_each_field_once(values: dict[str, Any]) -> None:
    errors = formcheck.form_errors(FOOD.form, values)
    fields = [e.field for e in errors]
    assert len(fields) == len(set(fields))
    for error in errors:
        top = error.field.split(".")[0].split("[")[0]
        assert top in PROPERTIES or error.field in values, error
        assert str(error.reason)
    for name in REQUIRED - set(values):
        assert name in fields
    for name in set(values) - PROPERTIES:
        assert name in fields  # additionalProperties: false


@given(st.sampled_from(sorted(VALID)), json_values)
def test_a_valid_form_passes_and_one_bad_value_is_named(name: str, value: Any) -> None:
    assert formcheck.form_errors(FOOD.form, VALID) == []
    changed = {**VALID, name: value}
    errors = formcheck.form_errors(FOOD.form, changed)
    assert [e.field for e in errors] in ([], [name])


@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=17))
def test_identifiers_are_held_to_their_check_characters(rng: random.Random, at: int) -> None:
    citizen = generate_citizen_ids(rng, 1)[0]
    credit = generate_credit_codes(rng, 1)[0]
    base = {"name": "张小青", "phone": "13800138000"}
    assert formcheck.form_errors(INSTANT.form, {**base, "citizen_id": citizen}) == []
    assert formcheck.form_errors(FOOD.form, {**VALID, "credit_code": credit}) == []
    # One character changed: refused exactly when the identifier no longer checks.
    swapped = citizen[:at] + ("1" if citizen[at] != "1" else "2") + citizen[at + 1 :]
    errors = formcheck.form_errors(INSTANT.form, {**base, "citizen_id": swapped})
    assert bool(errors) == (not check(swapped).valid)
    named = formcheck.form_errors(FOOD.form, {**VALID, "legal_rep_id_number": swapped})
    assert bool(named) == (not check(swapped).valid)


def test_materials_missing_are_named_by_their_code() -> None:
    errors = formcheck.material_errors(FOOD.materials, {"business-licence": True})
    assert [(e.field, str(e.reason)) for e in errors] == [
        ("materials.legal-rep-id", "请上传法定代表人身份证"),
        ("materials.site-plan", "请上传经营场所平面图"),
    ]
    assert errors[0].reason.en == "upload the id card of the legal representative"  # type: ignore[attr-defined]


def test_form_values_are_bounded() -> None:
    assert validate(FormValuesIn, {"values": {"shop_name": "海湾小馆", "site_area": 85.5}})
    with pytest.raises(Problem) as bad:
        validate(FormValuesIn, {"values": {"shop name!": "x"}})
    assert bad.value.errors[0].field.startswith("values")
    with pytest.raises(Problem):
        validate(FormValuesIn, {"values": {f"f{i}": i for i in range(201)}})
