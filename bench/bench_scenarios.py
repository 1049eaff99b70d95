"""Benchmark: N scenarios on the LLR workbook through one loaded workbook (LibreOffice overrides,
what ``xl-stp scenarios`` does) against N independent ``regen`` runs of edited copies (each copy
written surgically, then regenerated with a full recalculation by the libreoffice engine), in one
run, and a check that both give identical outputs.

    .venv/bin/python bench/bench_scenarios.py [--n 100] [--engine libreoffice]

The N scenarios mix the four LLR worked examples' kinds of change, each with its own amount: PF2
scaled 0-99%, savings delivering 50-99%, disposal proceeds -50% to +49%, the acute programme
shifted 0-2 years. Goal (issue 16): at least 5x faster, identical values.
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--engine", default="libreoffice")
    args = ap.parse_args()
    book, registry = Book(WORKBOOK), discover()
    found = scenarios(book, args.n)
    groups = run.outputs(book, OUTPUTS)
    t = time.perf_counter()
    loaded = run.run_loaded(book, found, registry, groups)
    t_loaded = time.perf_counter() - t
    t = time.perf_counter()
    copies = run.run_copies(book, found, registry, groups, engine=args.engine, jobs=1)
    t_copies = time.perf_counter() - t
    differ = [a.name for a, b in zip(loaded.results, copies.results) if not same(a.values, b.values) or b.error]
    table = Table(title=f"{args.n} scenarios on {WORKBOOK.name} (plus the base case each way)")
    for h in ("way", "seconds", "per scenario", "ratio"):
        table.add_column(h, justify="left" if h == "way" else "right")
    table.add_row("one loaded workbook (LibreOffice overrides)", f"{t_loaded:.1f}", f"{t_loaded / (args.n + 1):.2f}",
                  f"{t_copies / t_loaded:.1f}x faster")
    table.add_row(f"{args.n + 1} regens of edited copies ({args.engine}, --full)", f"{t_copies:.1f}",
                  f"{t_copies / (args.n + 1):.2f}", "1.0x")
    table.caption = (f"outputs compared: {len(groups)} groups, {len(loaded.cells())} cells a scenario; "
                     + ("identical in every scenario" if not differ else f"DIFFER in {len(differ)}: {', '.join(differ[:5])}"))
    Console().print(table)


if __name__ == "__main__":
    main()
