"""The enterprise direct link (人社政企直连): an enterprise's own HR system sends hires,
departures and contribution-base declarations in batches, and gets each record's result.

**Connecting.** The enterprise's operator (an account bound to its credit code) registers its
system with the SM2 public key its batches will be signed with, and gets an API key once
(``hl_`` and 32 random characters; only its SM3 is kept). Registering again replaces both: the
old key stops working at once.

**A batch.** ``POST /api/v1/hrss/link/batches`` with the key (``X-Link-Key``), the SM2 signature
of the exact body bytes (``X-Link-Signature``, Base64 DER, ID ``1234567812345678`` — what
``openssl pkeyutl -sign -rawin -pkeyopt distid:1234567812345678`` makes), and a body that is
JSON (``{"batch_id", "kind", "records": [...]}``) or CSV (a header row; ``batch_id`` and
``kind`` in the query). In order:

1. the key names a connected enterprise (else 401), the signature verifies with its public key
   over the body as sent (else 401, the refusal in the ledger), the body parses and is bounded
   (at most ``MAX_RECORDS`` records; else 413/422 naming the field);
2. the batch id already received: the same body gets the stored result again (idempotent); a
   different body under that id is a 409;
3. each record is checked on its own: a citizen ID with a wrong check digit, a record for an
   enterprise that is not the sender's or that the register does not know, a duplicate within
   the batch, the same fact accepted before (this batch id or an earlier one), a date or amount
   out of range, a departure or base for someone the enterprise has not hired — each refused
   naming the field and why, in Chinese; the rest accepted;
4. one transaction: the batch, every record with its result (an accepted record's fact is
   unique, so a good record is kept exactly once even if two batches race), one
   ``hrss.link_batch`` ledger entry and one ``hrss.link_record`` entry per record.

The answer lists every record's result; the refused ones can be corrected and sent again in a
new batch — the accepted ones are not sent again (if they are, they are refused as already
accepted, nothing doubles).
"""

from __future__ import annotations

import base64
import csv
import io
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval.lookups import Lookups
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id
from shuhui.core.requestbody import loads
from shuhui.hrss.models import LinkBatch, LinkClient, LinkRecord
from shuhui.trust.crypto.sm import SM2PublicKey, sm3_hex, verify
from shuhui.trust.ledger import service as ledger

MAX_RECORDS: Final = 20_000
MAX_BODY_BYTES: Final = 8 * 1024 * 1024  # 20,000 records of a few hundred bytes
KEY_PREFIX: Final = "hl_"
KINDS: Final = {
    "hire": ("招用（就业登记、参保增员）", "Hire"),
    "departure": ("离职（就业失业登记、参保减员）", "Departure"),
    "base": ("缴费基数申报", "Contribution base"),
}
# The columns each kind's records carry (a CSV's header row names them).
COLUMNS: Final = {
    "hire": ("citizen_id", "name", "hire_date", "monthly_wage_yuan", "credit_code"),
    "departure": ("citizen_id", "name", "leave_date", "reason", "credit_code"),
    "base": ("citizen_id", "name", "month", "base_yuan", "credit_code"),
}
BATCH_ID: Final = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
WAGE_MAX_YUAN: Final = Decimal("1000000")


# --- connecting ------------------------------------------------------------------------------


def _key_hash(key: str) -> str:
    return sm3_hex(key.encode("utf-8"))


def connect(
    db: Session,
    *,
    credit_code: str,
    public_key_pem: str,
    actor: str,
    enterprise_known: bool,
    now: datetime | None = None,
) -> tuple[LinkClient, str]:
    """Registers (or replaces) the enterprise's system: returns the client and its new API key,
    which is shown this once."""
    if not enterprise_known:
        raise Problem(
            "forbidden",
            detail=Text(
                "企业登记信息中没有该统一社会信用代码", "the register has no such enterprise"
            ),
        )
    try:
        public = SM2PublicKey.from_pem(public_key_pem)
    except ValueError:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "public_key_pem",
                    Text("应为 SM2 公钥（PEM 格式，BEGIN PUBLIC KEY）", "an SM2 public key in PEM"),
                )
            ],
        ) from None
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    at = as_utc(now or utcnow())
    client = db.scalar(select(LinkClient).where(LinkClient.credit_code == credit_code))
    if client is None:
        client = LinkClient(credit_code=credit_code, created_by=actor, created_at=at)
        db.add(client)
    client.key_prefix = key[:10]
    client.key_hash = _key_hash(key)
    client.public_key_pem = public.to_pem()
    client.key_id = public.fingerprint()
    client.created_by, client.created_at, client.revoked_at = actor, at, None
    db.flush()
    ledger.record(
        db,
        actor,
        "hrss.link_connected",
        subject=credit_code,
        purpose="enterprise HR system connected to the direct link",
        detail={"key_prefix": client.key_prefix, "sm2_key": client.key_id},
    )
    return client, key


