"""SM2 sign/verify and SM3 throughput of ``shuhui.trust.crypto.sm``, against OpenSSL's own figures.

    .venv/bin/python bench/bench_sm2.py [--seconds 2] [--no-openssl]

SM2 is measured through the public API (Z_A, e = SM3(Z_A || M), DER encoding included) on
200-byte messages, next to gmalglib's bare ``sign_digest``/``verify_digest`` (the ceiling the
wrapper can reach) and ``openssl speed sm2`` (an independent implementation on the same machine).
SM3 is measured for each backend ``sm3()`` could use, on one 4 MiB buffer (MB/s) and on 200-byte
messages (hashes/s); the faster one is what ``sm3()`` should use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable
from functools import partial
from importlib.metadata import version

from shuhui.trust.crypto import sm

TARGET_VERIFY_PER_S = 1_000
SMALL = 200
BULK = 4 * 1024 * 1024


def rates(
    fns: dict[str, Callable[[], object]], seconds: float, rounds: int = 10, batch: int = 16
) -> dict[str, float]:
    """Best calls/s of each function over ``rounds`` interleaved slices of ``seconds`` in all.

    Interleaving lets a load change on a shared machine hit every candidate alike, and the best
    slice is the one least disturbed. Calls go in batches between clock reads so that the clock
    is not what gets measured.
    """
    best = dict.fromkeys(fns, 0.0)
    budget = seconds / rounds
    for _ in range(rounds):
        for name, fn in fns.items():
            n = 0
            start = time.perf_counter()
            while True:
                for _ in range(batch):
                    fn()
                n += batch
                elapsed = time.perf_counter() - start
                if elapsed >= budget:
                    break
            best[name] = max(best[name], n / elapsed)
    return best


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            found = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
        cpu = found.group(1) if found else cpu
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPU{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, gmalglib {version('gmalglib')}, {ssl.OPENSSL_VERSION}"
    )


def row(label: str, per_s: float, note: str = "") -> None:
    print(f"  {label:36s} {per_s:8,.0f} /s  {note}".rstrip())


def openssl_speed(*args: str) -> str:
    exe = shutil.which("openssl")
    if exe is None:
        return ""
    done = subprocess.run(
        [exe, "speed", *args], capture_output=True, text=True, timeout=120, check=False
    )
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per candidate")
    parser.add_argument("--no-openssl", action="store_true", help="skip `openssl speed` anchors")
    args = parser.parse_args()
    secs = args.seconds

    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"sm3() backend in use: {sm.SM3_BACKEND}")
    print()

    key = sm.SM2PrivateKey.generate()
    public = key.public_key
    message = os.urandom(SMALL)
    signature = key.sign(message)
    assert sm.verify(public, message, signature)

    e = sm._message_digest(public.point, sm.DEFAULT_ID, message)
    raw_sig = sm._gm_signer(key.d).sign_digest(e)
    verifier = sm._gm_verifier(public.point)
    got = rates(
        {
            "sign": lambda: key.sign(message),
            "verify": lambda: sm.verify(public, message, signature),
            "bare sign": lambda: key._signer.sign_digest(e),
            "bare verify": lambda: verifier.verify_digest(e, raw_sig),
        },
        4 * secs,
    )
    sign_s, verify_s = got["sign"], got["verify"]
    bare_sign_s, bare_verify_s = got["bare sign"], got["bare verify"]

    print(f"SM2, {SMALL}-byte messages, ID {sm.DEFAULT_ID.decode()}")
    met = "met" if verify_s >= TARGET_VERIFY_PER_S else "NOT MET"
    row("sign   (shuhui.trust.crypto.sm)", sign_s)
    row("verify (shuhui.trust.crypto.sm)", verify_s, f"target >= {TARGET_VERIFY_PER_S:,}/s: {met}")
    row("sign   (gmalglib sign_digest)", bare_sign_s, f"wrapper keeps {sign_s / bare_sign_s:.0%}")
    row(
        "verify (gmalglib verify_digest)",
        bare_verify_s,
        f"wrapper keeps {verify_s / bare_verify_s:.0%}",
    )
    if not args.no_openssl:
        out = openssl_speed("-seconds", str(max(1, round(secs))), "sm2")
        found = re.search(r"SM2 \(CurveSM2\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", out)
        if found:
            o_sign, o_verify = float(found.group(1)), float(found.group(2))
            row("anchor: openssl speed sm2, sign", o_sign, f"ratio {sign_s / o_sign:.2f}")
            row("anchor: openssl speed sm2, verify", o_verify, f"ratio {verify_s / o_verify:.2f}")
    print()

    proto = hashlib.new("sm3") if sm._openssl_sm3_new is not None else None
    gm_sm3 = sm._gm_sm3_new

    def gm(data: bytes) -> bytes:
        h = gm_sm3()
        h.update(data)
        return h.digest()

    backends: dict[str, Callable[[bytes], bytes]] = {"gmalglib SM3": gm}
    if proto is not None:

        def ossl_copy(data: bytes) -> bytes:
            h = proto.copy()
            h.update(data)
            return h.digest()

        backends["hashlib (OpenSSL), copied prototype"] = ossl_copy
        backends["hashlib.new('sm3', data)"] = lambda data: hashlib.new("sm3", data).digest()
    backends["sm3() as exported"] = sm.sm3

    bulk = os.urandom(BULK)
    small = os.urandom(SMALL)
    print(f"SM3: MB/s on one {BULK // 2**20} MiB buffer; hashes/s of {SMALL}-byte messages")
    bulk_rates = rates({k: partial(fn, bulk) for k, fn in backends.items()}, 3 * secs, batch=1)
    small_rates = rates({k: partial(fn, small) for k, fn in backends.items()}, 3 * secs)
    results = {k: (bulk_rates[k] * BULK / 1e6, small_rates[k]) for k in backends}
    for name, (mbs, hps) in results.items():
        print(f"  {name:38s} {mbs:8.1f} MB/s {hps:12,.0f} hashes/s")
    if not args.no_openssl:
        big = openssl_speed("-seconds", "1", "-bytes", "16384", "-evp", "sm3")
        little = openssl_speed("-seconds", "1", "-bytes", str(SMALL), "-evp", "sm3")
        b = re.search(r"^sm3\s+([\d.]+)k", big, re.M)
        s = re.search(r"^sm3\s+([\d.]+)k", little, re.M)
        if b and s:
            mbs = float(b.group(1)) / 1000
            hps = float(s.group(1)) * 1000 / SMALL
            label = "anchor: openssl speed -evp sm3"
            print(
                f"  {label:38s} {mbs:8.1f} MB/s {hps:12,.0f} hashes/s (16 KiB / {SMALL} B blocks)"
            )

    gm_bulk, gm_small = results["gmalglib SM3"]
    if "hashlib (OpenSSL), copied prototype" in results:
        os_bulk, os_small = results["hashlib (OpenSSL), copied prototype"]
        faster = "openssl" if os_bulk >= gm_bulk and os_small >= gm_small else "mixed"
        print(
            f"  OpenSSL / gmalglib: x{os_bulk / gm_bulk:.2f} on bulk, x{os_small / gm_small:.2f} "
            f"on {SMALL}-byte messages -> faster: {faster}; sm3() uses: {sm.SM3_BACKEND}"
        )


if __name__ == "__main__":
    main()
