"""The demo accounts are content: the repository's file loads, and a broken one is refused whole,
naming the account and the field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shuhui.core.content import DEFAULT_DIR, ContentError
from shuhui.trust.identity.demo import demo_accounts
from shuhui.trust.identity.roles import Role

GOOD = (
    "{code: clerk, name: {zh: 某局 孙科员, en: Officer Sun}, roles: [officer], "
    "department: 青岛市民政局, valid_from: 2023-01-01, reference: 演示数据}"
)


def write(tmp_path: Path, *items: str) -> Path:
    lines = ["kind: demo-accounts", "items:", *(f"  - {item}" for item in items)]
    (tmp_path / "demo-accounts.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_the_demo_city_has_one_account_per_kind_of_user() -> None:
    accounts = {a.username: a for a in demo_accounts(DEFAULT_DIR / "qingdao")}
    assert accounts["citizen"].citizen_id == "370202199003151233"
    assert accounts["insurer"].credit_code == "91370200MA3R7B9K1L"
    # What `shuhui demo` gives them in the city (shuhui.demo), and a second operator.
    assert accounts["citizen"].demo_city == ("offer", "start-up-subsidy")
    assert accounts["enterprise"].demo_city == ("offer", "job-stabilisation-refund")
    assert accounts["bank"].demo_city == ("grant", "enterprise-credit-check")
    assert accounts["bank"].demo_use is None  # a bank's credit checks, the default
    assert accounts["institute"].demo_city == ("grant", "district-statistics")
    assert accounts["institute"].demo_use is not None
    assert accounts["institute"].demo_use[2] == "public_governance"
    operators = [a for a in accounts.values() if Role.data_operator in a.roles]
    assert len({a.department for a in operators}) == 1 < len(operators)
    assert {role for a in accounts.values() for role in a.roles} == set(Role)


def test_only_accounts_in_force_are_made(tmp_path: Path) -> None:
    ended = GOOD.replace("code: clerk", "code: former").replace(
        "valid_from: 2023-01-01", "valid_from: 2023-01-01, valid_to: 2024-12-31"
    )
    content = write(tmp_path, GOOD, ended)
    assert [a.username for a in demo_accounts(content, date(2025, 1, 1))] == ["clerk"]
    assert len(demo_accounts(content, date(2024, 6, 1))) == 2


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("roles: [officer]", "roles: [mayor]"), "clerk.roles"),
        (("roles: [officer]", "roles: []"), "clerk.roles"),
        (("department: 青岛市民政局, ", ""), "clerk.department"),
        (("code: clerk", "code: Clerk Sun"), ".code"),
        (("roles: [officer]", "roles: [officer], citizen_id: '370202199003151234'"), "citizen_id"),
        (("roles: [officer]", "roles: [officer], credit_code: 91370200MA3R7B9K1X"), "credit_code"),
        (("roles: [officer]", "roles: [officer], password: secret"), "clerk.password"),
        (("roles: [officer]", "roles: [officer], demo_city: {adopt: x-y}"), "clerk.demo_city"),
        (
            ("roles: [officer]", "roles: [officer], demo_city: {offer: Big Policy}"),
            "demo_city.offer",
        ),
        (("roles: [officer]", "roles: [officer], demo_city: start-up"), "clerk.demo_city"),
        # A grant's application names its purpose, legal basis and usage all together or not.
        (
            ("roles: [officer]", "roles: [officer], demo_city: {grant: x-y, purpose: 研究}"),
            "clerk.demo_city",
        ),
        (
            ("roles: [officer]", "roles: [officer], demo_city: {offer: x-y, grant: y-z}"),
            "clerk.demo_city",
        ),
    ],
)
def test_a_broken_account_is_refused_naming_the_field(
    tmp_path: Path, change: tuple[str, str], where: str
) -> None:
    with pytest.raises(ContentError) as refused:
        demo_accounts(write(tmp_path, GOOD.replace(*change)))
    assert where in refused.value.where


def test_one_person_is_bound_to_one_demo_account(tmp_path: Path) -> None:
    bound = "roles: [officer], citizen_id: '370202199003151233'"
    first = GOOD.replace("roles: [officer]", bound)
    second = first.replace("code: clerk", "code: clerk2")
    with pytest.raises(ContentError, match="already bound to clerk"):
        demo_accounts(write(tmp_path, first, second))