def client_of(db: Session, credit_code: str) -> LinkClient | None:
    return db.scalar(select(LinkClient).where(LinkClient.credit_code == credit_code))


def _unauthorised(zh: str, en: str) -> Problem:
    return Problem("unauthenticated", detail=Text(zh, en))


def authenticate(db: Session, key: str | None, signature: str | None, body: bytes) -> LinkClient:
    """The client whose key this is, after its signature over ``body`` verifies; a 401 naming
    what failed otherwise (the caller records a wrong signature)."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 64:
        raise _unauthorised("缺少或无法识别接口密钥（X-Link-Key）", "missing or unknown key")
    client = db.scalar(select(LinkClient).where(LinkClient.key_hash == _key_hash(key)))
    if client is None or client.revoked_at is not None:
        raise _unauthorised("接口密钥无效或已被替换", "the key is not valid")
    try:
        raw = base64.b64decode(signature or "", validate=True)
    except ValueError:
        raw = b""
    if not raw or not verify(SM2PublicKey.from_pem(client.public_key_pem), body, raw):
        ledger.record(
            db,
            f"link:{client.credit_code}",
            "hrss.link_refused",
            subject=client.credit_code,
            purpose="a batch whose signature does not verify",
            detail={"body_sm3": sm3_hex(body), "reason": "signature"},
        )
        raise _unauthorised(
            "批次签名验证失败：请用登记的 SM2 私钥对请求体原文签名（X-Link-Signature）",
            "the batch's SM2 signature does not verify",
        )
    return client


# --- reading a batch -------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    batch_id: str
    kind: str
    records: list[dict[str, Any]]


def _refuse_batch(field: str, zh: str, en: str, slug: str = "validation") -> Problem:
    return Problem(slug, detail=Text(zh, en), errors=[FieldError(field, Text(zh, en))])


def _check_head(batch_id: Any, kind: Any) -> tuple[str, str]:
    if not isinstance(batch_id, str) or not BATCH_ID.match(batch_id):
        raise _refuse_batch(
            "batch_id", "批次号应为1-64位字母、数字或 . _ -", "1-64 of A-Z a-z 0-9 . _ -"
        )
    if kind not in KINDS:
        raise _refuse_batch(
            "kind", f"业务类型应为 {'、'.join(KINDS)} 之一", "hire, departure or base"
        )
    return batch_id, str(kind)


def _check_count(records: Sequence[Any]) -> None:
    if len(records) > MAX_RECORDS:
        raise _refuse_batch(
            "records",
            f"一个批次最多 {MAX_RECORDS} 条记录，请分批发送",
            f"at most {MAX_RECORDS} records a batch",
            "content-too-large",
        )
    if not records:
        raise _refuse_batch("records", "批次中没有记录", "no records")


def read_json(body: bytes) -> Batch:
    try:
        data = loads(body)
    except ValueError:
        raise _refuse_batch("body", "请求体不是有效的 JSON", "the body is not JSON") from None
    if not isinstance(data, dict):
        raise _refuse_batch("body", "请求体应为对象（batch_id、kind、records）", "an object")
    batch_id, kind = _check_head(data.get("batch_id"), data.get("kind"))
    records = data.get("records")
    if not isinstance(records, list):
        raise _refuse_batch("records", "records 应为记录数组", "records: an array")
    _check_count(records)
    return Batch(batch_id, kind, [r if isinstance(r, dict) else {"_": r} for r in records])


def read_csv(body: bytes, batch_id: str | None, kind: str | None) -> Batch:
    batch_id, kind = _check_head(batch_id, kind)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse_batch("body", "CSV 应为 UTF-8 编码", "CSV must be UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    wanted = set(COLUMNS[kind]) - {"credit_code", "name", "reason"}
    missing = wanted - set(reader.fieldnames or ())
    if missing:
        raise _refuse_batch(
            "body", f"CSV 表头缺少列：{'、'.join(sorted(missing))}", "columns missing"
        )
    records = []
    for row in reader:
        records.append({k: v for k, v in row.items() if k is not None})
        if len(records) > MAX_RECORDS:
            break
    _check_count(records)
    return Batch(batch_id, kind, records)


# --- deciding each record --------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    position: int
    citizen_id: str | None
    status: str  # accepted | refused
    field: str | None
    reason: str | None
    fact: str | None
    data: dict[str, Any]


class _Refused(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason


def _text(record: Mapping[str, Any], name: str, *, required: bool, most: int = 64) -> str | None:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Refused(name, "必填")
        return None
    if not isinstance(value, str | int):
        raise _Refused(name, "应为文字")
    text = str(value).strip()
    if len(text) > most:
        raise _Refused(name, f"不超过 {most} 个字")
    return text


def _day(record: Mapping[str, Any], name: str, today: date) -> date:
    text = _text(record, name, required=True)
    assert text is not None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise _Refused(name, "日期应写成 YYYY-MM-DD") from None
    if value < date(1990, 1, 1) or value > today + timedelta(days=31):
        raise _Refused(name, "日期超出范围（1990年起，至多一个月后）")
    return value


def _yuan(record: Mapping[str, Any], name: str) -> Decimal:
    text = _text(record, name, required=True)
    assert text is not None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Refused(name, "金额应为数字（元）") from None
    if not value.is_finite() or value <= 0 or value > WAGE_MAX_YUAN:
        raise _Refused(name, "金额应大于 0 且不超过 1,000,000 元")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise _Refused(name, "金额最多两位小数")
    return value


def _fact(credit_code: str, kind: str, citizen_id: str, when: str) -> str:
    return f"{credit_code}|{kind}|{citizen_id}|{when}"


def decide(
    db: Session,
    lookups: Lookups,
    client: LinkClient,
    batch: Batch,
    *,
    today: date,
) -> list[Result]:
    """Each record's result (nothing written)."""
    own = client.credit_code
    seen: set[str] = set()
    checked: list[tuple[int, dict[str, Any], str | None, str | None, _Refused | None]] = []
    for position, record in enumerate(batch.records, start=1):
        citizen: str | None = None
        fact: str | None = None
        try:
            if "_" in record and len(record) == 1:
                raise _Refused("record", "每条记录应为对象")
            unknown = set(record) - set(COLUMNS[batch.kind])
            if unknown:
                raise _Refused(sorted(unknown)[0], "不是该业务类型的字段")
            raw_id = _text(record, "citizen_id", required=True, most=32)
            assert raw_id is not None
            try:
                citizen = parse_citizen_id(raw_id).number
            except InvalidIdentifier as exc:
                raise _Refused("citizen_id", f"公民身份号码无效：{exc.reason}") from None
            _text(record, "name", required=False, most=50)
            code = _text(record, "credit_code", required=False, most=18) or own
            if code != own:
                found = lookups.enterprise(code)
                if found is None or not found.rows:
                    raise _Refused("credit_code", "企业登记信息中没有该统一社会信用代码")
                raise _Refused("credit_code", "不是本接口所属企业，不能代其申报")
            if batch.kind == "hire":
                when = _day(record, "hire_date", today).isoformat()
                _yuan(record, "monthly_wage_yuan")
            elif batch.kind == "departure":
                when = _day(record, "leave_date", today).isoformat()
                _text(record, "reason", required=False, most=100)
            else:
                month = _text(record, "month", required=True, most=7)
                assert month is not None
                if not re.fullmatch(r"(19|20)\d{2}-(0[1-9]|1[0-2])", month):
                    raise _Refused("month", "月份应写成 YYYY-MM")
                when = month
                _yuan(record, "base_yuan")
            fact = _fact(own, batch.kind, citizen, when)
            if fact in seen:
                raise _Refused("citizen_id", "与本批次中前面的记录重复")
            seen.add(fact)
            checked.append((position, record, citizen, fact, None))
        except _Refused as refused:
            checked.append((position, record, citizen, None, refused))
    # What was accepted before, and whom the enterprise has hired: one query each, in chunks.
    facts = [f for _, _, _, f, r in checked if f and r is None]
    earlier = _existing(db, LinkRecord.fact, facts)
    people = sorted({c for _, _, c, f, r in checked if c and r is None})
    hired = _hired(db, lookups, own, people) if batch.kind != "hire" else set()
    results = []
    for position, row, citizen, fact, first in checked:
        why = first
        if why is None and fact in earlier:
            why = _Refused("citizen_id", "该记录此前已受理，不必重复报送")
        if why is None and batch.kind != "hire" and citizen not in hired:
            why = _Refused("citizen_id", "本企业没有该人员的招用（就业登记）记录")
        data = {
            k: (v if isinstance(v, str | int | float | bool) else str(v)) for k, v in row.items()
        }
        if why is None:
            results.append(Result(position, citizen, "accepted", None, None, fact, data))
        else:
            results.append(Result(position, citizen, "refused", why.field, why.reason, None, data))
    return results


