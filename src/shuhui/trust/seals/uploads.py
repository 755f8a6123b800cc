"""Reading what a verification brings (a document and its envelope, uploaded or typed) and
verifying it off the event loop: shared by the API and the verification page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from shuhui.core.errors import invalid
from shuhui.core.i18n import Text
from shuhui.trust.seals import service as seals


async def read_upload(form: Any, name: str, limit: int) -> bytes | None:
    value = form.get(name)
    if isinstance(value, StarletteUpload):
        data = await value.read(limit + 1)
    elif isinstance(value, str) and value:
        data = value.encode()
    else:
        return None
    if len(data) > limit:
        raise invalid(name, Text(f"文件超过 {limit} 字节", f"larger than {limit} bytes"))
    return data


async def verify_in_thread(db: Session, envelope: Any, document: bytes) -> seals.Verdict:
    return await run_in_threadpool(seals.verify_envelope, envelope, document, db=db)
