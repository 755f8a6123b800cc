#!/usr/bin/env python3
"""A sample client of the enterprise direct link (人社政企直连): sends a batch of records from a
JSON or CSV file, signed with the enterprise's SM2 private key by the OpenSSL CLI, and prints
each record's result. Standard library and `openssl` (3.x) only, so an HR system's developers
can read it whole and copy what they need.

    python3 docs/hrss_link_client.py --url https://shuhui.example.gov.cn \\
        --key hl_… --private-key sm2.pem hires.json
    python3 docs/hrss_link_client.py --url … --key hl_… --private-key sm2.pem \\
        --batch-id D-2026-11 --kind departure departures.csv

Make the key pair once (keep the private key in the HR system, give the platform the public):

    openssl genpkey -algorithm SM2 -out sm2.pem
    openssl pkey -in sm2.pem -pubout -out sm2-public.pem

A JSON batch is {"batch_id": "…", "kind": "hire" | "departure" | "base", "records": [...]}; a CSV
has a header row (hire: citizen_id, name, hire_date, monthly_wage_yuan; departure: citizen_id,
name, leave_date, reason; base: citizen_id, name, month, base_yuan) and takes --batch-id and
--kind. Send the same batch id again and you get the stored result; correct the refused records
and send them alone under a new batch id. See docs/hrss-link.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

# GB/T 32918's default signer ID: OpenSSL 3 uses an empty ID unless told.
DIST_ID = "1234567812345678"


def sign(body: bytes, private_key: Path) -> str:
    """The SM2 signature of the exact body bytes, Base64 of the DER, as X-Link-Signature."""
    with tempfile.TemporaryDirectory() as tmp:
        data, signature = Path(tmp) / "body", Path(tmp) / "sig"
        data.write_bytes(body)
        subprocess.run(
            ["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", str(private_key),
             "-in", str(data), "-out", str(signature), "-pkeyopt", f"distid:{DIST_ID}"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return base64.b64encode(signature.read_bytes()).decode("ascii")


def request_for(
    url: str, key: str, private_key: Path, body: bytes, *, csv: tuple[str, str] | None = None
) -> tuple[str, dict[str, str]]:
    """The address and headers of the batch's POST."""
    address = url.rstrip("/") + "/api/v1/hrss/link/batches"
    if csv is not None:
        address += "?" + urllib.parse.urlencode({"batch_id": csv[0], "kind": csv[1]})
    headers = {
        "X-Link-Key": key,
        "X-Link-Signature": sign(body, private_key),
        "Content-Type": "text/csv" if csv else "application/json",
    }
    return address, headers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the platform's address")
    parser.add_argument("--key", required=True, help="the API key the platform gave (hl_…)")
    parser.add_argument("--private-key", type=Path, required=True, help="the SM2 private key")
    parser.add_argument("--batch-id", help="CSV: the batch id")
    parser.add_argument("--kind", choices=("hire", "departure", "base"), help="CSV: the kind")
    parser.add_argument("file", type=Path, help="the batch: .json or .csv")
    args = parser.parse_args()
    body = args.file.read_bytes()
    csv = None
    if args.file.suffix.lower() == ".csv":
        if not (args.batch_id and args.kind):
            parser.error("a CSV batch takes --batch-id and --kind")
        csv = (args.batch_id, args.kind)
    address, headers = request_for(args.url, args.key, args.private_key, body, csv=csv)
    request = urllib.request.Request(address, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            result = json.load(answer)
    except urllib.error.HTTPError as refused:
        problem = json.loads(refused.read() or b"{}")
        print(f"refused ({refused.code}): {problem.get('detail')}", file=sys.stderr)
        for error in problem.get("errors", []):
            print(f"  {error.get('field')}: {error.get('reason')}", file=sys.stderr)
        return 1
    print(
        f"batch {result['batch_id']}: {result['accepted']} accepted, {result['refused']} refused"
        + (" (received before: the stored result)" if result["already_received"] else "")
    )
    for record in result["results"]:
        if record["status"] == "refused":
            print(f"  #{record['position']} {record['field']}: {record['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
