"""One-thing bundles (一件事) as content: which service items a bundle fans out to, and the one
form that asks each of their facts once.

A bundle (``content/<city>/hrss/bundles.yaml``) names its holder (a person, or an enterprise
applying for someone) and its items, each an item of the approval catalogue with the same
holder. Its form is the union of the items' forms: a field name means one fact across the
bundle, so the first item to ask it gives its title, schema and pre-fill, a field required by any
item is required, and two items whose schemas for one name disagree on the type are a content
error found when the bundles load (a city adding a bundle learns it from ``shuhui`` at start,
not from a refused application).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Final

from shuhui.approval.items import Catalogue, FormField, ServiceItem, load_catalogue
from shuhui.core.content import DEFAULT_DIR, ContentError, load_items

BUNDLES_FILE: Final = Path("hrss") / "bundles.yaml"
BUNDLES_KIND: Final = "hrss-bundles"


@dataclass(frozen=True)
class Bundle:
    code: str
    name_zh: str
    name_en: str
    holder: str  # person | enterprise
    items: tuple[ServiceItem, ...]
    fields: tuple[FormField, ...]  # the union of the items' forms, in the items' order
    keywords: tuple[str, ...]
    valid_from: date
    valid_to: date | None
    reference: str

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    def asks(self, item: ServiceItem) -> tuple[str, ...]:
        """The names of the union's fields ``item``'s own form has."""
        return tuple(f.name for f in item.form.fields)


def _kind(field: FormField) -> object:
    return field.schema.get("type"), field.schema.get("format")


def union_of(path: Path, code: str, items: tuple[ServiceItem, ...]) -> tuple[FormField, ...]:
    merged: dict[str, FormField] = {}
    for item in items:
        for field in item.form.fields:
            seen = merged.get(field.name)
            if seen is None:
                merged[field.name] = field
                continue
            if _kind(seen) != _kind(field):
                raise ContentError(
                    path,
                    f"bundle {code}",
                    f"field {field.name} is {_kind(seen)} in one item and {_kind(field)} in "
                    f"{item.code}; one name must mean one fact",
                )
            if field.required and not seen.required:
                merged[field.name] = replace(seen, required=True)
    return tuple(merged.values())


@dataclass(frozen=True)
class Bundles:
    by_code: dict[str, Bundle]
    catalogue: Catalogue  # the items they were checked against

    def get(self, code: str) -> Bundle | None:
        return self.by_code.get(code)

    def in_force(self, on: date) -> list[Bundle]:
        return [b for b in self.by_code.values() if b.in_force(on)]


def load_bundles(content_dir: Path | None = None, catalogue: Catalogue | None = None) -> Bundles:
    """The city's bundles, each checked against the catalogue (its items exist, share its
    holder, and their forms agree on every shared field)."""
    city = content_dir or DEFAULT_DIR / "qingdao"
    path = city / BUNDLES_FILE
    catalogue = catalogue or load_catalogue(city)
    found: dict[str, Bundle] = {}
    for entry in load_items(path, BUNDLES_KIND).by_code.values():
        holder = str(entry.attrs.get("holder", "person"))
        items = []
        for code in entry.attrs.get("items", ()):
            item = catalogue.get(str(code))
            if item is None:
                raise ContentError(path, f"bundle {entry.code}", f"no service item {code}")
            if item.holder != holder:
                raise ContentError(
                    path, f"bundle {entry.code}", f"{code} is applied for by a {item.holder}"
                )
            items.append(item)
        if len(items) < 2:
            raise ContentError(path, f"bundle {entry.code}", "a bundle has two items or more")
        ordered = tuple(items)
        found[entry.code] = Bundle(
            code=entry.code,
            name_zh=entry.name_zh,
            name_en=entry.name_en,
            holder=holder,
            items=ordered,
            fields=union_of(path, entry.code, ordered),
            keywords=tuple(str(k) for k in entry.attrs.get("keywords", ())),
            valid_from=entry.valid_from,
            valid_to=entry.valid_to,
            reference=entry.reference,
        )
    return Bundles(found, catalogue)


@lru_cache(maxsize=4)
def bundles_of(content_dir: str) -> Bundles:
    """The bundles of a content directory, loaded once per process (content changes with a
    deployment, which restarts the server)."""
    return load_bundles(Path(content_dir))
