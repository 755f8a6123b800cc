"""Pages validate posted forms with the API's schemas (`core.forms`), naming fields alike."""

from __future__ import annotations

from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import FormData

from shuhui.core.errors import Problem
from shuhui.core.forms import field_path, validate_form


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=8)
    days: int = Field(default=30, ge=1, le=365)
    kinds: list[Literal["a", "b"]] = Field(default_factory=list, max_length=2)


def test_a_form_is_validated_by_the_schema_with_defaults_for_empty_fields() -> None:
    form = FormData([("csrf_token", "x"), ("name", "张三"), ("days", ""), ("kinds", "a")])
    got = validate_form(Sample, form, lists=["kinds"])
    assert got == Sample(name="张三", days=30, kinds=["a"])


def test_a_refused_form_names_every_field_like_the_api() -> None:
    form = FormData([("name", "x"), ("days", "999"), ("kinds", "c")])
    with pytest.raises(Problem) as refused:
        validate_form(Sample, form, lists=["kinds"])
    assert refused.value.slug == "validation"
    assert {e.field for e in refused.value.errors} == {"name", "days", "kinds[0]"}


def test_a_required_field_left_blank_is_named() -> None:
    with pytest.raises(Problem) as refused:
        validate_form(Sample, FormData([("name", ""), ("submit", "保存")]))
    assert [e.field for e in refused.value.errors] == ["name"]


@given(st.lists(st.one_of(st.integers(0, 99), st.text("abc", min_size=1, max_size=3)), max_size=5))
def test_field_paths_read_as_the_request_was_written(loc: list[int | str]) -> None:
    path = field_path(["body", *loc])
    if not loc:
        assert path == "body"
        return
    assert path.count("[") == sum(isinstance(p, int) for p in loc[1:]) + isinstance(loc[0], int)
    assert "body" not in path or any(isinstance(p, str) and "body" in p for p in loc)
