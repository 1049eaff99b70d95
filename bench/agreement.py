"""Agreement with Excel's own answers, per engine and per function, on Excel-saved workbooks.

    python -m bench.agreement [../shared/corpus/excel-saved] [--engines libreoffice,formulas,fused]
                              [--json out.json]

Every formula cell of every workbook is recomputed by each engine (as ``xl-stp verify`` does) and
compared with the value Excel stored. Prints, per engine, the cells compared and the share that
agree; then, per function (a cell counts for every function its formula calls), how many cells each
engine gets right — the measurement behind the fused engine's policy
(:mod:`xl_stp.batch.engines.policy`). Volatile cells and cells with no stored value are left out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from udfs import discover
from xl_stp.batch.formula import function_names
from xl_stp.batch.verify import verify_file

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "excel-saved"


def workbooks(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.xlsx") if not p.name.startswith("~$"))


def measure(files: list[Path], engines: list[str]) -> dict:
    registry = discover()
    out: dict = {"files": [str(f) for f in files], "engines": {}}
    for eng in engines:
        start = time.perf_counter()
        compared = agreed = 0
        wrong: dict[str, dict] = {}
        per_file = {}
        for f in files:
            r = verify_file(f, registry, engine=eng)
            if r.error:
                print(f"{eng}: {f.name}: {r.error}", file=sys.stderr)
                per_file[f.name] = {"error": r.error}
                continue
            compared += r.compared
            agreed += r.agreed
            per_file[f.name] = {"compared": r.compared, "agreed": r.agreed}
            for d in r.disagreements:
                wrong[f"{f.name}|{d['cell']}"] = {"formula": d["formula"], "excel": repr(d["excel"]), "ours": repr(d["ours"]),
                                                  "engine": d["engine"]}
        out["engines"][eng] = {"compared": compared, "agreed": agreed, "seconds": time.perf_counter() - start,
                               "files": per_file, "wrong": wrong}
    return out


def formulas_of(files: list[Path]) -> dict[str, str]:
    """Every formula cell of the files, as file|Sheet!A1 -> formula (a shared formula's cells: its anchor's text)."""
    from xl_stp.batch.scan import scan

    out = {}
    for f in files:
        sc = scan(f)
        for s in sc.sheets:
            anchors: dict[str, str] = {}
            for c in s.formulas:
                if c.text is not None and c.si is not None:
                    anchors[c.si] = c.text
                out[f"{f.name}|{s.name}!{c.ref}"] = c.text if c.text is not None else anchors.get(c.si or "", "")
    return out


def by_function(result: dict, texts: dict[str, str]) -> dict[str, dict[str, int]]:
    """For each function (upper case, no _xlfn.): cells calling it, and how many of those each engine got wrong."""
    def names(text: str) -> set[str]:
        return {fn.upper().removeprefix("_XLFN.") for fn in function_names(text or "")}

    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, text in texts.items():
        for fn in names(text):
            table[fn]["cells"] += 1
    for eng, data in result["engines"].items():
        for key in data["wrong"]:
            for fn in names(texts.get(key, "")):
                table[fn][f"{eng} wrong"] += 1
    return {k: dict(v) for k, v in sorted(table.items())}


def print_functions(table: dict[str, dict[str, int]], engines: list[str]) -> None:
    """The functions where the engines' wrong counts differ: the measurement behind the policy."""
    print(f"\n{'function':<16}{'cells':>7}" + "".join(f"{e + ' wrong':>18}" for e in engines) + "  better")
    for fn, row in table.items():
        wrong = [row.get(f"{e} wrong", 0) for e in engines]
        if len(set(wrong)) > 1:
            best = engines[wrong.index(min(wrong))]
            print(f"{fn:<16}{row['cells']:>7}" + "".join(f"{w:>18}" for w in wrong) + f"  {best}")


def print_table(result: dict) -> None:
    print(f"{'engine':<14}{'compared':>10}{'agree':>10}{'share':>9}{'seconds':>9}")
    for eng, d in result["engines"].items():
        share = d["agreed"] / d["compared"] if d["compared"] else 0
        print(f"{eng:<14}{d['compared']:>10,}{d['agreed']:>10,}{share:>9.2%}{d['seconds']:>9.1f}")
    engines = list(result["engines"])
    if len(engines) >= 2:
        a, b = (set(result["engines"][e]["wrong"]) for e in engines[:2])
        print(f"wrong in both {engines[0]} and {engines[1]}: {len(a & b):,}; only {engines[0]}: {len(a - b):,}; "
              f"only {engines[1]}: {len(b - a):,}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", default=str(DEFAULT))
    ap.add_argument("--engines", default="libreoffice,formulas")
    ap.add_argument("--json", default=None)
    ap.add_argument("--by-function", action="store_true", help="the per-function table behind the fused engine's policy")
    args = ap.parse_args(argv)
    files = workbooks(Path(args.root))
    if not files:
        print(f"no workbooks under {args.root}", file=sys.stderr)
        return 2
    result = measure(files, args.engines.split(","))
    print_table(result)
    if args.by_function:
        result["functions"] = by_function(result, formulas_of(files))
        print_functions(result["functions"], list(result["engines"]))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
