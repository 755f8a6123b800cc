"""Property: the compiled SQL agrees with a small pure-Python three-valued evaluator on random
rules and random data, in the outcome and in the missing inputs it names."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import duckdb
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuhui.datacore.schema import Column, TableSpec
from shuhui.rules.loader import load_book
from shuhui.rules.service import evaluate
from shuhui.rules.testing import input_tables

VARS = ("x0", "x1", "x2", "x3")
THINGS = TableSpec(
    name="things",
    title="测试对象",
    department="测试",
    primary_key=("id",),
    columns=(Column("id", "string", "编号"), *(Column(x, "int64", x) for x in VARS)),
)
SPECS = {"things": THINGS}
ENTITIES = """\
kind: rule-entities
items:
  - code: thing
    name: {zh: 对象, en: Thing}
    valid_from: 2000-01-01
    reference: 测试
    table: things
    key: id
"""
OPS = {">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "=": lambda a, b: a == b}

# A leaf compares one variable, or the sum of two, with a constant.
leaves = st.tuples(
    st.just("test"),
    st.lists(st.sampled_from(VARS), min_size=1, max_size=2, unique=True),
    st.sampled_from(sorted(OPS)),
    st.integers(0, 4),
)
# known(test): true where the test is true, false where it is false or unknown (evidence).
known_leaves = st.tuples(
    st.just("known"),
    st.lists(st.sampled_from(VARS), min_size=1, max_size=2, unique=True),
    st.sampled_from(sorted(OPS)),
    st.integers(0, 4),
)
trees = st.recursive(
    st.one_of(leaves, known_leaves),
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(["all", "any"]), st.lists(kids, min_size=1, max_size=3)),
        st.tuples(st.just("not"), kids),
    ),
    max_leaves=6,
)
rows = st.lists(
    st.fixed_dictionaries({x: st.one_of(st.none(), st.integers(0, 3)) for x in VARS}),
    min_size=1,
    max_size=12,
)


def render(node: Any, ids: list[int]) -> dict[str, Any]:
    ids[0] += 1
    cid = f"n{ids[0]}"
    if node[0] == "test":
        _, names, op, k = node
        return {"id": cid, "zh": cid, "test": f"{' + '.join(names)} {op} {k}"}
    if node[0] == "known":
        _, names, op, k = node
        return {"id": cid, "zh": cid, "test": f"known({' + '.join(names)} {op} {k})"}
    if node[0] == "not":
        return {"id": cid, "not": render(node[1], ids)}
    return {"id": cid, node[0]: [render(child, ids) for child in node[1]]}


def kleene(node: Any, row: dict[str, int | None]) -> bool | None:
    if node[0] == "known":
        return kleene(("test", *node[1:]), row) is True
    if node[0] == "test":
        _, names, op, k = node
        values = [row[n] for n in names]
        if any(v is None for v in values):
            return None
        return bool(OPS[op](sum(v for v in values if v is not None), k))
    if node[0] == "not":
        inner = kleene(node[1], row)
        return None if inner is None else not inner
    results = [kleene(child, row) for child in node[1]]
    decisive = node[0] == "any"  # true decides an any, false decides an all
    if decisive in results:
        return decisive
    return None if None in results else not decisive


def blamed(node: Any, row: dict[str, int | None], out: set[str]) -> None:
    """The missing inputs of an unknown node: follow only unknown children down to leaves."""
    if kleene(node, row) is not None:
        return  # (a known() leaf is never unknown, so never blamed)
    if node[0] == "test":
        out.update(n for n in node[1] if row[n] is None)
        return
    for child in [node[1]] if node[0] == "not" else node[1]:
        blamed(child, row, out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, data=rows)
def test_sql_matches_the_reference_evaluator(tree: Any, data: list[dict[str, int | None]]) -> None:
    rule = {
        "code": "random",
        "name": {"zh": "随机规则", "en": "Random rule"},
        "valid_from": "2000-01-01",
        "reference": "测试",
        "department": "测试部门",
        "entity": "thing",
        "variables": {x: {"zh": x, "column": x} for x in VARS},
        "conditions": render(tree, [0]),
    }
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        (directory / "entities.yaml").write_text(ENTITIES, encoding="utf-8")
        (directory / "random.yaml").write_text(
            yaml.safe_dump({"kind": "rules", "items": [rule]}, allow_unicode=True),
            encoding="utf-8",
        )
        compiled = load_book(directory, SPECS).rules["random"]
    table = [{"id": f"r{i}", **row} for i, row in enumerate(data)]
    con = duckdb.connect()
    try:
        input_tables(con, {"things": table}, compiled.tables, SPECS)
        got = {e.key: e for e in evaluate(con, compiled, compiled.valid_from)}
    finally:
        con.close()
    for row in table:
        value = kleene(tree, row)
        expected = {True: "eligible", False: "not_eligible", None: "undetermined"}[value]
        result = got[row["id"]]
        assert result.outcome == expected, (row, tree)
        names: set[str] = set()
        blamed(tree, row, names)
        assert set(result.missing) == names, (row, tree)
        assert (result.outcome == "undetermined") == bool(result.missing)
