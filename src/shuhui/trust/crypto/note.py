"""Signed notes, checkpoints and cosignatures as C2SP specifies them (signed-note, tlog-checkpoint,
tlog-cosignature), for the audit ledger's published checkpoints and its witnesses.

A signed note is a text ending in a newline, a blank line, and signature lines
``— <key name> base64(4-byte key ID || signature)``. A checkpoint is a note whose text is the
log's origin, its size and its base64 root hash, one per line.

Two kinds of key sign here:

- the platform's SM2 key signs the ledger's checkpoints. signed-note assigns no type byte to SM2,
  so it uses the reserved ``0xff`` followed by a longer identifier (``SM2_TYPE``), as the spec
  recommends; the signature is the DER SM2 signature (SM3, ID 1234567812345678) over the text.
- a witness's Ed25519 key cosigns them: type ``0x04``, a ``timestamped_signature`` (8-byte
  big-endian POSIX time, then the Ed25519 signature over ``cosignature/v1\\ntime <t>\\n`` and the
  checkpoint's text), as tlog-cosignature's Ed25519 form.

Every parser here reads untrusted text: anything malformed raises ``NoteError`` (a ``ValueError``),
never anything else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from shuhui.trust.crypto.sm import SM2PrivateKey, SM2PublicKey, verify

if TYPE_CHECKING:  # cryptography is imported when a witness's key is first used
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "COSIGNATURE_TYPE",
    "SM2_TYPE",
    "Checkpoint",
    "Cosigner",
    "NoteError",
    "Signature",
    "SignedNote",
    "Verifier",
    "format_note",
    "parse_checkpoint",
    "parse_note",
    "parse_vkey",
]

EM_DASH: Final = "\u2014"
COSIGNATURE_TYPE: Final = b"\x04"
SM2_TYPE: Final = b"\xffshuhui/sm2-sm3/v1"
MAX_SIGNATURES: Final = 64
MAX_NOTE: Final = 64 * 1024
_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,18})$")


class NoteError(ValueError):
    """Text that is not a well-formed signed note, checkpoint or key."""


def b64decode(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4): no whitespace, padding where due."""
    if not _B64.match(text) or len(text) % 4:
        raise NoteError("not standard base64")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("not standard base64") from exc


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def parse_size(text: str) -> int:
    """A decimal with no leading zeroes, below 2**63."""
    if not _DECIMAL.match(text) or int(text) >= 1 << 63:
        raise NoteError("not a decimal size")
    return int(text)


def key_id(name: str, type_and_key: bytes) -> bytes:
    """SHA-256(key name || 0x0A || signature type || public key)[:4], as signed-note recommends."""
    return hashlib.sha256(name.encode() + b"\n" + type_and_key).digest()[:4]


def check_key_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
        raise NoteError("a key name is non-empty, with no spaces and no '+'")
    return name


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: the key's name, its 4-byte ID, and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    text: str  # ends with a newline
    signatures: tuple[Signature, ...]

    def __str__(self) -> str:
        return format_note(self.text, self.signatures)


def format_note(text: str, signatures: tuple[Signature, ...] | list[Signature]) -> str:
    return text + "\n" + "".join(s.line() for s in signatures)


def _check_text(text: str) -> None:
    if any(c < " " and c != "\n" for c in text):
        raise NoteError("a note holds no control characters but newlines")


