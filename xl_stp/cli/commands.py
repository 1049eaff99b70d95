"""The ``xl-stp`` commands (typer): the layers wired together. :func:`xl_stp.cli.main` runs them.

Each command imports its layer when it runs, so that a command whose extra is not installed says
which one to install (:func:`xl_stp.cli.needs`) instead of failing at start-up.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import needs

from .common import EngineName, app, console, errors  # noqa: F401 (app: what xl-stp runs)

PROBLEMS_SHOWN = 20
#: The options regen and verify share.
ENGINE = typer.Option(EngineName.auto, "--engine", help="auto: fused (LibreOffice, with formulas where it is the better "
                      "judge) when LibreOffice is installed, else formulas")
JOBS = typer.Option(0, "--jobs", "-j", help="Workbooks in parallel on local processes (default: one per core)")


#: The help of ``xl-stp regen``, with its exit statuses (paragraphs: rich wraps each one).
REGEN_HELP = "\n\n".join([
    "Recalculate workbooks without Excel and write the cached values back, changing nothing else.",
    "As Excel does, only what needs it is recomputed: STP_* cells, volatile cells (NOW, RAND, OFFSET...), formula cells "
    "with no stored value, and every cell downstream of a value that changed; the other cells keep the values Excel "
    "stored. --full (or a file that asks for a full recalculation on load) recomputes every formula cell.",
    "A workbook whose STP_* functions refuse an input is still regenerated: the refused calls hold #VALUE!, and so "
    "does every figure computed from them; the report names each input cell to fix, with its row and column labels, "
    "and its status is 'inputs need fixing'. Warnings (values that may be meant) are listed and keep 'ok'.",
    "Exit status:\n"
    "0  every workbook regenerated, none with inputs to fix (warnings allowed)\n"
    "1  a workbook failed and was not regenerated (wins over 3)\n"
    "2  usage error (wrong options, no workbooks found)\n"
    "3  every workbook regenerated, but some have inputs that need fixing",
])


@app.command(help=REGEN_HELP)
def regen(
    paths: List[str] = typer.Argument(..., help="Workbooks (.xlsx, .xlsm), folders or glob patterns"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the regenerated workbooks into this folder"),
    in_place: bool = typer.Option(False, "--in-place", help="Replace each workbook (atomically, only once it is completely written)"),
    engine: EngineName = ENGINE,
    jobs: int = JOBS,
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run on a Dask distributed cluster at this address"),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a per-file report: .json or .csv"),
    cross_check: bool = typer.Option(False, "--cross-check", help="Compute with the second engine too and report disagreements"),
    max_part_mb: int = typer.Option(512, "--max-part-mb", help="Refuse a zip part that inflates past this size (zip bombs)"),
    max_formulas: int = typer.Option(2_000_000, "--max-formulas", help="Refuse a workbook with more formula cells than this"),
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks of internal errors"),
    show_all: bool = typer.Option(False, "--all-problems", help="List every problem, not the first 20 of each file"),
    full: bool = typer.Option(False, "--full", help="Recompute every formula cell, not only STP_*, volatile and unstored "
                              "cells and what depends on a changed value (Excel's own semantics, the default)"),
) -> None:
    """Recalculate workbooks without Excel and write the cached values back, changing nothing else
    (the command's help, with the exit statuses, is REGEN_HELP)."""
    from udfs import discover

    try:
        from ..batch.package import Limits
        from ..batch.run import expand_paths, run_batch
    except ModuleNotFoundError as e:
        raise typer.Exit(needs("regen", e))

    if out is not None and in_place:
        errors.print("xl-stp regen: give --out DIR or --in-place, not both")
        raise typer.Exit(2)
    if out is None and not in_place:
        errors.print("xl-stp regen: say where to write: --out DIR for new files, or --in-place to replace the originals")
        raise typer.Exit(2)
    if report is not None and report.suffix.lower() not in (".json", ".csv"):
        errors.print(f"xl-stp regen: --report {report}: expected a .json or .csv file name")
        raise typer.Exit(2)
    files = expand_paths(paths)
    if not files:
        errors.print("xl-stp regen: no workbooks found")
        raise typer.Exit(2)
    limits = Limits(member_bytes=max_part_mb * 1024 * 1024, formula_cells=max_formulas)
    with Progress(TextColumn("[bold]regen"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=errors, transient=True) as progress:
        task = progress.add_task("", total=len(files))

        def done(r):
            progress.update(task, advance=1, description=Path(r.path).name)

        results = run_batch(files, discover(excel=False), out_dir=str(out) if out else None, in_place=in_place, engine=engine.value,
                            jobs=jobs, scheduler=scheduler, cross_check=cross_check, limits=limits, debug=debug, on_done=done,
                            full=full)
    _summary(results)
    for r in results:
        if r.charts:
            console.print(f"{escape(Path(r.path).name)}: {len(r.charts)} chart(s) now show the new figures: "
                          f"{escape(', '.join(r.charts))}", highlight=False, soft_wrap=True)
    for r in results:
        shown = r.problems if show_all else r.problems[:PROBLEMS_SHOWN]
        for p in shown:
            errors.print(f"[yellow]{escape(r.path)}[/yellow]: {escape(p)}", markup=True, highlight=False, soft_wrap=True)
        if len(shown) < len(r.problems):
            errors.print(f"[yellow]{escape(r.path)}[/yellow]: ... and {len(r.problems) - len(shown):,} more problems "
                         "(all of them with --all-problems or in --report)", markup=True, highlight=False, soft_wrap=True)
    for r in results:  # failures last, where they are seen
        if r.failed:
            errors.print(f"[red]{escape(r.path)}[/red]: {escape(r.error or '')}", markup=True, highlight=False, soft_wrap=True)
    if report is not None:
        _write_report(report, results)
    raise typer.Exit(exit_status(results))


#: Exit statuses of ``xl-stp regen`` (documented in its help): a failed workbook wins over inputs.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INPUTS = 0, 1, 2, 3


def exit_status(results) -> int:
    """1 when any workbook failed, else 3 when any has inputs that need fixing, else 0."""
    if any(r.failed for r in results):
        return EXIT_FAILED
    if any(r.inputs_need_fixing for r in results):
        return EXIT_INPUTS
    return EXIT_OK


def _summary(results) -> None:
    t = Table(title="xl-stp regen")
    for h, j in (("file", "left"), ("engine", "left"), ("formula cells", "right"), ("STP cells", "right"),
                 ("recomputed", "right"), ("values changed", "right"), ("agrees with Excel", "right"), ("problems", "right"),
                 ("status", "left"), ("seconds", "right")):
        t.add_column(h, justify=j, no_wrap=h in ("status", "file"))
    for r in results:
        status = "[red]FAILED[/red]" if r.failed else "[yellow]inputs need fixing[/yellow]" if r.inputs_need_fixing else "ok"
        t.add_row(escape(Path(r.path).name), r.engine or "-", f"{r.formula_cells:,}", f"{r.stp_cells:,}", f"{r.recomputed:,}",
                  f"{r.values_changed:,}", _share(r.agreement), str(len(r.problems)), status, f"{r.seconds:.2f}")
    failed = sum(r.failed for r in results)
    inputs = sum(r.inputs_need_fixing for r in results)
    t.caption = (f"{len(results)} files, {sum(r.formula_cells for r in results):,} formula cells, "
                 f"{sum(r.values_changed for r in results):,} values changed, {inputs} with inputs that need fixing, "
                 f"{failed} failed")
    console.print(t)


def _share(agreement: float | None) -> str:
    """An agreement figure as the tables show it: 99.97%; "-" where nothing was compared."""
    if agreement is None:
        return "-"
    return "100%" if agreement == 1 else f"{min(agreement, 0.9999):.2%}"


def _write_report(report: Path, results) -> None:
    rows = [r.as_dict() for r in results]
    if report.suffix.lower() == ".json":
        report.write_text(json.dumps(rows, indent=2))
    else:
        with open(report, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            for row in rows:
                row["problems"] = "; ".join(row["problems"])
                row["charts"] = "; ".join(row.get("charts", []))
                for key in ("inputs", "disagreements"):  # lists of records, as in the .json report
                    if key in row:
                        row[key] = json.dumps(row[key], default=str)
                w.writerow(row)


VERIFY_HELP = "\n\n".join([
    "Recompute workbooks as they are, write nothing, and report every formula cell whose result differs from the value "
    "Excel stored in the file: the cell, its formula, Excel's value, ours and which engine computed it, with the share "
    "of cells that agree per file. Run it on your own Excel-saved workbooks before trusting a server to regenerate them.",
    "Volatile cells (NOW, RAND, OFFSET...) and cells with no stored value are left out.",
    "Exit status:\n"
    "0  every cell compared agrees with Excel\n"
    "1  a workbook could not be verified\n"
    "2  usage error\n"
    "3  some cells differ from the values Excel stored",
])


@app.command(help=VERIFY_HELP)
def verify(
    paths: List[str] = typer.Argument(..., help="Workbooks (.xlsx, .xlsm), folders or glob patterns"),
    engine: EngineName = ENGINE,
    jobs: int = JOBS,
    report: Optional[Path] = typer.Option(None, "--report", help="Write every disagreement: .json or .csv (one row a cell)"),
    show_all: bool = typer.Option(False, "--all", help="List every disagreement, not the first 20 of each file"),
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks of internal errors"),
) -> None:
    """Compare recomputed values with the values Excel stored (the help is VERIFY_HELP)."""
    from udfs import discover

    try:
        from ..batch.run import expand_paths
        from ..batch.verify import verify_batch
    except ModuleNotFoundError as e:
        raise typer.Exit(needs("verify", e))
    if report is not None and report.suffix.lower() not in (".json", ".csv"):
        errors.print(f"xl-stp verify: --report {report}: expected a .json or .csv file name")
        raise typer.Exit(2)
    files = expand_paths(paths)
    if not files:
        errors.print("xl-stp verify: no workbooks found")
        raise typer.Exit(2)
    with Progress(TextColumn("[bold]verify"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=errors, transient=True) as progress:
        task = progress.add_task("", total=len(files))
        results = verify_batch(files, discover(excel=False), engine=engine.value, jobs=jobs, debug=debug,
                               on_done=lambda r: progress.update(task, advance=1, description=Path(r.path).name))
    _verify_summary(results)
    for r in results:
        rows = r.disagreements if show_all else r.disagreements[:PROBLEMS_SHOWN]
        for d in rows:
            console.print(f"{escape(Path(r.path).name)}: {escape(d['cell'])}: Excel {d['excel']!r}, {escape(d['engine'])} "
                          f"{d['ours']!r}  ={escape(d['formula'])}", highlight=False, soft_wrap=True)
        if len(rows) < len(r.disagreements):
            console.print(f"{escape(Path(r.path).name)}: ... and {len(r.disagreements) - len(rows):,} more (--all, or --report)")
        if r.failed:
            errors.print(f"[red]{escape(r.path)}[/red]: {escape(r.error or '')}", markup=True, highlight=False, soft_wrap=True)
    if report is not None:
        _verify_report(report, results)
    raise typer.Exit(EXIT_FAILED if any(r.failed for r in results) else
                     EXIT_INPUTS if any(r.disagreements for r in results) else EXIT_OK)


def _verify_summary(results) -> None:
    t = Table(title="xl-stp verify: recomputed values against the values Excel stored")
    for h, j in (("file", "left"), ("engine", "left"), ("formula cells", "right"), ("compared", "right"),
                 ("agree", "right"), ("differ", "right"), ("agreement", "right"), ("seconds", "right")):
        t.add_column(h, justify=j)
    for r in results:
        if r.failed:
            t.add_row(escape(Path(r.path).name), r.engine or "-", f"{r.formula_cells:,}", "-", "-", "-", "[red]FAILED[/red]",
                      f"{r.seconds:.2f}")
            continue
        t.add_row(escape(Path(r.path).name), r.engine, f"{r.formula_cells:,}", f"{r.compared:,}", f"{r.agreed:,}",
                  f"{len(r.disagreements):,}", _share(r.agreement), f"{r.seconds:.2f}")
    compared = sum(r.compared for r in results)
    agreed = sum(r.agreed for r in results)
    t.caption = (f"{len(results)} files, {compared:,} cells compared, {agreed:,} agree "
                 f"({_share(agreed / compared if compared else None)}), {sum(r.failed for r in results)} failed")
    console.print(t)


def _verify_report(report: Path, results) -> None:
    rows = [{"file": r.path, **d} for r in results for d in r.disagreements]
    files = [{k: v for k, v in r.as_dict().items() if k != "disagreements"} for r in results]
    if report.suffix.lower() == ".json":
        report.write_text(json.dumps({"files": files, "disagreements": rows}, indent=2, default=str))
        return
    with open(report, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["file", "cell", "formula", "excel", "ours", "engine"])
        w.writeheader()
        w.writerows(rows)


@app.command()
def build(
    out: Path = typer.Option(Path("workbooks"), "--out", help="Folder for the LLR reference workbook and the template"),
    quiet: bool = typer.Option(False, "--quiet", help="Do not print the capital, funding and checks summary"),
    render: Optional[Path] = typer.Option(None, "--render", metavar="DIR",
                                          help="Also render the LLR print pack with LibreOffice: a PDF, and a PNG a page"),
) -> None:
    """Build the LLR reference workbook (and the empty template) from the transcribed figures, and print its summary."""
    try:
        from ..builder.build import run
    except ModuleNotFoundError as e:
        raise typer.Exit(needs("build", e))

    raise typer.Exit(run(out, quiet=quiet, render_dir=render))


@app.command()
def resident(stop: bool = typer.Option(False, "--stop", help="Stop them (each lets its running commands finish)")) -> None:
    """The resident processes that run this user's regen, verify and scenarios commands with the imports
    done and LibreOffice started. The first such command starts one as it ends; it serves later commands
    in the same installation and environment, and exits after XL_STP_RESIDENT seconds without one
    (600 by default; XL_STP_RESIDENT=0: commands run without one)."""
    from . import resident as r

    if stop:
        console.print(f"{r.stop_all()} resident process(es) stopped")
        return
    found = r.running()
    idle = r.idle_seconds()
    console.print(f"XL_STP_RESIDENT: {f'{idle:g} s without a command' if idle else 'off'}; "
                  f"{len(found)} resident process(es)")
    if found:
        t = Table()
        for h in ("process", "commands run", "running now", "LibreOffice for the next", "serves this environment"):
            t.add_column(h, justify="right")
        for f in found:
            t.add_row(str(f["pid"]), f"{f['served']:,}", str(f["running"]), f["libreoffice"], "yes" if f["current"] else "no")
        console.print(t)


@app.command()
def functions() -> None:
    """List the STP_* functions (the one registry that Excel and the batch engine use)."""
    from udfs import discover

    REGISTRY = discover(excel=False)
    t = Table(title="STP_* functions")
    t.add_column("function")
    t.add_column("returns")
    for fn in REGISTRY.values():
        t.add_row(fn.signature, fn.returns)
    console.print(t)


from . import scenarios as _scenarios  # noqa: E402,F401  (registers xl-stp scenarios)
