"""A witness for the audit ledger: an independent process, with its own key and its own state,
that cosigns a checkpoint only if it extends every checkpoint it cosigned before (C2SP
tlog-witness, Ed25519 cosignature/v1).

``shuhui audit witness serve --data DIR --log <the ledger's vkey>`` runs it. In ``DIR``:
``witness-ed25519.pem`` (its key, made on first start, owner-only), ``witness.json`` (per log
origin, the newest cosigned size, root and note; replaced atomically after every cosignature)
and ``refused.log`` (append-only: checkpoints that were validly signed by the log but refused, a
fork's evidence).

``POST /add-checkpoint`` takes ``old <size>``, the consistency proof lines, a blank line and the
signed checkpoint; answers 200 with the cosignature line, 400 for a malformed request or an old
size above the checkpoint's, 403 without a valid signature by the log's key, 404 for an unknown
origin, 409 (``text/x.tlog.size``: the size it knows) when ``old`` is not that size, and 422 when
the proof does not show the checkpoint extends the one it cosigned. ``GET /<sha256 of the
origin, hex>/checkpoint`` serves the newest cosigned checkpoint.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shuhui.trust.crypto import note
from shuhui.trust.crypto.merkle import HashAlgorithm, empty_root, verify_consistency

KEY_FILE = "witness-ed25519.pem"
STATE_FILE = "witness.json"
REFUSED_FILE = "refused.log"
SIZE_TYPE = "text/x.tlog.size"
MAX_BODY = 128 * 1024
MAX_PROOF = 63


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


def algorithm_of(origin: str) -> HashAlgorithm:
    """The ledger names its hash in its origin (``…/sm3``); RFC 6962's SHA-256 otherwise."""
    return "sm3" if origin.endswith("/sm3") else "sha256"


def origin_hash(origin: str) -> str:
    return hashlib.sha256(origin.encode()).hexdigest()


def load_key(folder: Path) -> Any:
    """The witness's Ed25519 key, made (owner-only) the first time."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = folder / KEY_FILE
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(staged, path)  # a key already there stays the key
        except FileExistsError:
            pass
        finally:
            staged.unlink(missing_ok=True)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


class Witness:
    """The witness's logic, without HTTP (``app`` puts it behind Starlette)."""

    def __init__(self, folder: Path, name: str, logs: Sequence[note.Verifier]) -> None:
        self.folder = folder
        self.cosigner = note.Cosigner(name, load_key(folder))
        self.logs: dict[str, list[note.Verifier]] = {}
        for verifier in logs:
            self.logs.setdefault(verifier.name, []).append(verifier)
        self._lock = threading.Lock()

    @property
    def vkey(self) -> str:
        return self.cosigner.verifier.vkey()

    def state(self) -> dict[str, Any]:
        try:
            loaded = json.loads((self.folder / STATE_FILE).read_text())
        except FileNotFoundError:
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _save(self, state: dict[str, Any]) -> None:
        path = self.folder / STATE_FILE
        staged = path.with_name(f".{path.name}.tmp")
        with staged.open("w") as handle:
            json.dump(state, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, path)

    def add_checkpoint(self, body: bytes) -> Answer:
        if len(body) > MAX_BODY:
            return Answer(413, "request too large\n")
        try:
            text = body.decode()
            old, proof, signed = _parse_request(text)
            checkpoint = note.parse_checkpoint(signed.text)
        except (UnicodeDecodeError, note.NoteError) as exc:
            return Answer(400, f"{exc}\n")
        trusted = self.logs.get(checkpoint.origin)
        if not trusted:
            return Answer(404, "unknown log origin\n")
        verified = False
        for signature in signed.signatures:
            for key in trusted:
                if key.matches(signature):
                    if not key.verifies(signed.text, signature):
                        return Answer(403, "a signature by the log's key does not verify\n")
                    verified = True
        if not verified:
            return Answer(403, "no signature by the log's key\n")
        if old > checkpoint.size:
            return Answer(400, "old size is larger than the checkpoint's\n")
        alg = algorithm_of(checkpoint.origin)
        # The check against the stored size and the update are one step (two requests at once
        # must not roll the witness back): a lock in this process, a file lock across processes.
        with self._lock, (self.folder / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self.state()
            known = state.get(checkpoint.origin, {})
            size, root = int(known.get("size", 0)), note.b64decode(known.get("root", ""))
            if old != size:
                return Answer(409, f"{size}\n", SIZE_TYPE)
            refused = _inconsistent(alg, old, root, checkpoint, proof)
            if refused:
                self._keep_refused(text, refused)
                return Answer(422, f"{refused}\n")
            stamp = max(int(time.time()), int(known.get("time", 0)) + 1)
            line = self.cosigner.cosign(signed.text, stamp).line()
            log_lines = "".join(s.line() for s in signed.signatures if _by(trusted, s))
            state[checkpoint.origin] = {
                "size": checkpoint.size,
                "root": note.b64(checkpoint.root),
                "time": stamp,
                "checkpoint": signed.text + "\n" + log_lines + line,
            }
            self._save(state)
        return Answer(200, line)

    def checkpoint(self, hashed_origin: str) -> Answer:
        for origin, known in self.state().items():
            if origin_hash(origin) == hashed_origin:
                return Answer(200, str(known["checkpoint"]))
        return Answer(404, "no checkpoint cosigned for this log\n")

    def _keep_refused(self, request: str, why: str) -> None:
        from shuhui.trust.ledger.publish import append

        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        append(self.folder / REFUSED_FILE, f"# {stamp} {why}\n{request}\n".encode())


def _by(trusted: Sequence[note.Verifier], signature: note.Signature) -> bool:
    return any(key.matches(signature) for key in trusted)


def _parse_request(text: str) -> tuple[int, list[bytes], note.SignedNote]:
    head, sep, rest = text.partition("\n\n")
    if not sep:
        raise note.NoteError("no blank line after the proof")
    lines = head.split("\n")
    kind, _, size = lines[0].partition(" ")
    if kind != "old":
        raise note.NoteError("the first line is 'old <size>'")
    if len(lines) - 1 > MAX_PROOF:
        raise note.NoteError("more than 63 proof lines")
    proof = [note.b64decode(line) for line in lines[1:]]
    return note.parse_size(size), proof, note.parse_note(rest)


def _inconsistent(
    alg: HashAlgorithm, old: int, old_root: bytes, new: note.Checkpoint, proof: list[bytes]
) -> str | None:
    """Why the checkpoint does not extend (old, old_root), or None if it does."""
    if new.size == 0 and new.root != empty_root(alg):
        return "a checkpoint of size 0 has the empty tree's root"
    if old == 0:
        return "a proof from size 0 is empty" if proof else None
    if old == new.size:
        return None if new.root == old_root and not proof else "same size, another root"
    if not verify_consistency(alg, old, new.size, old_root, new.root, proof):
        return "the consistency proof does not verify"
    return None


def app(witness: Witness) -> Any:
    """The witness's HTTP interface (Starlette: it serves no pages and no JSON)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    def respond(answer: Answer) -> Response:
        return PlainTextResponse(answer.body, answer.status, media_type=answer.content_type)

    async def add(request: Request) -> Response:
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            return respond(Answer(413, "request too large\n"))
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return respond(Answer(413, "request too large\n"))
        return respond(witness.add_checkpoint(body))

    async def read(request: Request) -> Response:
        return respond(witness.checkpoint(request.path_params["origin"]))

    return Starlette(
        routes=[
            Route("/add-checkpoint", add, methods=["POST"]),
            Route("/{origin:str}/checkpoint", read, methods=["GET"]),
        ]
    )
