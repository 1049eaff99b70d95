"""``xl-stp scenarios``: what-if scenarios and sensitivities over a workbook (:mod:`xl_stp.scenarios`).

Registered on the one typer ``app`` (:mod:`.common`) when :mod:`.commands` imports this module.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import needs
from .common import app, console, errors

#: Outputs when neither --outputs nor a defined name scenario_outputs says: the DH requirement by
#: year and in total, and the residual gap, found by their labels in the template's Outputs sheet.
DEFAULT_OUTPUTS = ["Outputs!{Capital funding by source > DH funding requirement}",
                   "Outputs!{Capital funding by source > DH funding requirement @ Total}",
                   "Outputs!{Gap bridge > Residual gap}"]

SCENARIOS_HELP = "\n\n".join([
    "Run the base case and every scenario of a workbook and compare the outputs; the workbook itself never changes.",
    "Scenarios come from --scenarios FILE (CSV), else the workbook's own Scenarios sheet, else a CSV beside it named "
    "<name>_scenarios.csv (for llr_stp_2016.xlsx: llr_stp_2016_scenarios.csv, llr_stp_scenarios.csv or llr_scenarios.csv). "
    "One column a scenario, one row a change: the first column names input cells (Inputs!C5, a range, a defined name or "
    "a label reference Inputs!{Funding waterfall 1 > PF2}), each scenario's column says how it changes them: a value, "
    "+10% / -30%, x70%, shift 1 (a year later) or off. A bad line is named with its line and nothing is computed.",
    "Writes DIR/<workbook>-scenarios.xlsx: the outputs by scenario, the differences from base, a line chart of the first "
    "by-year output per scenario and a tornado of each scenario's effect on --total; --workbooks also keeps one "
    "regenerated workbook per scenario. --vary REF --range x50%:100%:10% tabulates a sensitivity instead, and "
    "--breakeven OUTPUT finds the input's value at which that output reaches --target.",
    "Exit status: 0 done; 1 a scenario could not be computed; 2 usage error or bad scenario lines (nothing written).",
])


class ScenarioEngine(str, Enum):
    auto = "auto"
    libreoffice = "libreoffice"
    fused = "fused"
    formulas = "formulas"


@app.command(help=SCENARIOS_HELP)
def scenarios(
    workbook: Path = typer.Argument(..., help="The workbook (.xlsx)"),
    scenarios_file: Optional[Path] = typer.Option(None, "--scenarios", help="Scenario file (CSV, one column a scenario)"),
    outputs: Optional[List[str]] = typer.Option(None, "--outputs", help="Output cells: a defined name, Sheet!B5:F5 or "
                                                "Sheet!{Block > Row}; repeat or separate with ';'"),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the comparison workbook (default ./<workbook>-scenarios)"),
    engine: ScenarioEngine = typer.Option(ScenarioEngine.auto, "--engine", help="auto: one workbook loaded in LibreOffice "
                                          "when installed (fast), else regenerated copies with the formulas engine"),
    keep_workbooks: bool = typer.Option(False, "--workbooks", help="Also write one regenerated workbook per scenario"),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Regenerated copies in parallel on local processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Regenerate the copies on a Dask cluster"),
    total: Optional[str] = typer.Option(None, "--total", help="The output the tornado ranks scenarios by (its label)"),
    vary: Optional[str] = typer.Option(None, "--vary", help="Sensitivity: the input to step (a reference)"),
    steps: Optional[str] = typer.Option(None, "--range", help="Sensitivity range: x50%:100%:10%, -50%:20%:10% or =0:100:25"),
    breakeven_of: Optional[str] = typer.Option(None, "--breakeven", help="With --vary: the output (label) to bring to --target"),
    target: float = typer.Option(0.0, "--target", help="Breakeven target (default 0: nil)"),
) -> None:
    try:
        from ..scenarios import compare, definitions, run
        from ..scenarios.book import Book, ReferenceError_
    except ModuleNotFoundError as e:
        raise typer.Exit(needs("scenarios", e))
    from udfs import discover

    from ..batch.package import WorkbookError

    try:
        book = Book(workbook)
        groups = run.outputs(book, _output_refs(book, outputs))
        if vary:
            raise typer.Exit(_sensitivity(book, groups, vary, steps, breakeven_of, target, out, engine.value, discover(excel=False)))
        found = _scenarios(book, scenarios_file, definitions)
    except definitions.ScenarioError as e:
        for p in e.problems:
            errors.print(f"xl-stp scenarios: {escape(p)}", highlight=False, soft_wrap=True)
        errors.print("xl-stp scenarios: nothing was computed or written", highlight=False)
        raise typer.Exit(2)
    except (ReferenceError_, WorkbookError, ValueError) as e:
        errors.print(f"xl-stp scenarios: {escape(str(workbook))}: {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    folder = out or Path(f"{workbook.stem}-scenarios")
    cmp = _run_all(book, found, groups, engine.value, folder if keep_workbooks else None, jobs, scheduler, run, discover(excel=False))
    _print_table(cmp)
    written = compare.write_comparison(cmp, folder / f"{workbook.stem}-scenarios.xlsx", total, title=f"{workbook.name}: scenarios")
    console.print(f"comparison workbook: {escape(str(written))}", highlight=False)
    raise typer.Exit(1 if any(r.error for r in cmp.results) else 0)


def _output_refs(book, given: Optional[List[str]]) -> list[str]:
    if given:
        return [r.strip() for g in given for r in g.split(";") if r.strip()]
    if "SCENARIO_OUTPUTS" in book.names:
        return ["scenario_outputs"]
    return DEFAULT_OUTPUTS


def _scenarios(book, given: Optional[Path], definitions) -> list:
    """The scenarios: --scenarios, else the Scenarios sheet, else a CSV beside the workbook."""
    if given is not None:
        return definitions.read_csv(given, book)
    if any(s.casefold() == "scenarios" for s in book.sheets):
        return definitions.read_sheet(book)
    stem, parts = book.path.stem, book.path.stem.split("_")
    names = [f"{stem}_scenarios.csv", f"{stem}-scenarios.csv"] + ["_".join(parts[:i]) + "_scenarios.csv"
                                                                  for i in range(len(parts) - 1, 0, -1)]
    for name in names:
        if (book.path.parent / name).exists():
            return definitions.read_csv(book.path.parent / name, book)
    raise definitions.ScenarioError([f"{book.path.name}: no scenarios: give --scenarios FILE, add a Scenarios sheet, or put "
                                     f"{names[0]} beside the workbook"])


def _run_all(book, found: list, groups, engine: str, keep: Optional[Path], jobs: int, scheduler: Optional[str], run, registry):
    from ..batch.engines.select import libreoffice_available

    with Progress(TextColumn("[bold]scenarios"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=errors, transient=True) as progress:
        task = progress.add_task("base case", total=len(found))

        def done(r):
            progress.update(task, advance=1, description=r.name)

        loaded = engine in ("auto", "libreoffice") and libreoffice_available() and keep is None and not scheduler
        if loaded:
            return run.run_loaded(book, found, registry, groups, on_done=done)
        return run.run_copies(book, found, registry, groups, engine=engine, jobs=jobs or 1, scheduler=scheduler,
                              out_dir=keep, on_done=done)


def _money(v) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return escape(str(v))
    if abs(v) < 0.05:
        return "-"
    return f"({abs(v):,.1f})" if v < 0 else f"{v:,.1f}"


def _print_table(cmp) -> None:
    t = Table(title="Scenarios: outputs by scenario (negatives in brackets)")
    t.add_column("output")
    for r in cmp.results:
        t.add_column(escape(r.name), justify="right")
    for i, label in enumerate(cmp.labels()):
        t.add_row(escape(label), *[_money(r.values[i]) if i < len(r.values) else "[red]failed[/red]" for r in cmp.results])
    t.caption = f"{len(cmp.results) - 1} scenarios and the base case, {cmp.engine}, {cmp.seconds:.1f} s"
    console.print(t)
    for r in cmp.results:
        for note in r.notes:
            console.print(escape(note), highlight=False, soft_wrap=True)
        if r.error:
            errors.print(f"[red]{escape(r.name)}[/red]: {escape(r.error)}", highlight=False, soft_wrap=True)


def _sensitivity(book, groups, vary: str, spec: Optional[str], breakeven_of: Optional[str], target: float,
                 out: Optional[Path], engine: str, registry) -> int:
    from ..scenarios import compare, run, sensitivity

    if not spec:
        raise ValueError("--vary needs --range (x50%:100%:10%, -50%:20%:10% or =0:100:25)")
    steps = sensitivity.parse_steps(spec)
    sensitivity.scenario_for(book, vary, steps.text(steps.values()[0]))  # checked before anything is computed
    labels = run.Comparison(groups, []).labels()
    index = _label_index(labels, breakeven_of) if breakeven_of else None
    evaluate = run.Evaluator(book, registry, groups, engine)
    try:
        texts, rows = sensitivity.grid(book, vary, steps, evaluate)
        answer = sensitivity.breakeven(book, vary, steps, index, labels[index], evaluate, target) if index is not None else None
    finally:
        evaluate.close()
    t = Table(title=f"Sensitivity to {escape(vary)}")
    t.add_column("step")
    for label in labels:
        t.add_column(escape(label), justify="right")
    for text, row in zip(texts, rows):
        t.add_row(escape(text), *[_money(v) for v in row])
    console.print(t)
    folder = out or Path(f"{book.path.stem}-scenarios")
    folder.mkdir(parents=True, exist_ok=True)
    written = compare.write_sensitivity(folder / f"{book.path.stem}-sensitivity.xlsx", vary, texts, labels, rows)
    console.print(f"sensitivity workbook: {escape(str(written))}", highlight=False)
    if answer is not None:
        console.print(escape(answer.text), highlight=False, soft_wrap=True)
    return 0


def _label_index(labels: list[str], wanted: str) -> int:
    for i, label in enumerate(labels):
        if label.casefold() == wanted.casefold():
            return i
    for i, label in enumerate(labels):
        if label.casefold().startswith(wanted.casefold()):
            return i
    raise ValueError(f"--breakeven {wanted!r} is not one of the outputs: {'; '.join(labels)}")
