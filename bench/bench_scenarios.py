"""Benchmark: N scenarios on the LLR workbook through one loaded workbook (LibreOffice overrides,
what ``xl-stp scenarios`` does) against N independent ``regen`` runs of edited copies (each copy
written surgically, then regenerated with a full recalculation by the libreoffice engine), in one
run, and a check that both give identical outputs.

    .venv/bin/python bench/bench_scenarios.py [--n 100] [--engine libreoffice] [--every-cell]

The N scenarios mix the four LLR worked examples' kinds of change, each with its own amount: PF2
scaled 0-99%, savings delivering 50-99%, disposal proceeds -50% to +49%, the acute programme
shifted 0-2 years. Goal (issue 16): at least 5x faster, identical values.

``--every-cell`` also times the loaded workbook the way it went before the outputs were asked
for alone: each override computing every STP_* call and reading every formula cell back
(``override`` without ``only``), with the same values.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from udfs import discover
from xl_stp.scenarios import run
from xl_stp.scenarios.book import Book
from xl_stp.scenarios.changes import apply
from xl_stp.scenarios.definitions import parse_rows

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "workbooks" / "llr_stp_2016.xlsx"
OUTPUTS = ["Outputs!{Capital funding by source > DH funding requirement}",
           "Outputs!{Capital funding by source > DH funding requirement @ Total}", "Outputs!{Gap bridge > Residual gap}"]
REFS = ["Inputs!{Funding waterfall 1 > PF2}", "Inputs!{Savings line}", "Inputs!{Funding waterfall 1 > Disposal proceeds}",
        "Inputs!{Capital programme 1}"]


def scenarios(book: Book, n: int) -> list:
    """N scenarios, one column each, as a scenario file would hold them."""
    names = [f"s{i:03d}" for i in range(n)]
    changes = [[f"x{i % 100}%" for i in range(n)], [f"x{50 + i % 50}%" for i in range(n)],
               [f"{(i * 7) % 100 - 50:+d}%" for i in range(n)], [f"shift {i % 3}" if i % 3 else "" for i in range(n)]]
    rows = [(1, ["cell"] + names)] + [(2 + k, [ref] + changes[k]) for k, ref in enumerate(REFS)]
    return parse_rows(rows, book, "bench", "line")


def same(a: list, b: list) -> bool:
    return all((x == y) or (isinstance(x, float) and isinstance(y, float) and abs(x - y) <= 1e-9 * max(1, abs(x)))
               for x, y in zip(a, b)) and len(a) == len(b)


def every_cell(book: Book, found: list, registry, cells: list[tuple[str, str]]) -> tuple[float, list[list]]:
    """Seconds and each case's outputs (the base case first) on one loaded workbook whose overrides
    compute every STP_* call and read every formula cell back, as before the outputs were asked for alone."""
    t = time.perf_counter()
    session = run.Session(book, registry)
    try:
        out = [run._pick(book, session.base, {}, cells)]
        for sc in found:
            applied = apply(book, sc)
            out.append(run._pick(book, session.run(applied.values), applied.values, cells))
    finally:
        session.close()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--engine", default="libreoffice")
    ap.add_argument("--every-cell", action="store_true", help="also time overrides that read every formula cell back")
    args = ap.parse_args()
    book, registry = Book(WORKBOOK), discover()
    found = scenarios(book, args.n)
    groups = run.outputs(book, OUTPUTS)
    t = time.perf_counter()
    loaded = run.run_loaded(book, found, registry, groups)
    t_loaded = time.perf_counter() - t
    rows = [("one loaded workbook (LibreOffice overrides, the outputs only)", t_loaded)]
    differ = []
    if args.every_cell:
        t_every, values = every_cell(book, found, registry, loaded.cells())
        rows.append(("one loaded workbook (overrides reading every cell back)", t_every))
        differ += [a.name for a, v in zip(loaded.results, values) if not same(a.values, v)]
    t = time.perf_counter()
    copies = run.run_copies(book, found, registry, groups, engine=args.engine, jobs=1)
    t_copies = time.perf_counter() - t
    rows.append((f"{args.n + 1} regens of edited copies ({args.engine}, --full)", t_copies))
    differ += [a.name for a, b in zip(loaded.results, copies.results) if not same(a.values, b.values) or b.error]
    table = Table(title=f"{args.n} scenarios on {WORKBOOK.name} (plus the base case each way)")
    for h in ("way", "seconds", "per scenario", "ratio"):
        table.add_column(h, justify="left" if h == "way" else "right")
    for k, (way, seconds) in enumerate(rows):
        ratio = "1.0x" if k == len(rows) - 1 else f"{t_copies / seconds:.1f}x faster"  # the regens last
        table.add_row(way, f"{seconds:.1f}", f"{seconds / (args.n + 1):.2f}", ratio)
    table.caption = (f"outputs compared: {len(groups)} groups, {len(loaded.cells())} cells a scenario; "
                     + ("identical in every scenario" if not differ
                        else f"DIFFER in {len(set(differ))}: {', '.join(sorted(set(differ))[:5])}"))
    Console().print(table)


if __name__ == "__main__":
    main()
