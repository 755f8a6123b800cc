"""The city's industrial-internet platforms and their solutions, as content.

``content/<city>/enterprise/platforms.yaml`` lists the platforms of the "one super, many
specialised" (一超多专) system with their solutions; ``capabilities.yaml`` the fixed vocabulary of
capabilities both name; ``enablement.yaml`` the yearly targets for newly enabled enterprises and
the real city's number of enterprises they are scaled by. :func:`load` reads and checks the
first two whole — an unknown capability, industry section or need kind, a duplicate code, a
price band upside down — and refuses the file naming the item and the field, so a half-valid
catalogue never goes live. Matching needs to solutions (another module) and the console read the
catalogue through this module only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final

from shuhui.core.content import ContentError, Item, Items, load_items
from shuhui.standard.vocabularies import INDUSTRY_SECTIONS

PLATFORMS_FILE: Final = Path("enterprise") / "platforms.yaml"
CAPABILITIES_FILE: Final = Path("enterprise") / "capabilities.yaml"
ENABLEMENT_FILE: Final = Path("enterprise") / "enablement.yaml"
PLATFORMS_KIND: Final = "enterprise-platforms"
CAPABILITIES_KIND: Final = "enterprise-capabilities"
ENABLEMENT_KIND: Final = "enterprise-enablement"

# Fixed: the digital-level questionnaire's pre-fill keys on these codes too, so a city may word
# them its own way (capabilities.yaml) but not add or drop one.
CAPABILITY_CODES: Final = (
    "cloud", "design", "planning", "mes", "equipment", "quality", "energy", "safety", "supply",
    "sales", "finance", "hr", "data", "security", "talent",
)  # fmt: skip
# The needs a solution may answer: the kinds of content/<city>/enterprise/needs.yaml.
NEED_KINDS: Final = ("financing", "talent", "digital", "land", "market")
KINDS: Final = ("super", "specialised")
SECTIONS: Final = frozenset(code for code, _ in INDUSTRY_SECTIONS)


@dataclass(frozen=True)
class Solution:
    code: str
    platform: str
    name_zh: str
    name_en: str
    problem: str
    industries: tuple[str, ...]
    capabilities: tuple[str, ...]
    need_kinds: tuple[str, ...]
    price_band: str
    price_min_fen: int
    price_max_fen: int
    customers: tuple[str, ...]


@dataclass(frozen=True)
class Platform:
    code: str
    name_zh: str
    name_en: str
    kind: str  # "super" | "specialised"
    industries: tuple[str, ...]
    field: str
    operator: str
    capabilities: tuple[str, ...]
    solutions: tuple[Solution, ...]
    valid_from: date
    reference: str


@dataclass(frozen=True)
class PlatformCatalogue:
    platforms: tuple[Platform, ...]
    capabilities: dict[str, str]  # code -> zh

    def platform(self, code: str) -> Platform | None:
        return next((p for p in self.platforms if p.code == code), None)

    def solutions(self) -> tuple[Solution, ...]:
        return tuple(s for p in self.platforms for s in p.solutions)

    def solution(self, code: str) -> Solution | None:
        return next((s for s in self.solutions() if s.code == code), None)


@cache
def load(content: Path) -> PlatformCatalogue:
    """The catalogue of the city whose content folder is ``content`` (settings.city_content)."""
    capabilities = load_items(content / CAPABILITIES_FILE, CAPABILITIES_KIND)
    platforms = load_items(content / PLATFORMS_FILE, PLATFORMS_KIND)
    return build(capabilities, platforms)


def build(capabilities: Items, platforms: Items) -> PlatformCatalogue:
    """The catalogue from the two files as read, checked whole."""
    vocabulary = _capabilities(capabilities)
    solution_codes: dict[str, str] = {}
    found: list[Platform] = []
    for item in platforms:
        platform = _platform(platforms.path, item, vocabulary)
        for solution in platform.solutions:
            where = f"{item.code}.solutions.{solution.code}.code"
            if solution.code in solution_codes or solution.code in platforms.by_code:
                raise ContentError(platforms.path, where, "重复的方案编码")
            solution_codes[solution.code] = item.code
        found.append(platform)
    return PlatformCatalogue(tuple(found), vocabulary)


def _capabilities(items: Items) -> dict[str, str]:
    codes = set(items.by_code)
    unknown = sorted(codes - set(CAPABILITY_CODES))
    if unknown:
        raise ContentError(items.path, unknown[0], "不是固定的能力编码之一")
    missing = [c for c in CAPABILITY_CODES if c not in codes]
    if missing:
        raise ContentError(items.path, "items", f"缺少能力编码 {'、'.join(missing)}")
    return {code: items.by_code[code].name_zh for code in CAPABILITY_CODES}


def _text(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(path, where, "须为非空文字")
    return value.strip()


def _codes(
    path: Path, where: str, value: Any, allowed: frozenset[str] | tuple[str, ...], what: str
) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ContentError(path, where, f"须为非空列表（{what}）")
    out: list[str] = []
    for i, code in enumerate(value):
        if not isinstance(code, str) or code not in allowed:
            raise ContentError(path, f"{where}[{i}]", f"未知的{what}：{code!r}")
        if code in out:
            raise ContentError(path, f"{where}[{i}]", f"重复的{what}：{code}")
        out.append(code)
    return tuple(out)


def _fen(path: Path, where: str, value: Any) -> int:
    # bool is an int in Python, and YAML reads yes/no as one: neither is a price.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ContentError(path, where, "须为不小于0的整数（分）")
    return value


def _platform(path: Path, item: Item, vocabulary: dict[str, str]) -> Platform:
    attrs = item.attrs
    where = item.code
    kind = attrs.get("kind")
    if kind not in KINDS:
        raise ContentError(path, f"{where}.kind", f"须为 {'、'.join(KINDS)} 之一")
    capabilities = frozenset(vocabulary)
    raw = attrs.get("solutions")
    if not isinstance(raw, list) or not raw:
        raise ContentError(path, f"{where}.solutions", "至少一个解决方案")
    return Platform(
        code=item.code,
        name_zh=item.name_zh,
        name_en=item.name_en,
        kind=str(kind),
        industries=_codes(
            path, f"{where}.industries", attrs.get("industries"), SECTIONS, "行业门类"
        ),
        field=_text(path, f"{where}.field", attrs.get("field")),
        operator=_text(path, f"{where}.operator", attrs.get("operator")),
        capabilities=_codes(
            path, f"{where}.capabilities", attrs.get("capabilities"), capabilities, "能力编码"
        ),
        solutions=tuple(
            _solution(path, f"{where}.solutions[{i}]", item.code, entry, capabilities)
            for i, entry in enumerate(raw)
        ),
        valid_from=item.valid_from,
        reference=item.reference,
    )


def _solution(
    path: Path, where: str, platform: str, raw: Any, capabilities: frozenset[str]
) -> Solution:
    if not isinstance(raw, dict):
        raise ContentError(path, where, "须为映射")
    code = raw.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 64 or " " in code:
        raise ContentError(path, f"{where}.code", "须为1-64个字符、不含空格的编码")
    where = f"{platform}.solutions.{code}"
    name = raw.get("name")
    if not isinstance(name, dict):
        raise ContentError(path, f"{where}.name", "须为 {zh: …, en: …}")
    low = _fen(path, f"{where}.price_min_fen", raw.get("price_min_fen"))
    high = _fen(path, f"{where}.price_max_fen", raw.get("price_max_fen"))
    if high < low:
        raise ContentError(path, f"{where}.price_max_fen", "不得低于最低价格")
    customers = raw.get("customers")
    if not isinstance(customers, list) or not customers:
        raise ContentError(path, f"{where}.customers", "至少一个参考客户")
    return Solution(
        code=code,
        platform=platform,
        name_zh=_text(path, f"{where}.name.zh", name.get("zh")),
        name_en=_text(path, f"{where}.name.en", name.get("en")),
        problem=_text(path, f"{where}.problem", raw.get("problem")),
        industries=_codes(path, f"{where}.industries", raw.get("industries"), SECTIONS, "行业门类"),
        capabilities=_codes(
            path, f"{where}.capabilities", raw.get("capabilities"), capabilities, "能力编码"
        ),
        need_kinds=_codes(
            path, f"{where}.need_kinds", raw.get("need_kinds"), NEED_KINDS, "诉求类型"
        ),
        price_band=_text(path, f"{where}.price_band", raw.get("price_band")),
        price_min_fen=low,
        price_max_fen=high,
        customers=tuple(_text(path, f"{where}.customers[{i}]", c) for i, c in enumerate(customers)),
    )


def browse(
    catalogue: PlatformCatalogue,
    *,
    industry: str | None = None,
    capability: str | None = None,
    kind: str | None = None,
) -> tuple[Platform, ...]:
    """The platforms a person filtering by industry section, capability and kind is shown, each
    with only its solutions that fit: a solution fits an industry or a capability it names, and
    a platform without a fitting solution is left out. No filter: every platform, whole."""
    shown: list[Platform] = []
    for platform in catalogue.platforms:
        if kind is not None and platform.kind != kind:
            continue
        fitting = tuple(
            s
            for s in platform.solutions
            if (industry is None or industry in s.industries)
            and (capability is None or capability in s.capabilities)
        )
        if fitting:
            shown.append(replace(platform, solutions=fitting))
    return tuple(shown)


# --- the yearly targets ------------------------------------------------------------------------


@dataclass(frozen=True)
class YearTarget:
    """A year's target for newly enabled enterprises in the real city."""

    year: int
    newly_enabled: int
    inferred: bool
    basis: str
    reference: str


