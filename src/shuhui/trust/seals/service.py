"""Electronic seals (电子印章), after GB/T 38540: department seals, signing, and verification.

A seal is an SM2 key pair with a validity window and an image. Its private key is kept as
PKCS#8 PEM under ``<data dir>/keys/seals/<code>.pem`` (owner-only), never in the database.

Signing a document yields a self-contained JSON *envelope*::

    {"format": "shuhui-seal-v1",
     "seal": {"code", "name", "department", "key_id", "public_key_pem", "valid_from", "valid_to"},
     "signer": "...", "signed_at": "2026-...Z", "document_sm3": "<hex>",
     "signature": "<base64 DER>"}

``signature`` is SM2 (ID ``1234567812345678``) over the RFC 8785 canonical JSON of the envelope
without its ``signature`` member, so changing any byte of any other field breaks it, and OpenSSL
3 can check it (``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678``).
Verification needs only the envelope and the document; with a database it also checks that the
seal is registered here, with this key, and was not revoked before the signing time.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.crypto import keystore
from shuhui.trust.crypto.canonical import JsonValue, canonical_json
from shuhui.trust.crypto.sm import SM2PrivateKey, SM2PublicKey, sm3_hex, verify
from shuhui.trust.ledger import service as ledger
from shuhui.trust.seals.models import Seal

FORMAT: Final = "shuhui-seal-v1"
SEAL_KEY_DIR: Final = Path("keys") / "seals"
CODE_PATTERN: Final = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,63}$")
SEAL_FIELDS: Final = (
    "code",
    "name",
    "department",
    "key_id",
    "public_key_pem",
    "valid_from",
    "valid_to",
)
ENVELOPE_FIELDS: Final = ("format", "seal", "signer", "signed_at", "document_sm3", "signature")

# Stable reasons: clients and tests match on them.
R_DOCUMENT: Final = "document does not match the sealed SM3 digest"
R_SIGNATURE: Final = "envelope signature does not verify"
R_WINDOW: Final = "signed outside the seal's validity window"
R_REVOKED: Final = "seal is revoked"
R_UNKNOWN: Final = "seal is not registered on this platform"
R_KEY: Final = "seal key does not match the registered seal"
R_DETAILS: Final = "seal details do not match the registered seal"
R_KEY_ID: Final = "seal key id does not match its public key"
MALFORMED: Final = "malformed envelope"

# The verdict as a person reads it: the API keeps the stable reasons above, a page shows these.
_SHOWN: Final[dict[str, str]] = {
    R_DOCUMENT: "文件与签章时的内容不一致，可能已被改动",
    R_SIGNATURE: "签章文件中的签名验证不通过，签章文件可能被改动或伪造",
    R_WINDOW: "签章时间不在印章的有效期内",
    R_REVOKED: "签章时印章已注销",
    R_UNKNOWN: "这枚印章没有在本平台登记",
    R_KEY: "签章用的密钥与登记的印章不符",
    R_DETAILS: "签章文件中的印章信息与登记的不符",
    R_KEY_ID: "签章文件中的密钥编号与公钥不符",
}


def verdict_text(reason: str) -> Text:
    """Why a seal did not verify, in plain Chinese with the stable English reason."""
    if reason.startswith(MALFORMED):
        return Text("签章文件无法读取，格式不正确", reason)
    return Text(_SHOWN.get(reason, "验证不通过"), reason)


# --- time and keys ----------------------------------------------------------------------------


def iso(value: datetime) -> str:
    """UTC, whole seconds, 'Z': one spelling per instant, so the signed bytes are stable."""
    return as_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("time without a zone")
    return as_utc(parsed)


def key_path(data_dir: Path, code: str) -> Path:
    if not CODE_PATTERN.match(code):
        raise ValueError(f"bad seal code {code!r}")
    return data_dir / SEAL_KEY_DIR / f"{code}.pem"


def _write_private_key(data_dir: Path, code: str, key: SM2PrivateKey) -> Path:
    # Refuses to overwrite: an existing seal's key is never replaced.
    return keystore.write(key_path(data_dir, code), key)


def seal_private_key(data_dir: Path, code: str) -> SM2PrivateKey:
    key = keystore.read(key_path(data_dir, code))
    if key is None:
        raise Problem("not-found", detail=f"印章 {code} 的私钥不在数据目录中 (private key missing)")
    return key


# --- the seal image ---------------------------------------------------------------------------


def seal_svg(name: str, code: str) -> str:
    """A round red seal: the name along the upper rim, a five-pointed star, the code below.

    Generic font families only: the image never fetches a font."""
    star = []
    for i in range(10):
        r = 34 if i % 2 == 0 else 13.5
        angle = math.radians(-90 + 36 * i)
        star.append(f"{100 + r * math.cos(angle):.2f},{100 + r * math.sin(angle):.2f}")
    size = 22 if len(name) <= 12 else max(11, 22 - (len(name) - 12))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="200" height="200"'
        ' role="img">'
        f"<title>{escape(name)}</title>"
        '<defs><path id="rim" d="M 30,112 A 72,72 0 1 1 170,112"/></defs>'
        '<g fill="#d0021b" stroke="none">'
        '<circle cx="100" cy="100" r="94" fill="none" stroke="#d0021b" stroke-width="6"/>'
        f'<polygon points="{" ".join(star)}"/>'
        f'<text font-family="serif" font-size="{size}" font-weight="bold" letter-spacing="2">'
        f'<textPath href="#rim" startOffset="50%" text-anchor="middle">{escape(name)}</textPath>'
        "</text>"
        f'<text x="100" y="165" font-family="monospace" font-size="10" text-anchor="middle">'
        f"{escape(code)}</text>"
        "</g></svg>"
    )


# --- seals ------------------------------------------------------------------------------------


def get_seal(db: Session, code: str) -> Seal | None:
    return db.scalar(select(Seal).where(Seal.code == code))


def list_seals(db: Session) -> list[Seal]:
    return list(db.scalars(select(Seal).order_by(Seal.code)))


def create_seal(
    db: Session,
    data_dir: Path,
    *,
    code: str,
    name: str,
    department: str,
    valid_from: datetime,
    valid_to: datetime,
    actor: str,
    adopt: SM2PrivateKey | None = None,
) -> Seal:
    """Registers a seal and issues its key; the ledger records who did it. ``adopt`` registers
    it with the key already in its file instead (see :func:`ensure_seal`)."""
    if not CODE_PATTERN.match(code):
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "code",
                    Text(
                        "3 到 64 个大写字母、数字或“-”", "3-64 upper-case letters, digits and '-'"
                    ),
                )
            ],
        )
    for field_name, value in (("name", name), ("department", department)):
        if not value.strip():
            raise Problem(
                "validation", errors=[FieldError(field_name, Text("不能为空", "must not be empty"))]
            )
    start, end = as_utc(valid_from).replace(microsecond=0), as_utc(valid_to).replace(microsecond=0)
    if end <= start:
        raise Problem(
            "validation",
            errors=[FieldError("valid_to", Text("必须晚于启用日期", "must be after valid_from"))],
        )
    if get_seal(db, code) is not None or (adopt is None and key_path(data_dir, code).exists()):
        raise Problem(
            "conflict",
            detail=f"印章编码 {code} 已存在",
            errors=[FieldError("code", Text("已有这个编号的印章", "a seal with this code exists"))],
        )
    key = adopt or SM2PrivateKey.generate()
    public = key.public_key
    seal = Seal(
        code=code,
        name=name.strip(),
        department=department.strip(),
        key_id=public.fingerprint(),
        public_key_pem=public.to_pem(),
        image_svg=seal_svg(name.strip(), code),
        valid_from=start,
        valid_to=end,
        created_at=utcnow(),
        created_by=actor,
    )
    db.add(seal)
    db.flush()
    ledger.record(
        db,
        actor,
        "seal.created",
        subject=code,
        purpose="key issued",
        detail={
            "name": seal.name,
            "department": seal.department,
            "key_id": seal.key_id,
            "valid_from": iso(start),
            "valid_to": iso(end),
            **({"key": "adopted from its file"} if adopt is not None else {}),
        },
    )
    # The key file is written last: if the database refuses the seal, no orphan key is left.
    # (Were the commit itself to fail, the next create of this code reports the leftover file,
    # and ensure_seal adopts it.)
    if adopt is None:
        _write_private_key(data_dir, code, key)
    return seal


def leftover_key(data_dir: Path, code: str) -> SM2PrivateKey | None:
    """The key file a first registration of ``code`` left when its transaction rolled back
    after the key was written (nothing sealed with it lasted), or None: what registering the
    seal again adopts rather than be refused for good."""
    return keystore.read(key_path(data_dir, code))


def ensure_seal(
    db: Session,
    data_dir: Path,
    *,
    code: str,
    name: str,
    department: str,
    actor: str,
    since: datetime | None = None,
) -> str:
    """A department's own seal for documents the platform issues (registration certificates,
    statements, e-licences), registered with a five-year window the first time one is needed:
    in force from now, or from ``since`` (the demo's history, whose documents were sealed in
    the past, registers its seals first).

    A key file without its seal is what a first use left when its transaction rolled back after
    the key was written (the request failed later): nothing sealed with it lasted, so the seal
    is registered with that key rather than refused for good."""
    if get_seal(db, code) is None:
        start, end = valid_window(5 * 365)
        create_seal(
            db,
            data_dir,
            code=code,
            name=name,
            department=department,
            valid_from=min(start, as_utc(since or start)) - timedelta(minutes=1),
            valid_to=end,
            actor=actor,
            adopt=leftover_key(data_dir, code),
        )
    return code


def revoke_seal(db: Session, code: str, *, actor: str, at: datetime | None = None) -> Seal:
    seal = get_seal(db, code)
    if seal is None:
        raise Problem("not-found", detail=f"印章 {code} 不存在")
    if seal.revoked_at is None:
        seal.revoked_at = as_utc(at or utcnow())
        ledger.record(db, actor, "seal.revoked", subject=code, detail={"key_id": seal.key_id})
    return seal


def seal_info(seal: Seal) -> dict[str, str]:
    return {
        "code": seal.code,
        "name": seal.name,
        "department": seal.department,
        "key_id": seal.key_id,
        "public_key_pem": seal.public_key_pem,
        "valid_from": iso(seal.valid_from),
        "valid_to": iso(seal.valid_to),
    }


# --- signing ----------------------------------------------------------------------------------


def signed_bytes(envelope: dict[str, Any]) -> bytes:
    """What the signature covers: the RFC 8785 form of the envelope without ``signature``."""
    body: dict[str, JsonValue] = {k: v for k, v in envelope.items() if k != "signature"}
    return canonical_json(body)


def _refuse(code: str, reason: str, zh: str) -> Problem:
    return Problem("conflict", detail=f"印章 {code} {zh}", errors=[FieldError("seal", reason)])


def sign_document(
    db: Session,
    data_dir: Path,
    seal_code: str,
    document: bytes,
    *,
    signer: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Seals ``document`` as ``signer``; refuses a revoked, expired or not-yet-valid seal."""
    seal = get_seal(db, seal_code)
    if seal is None:
        raise Problem("not-found", detail=f"印章 {seal_code} 不存在")
    exact = as_utc(at or utcnow())
    when = exact.replace(microsecond=0)
    # The exact time, not the envelope's whole second: a seal revoked earlier in the same
    # second must not seal anything more.
    if seal.revoked_at is not None and seal.revoked_at <= exact:
        raise _refuse(seal.code, R_REVOKED, "已注销，不能用印")
    if when < seal.valid_from:
        raise _refuse(seal.code, "seal is not yet valid", "尚未生效，不能用印")
    if when > seal.valid_to:
        raise _refuse(seal.code, "seal has expired", "已过期，不能用印")
    key = seal_private_key(data_dir, seal.code)
    if key.public_key.fingerprint() != seal.key_id:
        raise Problem(
            "internal",
            detail=Text(
                f"印章 {seal.code} 的密钥文件与印章不符",
                f"seal {seal.code}: key file does not match the seal",
            ),
        )
    envelope: dict[str, Any] = {
        "format": FORMAT,
        "seal": seal_info(seal),
        "signer": signer,
        "signed_at": iso(when),
        "document_sm3": sm3_hex(document),
    }
    envelope["signature"] = base64.b64encode(key.sign(signed_bytes(envelope))).decode("ascii")
    ledger.record(
        db,
        signer,
        "seal.used",
        subject=seal.code,
        purpose="document sealed",
        detail={"document_sm3": envelope["document_sm3"], "signed_at": envelope["signed_at"]},
    )
    return envelope


