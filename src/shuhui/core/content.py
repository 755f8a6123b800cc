"""What a city configures, loaded from YAML under ``content/``.

Each file is ``{kind: <kind>, items: [...]}``; every item has a ``code``, a bilingual ``name``,
the dates it is in force (``valid_from``, optional ``valid_to``, both inclusive) and the
``reference`` to the text it implements. Anything else an item carries stays in ``attrs`` for the
domain that owns the kind. A file that breaks these rules is refused whole, naming the item and
the field, so a half-valid configuration never goes live.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml

CODE: Final = re.compile(r"^[^\s/\\]{1,64}$")
# The repository's content/ directory; SHUHUI_CONTENT_DIR points elsewhere.
DEFAULT_DIR: Final = Path(__file__).resolve().parents[3] / "content"


class ContentError(ValueError):
    def __init__(self, path: Path, where: str, reason: str) -> None:
        super().__init__(f"{path}: {where}: {reason}")
        self.path = path
        self.where = where
        self.reason = reason


@dataclass(frozen=True)
class Item:
    code: str
    name_zh: str
    name_en: str
    valid_from: date
    valid_to: date | None
    reference: str
    attrs: dict[str, Any] = field(default_factory=dict)

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True)
class Items:
    kind: str
    path: Path
    by_code: dict[str, Item]

    def get(self, code: str) -> Item | None:
        return self.by_code.get(code)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.by_code.values())

    def __len__(self) -> int:
        return len(self.by_code)

    def in_force(self, on: date) -> list[Item]:
        return [item for item in self if item.in_force(on)]


def _date(path: Path, where: str, value: Any) -> date:
    # YAML reads 2024-01-01 as a date already; a quoted string must still be a real date.
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ContentError(path, where, "not a date (YYYY-MM-DD)")


def _text(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(path, where, "missing or empty text")
    return value.strip()


def load_yaml(text: str) -> Any:
    """YAML through libyaml's safe loader where PyYAML has it (several times faster than the
    pure-Python one: the city's content is read by every process that starts, and the tests
    start thousands), else the pure-Python safe loader; both raise ``yaml.YAMLError``."""
    if yaml.__with_libyaml__:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    return yaml.safe_load(text)


def parse_items(path: Path, text: str, kind: str) -> Items:
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ContentError(path, "file", f"not YAML: {exc}") from None
    except ValueError as exc:  # e.g. 2024-13-01, which YAML reads as a date and cannot build
        raise ContentError(path, "file", f"bad value: {exc}") from None
    if not isinstance(doc, dict):
        raise ContentError(path, "file", "must be a mapping with 'kind' and 'items'")
    if doc.get("kind") != kind:
        raise ContentError(path, "kind", f"must be {kind!r}")
    raw = doc.get("items")
    if not isinstance(raw, list) or not raw:
        raise ContentError(path, "items", "must be a non-empty list")
    by_code: dict[str, Item] = {}
    for index, entry in enumerate(raw):
        where = f"items[{index}]"
        if not isinstance(entry, dict):
            raise ContentError(path, where, "must be a mapping")
        code = entry.get("code")
        if not isinstance(code, str) or not CODE.match(code):
            raise ContentError(path, f"{where}.code", "1-64 characters, no spaces or slashes")
        where = f"items[{index}] ({code})"
        if code in by_code:
            raise ContentError(path, f"{where}.code", "duplicate code")
        name = entry.get("name")
        if not isinstance(name, dict):
            raise ContentError(path, f"{where}.name", "must be {zh: ..., en: ...}")
        start = _date(path, f"{where}.valid_from", entry.get("valid_from"))
        end = entry.get("valid_to")
        end_date = None if end is None else _date(path, f"{where}.valid_to", end)
        if end_date is not None and end_date < start:
            raise ContentError(path, f"{where}.valid_to", "before valid_from")
        known = {"code", "name", "valid_from", "valid_to", "reference"}
        by_code[code] = Item(
            code=code,
            name_zh=_text(path, f"{where}.name.zh", name.get("zh")),
            name_en=_text(path, f"{where}.name.en", name.get("en")),
            valid_from=start,
            valid_to=end_date,
            reference=_text(path, f"{where}.reference", entry.get("reference")),
            attrs={k: v for k, v in entry.items() if k not in known},
        )
    return Items(kind=kind, path=path, by_code=by_code)


@lru_cache(maxsize=64)
def load_items(path: Path, kind: str) -> Items:
    """Reads and checks one content file; cached, since content changes with a deploy."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentError(path, "file", f"cannot read: {exc.strerror}") from None
    return parse_items(path, text, kind)
