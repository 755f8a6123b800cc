"""What ``service.verify_ledger``'s findings mean, in Chinese (it says them in English): for the
admin's page and ``shuhui audit verify``, which must not load the web stack to say them."""

from __future__ import annotations

import re

from shuhui.core.i18n import Text
from shuhui.trust.ledger.service import Finding

_FIELDS = {
    "seq": "序号",
    "at": "时间",
    "actor": "操作者",
    "action": "操作",
    "subject": "对象",
    "purpose": "用途",
    "grant": "授权",
}
_PROBLEMS = {
    "entry missing": ("这一条记录缺失", "entry missing"),
    "stored bytes do not match the stored leaf hash": (
        "记录内容与其哈希值不符，记录被改动过",
        "the stored bytes do not match the stored hash",
    ),
    "stored bytes are not JSON": ("记录内容已损坏，无法读出", "the stored bytes are not JSON"),
    "stored bytes are not canonical": (
        "记录内容不是规范格式，被改写过",
        "the stored bytes are not canonical",
    ),
    "stored bytes are not a JSON object": (
        "记录内容已损坏，不是一条记录",
        "the stored bytes are not an entry",
    ),
    "signed by a key other than the platform key": (
        "不是本平台密钥签署的",
        "signed by a key other than the platform's",
    ),
    "signed text does not match its size and root": (
        "签署的内容与检查点的条数和根哈希不符",
        "the signed text does not match its size and root",
    ),
    "signature does not verify": ("签名验证不通过", "the signature does not verify"),
    "root does not match entries": (
        "根哈希与现存记录算出的不一致",
        "the root does not match the entries",
    ),
}
_CHECKPOINT = re.compile(r"checkpoint at size (\d+)(?:: (.*)| (is beyond the stored log))$")
_COLUMN = re.compile(r"column (\w+) differs from the hashed entry$")
_CLAIMS = re.compile(r"ledger claims (\d+) entries, (\d+) are stored$")


def finding_text(finding: Finding) -> Text:
    """What a verification finding means, in Chinese (``verify_ledger`` says it in English)."""
    problem = finding.problem
    where = Text(f"第 {finding.seq} 条记录：", f"Entry {finding.seq}: ")
    if finding.seq is None:
        where = Text("", "")
    if problem in _PROBLEMS:
        zh, en = _PROBLEMS[problem]
        return Text(where + zh, where.en + en)
    if m := _COLUMN.match(problem):
        column = _FIELDS.get(m[1], m[1])
        return Text(
            f"{where}查询用的“{column}”一栏与记录内容不符，被改动过",
            f"{where.en}its {m[1]} column differs from the entry",
        )
    if m := _CLAIMS.match(problem):
        return Text(
            f"账本记载共 {m[1]} 条记录，实际只存有 {m[2]} 条",
            f"the ledger claims {m[1]} entries, {m[2]} are stored",
        )
    if m := _CHECKPOINT.match(problem):
        at = Text(f"覆盖前 {m[1]} 条的检查点：", f"Checkpoint over {m[1]} entries: ")
        if m[3]:
            return Text(at + "超出了现存的记录", at.en + "beyond the stored entries")
        zh, en = _PROBLEMS.get(m[2] or "", ("未通过核验", m[2] or "failed"))
        return Text(at + zh, at.en + en)
    return Text(where + "未通过核验", where.en + problem)
