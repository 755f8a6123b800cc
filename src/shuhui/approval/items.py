"""Service items (政务服务事项) as the approval platform reads them from content: each item's
domain and scenario, conditions, materials (and the e-certificate that replaces each), form
(JSON Schema with layout and fill hints), time limits, fee, process and legal reference.

Where they live, under a city's content directory (``content/<city>/``):

- ``service-items.yaml``: the items (the trust layer reads the same file for mandates);
- ``approval/domains.yaml``, ``approval/scenarios.yaml``: the domains and scenarios;
- ``approval/forms/<code>.yaml``: each item's form, a JSON Schema (draft 2020-12) whose
  properties carry ``title`` (Chinese), ``x-title-en``, bounds, ``examples`` and the platform's
  keywords ``x-fill`` (``{kind, table, column, key[, order_by]}``), ``x-history``, ``x-group``,
  ``x-width`` (``full`` | ``half``) and ``x-help``;
- ``certificate-types.yaml``: the e-certificate types an item issues or a material is waived by.

:func:`load_catalogue` reads and checks all of it at once and refuses the whole catalogue, with
a :class:`~shuhui.core.content.ContentError` naming the file, item and field, when anything does
not hold: a domain, scenario, process, certificate type or material kind that does not exist, a
form that is not a valid schema or whose examples it refuses, a fill from a table, column or key
the data standard does not have, a promised limit beyond the statutory one… so a half-valid
catalogue never goes live. :meth:`Catalogue.search` finds items as the catalog's search finds
datasets: Chinese words by their characters, city abbreviations (``search-synonyms.yaml``), pinyin
and its initials (``shipin``, ``spjy``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, NoReturn, cast

import yaml

# jsonschema ships no type information (and its stubs are not among the project's pins).
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from shuhui.approval.itemsearch import ItemIndex
from shuhui.core.content import ContentError, Item, Items, load_items, load_yaml
from shuhui.datacore.schema import Column, TableSpec
from shuhui.standard.tables import TABLES
from shuhui.standard.vocabularies import CERTIFICATE_TYPES

FillKind = Literal["identity", "shared"]
HolderKind = Literal["person", "enterprise"]


@dataclass(frozen=True)
class Fill:
    """Where the platform fills a field from: the data core's ``table.column`` on the row whose
    ``key`` column is the applicant's ID (identity: the population or enterprise register;
    shared: any other table, through a mapping declared in content)."""

    kind: FillKind
    table: str
    column: str
    key: str
    # Where several rows have the applicant's ID (spells, enrolments, months), the row with the
    # greatest value of this column: the latest.
    order_by: str | None = None


@dataclass(frozen=True)
class FormField:
    name: str  # the property's name in the JSON Schema
    title_zh: str
    title_en: str
    schema: dict[str, Any]  # the property's own JSON Schema
    required: bool
    fill: Fill | None = None
    history: bool = False  # offer the applicant's values from earlier cases (历史选择填)
    group: str = ""  # the layout group's Chinese title
    width: Literal["full", "half"] = "half"
    help_zh: str = ""


@dataclass(frozen=True)
class Form:
    schema: dict[str, Any]  # the whole JSON Schema (draft 2020-12), as content wrote it
    fields: tuple[FormField, ...]

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Material:
    code: str
    name_zh: str
    name_en: str
    # The pre-check's material type (id-card, business-licence, diploma, labour-contract,
    # medical-certificate, site-plan), or None where nothing is read from it.
    kind: str | None
    required: bool
    replaced_by: str | None  # the e-certificate type that waives it (免提交)
    # Whose certificate replaces it: the applicant's own, or another holder's named by a form
    # field (that holder's certificate-use authorisation is then needed).
    holder_field: str | None = None
    note_zh: str = ""


@dataclass(frozen=True)
class ServiceItem:
    code: str
    name_zh: str
    name_en: str
    department: str
    holder: HolderKind
    delegable: bool
    domain: str
    scenario: str | None
    conditions: tuple[str, ...]
    materials: tuple[Material, ...]
    form: Form
    statutory_days: int  # 法定办结时限, working days
    promised_days: int  # 承诺办结时限, working days
    fee_fen: int
    process: str  # the BPMN process id under content/<city>/approval/processes/
    countersign: str | None  # the second department, where one is involved
    issues: str | None  # the e-certificate type an approval issues
    reference: str
    valid_from: date
    valid_to: date | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    @property
    def zero_submission(self) -> bool:
        """零提交: every field is filled by the platform and every material waived by an
        e-certificate, so an applicant holding them submits nothing."""
        return all(m.replaced_by is not None for m in self.materials if m.required) and all(
            f.fill is not None for f in self.form.fields if f.required
        )


@dataclass(frozen=True)
class Scenario:
    code: str
    name_zh: str
    name_en: str
    domain: str
    items: tuple[str, ...]
    description_zh: str


@dataclass(frozen=True)
class Domain:
    code: str
    name_zh: str
    name_en: str


# --- the catalogue -----------------------------------------------------------------------------

PROCESSES: Final = ("approval-standard", "approval-countersign", "approval-instant")
MATERIAL_KINDS: Final = (
    "id-card",
    "business-licence",
    "diploma",
    "labour-contract",
    "medical-certificate",
    "site-plan",
)
# The register an identity fill reads, by the applicant's kind: (table, key column).
IDENTITY: Final[dict[str, tuple[str, str]]] = {
    "person": ("residents", "citizen_id"),
    "enterprise": ("enterprises", "credit_code"),
}
# The identifier check of the column a shared fill is keyed by, by the applicant's kind.
KEY_CHECK: Final = {"person": "citizen_id", "enterprise": "credit_code"}
DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
FIELD_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MATERIAL_CODE: Final = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
CJK: Final = re.compile(r"[\u3400-\u9fff]")
ITEM_KEYS: Final = frozenset(
    {
        "department",
        "holder",
        "delegable",
        "domain",
        "scenario",
        "conditions",
        "materials",
        "form",
        "time_limit",
        "fee_fen",
        "process",
        "countersign",
        "issues",
        "keywords",
    }
)
MATERIAL_KEYS: Final = frozenset(
    {"code", "name", "kind", "required", "replaced_by", "holder_field", "note"}
)
FORM_KEYS: Final = frozenset({"x-title-en"})
FIELD_KEYS: Final = frozenset({"x-title-en", "x-fill", "x-history", "x-group", "x-width", "x-help"})
FILL_KEYS: Final = frozenset({"kind", "table", "column", "key", "order_by"})
# How a data-core column's values appear in a form field's JSON Schema.
JSON_TYPES: Final[dict[str, tuple[str, str | None]]] = {
    "string": ("string", None),
    "int8": ("integer", None),
    "int16": ("integer", None),
    "int32": ("integer", None),
    "int64": ("integer", None),
    "float64": ("number", None),
    "bool": ("boolean", None),
    "date": ("string", "date"),
    "timestamp": ("string", "date-time"),
}


@dataclass(frozen=True)
class Catalogue:
    """The city's service items with their domains and scenarios, checked against each other,
    the data standard and the certificate types."""

    domains: dict[str, Domain]
    scenarios: dict[str, Scenario]
    items: dict[str, ServiceItem]
    index: ItemIndex = field(repr=False, compare=False)

    def get(self, code: str) -> ServiceItem | None:
        return self.items.get(code)

    def in_force(self, on: date) -> list[ServiceItem]:
        """The items in force on ``on``, in the catalogue's order (by scenario)."""
        return [item for item in self.items.values() if item.in_force(on)]

    def of_scenario(self, code: str, on: date) -> list[ServiceItem]:
        """The items a scenario lists that are in force on ``on``, in its order."""
        scenario = self.scenarios.get(code)
        found = [self.items[c] for c in scenario.items] if scenario else []
        return [item for item in found if item.in_force(on)]

    def search(self, text: str, on: date) -> list[ServiceItem]:
        """The items in force on ``on`` that match every word of ``text`` (all of them when it
        has none), best first: a word in the name ranks above one in the keywords or the
        certificate issued, which ranks above one elsewhere (department, domain, scenario,
        materials); a word only sounding like pinyin ranks last."""
        return self.index.search(self.in_force(on), text)