def _existing(db: Session, column: Any, values: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), 900):
        chunk = values[start : start + 900]
        found |= {str(v) for v in db.scalars(select(column).where(column.in_(chunk)))}
    return found


def _hired(db: Session, lookups: Lookups, credit_code: str, people: Sequence[str]) -> set[str]:
    """Those of ``people`` the enterprise has hired: a hire accepted over the link, or a spell
    at the enterprise in the data core's employment register."""
    prefix = f"{credit_code}|hire|"
    found: set[str] = set()
    for start in range(0, len(people), 900):
        chunk = people[start : start + 900]
        rows = db.execute(
            select(LinkRecord.citizen_id, LinkRecord.fact).where(
                LinkRecord.citizen_id.in_(chunk), LinkRecord.fact.is_not(None)
            )
        )
        found |= {str(c) for c, f in rows if str(f).startswith(prefix)}
    for person in people:
        if person in found:
            continue
        spells = lookups.rows("employment_spells", "citizen_id", person)
        if spells is not None and any(r.get("credit_code") == credit_code for r in spells.rows):
            found.add(person)
    return found


# --- recording -------------------------------------------------------------------------------


def received(db: Session, credit_code: str, batch_id: str) -> LinkBatch | None:
    return db.scalar(
        select(LinkBatch).where(
            LinkBatch.credit_code == credit_code, LinkBatch.batch_id == batch_id
        )
    )


