"""How well the bot reads slip photos: field accuracy, wrong values and seconds per slip.

Generates N synthetic 签购单 photos (tests/slips.py) across every layout and degradation, reads
each with bot.conversation.ocr and flows.receipt as the bot does, and prints Markdown tables.

    .venv/bin/python benchmarks/slip_accuracy.py --count 45 [--errors]

Needs the `ocr` extra and the fonts-wqy-microhei font. Slip i has seed `--seed + i`, layout
LAYOUTS[i % 5] and degradation DEGRADATIONS[i % 9], so 45 slips cover every pair once and a
reported failure can be rebuilt with tests.slips.make_slip. `--strict` exits 1 on any wrong value.

Two sets are kept apart: the development set (`--seed 1000`), whose misreads are looked at
while the reader is improved, and the held-back set (`--seed 7000`), only ever measured, never
run with `--errors`, so its score says how the reader does on slips it was not tuned on.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.conversation.ocr import SlipReader, ocr_available
from flows.receipt import extract_fields
from tests.slips import (
    DEGRADATIONS,
    FIELDS,
    FONT_PACKAGE,
    LAYOUTS,
    NOW,
    GeneratedSlip,
    Score,
    font_available,
    make_slip,
    score,
)


@dataclass(frozen=True)
class Result:
    slip: GeneratedSlip
    lines: list[str]
    score: Score
    seconds: float


def _pct(right: int, total: int) -> str:
    return f"{100 * right / total:.1f}%" if total else "-"


def _seconds(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    p95 = statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else mean
    return mean, p95


def _group_table(title: str, key: str, results: list[Result], order: tuple[str, ...]) -> list[str]:
    groups: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        groups[getattr(result.slip, key)].append(result)
    rows = [
        f"| {title} | slips | fields right | accuracy | wrong | missing | s/slip (mean) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in order:
        members = groups.get(name)
        if not members:
            continue
        right = sum(len(r.score.right) for r in members)
        printed = sum(len(r.slip.expected) for r in members)
        wrong = sum(len(r.score.wrong) for r in members)
        missing = sum(len(r.score.missing) for r in members)
        mean = statistics.fmean(r.seconds for r in members)
        rows.append(
            f"| {name} | {len(members)} | {right} / {printed} | {_pct(right, printed)} "
            f"| {wrong} | {missing} | {mean:.2f} |"
        )
    return rows


def report(results: list[Result], load_seconds: float) -> str:
    right = sum(len(r.score.right) for r in results)
    printed = sum(len(r.slip.expected) for r in results)
    wrong = sum(len(r.score.wrong) for r in results)
    complete = sum(1 for r in results if not r.score.missing and not r.score.wrong)
    mean, p95 = _seconds([r.seconds for r in results])
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("rapidocr", "onnxruntime")
    )
    seeds = f"{results[0].slip.seed}-{results[-1].slip.seed}"
    out = [
        f"Slip reading: {len(results)} synthetic slips (seeds {seeds}), {versions}, "
        f"{os.cpu_count()} CPU cores; engine load {load_seconds:.1f} s.",
        "",
        "| fields right | accuracy | wrong values | slips read completely "
        "| s/slip mean | s/slip p95 |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {right} / {printed} | {_pct(right, printed)} | {wrong} "
        f"| {complete} / {len(results)} | {mean:.2f} | {p95:.2f} |",
        "",
        *_group_table("degradation", "degradation", results, DEGRADATIONS),
        "",
        *_group_table("layout", "layout", results, LAYOUTS),
        "",
        "| field | right | accuracy | wrong | missing |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    right_by: Counter[str] = Counter()
    wrong_by: Counter[str] = Counter()
    missing_by: Counter[str] = Counter()
    printed_by: Counter[str] = Counter()
    for r in results:
        right_by.update(r.score.right)
        wrong_by.update(r.score.wrong.keys())
        missing_by.update(r.score.missing)
        printed_by.update(r.slip.expected.keys())
    for name in FIELDS:
        out.append(
            f"| {name} | {right_by[name]} / {printed_by[name]} "
            f"| {_pct(right_by[name], printed_by[name])} | {wrong_by[name]} | {missing_by[name]} |"
        )
    return "\n".join(out)


def failures(results: list[Result], *, show_lines: bool) -> str:
    out: list[str] = []
    for r in results:
        if not r.score.wrong and not r.score.missing:
            continue
        slip = r.slip
        out.append(f"- seed {slip.seed} ({slip.layout}, {slip.degradation}):")
        for name, (expected, found) in r.score.wrong.items():
            out.append(f"  - WRONG {name}: printed {expected!r}, read {found!r}")
        for name in r.score.missing:
            out.append(f"  - missing {name}: printed {slip.printed[name]!r}")
        if show_lines:
            out.append("  - OCR lines:")
            out.extend(f"    - `{line}`" for line in r.lines)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=45, help="slips to generate (default 45)")
    parser.add_argument("--seed", type=int, default=1000, help="seed of the first slip")
    parser.add_argument("--errors", action="store_true", help="show OCR lines of misread slips")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any wrong value")
    args = parser.parse_args(argv)
    if not ocr_available():
        parser.error("OCR is not installed: pip install -e '.[ocr]'")
    if not font_available():
        parser.error(f"the CJK font is missing: apt-get install -y {FONT_PACKAGE}")

    reader = SlipReader()
    started = time.perf_counter()
    reader.load()
    load_seconds = time.perf_counter() - started
    results = []
    for index in range(args.count):
        slip = make_slip(
            args.seed + index,
            layout=LAYOUTS[index % len(LAYOUTS)],
            degradation=DEGRADATIONS[index % len(DEGRADATIONS)],
        )
        started = time.perf_counter()
        scored = reader.read_scored_lines(slip.image)
        lines = [line for line, _ in scored]
        confidences = [confidence for _, confidence in scored]
        found = extract_fields(lines, now=NOW, confidences=confidences).found()
        seconds = time.perf_counter() - started
        results.append(Result(slip, lines, score(slip.expected, found), seconds))
        print(f"{index + 1}/{args.count}", end="\r", file=sys.stderr, flush=True)

    print(report(results, load_seconds))
    misread = failures(results, show_lines=args.errors)
    if misread:
        print("\nMisread fields:\n")
        print(misread)
    wrong = sum(len(r.score.wrong) for r in results)
    return 1 if args.strict and wrong else 0


if __name__ == "__main__":
    sys.exit(main())