def load_catalogue(content_dir: Path | None = None) -> Catalogue:
    """The catalogue of the city's content directory (``content/<city>/``; by default the
    settings' ``city_content``), read and checked once per directory."""
    if content_dir is None:
        from shuhui.core.settings import get_settings

        content_dir = get_settings().city_content
    return _load(content_dir.resolve())


@lru_cache(maxsize=8)
def _load(root: Path) -> Catalogue:
    approval = root / "approval"
    certificates = _certificate_holders(
        load_items(root / "certificate-types.yaml", "certificate-types")
    )
    domains = {
        d.code: Domain(d.code, d.name_zh, d.name_en)
        for d in load_items(approval / "domains.yaml", "approval-domains")
    }
    scenario_items = load_items(approval / "scenarios.yaml", "approval-scenarios")
    scenarios = {
        s.code: _scenario(scenario_items, i, s, domains) for i, s in enumerate(scenario_items)
    }
    raw = load_items(root / "service-items.yaml", "service-items")
    processes = approval / "processes"
    items: dict[str, ServiceItem] = {}
    for index, entry in enumerate(raw):
        at = _At(raw.path, f"items[{index}] ({entry.code})")
        items[entry.code] = _item(at, entry, approval, domains, scenarios, certificates)
        process = items[entry.code].process
        # The processes are content too: once the directory exists, each item's must be there.
        if processes.is_dir() and not (processes / f"{process}.bpmn").is_file():
            at.content_error("process", f"no {process}.bpmn under {processes}")
    for index, s in enumerate(scenario_items):
        for j, code in enumerate(scenarios[s.code].items):
            if code not in items:
                raise ContentError(
                    scenario_items.path,
                    f"items[{index}] ({s.code}).items[{j}]",
                    f"unknown service item {code!r}",
                )
    for index, entry in enumerate(raw):
        home = items[entry.code].scenario
        if home is not None and entry.code not in scenarios[home].items:
            _At(raw.path, f"items[{index}] ({entry.code})").content_error(
                "scenario", f"scenario {home!r} does not list this item"
            )
    synonyms_path = root / "search-synonyms.yaml"
    synonyms = load_items(synonyms_path, "search-synonyms") if synonyms_path.is_file() else None
    return Catalogue(
        domains, scenarios, items, ItemIndex.build(items, domains, scenarios, synonyms)
    )


