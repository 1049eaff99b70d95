"""Finance-style models for the benchmarks (and the batch engine's tests), built by code.

:func:`finance_workbook`: a model of any size (SUM, SUMPRODUCT, SUMIF, INDEX/MATCH, VLOOKUP, IF,
ROUND, cross-sheet references, defined names) with STP_* cells in the middle of the dependency
graph (``stp_every=1, check_every=5``: 10% of the formulas), every cached value 0 so that
regeneration has work to do.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter


def finance_workbook(path: Path, rows: int = 200, stp_every: int = 10, spelling: str = "STP_CAPITAL_NET",
                     check_every: int | None = None) -> tuple[Path, int]:
    """Inputs (rows x 6), Calc (rows x 12 formulas: in one row in ``stp_every`` column B is an
    STP_* call feeding later columns, and in one row in ``check_every`` (default ``stp_every``)
    column J is an STP_CHECK of it), Summary totals. Returns the path and the number of formula
    cells. ``stp_every=1, check_every=5`` makes 10% of the formulas STP_* calls."""
    check_every = check_every or stp_every
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    inp, calc, summ = wb.add_worksheet("Inputs"), wb.add_worksheet("Calc"), wb.add_worksheet("Summary")
    inp.write_row(0, 0, ["Scheme", "Region", "Cost 1", "Cost 2", "Disposal", "Rate"])
    regions = ["North", "South", "East", "West"]
    for r in range(1, rows + 1):
        inp.write_row(r, 0, [f"S{r:05d}", regions[r % 4], 100 + (r * 37) % 900, 50 + (r * 53) % 700, -((r * 29) % 300),
                             0.01 * (1 + r % 5)])
    inp.write_row(0, 8, ["Region", "Uplift"])
    for i, reg in enumerate(regions, start=1):
        inp.write_row(i, 8, [reg, 1 + i / 100])
    wb.define_name("Uplifts", "=Inputs!$I$2:$J$5")
    wb.define_name("Costs1", f"=Inputs!$C$2:$C${rows + 1}")
    n = 0
    for r in range(2, rows + 2):
        stp = (r % stp_every == 0)
        f = {
            "A": f"=Inputs!C{r}+Inputs!D{r}",
            "B": (f"={spelling}(Inputs!C{r}:D{r},Inputs!E{r},\"total\")" if stp else f"=A{r}+Inputs!E{r}"),
            "C": f"=ROUND(B{r}*Inputs!F{r},2)",
            "D": f"=IF(B{r}>500,B{r}-500,0)",
            "E": f"=VLOOKUP(Inputs!B{r},Uplifts,2,FALSE)",
            "F": f"=ROUND(B{r}*E{r},1)",
            "G": f"=INDEX(Inputs!C$2:C${rows + 1},MATCH(Inputs!A{r},Inputs!A$2:A${rows + 1},0))",
            "H": f"=SUMPRODUCT(Inputs!C{r}:D{r},Inputs!C{r}:D{r})/1000",
            "I": f"=MAX(C{r},D{r})-MIN(C{r},D{r})",
            "J": (f"=STP_CHECK(B{r},A{r}+Inputs!E{r})" if r % check_every == 0 else f"=B{r}-F{r}"),
            "K": f"=SUMIF(Inputs!B$2:B${rows + 1},Inputs!B{r},Costs1)/1000",
            "L": f"=F{r}+H{r}+IF(ISNUMBER(J{r}),J{r},0)",
        }
        for col, text in f.items():
            calc.write_formula(f"{col}{r}", text, None, 0)
            n += 1
    for i, col in enumerate("ABCDFHL"):
        summ.write_formula(i, 1, f"=SUM(Calc!{col}2:{col}{rows + 1})", None, 0)
        n += 1
    summ.write_formula(8, 1, f"=ROUND(SUMPRODUCT(Calc!C2:C{rows + 1},Calc!E2:E{rows + 1}),2)", None, 0)
    n += 1
    wb.close()
    return path, n
