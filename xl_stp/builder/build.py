"""Build the template and the LLR STP 2016 workbook from it: one builder, two outputs.

    xl-stp build                 # writes workbooks/llr_stp_2016.xlsx and stp_template.xlsx
    xl-stp build --out DIR       # somewhere else
    xl-stp build --render DIR    # and the LLR print pack: a PDF and a PNG a page (LibreOffice)

Sheets, FAST / ICAEW style, a module each: Cover, Inputs (every figure a footprint types, blue on a
pale fill, with its source), Calculations (STP_* functions, SUMs and SUMIFs, black, and an error
check for each STP_* block), Outputs (the board-paper tables, negatives in brackets, three native
charts and the checks summary) and Checks (every stated total against its computed value with
STP_CHECK, and one master check). The template (:func:`build_footprint` with
:meth:`Footprint.empty`) is what any footprint fills in; the LLR workbook is the same template with
LLR's figures typed in (:mod:`~xl_stp.builder.llr_inputs`), plus LLR's own figures and checks
below the template's (:mod:`~xl_stp.builder.llr_checks`).

The workbook guards itself: a total over an STP_* block that reports a problem (an #STP! message
or an error value) is #N/A, the master check fails, and the Cover says which functions.

Every formula is stored with its value, so the file shows the right numbers without Excel: STP_*
values come from calling the functions of the one registry (udfs.registry) with the cells as Excel
passes them; ordinary formulas get the value the same arithmetic gives. The tests compare them with
the core's own computation (:func:`xl_stp.builder.footprint.quantities`) and with both engines of
``xl-stp regen``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from udfs import discover

from ..core.reconcile import MISMATCH, ROUNDING
from ..llr.figures import Figures
from .book import Book
from .calculations import Calc, write_calculations
from .charts import insert_charts
from .checks import CheckRow, CheckSpec, write_checks
from .checks_summary import checks_summary
from .cover import FUNCTIONS_ROW, write_cover
from .footprint import Footprint, key
from .inputs import InputsWriter, write_inputs
from .llr_checks import GROUP as LLR_GROUP
from .llr_checks import LLRCtx, llr_calculations, llr_checks
from .llr_inputs import llr_footprint, write_llr_inputs
from .outputs import LAST_COLUMN, Outputs, write_outputs
from .render import render
from .template_checks import Ctx, template_checks

OUT_DIR = Path("workbooks")
WORKBOOK = "llr_stp_2016.xlsx"
TEMPLATE = "stp_template.xlsx"


@dataclass(frozen=True)
class Built:
    """Where the builder put things: the file, each input's cell (by template key, and LLR's own
    figures by ``("figure", table, row, column)``), each computed quantity's cell (keys of
    :func:`~xl_stp.builder.footprint.quantities`), the master check, the cell of each STP_* block
    by the name of its error check, the count of functions reporting a problem and the Cover's
    line saying which, and the checks as written."""

    path: Path
    inputs: dict
    calculations: dict
    master: str
    blocks: dict
    functions: str
    cover_functions: str
    checks: list[CheckRow]
    footprint: Footprint


@dataclass(frozen=True)
class Own:
    """A footprint's own parts beyond the template (the LLR workbook's): blocks below the Inputs,
    calculations before the error checks, the context its checks read the workbook through, and
    a group of checks."""

    inputs: Callable[[InputsWriter], dict]
    calculations: Callable[[Calc], None]
    context: Callable[[Book, dict, dict], Ctx]
    checks: Callable[[Ctx], list[CheckSpec]]
    group: str


def build_footprint(path: Path, fp: Footprint, strict: bool = True, own: Own | None = None) -> Built:
    """The template filled with ``fp``, written to ``path`` atomically (a temporary file in the
    same folder, then renamed); the same inputs give the same bytes. ``strict`` refuses an STP_*
    call that gives an ``#STP!`` message (a workbook built with a mistake in it on purpose passes
    False and gets the message in the cell, as classic Excel shows it)."""
    discover()
    path = Path(path)
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        built = _write(Path(tmp), path, fp, strict, own)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a workbook is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return built


def _write(tmp: Path, path: Path, fp: Footprint, strict: bool, own: Own | None) -> Built:
    book = Book(tmp, title=fp.name(key("plan", "title")) or "STP finance and capital: template", strict=strict)
    cover = book.sheet("Cover")  # the first tab; filled in last, when the master check exists
    w = write_inputs(book, fp)
    cells = dict(w.cells)
    if own:
        cells.update(own.inputs(w))
    _print_setup(w.sheet.ws)
    calc, errors = write_calculations(book, cells, own.calculations if own else None)
    _print_setup(calc.sheet.ws)
    outputs = book.sheet("Outputs")  # before Checks in the tab order; filled in once the checks exist
    ctx = own.context(book, cells, calc.cells) if own else Ctx(book, cells, calc.cells)
    groups = [(name, specs) for name, specs in template_checks(ctx)] + ([(own.group, own.checks(ctx))] if own else [])
    specs = [spec for _, group in groups for spec in group]
    master, rows, bounds = write_checks(book, specs, [(name, len(group)) for name, group in groups])
    o = write_outputs(book, outputs, cells, calc.cells, master)
    insert_charts(book, o)
    checks_summary(o, master, rows, bounds)
    _outputs_print(o)
    write_cover(book, cover, cells, master, errors)
    cover.ws.activate()
    book.close()
    return Built(path, cells, calc.cells, master, {b.name: b.anchor for b in book.blocks.values()},
                 sum(1 for b in book.blocks.values() if b.problems), cover.ref(FUNCTIONS_ROW, 1), rows, fp)


def _print_setup(ws: Any) -> None:
    """Landscape A4, one page wide, a footer with the sheet and the page."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.set_footer("&L&8&A&R&8Page &P of &N")