@dataclass(frozen=True)
class _At:
    """Where in the content a check is: the file, and the item (or form) within it. Its
    refusals are for whoever edits the content files, in English as `core.content` gives them."""

    path: Path
    where: str

    def content_error(self, field_name: str, reason: str) -> NoReturn:
        raise ContentError(
            self.path, f"{self.where}.{field_name}" if field_name else self.where, reason
        )


def _certificate_holders(types: Items) -> dict[str, str]:
    """The certificate types an item may issue or be waived by: those of certificate-types.yaml
    that the data standard's e_certificates table can hold, with the holder kind of each."""
    return {t.code: str(t.attrs.get("holder", "any")) for t in types if t.code in CERTIFICATE_TYPES}


def _scenario(items: Items, index: int, s: Item, domains: Mapping[str, Domain]) -> Scenario:
    at = _At(items.path, f"items[{index}] ({s.code})")
    domain = s.attrs.get("domain")
    if not _known(domain, domains):
        at.content_error(
            "domain", f"unknown domain {domain!r} (domains.yaml: {', '.join(domains)})"
        )
    listed = s.attrs.get("items")
    if not isinstance(listed, list) or not listed or not all(isinstance(c, str) for c in listed):
        at.content_error("items", "must be a non-empty list of service item codes")
    if len(set(listed)) != len(listed):
        at.content_error("items", "lists an item twice")
    return Scenario(
        code=s.code,
        name_zh=s.name_zh,
        name_en=s.name_en,
        domain=str(domain),
        items=tuple(listed),
        description_zh=_text(at, "description", s.attrs.get("description")),
    )


