"""SM3 hashing and SM2 signatures (GB/T 32905-2016, GB/T 32918-2016/2017).

The elliptic-curve arithmetic comes from gmalglib (C); everything a signature's meaning depends on
stays here, where it can be read and tested: the Z_A/e construction, the DER signature encoding,
and the PEM/ASN.1 key formats OpenSSL 3 reads and writes. The ASN.1 codec is deliberately tiny
and strict (DER only): a signature or key has exactly one accepted encoding, so a byte changed
anywhere in it is a different, rejected object rather than a silently equivalent one.

Signatures interoperate with OpenSSL 3 provided the ID is passed on both sides. OpenSSL 3.0 signs
and verifies with an *empty* ID when no ``-pkeyopt distid:`` is given, not with the GB/T 32918
default ``1234567812345678``; hence ``DEFAULT_ID`` here and ``distid:1234567812345678`` there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, cast

__all__ = [
    "DEFAULT_ID",
    "SM3_BACKEND",
    "SM2PrivateKey",
    "SM2PublicKey",
    "sm3",
    "sm3_hex",
    "verify",
]

DEFAULT_ID: Final = b"1234567812345678"

# GB/T 32918.5 recommended curve (sm2p256v1).
SM2_P: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
SM2_A: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
SM2_B: Final = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
SM2_GX: Final = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
SM2_GY: Final = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
SM2_N: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123

# ENTL is a 16-bit count of *bits*, so an ID longer than this cannot be represented.
ID_MAX_BYTES: Final = 0xFFFF // 8

_CURVE_ABG: Final = b"".join(v.to_bytes(32, "big") for v in (SM2_A, SM2_B, SM2_GX, SM2_GY))


# --- gmalglib adapter -------------------------------------------------------------------------
# gmalglib ships .pyi files but no py.typed marker, so mypy would treat a plain import as
# untyped. Importing it through importlib and declaring the few calls we use as Protocols keeps
# every untyped value inside this section, with no per-line ignores and no mypy configuration.


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _GmSM2(Protocol):
    def sign_digest(self, digest: bytes, /) -> bytes: ...

    def verify_digest(self, digest: bytes, signature: bytes, /) -> bool: ...


_gm_sm2 = importlib.import_module("gmalglib.sm2")
_gm_sm3 = importlib.import_module("gmalglib.sm3")


def _gm_sm3_new() -> _Hasher:
    return cast(_Hasher, _gm_sm3.SM3())


def _gm_public_point(d: int) -> bytes:
    return cast(bytes, _gm_sm2.SM2.get_pk(d.to_bytes(32, "big")))


def _gm_is_point_valid(point: bytes) -> bool:
    return bool(_gm_sm2.SM2.is_pk_valid(point))


def _gm_decompress(point: bytes) -> bytes:
    return cast(bytes, _gm_sm2.SM2.convert_pk(point))


def _gm_signer(d: int, nonce: int | None = None) -> _GmSM2:
    if nonce is None:
        return cast(_GmSM2, _gm_sm2.SM2(sk=d.to_bytes(32, "big")))
    # gmalglib reads its random bytes as a little-endian integer; a fixed nonce exists only so
    # the known-answer test can reproduce the standard's signature from its k.
    k = nonce.to_bytes(32, "little")
    return cast(_GmSM2, _gm_sm2.SM2(sk=d.to_bytes(32, "big"), rnd_fn=lambda _n: k))


def _gm_verifier(point: bytes) -> _GmSM2:
    return cast(_GmSM2, _gm_sm2.SM2(pk=point))


# --- SM3 --------------------------------------------------------------------------------------
# OpenSSL's SM3 (through hashlib) measured ~1.8x gmalglib's on bulk data and ~1.2x on 200-byte
# messages, the latter only when a prototype is copied rather than looked up by name on every
# call (bench/bench_sm2.py). Some OpenSSL builds leave SM3 out; gmalglib covers those.
def _openssl_sm3() -> Callable[[], _Hasher] | None:
    try:
        proto = hashlib.new("sm3")
    except ValueError:
        return None
    return proto.copy


_openssl_sm3_new = _openssl_sm3()
_sm3_new: Callable[[], _Hasher] = _openssl_sm3_new or _gm_sm3_new
SM3_BACKEND: Final = "openssl" if _openssl_sm3_new else "gmalglib"


def sm3(data: bytes) -> bytes:
    """SM3 digest (GB/T 32905), 32 bytes."""
    h = _sm3_new()
    h.update(data)
    return h.digest()


def sm3_hex(data: bytes) -> str:
    return sm3(data).hex()


# --- minimal DER ------------------------------------------------------------------------------

_INTEGER: Final = 0x02
_BIT_STRING: Final = 0x03
_OCTET_STRING: Final = 0x04
_OID: Final = 0x06
_SEQUENCE: Final = 0x30
_CTX0: Final = 0xA0
_CTX1: Final = 0xA1


class DERError(ValueError):
    """Input is not the single DER encoding this module accepts."""


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(value)) + value


def der_uint(v: int) -> bytes:
    if v < 0:
        raise ValueError("only non-negative INTEGERs are encoded here")
    # One extra byte when the top bit is set keeps the two's-complement value positive.
    return der_tlv(_INTEGER, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"bad OID {dotted!r}")
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return der_tlv(_OID, bytes(body))


def der_read(buf: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """One TLV at ``pos``: (tag, value, position after it). Rejects every non-DER length form."""
    if pos + 2 > len(buf):
        raise DERError("truncated")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise DERError("multi-byte tags are not used by these structures")
    first = buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise DERError("indefinite or oversized length")
        if pos + count > len(buf):
            raise DERError("truncated length")
        raw = buf[pos : pos + count]
        length = int.from_bytes(raw, "big")
        if raw[0] == 0 or length < 0x80:
            raise DERError("non-minimal length")
        pos += count
    end = pos + length
    if end > len(buf):
        raise DERError("truncated value")
    return tag, buf[pos:end], end


def der_items(value: bytes) -> list[tuple[int, bytes]]:
    """The TLVs that exactly fill ``value`` (a constructed type's contents)."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(value):
        tag, inner, pos = der_read(value, pos)
        out.append((tag, inner))
    return out


def der_single(buf: bytes, tag: int) -> bytes:
    got, value, end = der_read(buf)
    if got != tag:
        raise DERError(f"expected tag 0x{tag:02x}, got 0x{got:02x}")
    if end != len(buf):
        raise DERError("trailing data")
    return value


def der_parse_uint(value: bytes) -> int:
    if not value:
        raise DERError("empty INTEGER")
    if value[0] & 0x80:
        raise DERError("negative INTEGER")
    if len(value) > 1 and value[0] == 0 and not value[1] & 0x80:
        raise DERError("non-minimal INTEGER")
    return int.from_bytes(value, "big")


def _expect(items: list[tuple[int, bytes]], index: int, tag: int) -> bytes:
    if index >= len(items) or items[index][0] != tag:
        raise DERError(f"expected tag 0x{tag:02x} at element {index}")
    return items[index][1]


def encode_signature(r: int, s: int) -> bytes:
    return der_tlv(_SEQUENCE, der_uint(r) + der_uint(s))


def decode_signature(der: bytes) -> tuple[int, int]:
    items = der_items(der_single(der, _SEQUENCE))
    if len(items) != 2:
        raise DERError("a signature is a SEQUENCE of exactly two INTEGERs")
    return der_parse_uint(_expect(items, 0, _INTEGER)), der_parse_uint(_expect(items, 1, _INTEGER))


_OID_EC_PUBLIC_KEY: Final = der_oid("1.2.840.10045.2.1")
_OID_SM2: Final = der_oid("1.2.156.10197.1.301")
_SM2_ALGORITHM: Final = der_tlv(_SEQUENCE, _OID_EC_PUBLIC_KEY + _OID_SM2)


# --- PEM --------------------------------------------------------------------------------------


def pem_encode(label: str, der: bytes) -> str:
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


def pem_blocks(text: str) -> list[tuple[str, bytes]]:
    """Every PEM block in ``text`` as (label, DER); text around the blocks is ignored."""
    blocks: list[tuple[str, bytes]] = []
    label: str | None = None
    body: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if label is None:
            if line.startswith("-----BEGIN ") and line.endswith("-----"):
                label = line[len("-----BEGIN ") : -5]
                body = []
            continue
        if line == f"-----END {label}-----":
            try:
                der = base64.b64decode("".join(body), validate=True)
            except binascii.Error as exc:
                raise ValueError(f"PEM block {label!r} is not valid base64") from exc
            blocks.append((label, der))
            label = None
        elif ":" in line:
            # RFC 1421 headers only appear on legacy encrypted keys, which are not supported.
            raise ValueError(f"PEM block {label!r} has headers (encrypted?); decrypt it first")
        else:
            body.append(line)
    if label is not None:
        raise ValueError(f"PEM block {label!r} has no END line")
    return blocks


# --- SM2 --------------------------------------------------------------------------------------


def _check_id(id: bytes) -> None:
    if len(id) > ID_MAX_BYTES:
        raise ValueError(f"SM2 ID longer than {ID_MAX_BYTES} bytes")


def z_a(point: bytes, id: bytes = DEFAULT_ID) -> bytes:
    """Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), GB/T 32918.2 section 5.5."""
    _check_id(id)
    return sm3((len(id) * 8).to_bytes(2, "big") + id + _CURVE_ABG + point[1:])


def _message_digest(point: bytes, id: bytes, message: bytes) -> bytes:
    h = _sm3_new()
    h.update(z_a(point, id))
    h.update(message)
    return h.digest()


def _point_from_encoded(data: bytes) -> bytes:
    if len(data) == 33 and data[0] in (2, 3):
        try:
            data = _gm_decompress(data)
        except ValueError as exc:
            raise ValueError("not a point on the SM2 curve") from exc
    if len(data) != 65 or data[0] != 4:
        raise ValueError("an SM2 public key is 04||x||y (65 bytes) or a 33-byte compressed point")
    return data


@dataclass(frozen=True, repr=False)
class SM2PublicKey:
    """A point on the SM2 curve, kept in uncompressed form 04||x||y."""

    point: bytes

    def __repr__(self) -> str:
        return f"SM2PublicKey.from_bytes(bytes.fromhex({self.point.hex()!r}))"

    def __post_init__(self) -> None:
        if not isinstance(self.point, bytes) or len(self.point) != 65 or self.point[0] != 4:
            raise ValueError("point must be 65 bytes 04||x||y")
        if not _gm_is_point_valid(self.point):
            raise ValueError("not a point on the SM2 curve")

    @property
    def x(self) -> int:
        return int.from_bytes(self.point[1:33], "big")

    @property
    def y(self) -> int:
        return int.from_bytes(self.point[33:], "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> SM2PublicKey:
        """Accepts the uncompressed point, or a compressed one (02/03||x)."""
        return cls(_point_from_encoded(data))

    def to_bytes(self) -> bytes:
        return self.point

    def to_der(self) -> bytes:
        """SubjectPublicKeyInfo with id-ecPublicKey and the SM2 curve, as OpenSSL 3 writes it."""
        return der_tlv(_SEQUENCE, _SM2_ALGORITHM + der_tlv(_BIT_STRING, b"\x00" + self.point))

    @classmethod
    def from_der(cls, der: bytes) -> SM2PublicKey:
        items = der_items(der_single(der, _SEQUENCE))
        if len(items) != 2:
            raise DERError("SubjectPublicKeyInfo has two elements")
        if der_tlv(_SEQUENCE, _expect(items, 0, _SEQUENCE)) != _SM2_ALGORITHM:
            raise ValueError("not an SM2 public key (want id-ecPublicKey with curve SM2)")
        bits = _expect(items, 1, _BIT_STRING)
        if not bits or bits[0] != 0:
            raise DERError("public key BIT STRING must have no unused bits")
        return cls.from_bytes(bits[1:])

    def to_pem(self) -> str:
        return pem_encode("PUBLIC KEY", self.to_der())

    @classmethod
    def from_pem(cls, text: str) -> SM2PublicKey:
        for label, der in pem_blocks(text):
            if label == "PUBLIC KEY":
                return cls.from_der(der)
        raise ValueError("no 'PUBLIC KEY' PEM block found")

    def fingerprint(self) -> str:
        """SM3 of the uncompressed point, 64 hex chars."""
        return sm3_hex(self.point)

    @property
    def short_id(self) -> str:
        """First 16 hex chars of the fingerprint: for display, never for authentication."""
        return self.fingerprint()[:16]


def _parse_ec_private_key(der: bytes, *, params_required: bool) -> tuple[int, bytes | None]:
    """RFC 5915 ECPrivateKey -> (d, embedded public point or None)."""
    items = der_items(der_single(der, _SEQUENCE))
    if der_parse_uint(_expect(items, 0, _INTEGER)) != 1:
        raise ValueError("unsupported ECPrivateKey version")
    secret = _expect(items, 1, _OCTET_STRING)
    # RFC 5915 fixes the length at 32 bytes; some encoders strip leading zeros, so accept shorter.
    if not 0 < len(secret) <= 32:
        raise ValueError("SM2 private key must be at most 32 bytes")
    d = int.from_bytes(secret, "big")
    point: bytes | None = None
    seen_params = False
    optional = items[2:]
    if [t for t, _ in optional] not in ([], [_CTX0], [_CTX1], [_CTX0, _CTX1]):
        raise DERError("ECPrivateKey may end with [0] parameters then [1] public key, once each")
    for tag, value in optional:
        if tag == _CTX0:
            if value != _OID_SM2:
                raise ValueError("private key is not on the SM2 curve")
            seen_params = True
        elif tag == _CTX1:
            bits = der_single(value, _BIT_STRING)
            if not bits or bits[0] != 0:
                raise DERError("public key BIT STRING must have no unused bits")
            point = _point_from_encoded(bits[1:])
    if params_required and not seen_params:
        raise ValueError("EC private key without curve parameters")
    return d, point


@dataclass(frozen=True)
class SM2PrivateKey:
    """An SM2 private key d in [1, n-2]; ``repr`` never shows it."""

    d: int = field(repr=False)
    public_key: SM2PublicKey = field(init=False, compare=False)
    # Building gmalglib's signer precomputes (1+d)^-1 and dG, several times the cost of one
    # signature, so it is made once per key. Sharing it across threads is safe: gmalglib keeps
    # the GIL for the whole call and the object holds no per-signature state.
    _signer: _GmSM2 = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.d, bool) or not isinstance(self.d, int) or not 1 <= self.d <= SM2_N - 2:
            # d = n-1 is excluded by GB/T 32918.1: signing divides by 1+d.
            raise ValueError("SM2 private key must be an integer in [1, n-2]")
        object.__setattr__(self, "public_key", SM2PublicKey(_gm_public_point(self.d)))
        object.__setattr__(self, "_signer", _gm_signer(self.d))

    def __reduce__(self) -> tuple[type[SM2PrivateKey], tuple[int]]:
        # The cached signer is a C object; rebuild it instead of trying to pickle it.
        return (SM2PrivateKey, (self.d,))

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        return cls(secrets.randbelow(SM2_N - 2) + 1)

    def to_der(self) -> bytes:
        """PKCS#8 PrivateKeyInfo wrapping an RFC 5915 ECPrivateKey, byte-identical to OpenSSL 3."""
        ec_private_key = der_tlv(
            _SEQUENCE,
            der_uint(1)
            + der_tlv(_OCTET_STRING, self.d.to_bytes(32, "big"))
            + der_tlv(_CTX1, der_tlv(_BIT_STRING, b"\x00" + self.public_key.point)),
        )
        return der_tlv(
            _SEQUENCE, der_uint(0) + _SM2_ALGORITHM + der_tlv(_OCTET_STRING, ec_private_key)
        )

    @classmethod
    def from_der(cls, der: bytes) -> SM2PrivateKey:
        """PKCS#8 (version 0 or 1) PrivateKeyInfo holding an SM2 key; attributes are ignored."""
        items = der_items(der_single(der, _SEQUENCE))
        if der_parse_uint(_expect(items, 0, _INTEGER)) not in (0, 1):
            raise ValueError("unsupported PKCS#8 version")
        if der_tlv(_SEQUENCE, _expect(items, 1, _SEQUENCE)) != _SM2_ALGORITHM:
            raise ValueError("not an SM2 private key (want id-ecPublicKey with curve SM2)")
        d, point = _parse_ec_private_key(_expect(items, 2, _OCTET_STRING), params_required=False)
        return cls._checked(d, point)

    @classmethod
    def _checked(cls, d: int, point: bytes | None) -> SM2PrivateKey:
        key = cls(d)
        if point is not None and point != key.public_key.point:
            raise ValueError("embedded public key does not belong to the private key")
        return key

    def to_pem(self) -> str:
        """Unencrypted PKCS#8 ("PRIVATE KEY"): store it where only its owner can read it."""
        return pem_encode("PRIVATE KEY", self.to_der())

    @classmethod
    def from_pem(cls, text: str) -> SM2PrivateKey:
        """PKCS#8 "PRIVATE KEY" (``openssl genpkey -algorithm SM2``) or SEC1 ECPrivateKey
        ("SM2 PRIVATE KEY" from ``openssl ec``, or "EC PRIVATE KEY"); parameter blocks are skipped.
        """
        for label, der in pem_blocks(text):
            if label == "PRIVATE KEY":
                return cls.from_der(der)
            if label in ("EC PRIVATE KEY", "SM2 PRIVATE KEY"):
                return cls._checked(*_parse_ec_private_key(der, params_required=True))
            if label == "ENCRYPTED PRIVATE KEY":
                raise ValueError("encrypted private keys are not supported; decrypt it first")
        raise ValueError("no private key PEM block found")

    def sign(self, message: bytes, *, id: bytes = DEFAULT_ID) -> bytes:
        """SM2 signature over ``message`` for signer identity ``id``, DER SEQUENCE {r, s}."""
        e = _message_digest(self.public_key.point, id, message)
        r, s = _sign_digest(self._signer, e)
        return encode_signature(r, s)


def _sign_digest(signer: _GmSM2, e: bytes) -> tuple[int, int]:
    # gmalglib's nonce-retry loop is a do { continue; } while (0), so the r = 0, r + k = n and
    # s = 0 cases (probability ~2^-256 each) would return an invalid signature instead of
    # retrying; retry here so that can never leave this module.
    for _ in range(8):
        raw = signer.sign_digest(e)
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        if 0 < r < SM2_N and 0 < s < SM2_N:
            return r, s
    raise RuntimeError("SM2 signing failed to produce a valid signature")


def verify(
    public: SM2PublicKey, message: bytes, signature_der: bytes, *, id: bytes = DEFAULT_ID
) -> bool:
    """True only for a valid DER SM2 signature; malformed input gives False, never an exception."""
    if isinstance(signature_der, bytearray | memoryview):
        # Database drivers may hand a stored signature back as either; it is still a signature.
        signature_der = bytes(signature_der)
    if not isinstance(signature_der, bytes) or len(id) > ID_MAX_BYTES:
        return False
    try:
        r, s = decode_signature(signature_der)
    except ValueError:
        return False
    if not (0 < r < SM2_N and 0 < s < SM2_N) or (r + s) % SM2_N == 0:
        return False
    e = _message_digest(public.point, id, message)
    try:
        return bool(
            _gm_verifier(public.point).verify_digest(
                e, r.to_bytes(32, "big") + s.to_bytes(32, "big")
            )
        )
    except ValueError:
        return False