def _outputs_print(o: Outputs) -> None:
    """The Outputs as pages of the board pack: its tables, the charts, the checks summary."""
    ws = o.sheet.ws
    _print_setup(ws)
    ws.print_area(0, 0, o.row, LAST_COLUMN)
    ws.repeat_rows(0, 1)
    ws.set_h_pagebreaks(o.breaks)


# ---- the two workbooks ---------------------------------------------------------------------------

def llr_own(figures: Figures) -> Own:
    """The LLR workbook's own parts: its figures without a place in the template, the acute
    return, and its checks (which find its figures wherever they were typed)."""
    return Own(lambda w: write_llr_inputs(w, figures), llr_calculations,
               lambda book, cells, calc: LLRCtx(book, cells, calc, figures), llr_checks, LLR_GROUP)


def build(path: Path, figures: Figures | None = None, empty: bool = False, strict: bool | None = None) -> Built:
    """The LLR workbook (the template filled with ``figures``, by default the transcribed ones, and
    LLR's own parts), or with ``empty`` the template itself."""
    strict = not empty if strict is None else strict
    if empty:
        return build_footprint(path, Footprint.empty(), strict)
    figures = figures or Figures.load()
    return build_footprint(path, llr_footprint(figures), strict, llr_own(figures))


def build_workbooks(out: Path = OUT_DIR) -> tuple[Built, Built]:
    """The LLR workbook and the empty template in ``out`` (made if need be)."""
    out.mkdir(parents=True, exist_ok=True)
    return build(out / WORKBOOK), build(out / TEMPLATE, empty=True)


# ---- the summary ---------------------------------------------------------------------------------

def checks_summary_lines(rows: Sequence[CheckRow]) -> list[str]:
    """The count of checks by status, then each check beyond rounding."""
    beyond = [r for r in rows if r.status == MISMATCH]
    within = [r for r in rows if r.status == ROUNDING]
    stated = [r for r in rows if r.status != "not stated"]
    lines = [f"Checks: {len(stated)} stated of {len(rows)}; agree {len(stated) - len(beyond) - len(within)}, within rounding "
             f"{len(within)}, beyond rounding {len(beyond)}:"]
    lines += [f"  {r.section}: {r.description}: stated {r.stated:,.1f}, computed {r.computed:,.1f}" for r in beyond]
    return lines


def summary(built: Built) -> str:
    """The capital, funding and checks summary the main job prints (and returns as text)."""
    from rich.console import Console

    from .summary_tables import capital_summary, funding_summary

    console = Console(record=True, width=140)
    console.print(capital_summary(built))
    console.print(funding_summary(built))
    for line in checks_summary_lines(built.checks):
        console.print(line)
    return console.export_text()


# ---- the command ---------------------------------------------------------------------------------

def run(out: Path = OUT_DIR, quiet: bool = False, render_dir: Path | None = None) -> int:
    """What ``xl-stp build`` does: both workbooks, the summary unless quiet, the print pack if asked."""
    built, template = build_workbooks(out)
    if not quiet:
        summary(built)
    print(f"wrote {built.path} and {template.path}")
    if render_dir:
        pdf, pngs = render(built.path, render_dir)
        print(f"rendered {pdf} and {len(pngs)} pages: {', '.join(p.name for p in pngs)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="folder for the two workbooks (default: workbooks/)")
    ap.add_argument("--quiet", action="store_true", help="do not print the summary")
    ap.add_argument("--render", type=Path, metavar="DIR",
                    help="also render the LLR print pack with LibreOffice: a PDF and a PNG a page in DIR")
    a = ap.parse_args(argv)
    return run(a.out, a.quiet, a.render)


if __name__ == "__main__":
    raise SystemExit(main())
