"""Service items (政务服务事项) as the approval platform reads them from content: each item's
domain and scenario, conditions, materials (and the e-certificate that replaces each), form
(JSON Schema with layout and fill hints), time limits, fee, process and legal reference."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

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
    # A table with several rows per key (employment spells, monthly tax): take the row with the
    # greatest value of this column (the latest spell, the latest month).
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
