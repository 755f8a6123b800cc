"""The purpose rule, as people are told it and as a certificate-use authorisation is held to it.

A data-channel call about a person is answered only when three texts are the same, word for
word (after collapsing spaces, `normalise_purpose`): the purpose the consumer writes in the call,
the purpose the data bureau approved in its grant, and the purpose of the person's signed
certificate-use authorisation (用证授权) for that consumer. So a person authorising a consumer
that holds channel grants picks one of the consumer's approved purposes, and drafting refuses
any other (``check``); a relying party outside the channel (a bank at a counter) has no
approved purposes, and the person states one.

Trust does not read the channel's tables: it declares `ApprovedPurposes`, and the web app
binds it to the channel's service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from sqlalchemy.orm import Session

from shuhui.core.errors import FieldError, Problem
from shuhui.trust.authorisations.terms import normalise_purpose

# The rule in one or two plain sentences, for the pages that ask for a purpose.
RULE: Final = (
    "用途必须一字不差：机构调用数据时写明的用途，要与数据局批准的用途、与您在用证授权中同意的用途完全相同，"
    "差一个字都会被拒绝。",
    "The purpose must match word for word: what an institution writes when it calls for data must "
    "be exactly the purpose the data bureau approved and the purpose you agree to here; any "
    "difference and the call is refused.",
)


@dataclass(frozen=True)
class ApprovedPurpose:
    """One purpose a consumer may use personal data for, as its grant words it."""

    credit_code: str
    consumer_name: str
    purpose: str
    products: tuple[str, ...]  # the products' Chinese names
    certificate_types: tuple[str, ...]  # what the person must authorise for them


class ApprovedPurposes(Protocol):
    """Where the platform learns which purposes a relying party was approved for."""

    def approved(self, db: Session) -> Sequence[ApprovedPurpose]: ...


def of(found: Sequence[ApprovedPurpose], credit_code: str) -> list[ApprovedPurpose]:
    return [p for p in found if p.credit_code == credit_code]


def check(found: Sequence[ApprovedPurpose], credit_code: str, purpose: str) -> None:
    """Refuses a purpose that is not word for word one the relying party was approved for (when
    it was approved for any)."""
    theirs = of(found, credit_code)
    if not theirs or normalise_purpose(purpose) in {p.purpose for p in theirs}:
        return
    listed = "；".join(f"“{p}”" for p in sorted({p.purpose for p in theirs}))
    raise Problem(
        "validation",
        detail="用途与该机构获批的用途不一致",
        errors=[
            FieldError(
                "purpose",
                f"须与{theirs[0].consumer_name}获批的用途一字不差，可选：{listed}",
            )
        ],
    )
