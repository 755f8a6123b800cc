"""The per-key counting of calls against the rate limit (calls a minute) and the monthly quota
(answered calls a month): one ``INSERT … ON CONFLICT … RETURNING`` per key and minute, so any
number of workers share the counts, and the quota given back when a call counted as an answer is
refused after all. The gateway (:mod:`shuhui.channel.gateway`) calls it in its write phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from shuhui.channel.calls import CallState, Limits, Outcome, Pending, Refusal
from shuhui.channel.common import LOCAL
from shuhui.channel.grants import DEFAULT_MONTHLY_QUOTA, DEFAULT_RATE_PER_MINUTE
from shuhui.core.db import execute_or_defer

# Standard SQL both databases take (SQLite 3.35+, PostgreSQL 9.5+); as text, it is compiled once.
# Three windows per key: every call this minute (the rate limit), the calls answered this month
# (the quota: a refusal never spends it) and the calls refused this month (shown beside it).
COUNT_CALLS = text(
    'INSERT INTO channel_counters (key_id, "window", count) VALUES (:key, :minute, :calls), '
    "(:key, :month, :answers), (:key, :refused, :refusals) "
    'ON CONFLICT (key_id, "window") DO UPDATE SET '
    'count = channel_counters.count + excluded.count RETURNING "window", count'
)
# Calls counted as answers that were refused after all (a limit, or the subject's last use
# of an authorisation taken meanwhile) move from the month's answers to its refusals.
UNSPEND = text(
    'UPDATE channel_counters SET count = count + CASE WHEN "window" = :refused THEN :n '
    'ELSE -:n END WHERE key_id = :key AND "window" IN (:month, :refused)'
)


# substr, not LIKE: SQLite's LIKE ignores case, and would take the month windows ("M:…") too.
OLD_MINUTES = text(
    "DELETE FROM channel_counters WHERE key_id = :key AND substr(\"window\", 1, 2) = 'm:' "
    'AND "window" < :before'
)


def month_windows(now: datetime) -> tuple[str, str]:
    """A key's counter windows of the (local) month: its answered calls, its refused calls."""
    local = now.astimezone(LOCAL)
    return f"M:{local:%Y%m}", f"R:{local:%Y%m}"


def _windows(c: CallState) -> tuple[int, str, str, str]:
    """The key and its counter windows for the call: minute, month's answers, month's refusals."""
    assert c.key is not None
    return c.key.id, f"m:{c.now.astimezone(LOCAL):%Y%m%d%H%M}", *month_windows(c.now)


