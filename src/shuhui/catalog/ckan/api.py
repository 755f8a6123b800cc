"""Calling an action: :func:`call` takes the parameters as CKAN receives them and returns the
status and the encoded envelope, CKAN's error envelope (also a problem-details document) on
failure."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final

from shuhui.catalog.ckan import actions, datastore
from shuhui.catalog.ckan.actions import ACTIONS, Raw
from shuhui.catalog.ckan.context import Context
from shuhui.catalog.ckan.dicts import encode
from shuhui.catalog.ckan.params import API_PATH, ERROR_TYPES, parse
from shuhui.core.errors import Problem, problem_body

# Each action module adds its actions to ACTIONS as it is imported; these are all of them.
ACTION_MODULES: Final = (actions, datastore)


def help_url(ctx: Context, name: str) -> str:
    return f"{ctx.base_url}{API_PATH}help_show?name={name}"


def error(
    ctx: Context, problem: Problem, name: str, *, instance: str | None = None
) -> tuple[int, bytes]:
    """CKAN's error envelope, which is also a problem-details document."""
    kind, status = ERROR_TYPES.get(problem.slug, ("Bad Request", problem.http_status))
    message = problem.detail or (
        "；".join(f"`{e.field}`：{e.reason}" for e in problem.errors) or kind
    )
    details: dict[str, Any] = {"__type": kind, "message": message}
    for e in problem.errors:
        details.setdefault(e.field, []).append(e.reason)
    body = {
        "help": help_url(ctx, name),
        "success": False,
        "error": details,
        **problem_body(
            problem.type,
            status=status,
            detail=message,
            errors=problem.errors,
            instance=instance or ctx.path,
            request_id=ctx.request_id,
        ),
    }
    return status, encode(body)


def bad_request(ctx: Context, name: str, message: str) -> tuple[int, bytes]:
    return error(ctx, Problem("malformed-request", detail=f"Bad request - {message}"), name)


def unknown_action(ctx: Context, name: str) -> tuple[int, bytes]:
    problem = Problem("http-error", detail=f"Bad request - Action name not known: {name}")
    return error(ctx, problem, name)


def call(
    ctx: Context, name: str, raw: dict[str, Any], answer_key: Hashable | None = None
) -> tuple[int, bytes]:
    """Runs one action; returns the HTTP status and the encoded envelope. With ``answer_key``
    (what identifies the request: its base URL and query string), an answer that may be served
    again is kept under it (:meth:`PackageCache.answer`)."""
    found = ACTIONS.get(name)
    if found is None:
        return unknown_action(ctx, name)
    try:
        result = found.run(ctx, parse(found.params, raw))
    except Problem as problem:
        return error(ctx, problem, name)
    head = b'{"help":' + encode(help_url(ctx, name)) + b',"success":true,"result":'
    payload = result.body if isinstance(result, Raw) else encode(result)
    body = head + payload + b"}"
    if answer_key is not None and isinstance(result, Raw) and result.revision is not None:
        ctx.cache.keep_answer(answer_key, body, result.revision)
    return 200, body
