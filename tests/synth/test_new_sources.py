"""The new tables as the rules engine sees them: sources and the account entity of
entities.yaml, over the demo city, agreeing with the ground truth."""

from __future__ import annotations

from pathlib import Path

import duckdb

from shuhui.rules import service
from shuhui.rules.loader import load_book
from shuhui.standard import TABLES
from tests.rules.conftest import write_book
from tests.synth.conftest import City

SPECS = {spec.name: spec for spec in TABLES}
RULES = """\
kind: rules
items:
  - code: shared-account
    name: {zh: 一个账户收取多户养老金, en: One account paid several households}
    valid_from: 2020-01-01
    reference: 测试用规则
    department: 测试部门
    entity: benefit_account
    variables:
      households:
        zh: 收款户数
        count_distinct:
          table: pension_payments
          column: household_id
          lookup: {table: residents, match: citizen_id, as: resident}
          window: {date: month, from: -12 months, to: 0 days}
    conditions:
      all:
        - {id: several, zh: 两户以上, test: "households >= 2"}
  - code: card-or-counter
    name: {zh: 一年内用卡或柜面领取, en: Card used or pension collected this year}
    valid_from: 2020-01-01
    reference: 测试用规则
    department: 测试部门
    entity: person
    variables:
      uses:
        zh: 用卡次数
        count:
          table: social_security_card_uses
          window: {date: used_on, from: -12 months, to: 0 days}
      collected:
        zh: 柜面领取
        exists:
          table: benefit_collections
          window: {date: collected_on, from: -12 months, to: 0 days}
    conditions:
      any:
        - {id: used, zh: 用过社保卡, test: "uses >= 1"}
        - {id: came, zh: 本人领取过, test: "collected"}
"""


def _ids(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    return {row[0] for row in con.execute(sql).fetchall()}


def test_rules_read_the_new_tables(demo_city: City, tmp_path: Path) -> None:
    book = load_book(write_book(tmp_path / "book", RULES), SPECS)
    con = demo_city.connect()
    on = demo_city.config.as_of
    shared = service.candidates(con, book.rules["shared-account"], on)
    assert {c.key for c in shared} == _ids(con, "SELECT account_no FROM truth_shared_account")
    # Every living pensioner outside the no-record group used the card or came in person.
    living = """SELECT DISTINCT citizen_id FROM pension_recipients p WHERE NOT EXISTS
                (SELECT 1 FROM death_registrations d WHERE d.citizen_id = p.citizen_id)"""
    rule = book.rules["card-or-counter"]
    assert service.run(con, rule, on).counts["undetermined"] == 0
    silent = {c.key for c in service.candidates(con, rule, on, outcomes=("not_eligible",))}
    pensioners = _ids(con, living)
    truth = _ids(con, f"SELECT citizen_id FROM truth_no_record WHERE citizen_id IN ({living})")
    assert silent & pensioners == truth
    assert 0.008 < len(truth) / len(pensioners) < 0.012
