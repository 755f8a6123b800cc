"""Every action the code records in the ledger has a name for people (trust.ledger.actions):
the source is read for each ``record(…)`` and ``Entry(…)`` call, and its action — a string, a
choice of strings, or an f-string standing for a family (``f"{kind}.signed"``) — must be named."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import shuhui
from shuhui.trust.ledger.actions import ACTION_NAMES, action_name, purpose_name

SOURCE = Path(shuhui.__file__).parent
# Arguments that are not a literal but a name whose value the test knows.
KNOWN_NAMES = {"ISSUED": "key.issued"}


def _action_arg(call: ast.Call) -> ast.expr | None:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    if name not in ("record", "Entry"):
        return None
    for keyword in call.keywords:
        if keyword.arg == "action":
            return keyword.value
    index = 2 if name == "record" else 1
    return call.args[index] if len(call.args) > index else None


def _patterns(node: ast.expr) -> list[str] | None:
    """Regexes for the actions an expression can give, or None if it cannot be read."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [re.escape(node.value)]
    if isinstance(node, ast.Name) and node.id in KNOWN_NAMES:
        return [re.escape(KNOWN_NAMES[node.id])]
    if isinstance(node, ast.JoinedStr):
        parts = [
            re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z_]+" for v in node.values
        ]
        return ["".join(parts)]
    if isinstance(node, ast.IfExp):
        body, orelse = _patterns(node.body), _patterns(node.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _patterns(node.left), _patterns(node.right)
        if left is None or right is None:
            return None
        return [a + b for a in left for b in right]
    # {…}.get(key, default): every value and the default
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Dict)
    ):
        found: list[str] = []
        for value in [*node.func.value.values, *node.args[1:]]:
            got = _patterns(value)
            if got is None:
                return None
            found += got
        return found
    return None


def recorded_actions() -> dict[str, list[str]]:
    """Pattern → where it is recorded, for every record/Entry call of the package."""
    out: dict[str, list[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        if path.parts[-3:-1] == ("trust", "ledger") and path.name == "service.py":
            continue  # record() itself, passing its argument on
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            arg = _action_arg(node)
            if arg is None:
                continue
            patterns = _patterns(arg)
            where = f"{path.relative_to(SOURCE)}:{node.lineno}"
            if patterns is None:
                # Not an action at all (a data-core load's source detail), or unreadable.
                if isinstance(arg, ast.Dict) or "detail" in ast.unparse(arg):
                    continue
                out.setdefault(f"<unreadable {ast.unparse(arg)}>", []).append(where)
                continue
            for pattern in patterns:
                out.setdefault(pattern, []).append(where)
    return out


def test_every_recorded_action_has_a_name() -> None:
    found = recorded_actions()
    assert len(found) >= 30, found
    unnamed = {
        pattern: where
        for pattern, where in found.items()
        if not any(re.fullmatch(pattern, action) for action in ACTION_NAMES)
    }
    assert not unnamed, f"actions recorded without a name in trust.ledger.actions: {unnamed}"


def test_names_are_chinese_with_english() -> None:
    for action, (zh, en) in ACTION_NAMES.items():
        assert any("\u4e00" <= c <= "\u9fff" for c in zh), action
        assert en and en.isascii(), action
    named = action_name("asset.valued")
    assert named == "数据资产估值" and named.en == "Asset valued"
    # An action a newer version records is named generically, never shown raw.
    assert action_name("something.new") == "其他操作记录"


def test_each_decision_a_reviewer_can_take_has_its_own_name() -> None:
    """An f-string family is only as named as its members: a data-use application's review
    records ``channel.application.<decision>`` for each decision the schema allows."""
    from typing import get_args

    from shuhui.channel.schemas import ApplicationReviewIn
    from shuhui.trust.ledger.actions import UNNAMED, action_name

    decisions = get_args(ApplicationReviewIn.model_fields["decision"].annotation)
    assert decisions == ("approve", "reject", "return")
    for decision in decisions:
        assert str(action_name(f"channel.application.{decision}")) != UNNAMED[0], decision


def test_every_english_purpose_the_code_records_has_a_name_for_people() -> None:
    """A purpose written in English in the code (``purpose="…"``, or a ``purpose`` parameter's
    default) is shown to the person in 谁用了我的数据 through its Chinese name, so it must have
    one; a Chinese purpose is shown as it is."""
    missing = []
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        literals: list[ast.expr] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "purpose":
                literals.append(node.value)
            elif isinstance(node, ast.arguments):
                names = [a.arg for a in node.args + node.kwonlyargs]
                defaults = [None] * (len(node.args) - len(node.defaults)) + list(node.defaults)
                defaults += list(node.kw_defaults)
                literals += [
                    d for n, d in zip(names, defaults, strict=True) if n == "purpose" and d
                ]
        for value in literals:
            text = value.value if isinstance(value, ast.Constant) else None
            if isinstance(text, str) and text and purpose_name(text) is None:
                missing.append(f"{path.relative_to(SOURCE)}:{value.lineno}: {text!r}")
    assert not missing, "\n".join(missing)
