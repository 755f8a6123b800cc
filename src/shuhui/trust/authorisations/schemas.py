"""What goes in and out of the authorisations API; the pages validate their forms through the same
models, so a form and a JSON body are held to the same rules."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shuhui.core.bounds import Moment
from shuhui.core.clock import utcnow
from shuhui.trust.authorisations.terms import MAX_USES, PAST_START, Party, parse_party


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["person", "enterprise"]
    id: str = Field(min_length=18, max_length=18, examples=["11010519491231002X"])
    name: str = Field(min_length=1, max_length=128)

    def party(self, where: str) -> Party:
        return parse_party(self.kind, self.id, self.name, where)


class WindowIn(BaseModel):
    """The validity window of a new authorisation."""

    valid_from: Moment | None = Field(
        default=None, description="from now if absent; a start within the last day means now"
    )
    valid_to: Moment

    @field_validator("valid_from")
    @classmethod
    def _not_before_it_exists(cls, value: datetime | None) -> datetime | None:
        # "From today" means from now: an authorisation does not reach back before it exists.
        # Further back than that is a mistake, which the service refuses ("cannot be in the past").
        if value is None:
            return None
        now = utcnow()
        return now if now - PAST_START <= value < now else value


class MandateIn(WindowIn):
    model_config = ConfigDict(extra="forbid")

    grantor: Literal["person", "enterprise"] = Field(
        default="person", description="grant as yourself, or for your enterprise (legal rep)"
    )
    agent: PartyIn
    scope: list[str] = Field(min_length=1, max_length=50, description="service-item codes")
    actions: list[str] = Field(min_length=1, max_length=10, examples=[["apply", "query"]])
    max_uses: int | None = Field(default=None, ge=1, le=MAX_USES)
    subdelegation: bool = False
    parent: str | None = Field(default=None, max_length=32, description="sub-delegate from")


class CertUseIn(WindowIn):
    model_config = ConfigDict(extra="forbid")

    holder: Literal["person", "enterprise"] = "person"
    relying_party: PartyIn
    certificate_types: list[str] = Field(min_length=1, max_length=20)
    certificate_no: str | None = Field(default=None, max_length=64)
    purpose: str = Field(min_length=1, max_length=256)
    max_uses: int | None = Field(default=None, ge=1, le=MAX_USES, description="1 = single use")


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(
        default=None, max_length=256, description="to sign with your platform key (云签名)"
    )
    signature_base64: str | None = Field(
        default=None,
        max_length=512,
        description="DER SM2 signature over the document, made with your registered key",
    )


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=256)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key_pem: str = Field(min_length=1, max_length=4096)


class MandateUseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    principal_id: str = Field(min_length=18, max_length=18)
    matter: str = Field(min_length=1, max_length=64, description="service-item code")
    action: str = Field(min_length=1, max_length=32)
    agent: Literal["person", "enterprise"] = Field(
        default="person", description="act as yourself, or as your organisation"
    )


class CertUseUseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder_id: str = Field(min_length=18, max_length=18)
    certificate_type: str = Field(min_length=1, max_length=64)
    certificate_no: str | None = Field(default=None, max_length=64)
    purpose: str = Field(min_length=1, max_length=256)


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: PartyIn
    principal_id: str = Field(min_length=18, max_length=18)
    matter: str = Field(min_length=1, max_length=64)
    action: str = Field(min_length=1, max_length=32)


class VerifyCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32)
    purpose: str = Field(default="officer verification", min_length=1, max_length=256)


class AuthorisationOut(BaseModel):
    code: str
    kind: str
    status: str
    principal: dict[str, str]
    grantor: dict[str, str]
    signatory: str
    grantee: dict[str, str]
    scope: list[str]
    actions: list[str]
    certificate_no: str | None
    purpose: str | None
    valid_from: str
    valid_to: str
    max_uses: int | None
    uses: int
    subdelegation: bool
    parent: str | None
    created_at: str
    signed_at: str | None
    key_id: str | None
    ended_at: str | None
    end_reason: str | None
    document_base64: str


class DecisionOut(BaseModel):
    allowed: bool
    reason: str | None
    reason_zh: str | None
    chain: list[str]
    at_fault: str | None


class EventOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    subject: str | None
    purpose: str | None
    grant: str | None


class VerificationOut(BaseModel):
    authorisation: AuthorisationOut
    status: str
    signature_valid: bool
    problem: str | None
    chain: list[str]
    chain_problem: str | None
