"""Benchmark: the OCR pre-check of materials — time per page and field accuracy.

    .venv/bin/python bench/bench_precheck.py [--n 10] [--seed 18] [--kinds id-card,...]
        [--threads 2] [--show-errors 3]

For each material kind, renders ``--n`` clean documents from city-like values
(``shuhui.approval.samples``) and ``--n`` spoiled ones (in turn: skewed, blurred, noisy, faded,
JPEG at quality 30, a phone photo — all of these at once, lightly —, and cropped by 4 % of a
side), encodes them as an upload would come (PNG clean, JPEG spoiled) and runs the whole
pre-check (``precheck.precheck``: sniffing, decoding, OCR, extraction, checks) on each.

Reports, per kind and overall: wall and CPU time per page (median, p90, max) against the target
of < 2 s for an A4 page; field accuracy (exact match of every field's value with what was
rendered) on clean documents (target ≥ 98 %) and spoiled ones (≥ 90 %), by degradation; every
field that was read wrong or not at all, with examples; clean documents that raised an issue
(false alarms). A page cut off by a quarter (``crop`` at strength 1) is reported apart: its
lost fields cannot be read, so what counts there is that each is flagged as missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from PIL.Image import Image

from shuhui.approval import samples
from shuhui.approval.precheck import KINDS, ocr, precheck

A4_KINDS = ("business-licence", "diploma", "labour-contract", "site-plan")
SPOILS = ("skew", "blur", "noise", "contrast", "jpeg", "photo", "crop")
TODAY = date(2025, 6, 16)


@dataclass
class Tally:
    fields: int = 0
    right: int = 0
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[tuple[str, str | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    false_alarms: int = 0
    documents: int = 0

    def accuracy(self) -> float:
        return self.right / self.fields if self.fields else 0.0


def spoil(image: Image, how: str, seed: int) -> Image:
    if how == "photo":
        return samples.photo(image, seed=seed)
    if how == "crop":
        side = ("bottom", "right", "top", "left")[seed % 4]
        return samples.degrade(image, "crop", seed=seed, strength=0.16, side=side)
    return samples.degrade(image, how, seed=seed)  # type: ignore[arg-type]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(content: bytes, kind: str) -> tuple[dict[str, str], list[tuple[str, str]], float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = precheck(content, kind, today=TODAY)
    return (
        result.fields,
        [(i.field, str(i.reason)) for i in result.issues],
        time.perf_counter() - wall,
        cpu_seconds() - cpu,
    )


def score(tally: Tally, kind: str, expected: dict[str, str], read: dict[str, str]) -> None:
    tally.documents += 1
    for name, value in expected.items():
        tally.fields += 1
        got = read.get(name)
        if got == value:
            tally.right += 1
        else:
            key = f"{kind} {name}"
            tally.errors[key] += 1
            if len(tally.examples[key]) < 5:
                tally.examples[key].append((value, got))


def dump(
    folder: Path | None, name: str, content: bytes, expected: dict[str, str], read: dict[str, str]
) -> None:
    """A page read wrong, with what it should have read, to look at."""
    if folder is None or all(read.get(k) == v for k, v in expected.items()):
        return
    folder.mkdir(parents=True, exist_ok=True)
    suffix = "png" if content.startswith(b"\x89PNG") else "jpg"
    (folder / f"{name}.{suffix}").write_bytes(content)
    wrong = {k: [v, read.get(k)] for k, v in expected.items() if read.get(k) != v}
    (folder / f"{name}.json").write_text(json.dumps(wrong, ensure_ascii=False), encoding="utf-8")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def times(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.2f} / {quantile(values, 0.9):.2f} / {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10, help="documents per kind, clean and spoiled")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads")
    parser.add_argument(
        "--detect-side", type=int, help=f"the detector's longer side (default {ocr.DETECT_SIDE})"
    )
    parser.add_argument("--show-errors", type=int, default=3, help="examples per wrong field")
    parser.add_argument("--dump", type=Path, help="write each page read wrong into this folder")
    args = parser.parse_args()
    if args.threads:
        os.environ["SHUHUI_OCR_THREADS"] = str(args.threads)
    if args.detect_side:
        ocr.DETECT_SIDE = args.detect_side  # read when the engine is made, below
    kinds = [k for k in args.kinds.split(",") if k]
    rng = random.Random(args.seed)
    ocr.REMEMBER = 0  # every page read, none answered from memory

    print(
        f"{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPU"
    )
    print(
        f"load average before: {os.getloadavg()[0]:.2f}; OCR threads: {ocr.threads()};"
        f" detector side: {ocr.DETECT_SIDE}"
    )
    warm = time.perf_counter()
    run(samples.png(samples.render(samples.sample("id-card", rng, today=TODAY))), "id-card")
    print(f"engine loaded and warmed in {time.perf_counter() - warm:.2f} s")

    clean: dict[str, Tally] = {k: Tally() for k in kinds}
    spoiled: dict[str, Tally] = {k: Tally() for k in kinds}
    by_spoil: dict[str, Tally] = {s: Tally() for s in SPOILS}
    cut = Tally()
    cut_flagged = cut_lost = 0
    began = time.perf_counter()
    for kind in kinds:
        for i in range(args.n):
            doc = samples.sample(kind, rng, today=TODAY)
            expected = doc.fields()
            page = samples.render(doc)
            read, issues, wall, cpu = run(samples.png(page), kind)
            dump(args.dump, f"{kind}-{i}-clean", samples.png(page), expected, read)
            score(clean[kind], kind, expected, read)
            clean[kind].wall.append(wall)
            clean[kind].cpu.append(cpu)
            clean[kind].false_alarms += bool(issues)
            if issues and clean[kind].false_alarms <= 3:
                print(f"  false alarm, clean {kind}: {issues}")

            how = SPOILS[i % len(SPOILS)]
            content = samples.jpeg(spoil(page, how, seed=i), quality=85)
            read, issues, wall, cpu = run(content, kind)
            dump(args.dump, f"{kind}-{i}-{how}", content, expected, read)
            score(spoiled[kind], kind, expected, read)
            score(by_spoil[how], kind, expected, read)
            spoiled[kind].wall.append(wall)
            spoiled[kind].cpu.append(cpu)

            if i % 3 == 0:  # a page cut off by a quarter: lost fields must be flagged
                content = samples.png(samples.degrade(page, "crop", seed=i, strength=1.0))
                read, issues, _, _ = run(content, kind)
                score(cut, kind, expected, read)
                flagged = {f for f, _ in issues}
                lost = [n for n in expected if n not in read]
                cut_lost += len(lost)
                cut_flagged += sum(n in flagged for n in lost)
        print(f"  {kind}: done at {time.perf_counter() - began:.0f} s", flush=True)

    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    print(
        "\n| kind | clean: wall median / p90 / max (s) | CPU median (s)"
        " | spoiled: wall median / p90 / max | clean accuracy | spoiled accuracy"
        " | clean with an issue |"
    )
    print("|---|---|---|---|---|---|---|")
    for kind in kinds:
        c, s = clean[kind], spoiled[kind]
        print(
            f"| {kind} | {times(c.wall)} | {statistics.median(c.cpu):.2f} | {times(s.wall)} |"
            f" {c.accuracy():.1%} ({c.right}/{c.fields})"
            f" | {s.accuracy():.1%} ({s.right}/{s.fields}) | {c.false_alarms}/{c.documents} |"
        )
    a4 = [w for k in kinds if k in A4_KINDS for w in clean[k].wall + spoiled[k].wall]
    a4_cpu = [w for k in kinds if k in A4_KINDS for w in clean[k].cpu + spoiled[k].cpu]
    total_clean = Tally(
        fields=sum(t.fields for t in clean.values()), right=sum(t.right for t in clean.values())
    )
    total_spoiled = Tally(
        fields=sum(t.fields for t in spoiled.values()),
        right=sum(t.right for t in spoiled.values()),
    )
    print(
        f"\nA4 page (licence, diploma, contract, site plan; clean and spoiled): wall median"
        f" {statistics.median(a4):.2f} s, p90 {quantile(a4, 0.9):.2f} s, max {max(a4):.2f} s;"
        f" CPU median {statistics.median(a4_cpu):.2f} s (target < 2 s)"
        if a4
        else ""
    )
    print(
        f"field accuracy: clean {total_clean.accuracy():.2%} ({total_clean.right}/"
        f"{total_clean.fields}, target ≥ 98 %), spoiled {total_spoiled.accuracy():.2%}"
        f" ({total_spoiled.right}/{total_spoiled.fields}, target ≥ 90 %)"
    )
    print(
        "spoiled, by degradation: "
        + "; ".join(
            f"{how} {t.accuracy():.1%} ({t.right}/{t.fields})"
            for how, t in by_spoil.items()
            if t.fields
        )
    )
    print(
        f"cut off by a quarter: {cut.accuracy():.1%} of fields read; of {cut_lost} fields lost,"
        f" {cut_flagged} flagged as missing"
    )
    for title, tallies in (("clean", clean), ("spoiled", spoiled)):
        errors: Counter[str] = Counter()
        examples: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        for tally in tallies.values():
            errors.update(tally.errors)
            for key, found in tally.examples.items():
                examples[key].extend(found)
        print(
            f"\nper-field errors, {title}: "
            + (", ".join(f"{k} {n}" for k, n in errors.most_common()) or "none")
        )
        for key, _ in errors.most_common():
            for want, got in examples[key][: args.show_errors]:
                print(f"  {key}: expected {want!r}, read {got!r}")


if __name__ == "__main__":
    main()