def _item(
    at: _At,
    entry: Item,
    approval: Path,
    domains: Mapping[str, Domain],
    scenarios: Mapping[str, Scenario],
    certificates: Mapping[str, str],
) -> ServiceItem:
    attrs = entry.attrs
    for key in attrs:
        if key not in ITEM_KEYS and not key.startswith("x-"):
            at.content_error(key, f"unknown key (known: {', '.join(sorted(ITEM_KEYS))})")
    holder = attrs.get("holder")
    if not _known(holder, IDENTITY):
        at.content_error("holder", "must be person or enterprise")
    if not isinstance(attrs.get("delegable"), bool):
        at.content_error("delegable", "must be true or false")
    domain = attrs.get("domain")
    if not _known(domain, domains):
        at.content_error("domain", f"unknown domain {domain!r}")
    scenario = attrs.get("scenario")
    if scenario is not None and not _known(scenario, scenarios):
        at.content_error("scenario", f"unknown scenario {scenario!r}")
    department = _text(at, "department", attrs.get("department"))
    conditions = attrs.get("conditions", [])
    if not isinstance(conditions, list):
        at.content_error("conditions", "must be a list of texts")
    statutory, promised = _time_limit(at, attrs.get("time_limit"))
    fee = attrs.get("fee_fen")
    if not isinstance(fee, int) or isinstance(fee, bool) or fee < 0:
        at.content_error("fee_fen", "must be a whole number of fen, 0 or more")
    process = attrs.get("process")
    if not _known(process, PROCESSES):
        at.content_error("process", f"must be one of {', '.join(PROCESSES)}")
    if (process == "approval-instant") != (promised == 0):
        at.content_error(
            "time_limit.promised", "0 (decided on the spot) exactly for approval-instant"
        )
    countersign = attrs.get("countersign")
    if process == "approval-countersign":
        countersign = _text(at, "countersign", countersign)
        if countersign == department:
            at.content_error("countersign", "must be a second department, not the item's own")
    elif countersign is not None:
        at.content_error("countersign", "only an approval-countersign item has a second department")
    issues = attrs.get("issues")
    if issues is not None:
        _certificate(at, "issues", issues, certificates, str(holder))
    keywords = attrs.get("keywords", [])
    if not isinstance(keywords, list) or not all(
        isinstance(k, str) and k.strip() for k in keywords
    ):
        at.content_error("keywords", "must be a list of texts")
    form_ref = _text(at, "form", attrs.get("form"))
    form_path = (approval / form_ref).resolve()
    if not form_path.is_relative_to(approval.resolve()) or not form_path.is_file():
        at.content_error("form", f"no form file {form_ref!r} under {approval}")
    form = _form(_At(form_path, f"{entry.code}.form"), form_path, str(holder))
    materials = _materials(at, attrs.get("materials"), form, certificates, str(holder))
    return ServiceItem(
        code=entry.code,
        name_zh=entry.name_zh,
        name_en=entry.name_en,
        department=department,
        holder=cast(HolderKind, holder),
        delegable=bool(attrs["delegable"]),
        domain=str(domain),
        scenario=None if scenario is None else str(scenario),
        conditions=tuple(_text(at, f"conditions[{i}]", c) for i, c in enumerate(conditions)),
        materials=materials,
        form=form,
        statutory_days=statutory,
        promised_days=promised,
        fee_fen=fee,
        process=str(process),
        countersign=countersign,
        issues=issues,
        reference=entry.reference,
        valid_from=entry.valid_from,
        valid_to=entry.valid_to,
        attrs={k: v for k, v in attrs.items() if k == "keywords" or k.startswith("x-")},
    )


def _known(value: Any, known: Collection[str]) -> bool:
    """Whether ``value`` is one of ``known``: content may hold a list or a mapping anywhere."""
    return isinstance(value, str) and value in known


