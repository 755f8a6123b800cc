"""Administrative divisions (GB/T 2260) that the platform knows about.

Only Qingdao's ten county-level divisions are shipped: the platform serves one city, and the
full national list changes every year while identifiers issued under old codes stay valid, so
a national table would be both stale and unnecessary for validation. 黄岛区 is the district
that hosts the 西海岸新区 (West Coast New Area); the new area is not a separate division code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

QINGDAO_CITY_CODE = "370200"

# Province-level codes of GB/T 2260 (first two digits of any division code). 83 is not a
# province: it is the prefix the Ministry of Public Security uses on residence permits for
# Taiwan residents, which share the citizen-id format and must therefore validate.
PROVINCE_CODES: frozenset[str] = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82", "83",
    }
)  # fmt: skip

_DATA_PACKAGE = "shuhui.core.data"
_QINGDAO_CSV = "regions_qingdao.csv"
_KINDS = frozenset({"district", "county_city"})


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    name_en: str
    kind: str


QINGDAO_CITY = Region(QINGDAO_CITY_CODE, "青岛市", "Qingdao", "city")


@cache
def qingdao_districts() -> tuple[Region, ...]:
    """The ten county-level divisions of Qingdao, in code order."""
    text = resources.files(_DATA_PACKAGE).joinpath(_QINGDAO_CSV).read_text(encoding="utf-8")
    regions = tuple(
        Region(
            code=row["code"].strip(),
            name=row["name"].strip(),
            name_en=row["name_en"].strip(),
            kind=row["kind"].strip(),
        )
        for row in csv.DictReader(io.StringIO(text))
    )
    for region in regions:
        # A typo in the shipped data would otherwise surface much later as a confusing
        # validation failure of generated identifiers.
        if region.kind not in _KINDS or not (region.code.isascii() and region.code.isdigit()):
            raise ValueError(f"bad row in {_QINGDAO_CSV}: {region!r}")
    return tuple(sorted(regions, key=lambda r: r.code))


def region_by_code(code: str) -> Region | None:
    if code == QINGDAO_CITY_CODE:
        return QINGDAO_CITY
    for region in qingdao_districts():
        if region.code == code:
            return region
    return None