# --- verification -----------------------------------------------------------------------------


class MalformedEnvelope(ValueError):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    message: bytes  # the bytes the signature covers
    seal: dict[str, str]
    public_key: SM2PublicKey
    signer: str
    signed_at: datetime
    valid_from: datetime
    valid_to: datetime
    document_sm3: str
    signature: bytes


def _string(obj: dict[str, Any], name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedEnvelope(where + name, "missing or not a non-empty string")
    return value


def _time(value: str, where: str) -> datetime:
    try:
        return parse_iso(value)
    except ValueError:
        raise MalformedEnvelope(where, "not an ISO 8601 time with a zone") from None


def parse_envelope(envelope: dict[str, Any] | bytes | str) -> Envelope:
    """Checks the envelope's shape; raises :class:`MalformedEnvelope` naming the bad field."""
    if isinstance(envelope, bytes):
        try:
            # Strict UTF-8: json.loads(bytes) would let lone surrogates through.
            envelope = envelope.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedEnvelope("envelope", "not UTF-8 text") from None
    if isinstance(envelope, str):
        try:
            envelope = json.loads(envelope)
        except ValueError:
            raise MalformedEnvelope("envelope", "not JSON") from None
    if not isinstance(envelope, dict):
        raise MalformedEnvelope("envelope", "not a JSON object")
    extra = sorted(set(envelope) - set(ENVELOPE_FIELDS))
    if extra:
        raise MalformedEnvelope(extra[0], "unexpected field")
    if envelope.get("format") != FORMAT:
        raise MalformedEnvelope("format", f"must be {FORMAT!r}")
    seal = envelope.get("seal")
    if not isinstance(seal, dict):
        raise MalformedEnvelope("seal", "missing or not an object")
    extra = sorted(set(seal) - set(SEAL_FIELDS))
    if extra:
        raise MalformedEnvelope(f"seal.{extra[0]}", "unexpected field")
    info = {name: _string(seal, name, "seal.") for name in SEAL_FIELDS}
    try:
        public = SM2PublicKey.from_pem(info["public_key_pem"])
    except ValueError:
        raise MalformedEnvelope("seal.public_key_pem", "not an SM2 public key") from None
    digest = _string(envelope, "document_sm3", "")
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise MalformedEnvelope("document_sm3", "not 64 lower-case hex digits")
    encoded = _string(envelope, "signature", "")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise MalformedEnvelope("signature", "not base64") from None
    # The signature is the one field the signature cannot cover; base64 ignores a final
    # character's spare bits, so only the canonical spelling is accepted: one value, one text.
    if base64.b64encode(signature).decode("ascii") != encoded:
        raise MalformedEnvelope("signature", "not canonical base64")
    try:
        message = signed_bytes(envelope)
    except ValueError as exc:  # e.g. a lone surrogate escape: no RFC 8785 form exists
        raise MalformedEnvelope("envelope", f"not canonicalisable: {exc}") from None
    return Envelope(
        message=message,
        seal=info,
        public_key=public,
        signer=_string(envelope, "signer", ""),
        signed_at=_time(_string(envelope, "signed_at", ""), "signed_at"),
        valid_from=_time(info["valid_from"], "seal.valid_from"),
        valid_to=_time(info["valid_to"], "seal.valid_to"),
        document_sm3=digest,
        signature=signature,
    )


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str | None = None
    seal: dict[str, str] | None = None
    signer: str | None = None
    signed_at: str | None = None
    # Set only when the envelope could not be read at all: (field, reason).
    malformed: tuple[str, str] | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reason": self.reason,
            "seal": self.seal,
            "signer": self.signer,
            "signed_at": self.signed_at,
        }