@dataclass(frozen=True)
class PlatformFigure:
    """A figure a platform reports of itself (COSMOPlat's linked enterprises): shown, not
    counted."""

    platform: str
    name_zh: str
    name_en: str
    value: int
    year: int
    reference: str


@dataclass(frozen=True)
class EnablementPlan:
    real_enterprises: int  # the real city's enterprises in business, the targets' scale
    real_year: int
    real_reference: str
    targets: tuple[YearTarget, ...]
    figures: tuple[PlatformFigure, ...]

    def target(self, year: int) -> YearTarget | None:
        return next((t for t in self.targets if t.year == year), None)


def _count(path: Path, where: str, value: Any, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ContentError(path, where, f"须为不小于{low}的整数")
    return value


@cache
def enablement_plan(content: Path) -> EnablementPlan:
    """The yearly targets and the real city's size, checked whole; the catalogue is checked
    too, since a figure names a platform."""
    items = load_items(content / ENABLEMENT_FILE, ENABLEMENT_KIND)
    catalogue = load(content)
    path = items.path
    scale: Item | None = None
    targets: list[YearTarget] = []
    figures: list[PlatformFigure] = []
    for item in items:
        kind, attrs = item.attrs.get("type"), item.attrs
        year = _count(path, f"{item.code}.year", attrs.get("year"), 2000)
        if kind == "scale":
            if scale is not None:
                raise ContentError(path, f"{item.code}.type", "只能有一项 scale")
            _count(path, f"{item.code}.enterprises", attrs.get("enterprises"), 1)
            scale = item
        elif kind == "target":
            if any(t.year == year for t in targets):
                raise ContentError(path, f"{item.code}.year", "同一年份只能有一个目标")
            targets.append(
                YearTarget(
                    year,
                    _count(path, f"{item.code}.newly_enabled", attrs.get("newly_enabled")),
                    bool(attrs.get("inferred", False)),
                    _text(path, f"{item.code}.basis", attrs.get("basis")),
                    item.reference,
                )
            )
        elif kind == "figure":
            platform = catalogue.platform(str(attrs.get("platform")))
            if platform is None:
                raise ContentError(path, f"{item.code}.platform", "不是平台目录中的平台")
            figures.append(
                PlatformFigure(
                    platform.code,
                    item.name_zh,
                    item.name_en,
                    _count(path, f"{item.code}.value", attrs.get("value")),
                    year,
                    item.reference,
                )
            )
        else:
            raise ContentError(path, f"{item.code}.type", "须为 scale、target、figure 之一")
    if scale is None:
        raise ContentError(path, "items", "缺少 scale（全市实有企业数）")
    return EnablementPlan(
        int(scale.attrs["enterprises"]),
        int(scale.attrs["year"]),
        scale.reference,
        tuple(sorted(targets, key=lambda t: t.year)),
        tuple(figures),
    )
