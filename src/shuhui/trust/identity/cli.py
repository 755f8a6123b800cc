"""``shuhui users …``: accounts at the server, so an install gets its first admin without the
demo (``shuhui users add admin --name 系统管理员 --role admin``), and an admin locked out of
the web gets back in.

Passwords are never taken from the command line (where ``ps`` and the shell's history would
keep them): a hidden prompt asks twice, or ``--password-stdin`` reads one line for scripts.
Every change is recorded in the audit ledger with ``cli:<login name>`` as the actor.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table

from shuhui.core.terminal import escape, new_console
from shuhui.trust.identity.roles import ROLE_TITLES, Role

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shuhui.core.errors import Problem
    from shuhui.trust.identity.models import User

app = typer.Typer(
    help="Accounts (账户): add, set a password, change roles, disable or enable, list.",
    no_args_is_help=True,
)
console = new_console(stderr=True)
T = TypeVar("T")

RoleOption = Annotated[
    list[Role],
    typer.Option("--role", "-r", help="a role; repeat for several (admin, officer, citizen…)"),
]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="read the password from the first line of stdin"),
]
Temporary = Annotated[
    bool,
    typer.Option("--temporary", help="the person must change this password at the next login"),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Says ``message`` in red (escaped: it may hold a name or value as typed) and exits."""
    console.print(f"[red]{escape(message)}[/red]")
    return typer.Exit(code)


def _problem_text(exc: Problem) -> str:
    reasons = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors)
    return f"{exc.detail or exc.type.title}" + (f" ({reasons})" if reasons else "")


def _read_password(username: str, from_stdin: bool) -> str:
    """The new password, from a hidden prompt (asked twice) or stdin, checked by the rules the
    web applies; a password that breaks one is refused with the rule, in Chinese."""
    from shuhui.trust.identity.schemas import password_strength, refuse_username_in

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("新密码 New password", hide_input=True, confirmation_prompt=True)
    try:
        password_strength(password)
        refuse_username_in(password, username)
    except ValueError as exc:
        raise _fail(f"密码不符合要求：{exc}", 2) from None
    return password


@contextmanager
def _database(*, ready: bool = False) -> Iterator[Session]:
    """One transaction on the configured database; a refusal is printed, not thrown."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.errors import Problem
    from shuhui.core.settings import get_settings
    from shuhui.trust.ledger.cli import cli_actor
    from shuhui.trust.ledger.setup import ready_database

    settings = get_settings()
    if ready:
        try:
            ready_database(settings, cli_actor())
        except ValueError as exc:
            raise _fail(str(exc), 2) from None
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            yield db
    except Problem as exc:
        raise _fail(_problem_text(exc)) from None
    finally:
        engine.dispose()


def _on_user(username: str, act: Callable[[Session, User], T]) -> T:
    from shuhui.trust.identity import service

    with _database() as db:
        user = service.user_or_404(db, username)
        return act(db, user)


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="login name: lower-case letters first")],
    role: RoleOption,
    name: Annotated[str, typer.Option("--name", "-n", help="the name shown, e.g. 系统管理员")],
    department: Annotated[str | None, typer.Option(help="the organisation")] = None,
    citizen_id: Annotated[str | None, typer.Option(help="a person's citizen ID")] = None,
    credit_code: Annotated[str | None, typer.Option(help="an enterprise's credit code")] = None,
    password_stdin: PasswordStdin = False,
    temporary: Temporary = False,
) -> None:
    """Create an account (the database is migrated first if need be). A citizen ID or credit
    code given is requested, not bound: an admin or identity reviewer approves it on the web."""
    from pydantic import ValidationError

    from shuhui.core.forms import field_errors
    from shuhui.trust.identity import service
    from shuhui.trust.identity.schemas import UserCreate
    from shuhui.trust.ledger.cli import cli_actor

    password = _read_password(username, password_stdin)
    try:
        data = UserCreate(
            username=username,
            display_name=name,
            password=password,
            roles=role,
            department=department,
            citizen_id=citizen_id,
            credit_code=credit_code,
        )
    except ValidationError as exc:
        reasons = "; ".join(f"{e.field}: {e.reason}" for e in field_errors(exc.errors()))
        raise _fail(f"输入有误：{reasons}", 2) from None
    with _database(ready=True) as db:
        user = service.create_user(db, data, actor=cli_actor())
        if temporary:
            service.set_password(db, user, password, actor=cli_actor(), temporary=True)
    console.print(
        "[green]"
        + escape(f"已创建账户 account created: {username} ({', '.join(role)})")
        + "[/green]"
    )
    if data.citizen_id or data.credit_code:
        console.print(
            "[yellow]身份绑定待批准 binding requested: 须由系统管理员或身份核验员在 "
            "/admin/bindings 批准后生效 (an admin or identity reviewer approves it)[/yellow]"
        )


@app.command("passwd")
def passwd(
    username: Annotated[str, typer.Argument(help="the account")],
    password_stdin: PasswordStdin = False,
    temporary: Temporary = False,
) -> None:
    """Set an account's password; its sessions end and a lockout is lifted."""
    from shuhui.trust.identity import service
    from shuhui.trust.ledger.cli import cli_actor

    password = _read_password(username, password_stdin)
    _on_user(
        username,
        lambda db, user: service.set_password(
            db, user, password, actor=cli_actor(), temporary=temporary
        ),
    )
    console.print("[green]" + escape(f"已设置密码 password set: {username}") + "[/green]")


@app.command("roles")
def roles(username: Annotated[str, typer.Argument(help="the account")], role: RoleOption) -> None:
    """Replace an account's roles with those given."""
    from shuhui.trust.identity import service
    from shuhui.trust.ledger.cli import cli_actor

    _on_user(username, lambda db, user: service.set_roles(db, user, role, actor=cli_actor()))
    console.print(
        "[green]" + escape(f"已更新角色 roles set: {username}: {', '.join(role)}") + "[/green]"
    )


@app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="the account")],
    reason: Annotated[str, typer.Option(help="why, for the audit ledger")] = "",
) -> None:
    """Disable an account: it cannot log in, and its sessions end now."""
    from shuhui.trust.identity import service
    from shuhui.trust.ledger.cli import cli_actor

    _on_user(
        username,
        lambda db, user: service.set_active(db, user, False, actor=cli_actor(), reason=reason),
    )
    console.print("[green]" + escape(f"已停用账户 account disabled: {username}") + "[/green]")


@app.command("enable")
def enable(username: Annotated[str, typer.Argument(help="the account")]) -> None:
    """Enable a disabled account again."""
    from shuhui.trust.identity import service
    from shuhui.trust.ledger.cli import cli_actor

    _on_user(username, lambda db, user: service.set_active(db, user, True, actor=cli_actor()))
    console.print("[green]" + escape(f"已启用账户 account enabled: {username}") + "[/green]")


@app.command("list")
def list_accounts() -> None:
    """The accounts, their roles and state."""
    from shuhui.trust.identity import service

    with _database() as db:
        locks = service.account_locks(db)
        rows = [
            (
                u.username,
                u.display_name,
                "、".join(ROLE_TITLES[r][0] for r in sorted(u.role_set)),
                ("启用" if u.is_active else "停用")
                + (" 锁定" if u.username in locks else "")
                + (" 待改密" if u.must_change_password else ""),
            )
            for u in service.list_users(db)
        ]
    table = Table(title="账户 Accounts")
    for column in ("用户名", "名称", "角色", "状态"):
        table.add_column(column, no_wrap=column == "用户名")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    new_console().print(table)