def verify_envelope(
    envelope: dict[str, Any] | bytes | str, document: bytes, *, db: Session | None = None
) -> Verdict:
    """Whether ``envelope`` seals ``document``, and if not, why (first failure wins)."""
    try:
        env = parse_envelope(envelope)
    except MalformedEnvelope as exc:
        return Verdict(False, f"{MALFORMED}: {exc}", malformed=(exc.field, exc.reason))
    fail = _first_failure(env, document, db)
    return Verdict(
        fail is None,
        fail,
        seal={k: v for k, v in env.seal.items() if k != "public_key_pem"},
        signer=env.signer,
        signed_at=iso(env.signed_at),
    )


def _first_failure(env: Envelope, document: bytes, db: Session | None) -> str | None:
    # The signature first: a changed digest, time or name is a forged envelope, not a changed
    # document, and the reason should say so.
    if env.public_key.fingerprint() != env.seal["key_id"]:
        return R_KEY_ID
    if not verify(env.public_key, env.message, env.signature):
        return R_SIGNATURE
    if sm3_hex(document) != env.document_sm3:
        return R_DOCUMENT
    if not env.valid_from <= env.signed_at <= env.valid_to:
        return R_WINDOW
    if db is None:
        return None
    seal = get_seal(db, env.seal["code"])
    if seal is None:
        return R_UNKNOWN
    if seal.key_id != env.seal["key_id"]:
        return R_KEY
    if seal_info(seal) != env.seal:
        return R_DETAILS
    if seal.revoked_at is not None and seal.revoked_at <= env.signed_at:
        return R_REVOKED
    return None


def refuse_malformed(verdict: Verdict) -> None:
    """For the API: a malformed envelope is bad input (422 naming the field), not a verdict."""
    if verdict.malformed is not None:
        name, reason = verdict.malformed
        where = name if name == "envelope" else f"envelope.{name}"
        raise Problem("validation", detail=verdict.reason, errors=[FieldError(where, reason)])


def valid_window(days: int, start: datetime | None = None) -> tuple[datetime, datetime]:
    begin = as_utc(start or utcnow()).replace(microsecond=0)
    return begin, begin + timedelta(days=days)
