"""Build the LLR STP 2016 reference workbook (and an empty template of the same layout).

    xl-stp build                 # writes workbooks/llr_stp_2016.xlsx and stp_template.xlsx
    xl-stp build --out DIR       # somewhere else

Sheets, FAST / ICAEW style, a module each: Cover, Inputs (every transcribed figure, blue, with its
source), Calculations (STP_* functions and ordinary SUMs, black, and an error check for each STP_*
block), Outputs (the published tables, negatives in brackets, three native charts) and Checks
(every stated total against its computed value with STP_CHECK, and one master check).

The workbook guards itself: a total over an STP_* block that reports a problem (an #STP! message
or an error value) is #N/A, the master check fails, and the Cover says which functions.

Every formula is stored with its value, so the file shows the right numbers without Excel. The
values of STP_* cells come from calling the functions of the one registry (udfs.registry) with the
cells as Excel passes them; ordinary formulas get the value the same arithmetic gives. The tests
compare every one of them with the core's own computation (xl_stp.llr.plan).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from udfs import discover

from ..core.reconcile import MISMATCH, ROUNDING
from ..llr.checks import CheckResult, check_results
from ..llr.figures import CAPITAL_TABLES, COMMUNITY_FUNDING_COLUMNS, YEARS, Figures
from ..llr.plan import LLRPlan
from .book import Book
from .calculations import write_calculations
from .charts import insert_charts
from .checks import write_checks
from .cover import FUNCTIONS_ROW, write_cover
from .inputs import write_inputs
from .outputs import write_outputs
from .render import render

OUT_DIR = Path("workbooks")
WORKBOOK = "llr_stp_2016.xlsx"
TEMPLATE = "stp_template.xlsx"


@dataclass(frozen=True)
class Built:
    """Where the builder put things: the file, each Inputs figure's cell, each computed
    quantity's cell (keys of xl_stp.llr.plan.LLRPlan.quantities), the master check, the cell of
    each STP_* block by the name of its error check (``err_acute_funding`` -> ``Calculations!B58``),
    the count of functions reporting a problem and the Cover's line saying which."""

    path: Path
    inputs: dict
    calculations: dict
    master: str
    blocks: dict
    functions: str
    cover_functions: str


def build(path: Path, figures: Figures | None = None, empty: bool = False, strict: bool | None = None) -> Built:
    """Write the workbook to ``path`` (atomically: a temporary file in the same folder, then
    renamed). The same inputs give the same bytes.

    ``strict`` (default: not ``empty``) refuses an STP_* call that gives an ``#STP!`` message; a
    workbook built from figures with a mistake in them on purpose passes ``strict=False`` and gets
    the message in the cell, as classic Excel shows it."""
    discover()
    figures = figures or Figures.load()
    path = Path(path)
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        book = Book(Path(tmp), strict=not empty if strict is None else strict)
        cover = book.sheet("Cover")  # the first tab; filled in last, when the master check exists
        inputs = write_inputs(book, figures, empty)
        calc, errors = write_calculations(book, figures, inputs)
        outputs = book.sheet("Outputs")  # before Checks in the tab order; filled in once the checks exist
        master = write_checks(book, figures, inputs, calc)
        insert_charts(book, outputs.ws, write_outputs(book, outputs, figures, calc, master))
        write_cover(book, cover, master, errors, empty)
        cover.ws.activate()
        book.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a workbook is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Built(path, inputs, calc, master, {b.name: b.anchor for b in book.blocks.values()}, errors.count,
                 cover.ref(FUNCTIONS_ROW, 1))


def build_workbooks(out: Path = OUT_DIR) -> tuple[Path, Path]:
    """The reference workbook and the empty template in ``out`` (made if need be)."""
    out.mkdir(parents=True, exist_ok=True)
    return build(out / WORKBOOK).path, build(out / TEMPLATE, empty=True).path


# ---- the summary ---------------------------------------------------------------------------------

def _money(v: float) -> str:
    """£000 as the tables print it: brackets for negatives, '-' for nil."""
    return f"({-v:,.0f})" if v < -0.5 else ("-" if abs(v) < 0.5 else f"{v:,.0f}")


def _millions(v: float) -> str:
    """£m to one decimal as the tables print it."""
    return f"({-v:,.1f})" if v < -0.05 else ("-" if abs(v) < 0.05 else f"{v:,.1f}")


def capital_summary(plan: LLRPlan):
    from rich.table import Table

    t = Table(title="LLR STP 2016: capital net of disposals (£000)")
    for h in ("Programme", *YEARS, "Disposals", "Net"):
        t.add_column(h, justify="right" if h != "Programme" else "left")
    for key, req in plan.capital.items():
        t.add_row(CAPITAL_TABLES[key][2], *(_money(v) for v in req.cost_by_year), _money(req.total_disposals),
                  _money(req.total_net))
    return t


def funding_summary(plan: LLRPlan):
    from rich.table import Table

    f = Table(title="Funding: external requirement and DH requirement (£m)")
    for h in ("", *COMMUNITY_FUNDING_COLUMNS, "Total"):
        f.add_column(h, justify="right" if h else "left")
    for name, w in (("Acute", plan.acute_funding), ("Community", plan.community_funding)):
        ext, dh = w.external_requirement, w.dh_requirement
        if len(ext) == 6:  # acute has a prior-years column
            ext, dh = ext[1:], dh[1:]
        f.add_row(f"{name} external requirement", *(_millions(v) for v in ext), _millions(ext.sum()))
        f.add_row(f"{name} DH requirement", *(_millions(v) for v in dh), _millions(dh.sum()))
    return f


def checks_summary(results: Sequence[CheckResult]) -> list[str]:
    """The count of checks by status, then each check beyond rounding."""
    beyond = [r for r in results if r.status == MISMATCH]
    within = [r for r in results if r.status == ROUNDING]
    lines = [f"Checks: {len(results)}; agree {len(results) - len(beyond) - len(within)}, within rounding {len(within)}, "
             f"beyond rounding {len(beyond)}:"]
    lines += [f"  {r.check.section}: {r.check.description}: stated {r.stated:,.1f}, computed {r.computed:,.1f}" for r in beyond]
    return lines


def summary(figures: Figures | None = None) -> str:
    """The capital and funding summary the main job prints (and returns as text)."""
    from rich.console import Console

    figures = figures or Figures.load()
    plan = LLRPlan(figures)
    console = Console(record=True, width=140)
    console.print(capital_summary(plan))
    console.print(funding_summary(plan))
    for line in checks_summary(check_results(figures)):
        console.print(line)
    return console.export_text()


# ---- the command ---------------------------------------------------------------------------------

def run(out: Path = OUT_DIR, quiet: bool = False, render_dir: Path | None = None) -> int:
    """What ``xl-stp build`` does: both workbooks, the summary unless quiet, a rendering if asked."""
    built, template = build_workbooks(out)
    if not quiet:
        summary()
    print(f"wrote {built} and {template}")
    if render_dir:
        pdf, pngs = render(built, render_dir)
        print(f"rendered {pdf} and {', '.join(map(str, pngs))}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="folder for the two workbooks (default: workbooks/)")
    ap.add_argument("--quiet", action="store_true", help="do not print the summary")
    ap.add_argument("--render", type=Path, metavar="DIR",
                    help="also render the workbook with LibreOffice: a PDF and a PNG of the Outputs sheet in DIR")
    a = ap.parse_args(argv)
    return run(a.out, a.quiet, a.render)


if __name__ == "__main__":
    raise SystemExit(main())