def parse_note(note: str) -> SignedNote:
    """Splits a signed note at its last blank line; each line after it must be a signature."""
    if len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE:
        raise NoteError("note too long")
    try:
        note.encode()
    except UnicodeEncodeError as exc:
        raise NoteError("a note is valid UTF-8") from exc
    _check_text(note)
    if not note.endswith("\n"):
        raise NoteError("a note ends with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("no blank line before the signatures")
    text, lines = note[: split + 1], note[split + 2 :].split("\n")[:-1]
    if not lines:
        raise NoteError("a note has at least one signature")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    signatures = []
    for line in lines:
        prefix, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        if prefix != EM_DASH or not encoded or " " in encoded:
            raise NoteError("a signature line is '— <name> <base64>'")
        check_key_name(name)
        raw = b64decode(encoded)
        if len(raw) < 5:
            raise NoteError("a signature is a key ID and at least one byte")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return SignedNote(text, tuple(signatures))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The text of a checkpoint: origin, tree size, root hash (no extension lines here)."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{b64(self.root)}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint a note's text states; extension lines are refused (the ledger writes none)."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise NoteError("a checkpoint is three lines: origin, size, root hash")
    origin, size, root = lines[:3]
    if not origin or not origin.isprintable():
        raise NoteError("a checkpoint's origin is a non-empty line")
    return Checkpoint(origin, parse_size(size), b64decode(root))


# --- keys ---------------------------------------------------------------------------------------


class Verifier:
    """A public key by name: which signature lines are its, and whether one verifies."""

    def __init__(self, name: str, type_and_key: bytes) -> None:
        self.name = check_key_name(name)
        self.type_and_key = type_and_key
        self.key_id = key_id(name, type_and_key)

    def vkey(self) -> str:
        """``<name>+<hex key ID>+<base64(type || key)>``, signed-note's verifier key text."""
        return f"{self.name}+{self.key_id.hex()}+{b64(self.type_and_key)}"

    def matches(self, signature: Signature) -> bool:
        return signature.name == self.name and signature.key_id == self.key_id

    def verifies(self, text: str, signature: Signature) -> bool:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verifier) and other.vkey() == self.vkey()

    def __hash__(self) -> int:
        return hash(self.vkey())


class SM2Verifier(Verifier):
    """The ledger's key: DER SM2 signatures over the note text."""

    def __init__(self, name: str, public: SM2PublicKey) -> None:
        super().__init__(name, SM2_TYPE + public.point)
        self.public = public

    def verifies(self, text: str, signature: Signature) -> bool:
        return self.matches(signature) and verify(self.public, text.encode(), signature.signature)


class CosignatureVerifier(Verifier):
    """A witness's key: timestamped Ed25519 cosignatures (cosignature/v1)."""

    def __init__(self, name: str, public: bytes) -> None:
        if len(public) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        super().__init__(name, COSIGNATURE_TYPE + public)
        self.public = Ed25519PublicKey.from_public_bytes(public)

    def timestamp(self, text: str, signature: Signature) -> int | None:
        """The cosignature's time if it verifies over ``text``, else None."""
        if not self.matches(signature) or len(signature.signature) != 72:
            return None
        from cryptography.exceptions import InvalidSignature

        (time,) = struct.unpack(">Q", signature.signature[:8])
        if time == 0 or time >= 1 << 63:
            return None
        try:
            self.public.verify(signature.signature[8:], cosigned_message(text, time))
        except InvalidSignature:
            return None
        return int(time)

    def verifies(self, text: str, signature: Signature) -> bool:
        return self.timestamp(text, signature) is not None


def cosigned_message(text: str, time: int) -> bytes:
    return f"cosignature/v1\ntime {time}\n{text}".encode()


def parse_vkey(vkey: str) -> Verifier:
    """A verifier key for the ledger's SM2 key or a witness's Ed25519 cosignature key."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is <name>+<hex key ID>+<base64 key>")
    name, hex_id, encoded = parts
    key = b64decode(encoded)
    verifier: Verifier
    try:
        if key.startswith(SM2_TYPE):
            verifier = SM2Verifier(name, SM2PublicKey.from_bytes(key[len(SM2_TYPE) :]))
        elif key[:1] == COSIGNATURE_TYPE:
            verifier = CosignatureVerifier(name, key[1:])
        else:
            raise NoteError("an unknown signature type")
    except NoteError:
        raise
    except ValueError as exc:  # not a point on the curve, a key of the wrong length
        raise NoteError(f"not a public key: {exc}") from exc
    if verifier.key_id.hex() != hex_id:
        raise NoteError("the key ID does not match the key")
    return verifier


class LogSigner:
    """The ledger's side: signs checkpoint texts with the platform's SM2 key under ``name``."""

    def __init__(self, name: str, key: SM2PrivateKey) -> None:
        self.verifier = SM2Verifier(name, key.public_key)
        self._key = key

    def sign(self, text: str) -> Signature:
        return Signature(self.verifier.name, self.verifier.key_id, self._key.sign(text.encode()))


class Cosigner:
    """A witness's side: cosigns checkpoint texts with its Ed25519 key under ``name``."""

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = CosignatureVerifier(name, public)
        self._key = key

    def cosign(self, text: str, time: int) -> Signature:
        signed = self._key.sign(cosigned_message(text, time))
        return Signature(self.verifier.name, self.verifier.key_id, struct.pack(">Q", time) + signed)
