"""Interface language: Chinese (zh-CN) first, English available.

Strings stand in the code and templates as pairs, ``t("数据目录", "Catalog")``, so the Chinese is
what a reader sees and no string can lack its English.

A message made far from any request (a refusal's reason, an identifier check, a seal's verdict)
is a :class:`Text`: a ``str`` holding the Chinese, carrying its English as ``.en``. Whatever
shows it picks the language where the request is known: pages through the template
environment's ``finalize`` (:func:`shown`, reading the locale :func:`rendering_in` set), problem
bodies through :func:`said`. Stored or compared as a plain string it is the Chinese.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

Locale = Literal["zh-CN", "en"]
LOCALES: tuple[Locale, ...] = ("zh-CN", "en")
LOCALE_COOKIE = "shuhui_lang"

# The locale a page is being rendered in (set by core.http.render around the rendering).
_RENDERING: ContextVar[str] = ContextVar("rendering_locale", default="zh-CN")


class Text(str):
    """A message for people: its value is the Chinese, ``en`` the English."""

    en: str

    def __new__(cls, zh: str, en: str) -> Text:
        made = super().__new__(cls, zh)
        made.en = en
        return made

    def __reduce__(self) -> tuple[type[Text], tuple[str, str]]:
        return (Text, (str(self), self.en))


def join_texts(sep_zh: str, sep_en: str, parts: list[str]) -> Text:
    """Messages joined, each language with its own separator ("；" and "; ")."""
    return Text(sep_zh.join(parts), sep_en.join(english(p) for p in parts))


def codes(names: Iterable[str]) -> str:
    """Technical names (API values, fields) in a message, each in backquotes as code: a problem
    body has no ``<code>``, and its reader still needs the exact spelling."""
    return "、".join(f"`{n}`" for n in names)


def english(text: str) -> str:
    return text.en if isinstance(text, Text) else text


def said(locale: str, text: str) -> str:
    """``text`` in ``locale``: a :class:`Text`'s English in English, else the text itself."""
    return text.en if locale == "en" and isinstance(text, Text) else str(text)


def parse_locale(value: str | None) -> Locale | None:
    if not value:
        return None
    value = value.strip().lower()
    if value in ("zh", "zh-cn", "zh_cn", "zh-hans"):
        return "zh-CN"
    if value in ("en", "en-us", "en-gb", "en_us"):
        return "en"
    return None


def translate(locale: str, zh: str, en: str | None = None) -> str:
    """The pair in ``locale``; given one :class:`Text` alone, its own English in English."""
    if en is None:
        return said(locale, zh)
    return en if locale == "en" else zh


@contextmanager
def rendering_in(locale: str) -> Iterator[None]:
    token = _RENDERING.set(locale)
    try:
        yield
    finally:
        _RENDERING.reset(token)


def shown(value: object) -> object:
    """The template environment's ``finalize``: a :class:`Text` in the page's language."""
    if isinstance(value, Text):
        return said(_RENDERING.get(), value)
    return value
