"""No English-only reason in the source (issue 16): every ``FieldError``, ``Problem`` or
``invalid`` whose reason or detail is written out as a string literal (or f-string) must say it in
Chinese, so a person who meets the refusal on a path no crawl reaches still reads Chinese. The
English goes with it as ``Text(zh, en)``. This reads the source with ``ast``: a reason built
elsewhere (a ``Text`` constant, a helper) is not a literal and is not checked here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import shuhui

SRC = Path(shuhui.__file__).parent
HAN = re.compile(r"[\u4e00-\u9fff]")
WORDS = re.compile(r"[A-Za-z]{2,}")
# ``check.fail(field, reason)`` is the asset valuation's collector of refusals (a method, so a
# content loader's local ``fail`` for whoever edits the YAML is not held to this yet).
CALLS = frozenset({"FieldError", "Problem", "invalid", "fail"})
# CKAN's own wording, which CKAN clients (ckanapi, the CKAN test suites) compare as it is.
ALLOWED = frozenset(
    {
        ("catalog/ckan/api.py", "Bad request - Action name not known: {}"),
        ("catalog/ckan/api.py", "Bad request - {}"),
        ("catalog/ckan/params.py", "Missing value"),
    }
)


def _literal(node: ast.expr) -> str | None:
    """The text of a string literal or f-string (each placeholder as ``{}``), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [_literal(node.left), _literal(node.right)]
        return "".join(p for p in parts if p is not None) if any(parts) else None
    return None


def _reasons(call: ast.Call) -> list[ast.expr]:
    name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
    if name not in CALLS or (name == "fail" and not isinstance(call.func, ast.Attribute)):
        return []
    # FieldError(field, reason) and invalid(field, reason, detail); Problem(slug, detail).
    positional = call.args[1:] if name != "Problem" else call.args[1:2]
    return [*positional, *(k.value for k in call.keywords if k.arg in ("reason", "detail"))]


def english_only(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            for arg in _reasons(node):
                text = _literal(arg)
                if text is not None and WORDS.search(text) and not HAN.search(text):
                    found.append((arg.lineno, text))
    return sorted(found)


def test_the_check_finds_an_english_only_reason() -> None:
    source = (
        'raise Problem("validation", errors=[FieldError("name", "must not be empty")])\n'
        'raise invalid("month", f"at most {n} days")\n'
        'raise Problem("conflict", detail="seal is revoked")\n'
        'raise Problem("validation", errors=[FieldError("n", Text("不能为空", "empty"))])\n'
        'raise invalid("month", "应写成“年-月”")\n'
        'raise invalid("range", "1-1098")\n'
    )
    assert english_only(source) == [
        (1, "must not be empty"),
        (2, "at most {} days"),
        (3, "seal is revoked"),
    ]


def test_every_reason_written_in_the_source_is_in_chinese() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        for line, text in english_only(path.read_text(encoding="utf-8")):
            if (where, text) not in ALLOWED:
                found.append(f"{where}:{line}: {text!r}")
    assert not found, "reasons with no Chinese (use Text(zh, en)):\n" + "\n".join(found)
