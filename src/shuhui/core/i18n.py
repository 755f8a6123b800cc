"""Interface language: Chinese (zh-CN) first, English available.

Strings stand in the code and templates as pairs, ``t("数据目录", "Catalog")``, so the Chinese is
what a reader sees and no string can lack its English.
"""

from __future__ import annotations

from typing import Literal

Locale = Literal["zh-CN", "en"]
LOCALES: tuple[Locale, ...] = ("zh-CN", "en")
LOCALE_COOKIE = "shuhui_lang"


def parse_locale(value: str | None) -> Locale | None:
    if not value:
        return None
    value = value.strip().lower()
    if value in ("zh", "zh-cn", "zh_cn", "zh-hans"):
        return "zh-CN"
    if value in ("en", "en-us", "en-gb", "en_us"):
        return "en"
    return None


def translate(locale: str, zh: str, en: str) -> str:
    return en if locale == "en" else zh
