"""What a pre-filled form is: each field's offered value and where it came from, the choices
from the applicant's earlier cases, and the materials an e-certificate waives. ``prefill``
makes one; ``cases`` keeps it on a draft and records, at submission, whether each offered value
was kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

SourceKind = Literal["identity", "history", "shared", "typed"]


@dataclass(frozen=True)
class Provenance:
    """Where a value came from: a data-core table at a version and the key read (identity,
    shared), or an earlier case (history); ``at`` is when it was read."""

    kind: SourceKind
    at: datetime
    table: str | None = None
    version: int | None = None
    key: str | None = None
    case_code: str | None = None


@dataclass(frozen=True)
class HistoryChoice:
    """A value the applicant gave in an earlier case, offered for selection (历史选择填)."""

    value: Any
    case_code: str
    submitted_at: datetime


@dataclass(frozen=True)
class FilledField:
    name: str
    value: Any  # None when nothing was found
    provenance: Provenance | None
    choices: tuple[HistoryChoice, ...] = ()


@dataclass(frozen=True)
class WaivedMaterial:
    """A material an e-certificate replaces (免提交): the certificate read from the data core,
    and the certificate-use authorisation when the certificate is another holder's."""

    material: str
    certificate_type: str
    certificate_no: str
    holder_id: str
    authorisation_code: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Why the platform could not use something for this form (a certificate whose holder has
    not authorised its use): shown to the applicant, already in the ledger."""

    material: str
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class Prefill:
    item_code: str
    applicant_kind: Literal["person", "enterprise"]
    applicant_id: str
    applicant_name: str
    fields: dict[str, FilledField]
    waived: dict[str, WaivedMaterial]
    refused: tuple[Refusal, ...] = ()
    agent_id: str | None = None  # the agent's citizen ID when applying for someone else
    mandate_code: str | None = None
    # Data-core table versions read, for the ledger entry and the case.
    versions: dict[str, int] = field(default_factory=dict)