def records_of(db: Session, batch: LinkBatch, status: str | None = None) -> list[LinkRecord]:
    query = select(LinkRecord).where(LinkRecord.batch_pk == batch.id)
    if status is not None:
        query = query.where(LinkRecord.status == status)
    return list(db.scalars(query.order_by(LinkRecord.position)))


def submit(
    db: Session,
    lookups: Lookups,
    client: LinkClient,
    batch: Batch,
    body: bytes,
    *,
    now: datetime | None = None,
) -> tuple[LinkBatch, bool]:
    """Decides and records the batch; returns it and whether it is new (False: the same batch
    received before, its stored result)."""
    at = as_utc(now or utcnow())
    digest = sm3_hex(body)
    before = received(db, client.credit_code, batch.batch_id)
    if before is not None:
        if before.body_sm3 != digest:
            raise _refuse_batch(
                "batch_id",
                "该批次号已用于另一份内容不同的批次：请换一个批次号",
                "the batch id was used for a different batch",
                "conflict",
            )
        return before, False
    results = decide(db, lookups, client, batch, today=local_today(at))
    accepted = sum(r.status == "accepted" for r in results)
    made = LinkBatch(
        credit_code=client.credit_code,
        batch_id=batch.batch_id,
        kind=batch.kind,
        body_sm3=digest,
        records=len(results),
        accepted=accepted,
        refused=len(results) - accepted,
        received_at=at,
    )
    try:
        with db.begin_nested():
            db.add(made)
            db.flush()
            db.execute(
                insert(LinkRecord),
                [
                    {
                        "batch_pk": made.id,
                        "position": r.position,
                        "citizen_id": r.citizen_id,
                        "status": r.status,
                        "field": r.field,
                        "reason": r.reason,
                        "fact": r.fact,
                        "data": r.data,
                    }
                    for r in results
                ],
            )
    except IntegrityError:
        # Another batch with this id, or with one of these facts, was recorded meanwhile: sent
        # again, this one gets the stored result, or those records refused as already accepted.
        raise _refuse_batch(
            "batch_id",
            "另一批次同时报送了相同的批次号或记录，请稍后重新发送本批次",
            "a concurrent batch recorded the same id or records: send this batch again",
            "conflict",
        ) from None
    actor = f"link:{client.credit_code}"
    entries = [
        ledger.Entry(
            actor,
            "hrss.link_batch",
            subject=client.credit_code,
            purpose=f"直连报送：{KINDS[batch.kind][0]}",
            detail={
                "batch_id": batch.batch_id,
                "kind": batch.kind,
                "records": len(results),
                "accepted": accepted,
                "body_sm3": digest,
            },
        )
    ]
    entries += [
        ledger.Entry(
            actor,
            "hrss.link_record",
            subject=r.citizen_id,
            purpose=f"直连报送：{KINDS[batch.kind][0]}",
            detail={
                "batch_id": batch.batch_id,
                "position": r.position,
                "status": r.status,
                **({"field": r.field or "", "reason": r.reason or ""} if r.reason else {}),
            },
        )
        for r in results
    ]
    ledger.record_many(db, entries)
    return made, True


def result_out(db: Session, batch: LinkBatch, *, again: bool = False) -> dict[str, Any]:
    return {
        "batch_id": batch.batch_id,
        "kind": batch.kind,
        "received_at": batch.received_at.isoformat(),
        "records": batch.records,
        "accepted": batch.accepted,
        "refused": batch.refused,
        "already_received": again,
        "results": [
            {
                "position": r.position,
                "citizen_id": r.citizen_id,
                "status": r.status,
                **({"field": r.field, "reason": r.reason} if r.status == "refused" else {}),
            }
            for r in records_of(db, batch)
        ],
    }


def batches_of(db: Session, credit_code: str, limit: int = 50) -> list[LinkBatch]:
    return list(
        db.scalars(
            select(LinkBatch)
            .where(LinkBatch.credit_code == credit_code)
            .order_by(LinkBatch.id.desc())
            .limit(limit)
        )
    )