def _text(at: _At, field_name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        at.content_error(field_name, "missing or empty text")
    return value.strip()


def _days(at: _At, field_name: str, value: Any, least: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= 366:
        at.content_error(field_name, f"must be a whole number of working days, {least} to 366")
    return value


def _time_limit(at: _At, value: Any) -> tuple[int, int]:
    if not isinstance(value, dict) or set(value) != {"statutory", "promised"}:
        at.content_error(
            "time_limit", "must be {statutory: <working days>, promised: <working days>}"
        )
    statutory = _days(at, "time_limit.statutory", value["statutory"], 1)
    promised = _days(at, "time_limit.promised", value["promised"], 0)
    if promised > statutory:
        at.content_error(
            "time_limit.promised", f"{promised} working days is beyond the statutory {statutory}"
        )
    return statutory, promised


def _certificate(
    at: _At, field_name: str, value: Any, certificates: Mapping[str, str], holder: str | None
) -> str:
    """A certificate type the content and the data standard both know, held by ``holder``
    (None: anyone's)."""
    if not isinstance(value, str) or value not in certificates:
        at.content_error(
            field_name,
            f"unknown certificate type {value!r}: it must be in certificate-types.yaml and in the"
            " data standard's vocabulary (shuhui.standard.vocabularies.CERTIFICATE_TYPES)",
        )
    held_by = certificates[value]
    if holder is not None and held_by not in (holder, "any"):
        at.content_error(
            field_name, f"{value} is held by a {held_by}, not by the applicant (a {holder})"
        )
    return value


def _materials(
    at: _At, value: Any, form: Form, certificates: Mapping[str, str], holder: str
) -> tuple[Material, ...]:
    if not isinstance(value, list):
        at.content_error("materials", "must be a list (empty when nothing is needed)")
    out: list[Material] = []
    for i, m in enumerate(value):
        here = f"materials[{i}]"
        if not isinstance(m, dict):
            at.content_error(here, "must be a mapping")
        for key in m:
            if key not in MATERIAL_KEYS:
                at.content_error(
                    f"{here}.{key}", f"unknown key (known: {', '.join(sorted(MATERIAL_KEYS))})"
                )
        code = m.get("code")
        if not isinstance(code, str) or not MATERIAL_CODE.match(code):
            at.content_error(f"{here}.code", "lower-case letters, digits and hyphens")
        if any(o.code == code for o in out):
            at.content_error(f"{here}.code", "duplicate material code")
        name = m.get("name")
        if not isinstance(name, dict):
            at.content_error(f"{here}.name", "must be {zh: ..., en: ...}")
        kind = m.get("kind")
        if kind is not None and not _known(kind, MATERIAL_KINDS):
            at.content_error(
                f"{here}.kind", f"unknown material kind {kind!r} ({', '.join(MATERIAL_KINDS)})"
            )
        if not isinstance(m.get("required"), bool):
            at.content_error(f"{here}.required", "must be true or false")
        holder_field = m.get("holder_field")
        replaced_by = m.get("replaced_by")
        if holder_field is not None:
            if form.field(str(holder_field)) is None:
                at.content_error(
                    f"{here}.holder_field", f"{holder_field!r} is not a field of the form"
                )
            if replaced_by is None:
                at.content_error(
                    f"{here}.holder_field", "names whose certificate replaces it: give replaced_by"
                )
        if replaced_by is not None:
            # Another holder's certificate (holder_field) may be any holder's.
            _certificate(
                at,
                f"{here}.replaced_by",
                replaced_by,
                certificates,
                None if holder_field else holder,
            )
        note = m.get("note", "")
        out.append(
            Material(
                code=code,
                name_zh=_text(at, f"{here}.name.zh", name.get("zh")),
                name_en=_text(at, f"{here}.name.en", name.get("en")),
                kind=kind,
                required=m["required"],
                replaced_by=replaced_by,
                holder_field=holder_field,
                note_zh="" if note == "" else _text(at, f"{here}.note", note),
            )
        )
    return tuple(out)


# --- forms -------------------------------------------------------------------------------------


def _form(at: _At, path: Path, holder: str) -> Form:
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        at.content_error("", f"not a readable YAML file: {exc}")
    if not isinstance(doc, dict):
        at.content_error("", "must be a JSON Schema object")
    try:
        Draft202012Validator.check_schema(doc)
    except SchemaError as exc:
        place = ".".join(str(p) for p in exc.absolute_path)
        at.content_error(place, f"not a valid JSON Schema: {exc.message}")
    if doc.get("$schema") != DIALECT:
        at.content_error("$schema", f"must be {DIALECT}")
    if doc.get("type") != "object" or doc.get("additionalProperties") is not False:
        at.content_error("type", "must be an object with additionalProperties: false")
    for key in doc:
        if key.startswith("x-") and key not in FORM_KEYS:
            at.content_error(
                key, f"unknown platform keyword (known: {', '.join(sorted(FORM_KEYS))})"
            )
    properties = doc.get("properties")
    if not isinstance(properties, dict) or not properties:
        at.content_error("properties", "must name the form's fields")
    required = doc.get("required", [])
    for name in required:
        if name not in properties:
            at.content_error("required", f"{name!r} is not a property")
    if len(set(required)) != len(required):
        at.content_error("required", "names a field twice")
    fields = tuple(
        _field(at, str(name), prop, name in required, holder) for name, prop in properties.items()
    )
    return Form(schema=doc, fields=fields)


def _field(at: _At, name: str, prop: Any, required: bool, holder: str) -> FormField:
    here = f"properties.{name}"
    if not FIELD_NAME.match(name):
        at.content_error(here, "a field name is lower-case letters, digits and underscores")
    if not isinstance(prop, dict):
        at.content_error(here, "must be a JSON Schema object")
    for key in prop:
        if key.startswith("x-") and key not in FIELD_KEYS:
            at.content_error(
                f"{here}.{key}",
                f"unknown platform keyword (known: {', '.join(sorted(FIELD_KEYS))})",
            )
    title = _text(at, f"{here}.title", prop.get("title"))
    if not CJK.search(title):
        at.content_error(f"{here}.title", "the title people read is Chinese")
    _bounded(at, here, prop)
    width = prop.get("x-width")
    if width not in ("full", "half"):
        at.content_error(f"{here}.x-width", "must be full or half")
    history = prop.get("x-history", False)
    if not isinstance(history, bool):
        at.content_error(f"{here}.x-history", "must be true or false")
    help_zh = prop.get("x-help", "")
    fill = None if prop.get("x-fill") is None else _fill(at, f"{here}.x-fill", prop, holder)
    examples = prop.get("examples")
    if not isinstance(examples, list) or not examples:
        at.content_error(f"{here}.examples", "give at least one valid example value")
    checker = Draft202012Validator(prop, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for i, example in enumerate(examples):
        error = next(iter(checker.iter_errors(example)), None)
        if error is not None:
            at.content_error(
                f"{here}.examples[{i}]", f"the field refuses its own example: {error.message}"
            )
    return FormField(
        name=name,
        title_zh=title,
        title_en=_text(at, f"{here}.x-title-en", prop.get("x-title-en")),
        schema=prop,
        required=required,
        fill=fill,
        history=history,
        group=_text(at, f"{here}.x-group", prop.get("x-group")),
        width=width,
        help_zh="" if help_zh == "" else _text(at, f"{here}.x-help", help_zh),
    )


def _bounded(at: _At, here: str, prop: dict[str, Any]) -> None:
    """Every field bounds what it takes, so no submission carries more than a page shows."""
    kind = prop.get("type")
    if kind == "string":
        if not any(k in prop for k in ("enum", "maxLength", "format")):
            at.content_error(here, "a text field needs enum, maxLength or format")
    elif kind in ("integer", "number"):
        if "minimum" not in prop or "maximum" not in prop:
            at.content_error(here, "a number field needs minimum and maximum")
    elif kind == "array":
        items = prop.get("items")
        if "maxItems" not in prop or not isinstance(items, dict) or "enum" not in items:
            at.content_error(here, "a list field needs items with an enum, and maxItems")
    elif kind != "boolean":
        at.content_error(f"{here}.type", "must be string, integer, number, boolean or array")


def _fill(at: _At, here: str, prop: dict[str, Any], holder: str) -> Fill:
    raw = prop["x-fill"]
    if not isinstance(raw, dict):
        at.content_error(here, "must be {kind, table, column, key[, order_by]}")
    for key in raw:
        if key not in FILL_KEYS:
            at.content_error(
                f"{here}.{key}", f"unknown key (known: {', '.join(sorted(FILL_KEYS))})"
            )
    kind = raw.get("kind")
    if kind not in ("identity", "shared"):
        at.content_error(f"{here}.kind", "must be identity or shared")
    spec = next((t for t in TABLES if t.name == raw.get("table")), None)
    if spec is None:
        at.content_error(
            f"{here}.table", f"{raw.get('table')!r} is not a table of the data standard"
        )
    column = _column(at, f"{here}.column", spec, raw.get("column"))
    key = _column(at, f"{here}.key", spec, raw.get("key"))
    order_by = raw.get("order_by")
    if order_by is not None:
        _column(at, f"{here}.order_by", spec, order_by)
    if kind == "identity" and (spec.name, key.name) != IDENTITY[holder]:
        table, key_name = IDENTITY[holder]
        at.content_error(here, f"a {holder}'s identity is read from {table} by {key_name}")
    if key.check != KEY_CHECK[holder]:
        at.content_error(
            f"{here}.key", f"must be a column holding the applicant's {KEY_CHECK[holder]}"
        )
    if order_by is None and spec.primary_key != (key.name,):
        at.content_error(
            f"{here}.order_by", f"several {spec.name} rows may have the key: say which (order_by)"
        )
    json_type, json_format = JSON_TYPES[column.type]
    if prop.get("type") != json_type or (json_format and prop.get("format") != json_format):
        wanted = json_type + (f" with format {json_format}" if json_format else "")
        at.content_error(
            f"{here}.column",
            f"{spec.name}.{column.name} is a {column.type}: the field must be a {wanted}",
        )
    enum = prop.get("enum")
    if column.values is not None and enum is not None and not set(column.values) <= set(enum):
        missing = "、".join(v for v in column.values if v not in enum)
        at.content_error(
            f"{here}.column",
            f"the field's enum lacks values {spec.name}.{column.name} holds: {missing}",
        )
    return Fill(
        kind=cast(FillKind, kind),
        table=spec.name,
        column=column.name,
        key=key.name,
        order_by=None if order_by is None else str(order_by),
    )


def _column(at: _At, here: str, spec: TableSpec, name: Any) -> Column:
    found = next((c for c in spec.columns if c.name == name), None)
    if found is None:
        at.content_error(here, f"{name!r} is not a column of {spec.name}")
    return found