class Counting:
    """Adds calls to their keys' windows, one statement per key and minute, safe with any
    number of writers (the database adds, not this process), and decides which calls are over
    the rate limit or the monthly quota; in two halves: the statements, which the caller sends
    with others in one round trip (:func:`shuhui.core.db.pipelined`), and settling what they
    returned. Every call with a valid key counts in its minute; only a call that will be
    answered counts in the month's quota, every other one in the month's refusals. The k-th of
    n calls in a window gets the counts it would have got counted alone, after the k-1 before
    it."""

    def __init__(self, pending: Sequence[Pending]) -> None:
        windows: dict[tuple[int, str, str, str], list[Pending]] = {}
        for p in pending:
            windows.setdefault(_windows(p.call), []).append(p)
        # Keys in one order, whoever writes: two writers (workers, or nodes sharing one
        # PostgreSQL) whose groups hold the same keys then lock their counter rows in the same
        # order, and neither waits on a row the other holds while holding one it wants.
        self.windows = sorted(windows.items(), key=lambda window: window[0])

    def statements(self) -> list[tuple[Executable, dict[str, Any]]]:
        statements: list[tuple[Executable, dict[str, Any]]] = []
        for (key_id, minute, month, refused), counted in self.windows:
            answers = sum(1 for p in counted if p.verdict.reason is None)
            params = {
                "key": key_id,
                "minute": minute,
                "month": month,
                "refused": refused,
                "calls": len(counted),
                "answers": answers,
                "refusals": len(counted) - answers,
            }
            statements.append((COUNT_CALLS, params))
        return statements

    def settle(self, db: Session, results: Sequence[Sequence[tuple[Any, ...]]]) -> None:
        """Decides each call's limits from what :meth:`statements` returned, in order; the
        writes that follow (answers given back, old minutes cleared) wait for the commit in a
        transaction that defers its writes."""
        # Answers moved to the refusals by a window of this key and month before: a later
        # window's statement, sent before they were, returned the month without them.
        moved: dict[tuple[int, str], int] = {}
        for ((key_id, minute, month, refused), counted), rows in zip(
            self.windows, results, strict=True
        ):
            n = len(counted)
            answers = sum(1 for p in counted if p.verdict.reason is None)
            totals = {str(window): int(total) for window, total in rows}
            carried = moved.get((key_id, month), 0)
            totals[month], totals[refused] = totals[month] - carried, totals[refused] + carried
            before_minute = totals[minute] - n
            if before_minute == 0:
                # The key's first calls this minute clear its minute windows before the last
                # hour, so the table holds about an hour of them per key (the month's stay).
                local = counted[0].call.now.astimezone(LOCAL)
                earlier = f"m:{local - timedelta(hours=1):%Y%m%d%H%M}"
                execute_or_defer(db, OLD_MINUTES, {"key": key_id, "before": earlier})
            answered, refusals = totals[month] - answers, totals[refused] - (n - answers)
            for k, p in enumerate(counted, 1):
                c = p.call
                # Assigned afresh: a group that failed is recorded again call by call.
                c.limited = _over_limits(c, before_minute + k, answered)
                c.spent = p.verdict.reason is None and c.limited is None
                if c.spent:
                    answered += 1
                else:
                    refusals += 1
                assert c.limits is not None
                c.limits = replace(
                    c.limits,
                    quota_remaining=max(0, c.limits.quota_limit - answered),
                    quota_used=answered,
                    refused=refusals,
                )
            unspent = answers - sum(1 for p in counted if p.call.spent)
            if unspent:
                moved[key_id, month] = carried + unspent
                params = {"key": key_id, "month": month, "refused": refused, "n": unspent}
                execute_or_defer(db, UNSPEND, params)


def _over_limits(c: CallState, minute: int, answered: int) -> Refusal | None:
    """Checks a call, the ``minute``-th of its key this minute, ``answered`` calls of the month
    answered before it, against the key's rate limit and monthly quota, and keeps what is left
    of them with the call. Once the quota is spent, every call is refused for it."""
    assert c.key is not None
    limit = max((g.rate_per_minute for g in c.held), default=DEFAULT_RATE_PER_MINUTE)
    quota = max((g.monthly_quota for g in c.held), default=DEFAULT_MONTHLY_QUOTA)
    local = c.now.astimezone(LOCAL)
    reset = 60 - local.second
    limits = Limits(limit, max(0, limit - minute), reset, quota, max(0, quota - answered))
    refusal: Refusal | None = None
    if minute > limit:
        limits, refusal = replace(limits, retry_after=reset), Refusal.RATE_LIMITED
    elif answered >= quota:
        first = (local.replace(day=1) + timedelta(days=32)).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        retry = int((first - local).total_seconds()) + 1
        limits, refusal = replace(limits, retry_after=retry), Refusal.QUOTA_EXHAUSTED
    c.limits = limits
    return refusal


def unspend(db: Session, pending: Sequence[Pending], outcomes: list[Outcome]) -> None:
    """Gives back the quota of calls counted as answers that were refused in the end (the
    subject's last use of an authorisation went to another call meanwhile)."""
    for p, outcome in zip(pending, outcomes, strict=True):
        if p.call.spent and outcome.problem is not None:
            key_id, _minute, month, refused = _windows(p.call)
            params = {"key": key_id, "month": month, "refused": refused, "n": 1}
            execute_or_defer(db, UNSPEND, params)
            if outcome.limits is not None:
                limits = outcome.limits
                outcome.limits = replace(
                    limits,
                    quota_used=limits.quota_used - 1,
                    quota_remaining=limits.quota_remaining + 1,
                    refused=limits.refused + 1,
                )
