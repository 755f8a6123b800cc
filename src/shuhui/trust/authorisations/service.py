"""Signed authorisations: mandates (委托授权) and certificate-use authorisations (用证授权).

A *mandate* lets an agent handle named service items (事项) for a principal — a person, or an
enterprise through its legal representative — with listed actions, inside a validity window,
optionally a limited number of times. A mandate that allows it can be sub-delegated, and a
sub-delegation can only narrow: fewer matters, fewer actions, a shorter window, fewer uses.

A *certificate-use authorisation* lets a relying party (a bank, a hospital, a department) use
the holder's e-certificates of named types — or one certificate — for one stated purpose, once or
several times, inside a window.

Both are one mechanism: a row whose ``document`` is the RFC 8785 JSON the signatory signed with
SM2 (ID ``1234567812345678``, so ``openssl pkeyutl -verify -rawin -digest sm3`` checks it), a
state machine pending → active → revoked / expired / exhausted, and the audit ledger: every
state change, every use and every refusal is an entry whose ``grant`` is the authorisation's
code and whose ``subject`` is the principal, so the principal sees each of them.

Decisions re-verify the signature and the signed bytes of every link of the chain: a row edited
behind the platform's back allows nothing.

This module is the package's public face — what its routes and pages and other domains call;
the code lives by what it does in ``terms``, ``keys``, ``drafting``, ``signing``,
``decisions``, ``uses`` and ``reading``.
"""

from __future__ import annotations

from shuhui.trust.authorisations.decisions import (
    Decision,
    Verification,
    decide_cert_use,
    decide_mandate,
    verify_code,
)
from shuhui.trust.authorisations.drafting import (
    EnterpriseRegistry,
    check_signatory,
    create_cert_use,
    create_mandate,
)
from shuhui.trust.authorisations.keys import active_key, issue_platform_key, register_holder_key
from shuhui.trust.authorisations.purposes import RULE as PURPOSE_RULE
from shuhui.trust.authorisations.reading import (
    entries_about,
    envelope,
    events,
    involving,
    is_party,
)
from shuhui.trust.authorisations.signing import revoke, settle, sign, signature_problem
from shuhui.trust.authorisations.terms import (
    ENDED,
    FORMAT,
    KIND_TITLES,
    MANDATE_ACTIONS,
    MAX_USES,
    R_ACTION,
    R_CERT,
    R_EXHAUSTED,
    R_EXPIRED,
    R_NONE,
    R_NOT_YET,
    R_PENDING,
    R_PURPOSE,
    R_REVOKED,
    R_SCOPE,
    R_SIGNATURE,
    R_TAMPERED,
    STATUS_TITLES,
    Kind,
    Link,
    LinkRow,
    Party,
    actions_of,
    chain_of,
    children_of,
    effective_status,
    get,
    get_or_404,
    iso,
    normalise_purpose,
    parse_party,
    scope_of,
)
from shuhui.trust.authorisations.uses import record_check, record_use

__all__ = [
    "ENDED",
    "FORMAT",
    "KIND_TITLES",
    "MANDATE_ACTIONS",
    "MAX_USES",
    "PURPOSE_RULE",
    "R_ACTION",
    "R_CERT",
    "R_EXHAUSTED",
    "R_EXPIRED",
    "R_NONE",
    "R_NOT_YET",
    "R_PENDING",
    "R_PURPOSE",
    "R_REVOKED",
    "R_SCOPE",
    "R_SIGNATURE",
    "R_TAMPERED",
    "STATUS_TITLES",
    "Decision",
    "EnterpriseRegistry",
    "Kind",
    "Link",
    "LinkRow",
    "Party",
    "Verification",
    "actions_of",
    "active_key",
    "chain_of",
    "check_signatory",
    "children_of",
    "create_cert_use",
    "create_mandate",
    "decide_cert_use",
    "decide_mandate",
    "effective_status",
    "entries_about",
    "envelope",
    "events",
    "get",
    "get_or_404",
    "involving",
    "is_party",
    "iso",
    "issue_platform_key",
    "normalise_purpose",
    "parse_party",
    "record_check",
    "record_use",
    "register_holder_key",
    "revoke",
    "scope_of",
    "settle",
    "sign",
    "signature_problem",
    "verify_code",
]
