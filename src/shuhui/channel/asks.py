"""What the data channel's pages ask before a risky act (`core.confirm`): revoking or rotating
a key, revoking a grant, rejecting an application or a membership, issuing a month's sealed
statements. Each says how many and what in plain Chinese; the pages post the answer back."""

from __future__ import annotations

from datetime import date

from shuhui.channel.city import CityChannel
from shuhui.channel.grants import application_products
from shuhui.channel.models import AccessApplication, ApiKey, Grant, Membership
from shuhui.channel.views import product_names
from shuhui.core.confirm import Ask


def _products(city: CityChannel, row: AccessApplication | Grant) -> tuple[str, str]:
    names = product_names(city, application_products(row))
    return "、".join(n["zh"] for n in names), ", ".join(n["en"] for n in names)


def revoke_key(key: ApiKey) -> Ask:
    masked = f"shk_{key.prefix}_…"
    return Ask(
        title=(f"撤销密钥 {masked}？", f"Revoke the key {masked}?"),
        summary=(
            f"撤销后，用密钥 {masked}（{key.label}）的调用立即被拒绝，撤销后不能恢复。",
            f"Once revoked, calls with {masked} ({key.label}) are refused at once; "
            "this cannot be undone.",
        ),
        consequences=(
            ("仍在使用它的系统需要换上新密钥；", "systems still using it need a new key;"),
            ("撤销记入审计账本。", "the revocation is recorded in the audit ledger."),
        ),
        action=f"/channel/keys/{key.prefix}/revoke",
        cancel="/channel#keys",
        button=("确认撤销", "Revoke"),
        count=1,
    )


def rotate_key(key: ApiKey) -> Ask:
    masked = f"shk_{key.prefix}_…"
    return Ask(
        title=(f"轮换密钥 {masked}？", f"Rotate the key {masked}?"),
        summary=(
            f"轮换后旧密钥 {masked}（{key.label}）立即停用，不能恢复；新密钥只在下一页显示一次。",
            f"The old key {masked} ({key.label}) stops at once and cannot be restored; the new "
            "one is shown once, on the next page.",
        ),
        consequences=(
            ("新密钥沿用旧密钥仍有效的授权；", "the new key keeps the old one's active grants;"),
            (
                "请在下一页立即复制新密钥，并尽快换到调用系统中。",
                "copy it at once and put it in your systems.",
            ),
        ),
        action=f"/channel/keys/{key.prefix}/rotate",
        cancel="/channel#keys",
        button=("确认轮换", "Rotate"),
        count=1,
    )


def revoke_grant(city: CityChannel, grant: Grant, reason: str) -> Ask:
    zh, en = _products(city, grant)
    return Ask(
        title=(f"撤销授权 {grant.code}？", f"Revoke the grant {grant.code}?"),
        summary=(
            f"撤销后，{grant.consumer.name}不能再以“{grant.purpose}”调用{zh}，"
            f"撤销后不能恢复；撤销理由“{reason}”会告知该机构。",
            f"Once revoked, {grant.consumer.name} can no longer call {en} for "
            f"“{grant.purpose}”; this cannot be undone, and the reason is shown to them.",
        ),
        consequences=(
            (
                "该机构凭这项授权的密钥调用立即被拒绝；",
                "its calls under this grant are refused at once;",
            ),
            ("如需继续使用，该机构必须重新申请。", "to use the data again it must apply anew."),
        ),
        action=f"/channel/review/grants/{grant.code}/revoke",
        cancel="/channel/review#grants",
        button=("确认撤销", "Revoke"),
        count=1,
    )


def reject_application(city: CityChannel, a: AccessApplication) -> Ask:
    zh, en = _products(city, a)
    return Ask(
        title=(f"不予通过申请 {a.code}？", f"Reject the application {a.code}?"),
        summary=(
            f"{a.consumer.name}以“{a.purpose}”使用{zh}的申请将不予通过，不能改回；"
            "该机构只能重新申请。",
            f"The application of {a.consumer.name} to use {en} for “{a.purpose}” will be "
            "rejected; this cannot be undone, and they can only apply anew.",
        ),
        consequences=(
            (
                "审核意见会告知申请机构，并记入审计账本。",
                "the reason is shown to them and recorded.",
            ),
            ("如只需补充材料，请选择“退回补充”。", "to ask for more, return it instead."),
        ),
        action=f"/channel/review/applications/{a.code}",
        cancel="/channel/review",
        button=("确认不予通过", "Reject"),
        count=1,
    )


def reject_membership(m: Membership, zone: tuple[str, str]) -> Ask:
    return Ask(
        title=("不予通过入驻申请？", "Reject the membership?"),
        summary=(
            f"{m.consumer.name}加入{zone[0]}的申请将不予通过，不能改回；该机构只能重新申请。",
            f"{m.consumer.name}'s application to join {zone[1]} will be rejected; this cannot "
            "be undone, and they can only apply anew.",
        ),
        action=f"/channel/review/memberships/{m.id}",
        cancel="/channel/review#memberships",
        button=("确认不予通过", "Reject"),
        count=1,
    )


def issue_statements(month: date, consumers: int) -> Ask:
    shown = f"{month:%Y-%m}"
    return Ask(
        title=(f"出具 {shown} 对账单？", f"Issue the statements of {shown}?"),
        summary=(
            f"将为 {consumers} 家机构出具 {shown} 的对账单，加盖结算专用章后不能更改或撤回。",
            f"{consumers} consumer{'s' if consumers != 1 else ''} will get the sealed statement "
            f"of {shown}; once sealed it cannot be changed or withdrawn.",
        ),
        consequences=(
            (
                "之后价格调整或补录的调用都不再改变这些对账单；",
                "later price changes or late calls do not change them;",
            ),
            (
                "每份对账单记入审计账本，机构可下载核验。",
                "each is recorded in the ledger and can be verified.",
            ),
        ),
        action="/channel/dashboard/statements",
        cancel=f"/channel/dashboard?month={shown}#billing",
        button=("确认出具", "Issue"),
        count=consumers,
    )
