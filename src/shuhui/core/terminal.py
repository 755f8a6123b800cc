"""What every ``shuhui`` subcommand prints through: consoles that print ``:emoji:`` codes as
typed, escaped values, whole names in tables, a wide mode, and a suggestion when a name is
mistyped. A value, name or error put into a line with markup goes through ``escape``: a table
name or value like ``[/red]`` is printed, not obeyed (nor a crash).

Light on purpose: the commands import it at start, so it imports Rich and the standard library
only (``shuhui --help`` must not wait for pydantic, SQLAlchemy, DuckDB or Arrow).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

__all__ = ["escape", "locale", "name_column", "new_console", "print_table", "say", "unknown_name"]


def new_console(*, stderr: bool = False) -> Console:
    """A command's console. Markup stays on for the command's own colours (every value put in
    it goes through ``escape``); emoji codes are off, so a value like ``:cn:`` or ``:smile:``
    is printed as typed, not turned into a picture."""
    return Console(stderr=stderr, emoji=False)


def locale() -> str:
    """The command's language: ``SHUHUI_DEFAULT_LOCALE`` (zh-CN unless set to en).

    Read only when a message needs it, so the settings (pydantic) load on that path alone."""
    from shuhui.core.settings import get_settings

    return get_settings().default_locale


def say(zh: str, en: str) -> str:
    """One message in the command's language."""
    return en if locale() == "en" else zh


def unknown_name(kind_zh: str, kind_en: str, name: str, known: Iterable[str]) -> str:
    """``没有名为 X 的表。您是不是要找：Y？`` — the closest known names, if any are close.

    The result is escaped for Rich: a name typed as ``[/red]`` is shown, not obeyed."""
    choices = sorted(set(known))
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    if locale() == "en":
        text = f"No {kind_en} named {name}."
        if close:
            text += f" Did you mean: {', '.join(close)}?"
    else:
        text = f"没有名为 {name} 的{kind_zh}。"
        if close:
            text += f"您是不是要找：{'、'.join(close)}？"
    return escape(text)


def name_column(table: Table, header: str) -> None:
    """A column holding names people type back (a table, a rule code): never wrapped or cut
    while another column can give way (Rich narrows the wrapping columns first)."""
    table.add_column(header, no_wrap=True, overflow="fold")


def print_table(console: Console, table: Table, *, wide: bool = False) -> None:
    """Prints ``table``; ``wide`` lays it out at its natural width, wider than the terminal if
    need be (for a pager or a file), so no column wraps."""
    if not wide:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update_width(100_000), table).maximum
    # ``Console.print(width=…)`` never goes past the console's width: a console of its own, on
    # the same stream, does.
    Console(file=console.file, width=max(natural, console.width), emoji=False).print(table)
