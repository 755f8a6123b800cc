"""Alarms on the workbench: for the monitoring centre's officers, alarms to acknowledge, to
dispatch and to close; for a responder unit's officers, alarms dispatched to the unit and
unread dispatch messages. Counts only (one grouped query)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuhui.core.settings import Settings
from shuhui.core.workbench import Todo
from shuhui.monitor.alarms import service
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role


def todos(db: Session, user: User, *, settings: Settings) -> list[Todo]:
    if Role.officer not in user.role_set:
        return []
    cat = service.catalogue(settings)
    if user.department == cat.centre.department:
        counts = service.todo_counts(db, None)
        return [
            Todo(
                "monitor.raised",
                "待确认的监测告警",
                "Alarms to acknowledge",
                counts["raised"],
                "/monitor/alarms?state=raised#alarms",
                "超时未确认的告警会自动升级",
                "Unacknowledged alarms escalate when their deadline passes",
                urgent=counts["raised"] > 0,
            ),
            Todo(
                "monitor.acknowledged",
                "待派发的监测告警",
                "Alarms to dispatch",
                counts["acknowledged"],
                "/monitor/alarms?state=acknowledged#alarms",
                "已确认、尚未派发给处置单位",
                "Acknowledged, not yet dispatched to a unit",
            ),
            Todo(
                "monitor.resolved",
                "待关闭的监测告警",
                "Alarms to close",
                counts["resolved"],
                "/monitor/alarms?state=resolved#alarms",
                "处置单位已处置完毕",
                "Resolved by the unit",
            ),
        ]
    unit = service.unit_of(user, cat)
    if unit is None:
        return []
    counts = service.todo_counts(db, unit)
    return [
        Todo(
            "monitor.dispatched",
            "派发给本单位的告警",
            "Alarms dispatched to your unit",
            counts["dispatched"],
            "/monitor/alarms?state=dispatched#alarms",
            f"未读处置通知 {counts['unread']} 条",
            f"{counts['unread']} unread dispatch messages",
            urgent=counts["unread"] > 0,
        ),
        Todo(
            "monitor.inbox",
            "未读处置通知",
            "Unread dispatch messages",
            counts["unread"],
            "/monitor/inbox",
            urgent=counts["unread"] > 0,
        ),
    ]
