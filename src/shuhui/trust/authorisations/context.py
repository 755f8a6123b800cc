"""What the authorisations routes and pages share: the city content they read, the business
register, the parties a logged-in account can act as, and drafting and signing from a validated
request."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Final

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.content import Items, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.authorisations import purposes
from shuhui.trust.authorisations import service as authz
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.schemas import (
    CertUseIn,
    MandateIn,
    SignIn,
)
from shuhui.trust.authorisations.service import Party
from shuhui.trust.identity import service as identity
from shuhui.trust.identity.deps import require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger

Officer = Annotated[User, Depends(require_role(Role.officer))]


# The content this module reads: (file under content/<city>/, kind).
CONTENT: Final = (
    ("service-items.yaml", "service-items"),
    ("certificate-types.yaml", "certificate-types"),
)


def check_content(city_content: Path) -> None:
    """Loads (and so checks) the content at startup: a broken file stops the server, with the
    file, item and field named, instead of failing the first person who opens a form."""
    for name, kind in CONTENT:
        load_items(city_content / name, kind)


def service_items(request: Request) -> Items:
    return load_items(request.app.state.settings.city_content / CONTENT[0][0], CONTENT[0][1])


def certificate_types(request: Request) -> Items:
    return load_items(request.app.state.settings.city_content / CONTENT[1][0], CONTENT[1][1])


def registry(request: Request) -> authz.EnterpriseRegistry:
    found: authz.EnterpriseRegistry = request.app.state.enterprise_registry
    return found


def approved_purposes(request: Request, db: Session) -> list[purposes.ApprovedPurpose]:
    """The data channel's approved purposes (none when the app binds no channel)."""
    found: purposes.ApprovedPurposes | None = getattr(request.app.state, "approved_purposes", None)
    return [] if found is None else list(found.approved(db))


def data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


def identities(user: User) -> list[Party]:
    """The parties a logged-in account can act as: the person, and the organisation it is for."""
    out: list[Party] = []
    if user.citizen_id:
        out.append(Party("person", user.citizen_id, user.display_name))
    if user.credit_code:
        out.append(Party("enterprise", user.credit_code, user.department or user.display_name))
    return out


def identity_ids(user: User) -> list[str]:
    return [p.id for p in identities(user)]


def acting_as(user: User, kind: str, where: str) -> Party:
    for party in identities(user):
        if party.kind == kind:
            return party
    reason = (
        "your account has no citizen ID" if kind == "person" else "your account has no credit code"
    )
    raise Problem(
        "forbidden", detail="当前账户不能以该身份授权或办理", errors=[FieldError(where, reason)]
    )


def signatory_of(user: User) -> str:
    if not user.citizen_id:
        raise Problem(
            "forbidden",
            detail="签署授权须由实名自然人（本人或法定代表人）完成",
            errors=[
                FieldError(
                    "signatory", Text("这个账户没有登记身份证号", "the account has no citizen ID")
                )
            ],
        )
    return user.citizen_id


def may_see(user: User, a: Authorisation) -> None:
    if not authz.is_party(a, identity_ids(user)):
        raise Problem("forbidden", detail="只有授权相关方可以查看此授权")


def create_mandate(request: Request, db: Session, user: User, body: MandateIn) -> Authorisation:
    now = utcnow()
    return authz.create_mandate(
        db,
        service_items(request),
        registry(request),
        grantor=acting_as(user, body.grantor, "grantor"),
        signatory_id=signatory_of(user),
        agent=body.agent.party("agent"),
        scope=body.scope,
        actions=body.actions,
        valid_from=body.valid_from or now,
        valid_to=body.valid_to,
        max_uses=body.max_uses,
        subdelegation=body.subdelegation,
        parent_code=body.parent,
        actor=user.username,
        now=now,
    )


def create_cert_use(request: Request, db: Session, user: User, body: CertUseIn) -> Authorisation:
    now = utcnow()
    if body.relying_party.kind == "enterprise":
        purposes.check(approved_purposes(request, db), body.relying_party.id.upper(), body.purpose)
    return authz.create_cert_use(
        db,
        certificate_types(request),
        registry(request),
        holder=acting_as(user, body.holder, "holder"),
        signatory_id=signatory_of(user),
        relying_party=body.relying_party.party("relying_party"),
        certificate_types_wanted=body.certificate_types,
        certificate_no=body.certificate_no,
        purpose=body.purpose,
        valid_from=body.valid_from or now,
        valid_to=body.valid_to,
        max_uses=body.max_uses,
        actor=user.username,
        now=now,
    )


class RecordedRefusal(Problem):
    """A refusal already written to the ledger: the route answers it (so the request's commit
    keeps the entry) instead of raising it."""


# Why an account whose password someone else chose may not sign (the page and API say it).
OWN_PASSWORD_FIRST = Text(
    "请先自行设置密码，再签署授权：当前密码是管理员设置的，为防止他人冒用您的身份签署，"
    "在您本人修改密码之前不能签署（修改密码：/account/password）",
    "Set your own password first: the current one was set by an administrator, so nobody "
    "but you can sign in your name only after you change it (/account/password)",
)


def own_password_first(db: Session, user: User, kind: str | None, subject: str, code: str) -> None:
    """Refuses, and records, a signature of an authorisation of ``kind`` (or, with None, a key
    registration) by an account whose password someone else set: that someone knows it
    (``trust.identity``: ``password_by_holder``)."""
    if user.password_by_holder:
        return
    ledger.record(
        db,
        user.username,
        f"{kind}.sign_refused" if kind else "key.refused",
        subject=subject,
        grant=code or None,
        detail={"reason": "password set by someone other than the holder"},
    )
    raise RecordedRefusal(
        "forbidden", detail=OWN_PASSWORD_FIRST, errors=[FieldError("password", OWN_PASSWORD_FIRST)]
    )


def signature_or_password(
    user: User, password: str | None, signature_base64: str | None
) -> bytes | None:
    """What signing asks of the person, not just their session: exactly one of their password
    again (then the platform-held key signs; None is returned) or a signature made with their own
    key (decoded and returned). Anything else is a problem naming the field."""
    if (password is None) == (signature_base64 is None):
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "password",
                    Text(
                        "请输入密码，或用您的密钥签名",
                        "give your password, or a signature made with your key",
                    ),
                )
            ],
        )
    if password is not None:
        if not identity.verify_password(user.password_hash, password):
            raise Problem(
                "invalid-credentials",
                errors=[FieldError("password", Text("密码不对", "wrong password"))],
            )
        return None
    try:
        return base64.b64decode(signature_base64 or "", validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII string
        raise Problem(
            "validation",
            errors=[FieldError("signature_base64", Text("不是有效的 Base64 编码", "not base64"))],
        ) from None


def sign(request: Request, db: Session, user: User, code: str, body: SignIn) -> Authorisation:
    signer = signatory_of(user)
    a = authz.get_or_404(db, code)
    if a.signatory_id == signer:  # anyone else is refused by the service, as not the signatory
        own_password_first(db, user, a.kind, a.principal_id, a.code)
    signature = signature_or_password(user, body.password, body.signature_base64)
    return authz.sign(
        db,
        data_dir(request),
        code,
        signer_citizen_id=signer,
        signature=signature,
        actor=user.username,
    )
