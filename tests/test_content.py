"""City configuration under content/: it loads, and a broken file is refused naming the spot."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuhui.core.content import ContentError, load_items, parse_items
from shuhui.core.settings import Settings

CITY = Settings().city_content
GOOD = """
kind: service-items
items:
  - code: A-1
    name: {zh: 甲, en: A}
    valid_from: 2024-01-01
    valid_to: 2024-12-31
    reference: 某条例第一条
    delegable: true
"""


@pytest.mark.parametrize(
    ("name", "kind"),
    [("service-items.yaml", "service-items"), ("certificate-types.yaml", "certificate-types")],
)
def test_the_shipped_content_loads_and_every_item_cites_its_text(name: str, kind: str) -> None:
    items = load_items(CITY / name, kind)
    assert len(items) >= 5
    for item in items:
        assert item.reference and item.name_zh and item.name_en
        assert item.in_force(date(2026, 11, 29))


def test_service_items_say_who_holds_them_and_whether_they_can_be_delegated() -> None:
    items = load_items(CITY / "service-items.yaml", "service-items")
    for item in items:
        assert item.attrs["holder"] in ("person", "enterprise", "any")
        assert isinstance(item.attrs["delegable"], bool)
    assert any(not item.attrs["delegable"] for item in items)


def test_validity_is_inclusive_at_both_ends() -> None:
    item = parse_items(Path("x.yaml"), GOOD, "service-items").by_code["A-1"]
    assert item.attrs == {"delegable": True}
    assert not item.in_force(date(2023, 12, 31))
    assert item.in_force(date(2024, 1, 1)) and item.in_force(date(2024, 12, 31))
    assert not item.in_force(date(2025, 1, 1))


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("kind: service-items", "kind: rules"), "kind"),
        (("code: A-1", "code: 'A 1'"), "items[0].code"),
        (("valid_from: 2024-01-01", "valid_from: 2024-13-01"), "file"),
        (("valid_from: 2024-01-01", "valid_from: soon"), "items[0] (A-1).valid_from"),
        (("valid_to: 2024-12-31", "valid_to: 2023-12-31"), "items[0] (A-1).valid_to"),
        (("reference: 某条例第一条", "reference: ''"), "items[0] (A-1).reference"),
        (("{zh: 甲, en: A}", "{zh: 甲}"), "items[0] (A-1).name.en"),
        (("items:", "items: []\nx:"), "items"),
        (("kind:", "kind: [\n"), "file"),
    ],
)
def test_a_broken_file_is_refused_naming_the_item_and_field(
    change: tuple[str, str], where: str
) -> None:
    text = GOOD.replace(*change)
    with pytest.raises(ContentError) as refused:
        parse_items(Path("x.yaml"), text, "service-items")
    assert refused.value.where == where


def test_a_duplicate_code_is_refused() -> None:
    doubled = GOOD + GOOD.split("items:\n")[1]
    with pytest.raises(ContentError, match="duplicate code"):
        parse_items(Path("x.yaml"), doubled, "service-items")


@given(st.text(max_size=300))
def test_any_text_loads_or_is_refused_with_a_content_error(text: str) -> None:
    try:
        parse_items(Path("x.yaml"), text, "service-items")
    except ContentError as refused:
        assert refused.where and refused.reason
