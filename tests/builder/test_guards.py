"""The generated workbooks guard themselves: a failed STP_* call never becomes a plausible total.

Each STP_* block on Calculations has an error check (a cell named ``err_...`` counting the cells of
its spilled table that do not hold a number); every formula that reads a block is
``=IF(err_...>0,NA(),...)``; the master check and the Cover say how many functions report a problem
and where. A block fails in one of three ways, each tried here:

- classic Excel: the function's ``#STP!`` message in its cell, the rest of the table blank (the
  builder stores exactly this when it is given figures that make a call fail);
- the batch engine, as it is (``#STP!`` text in every cell of the table, or ``#VALUE!``), with the
  formulas engine and with LibreOffice;
- the batch engine given a registry whose failed calls give the error value ``#VALUE!``.

Three usual mistakes are made in the LLR workbook — PF2 entered in mixed signs, the text
``'12,000'`` typed into a capital cost cell, text in a community funding source — by building it
from altered figures; each is read as built and regenerated with the batch engine, and every
figure that depends on the failed block must be an error (a failed capital programme takes the
waterfall it is funded through with it: SUMIF passes the #N/A on), with the master check and the
Cover naming the function, while the figures that do not depend on it stay numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries

from udfs import discover
from udfs.excel import ERRORS
from xl_stp.batch import regen_file
from xl_stp.batch.engines.libreoffice import available as lo_available
from xl_stp.builder.build import build
from xl_stp.llr import Figures

ROOT = Path(__file__).resolve().parents[2]
WORKBOOK = ROOT / "workbooks" / "llr_stp_2016.xlsx"
TEMPLATE = ROOT / "workbooks" / "stp_template.xlsx"
REGISTRY = discover()
#: The Cover's master check and its line on the functions reporting a problem.
COVER_MASTER, COVER_FUNCTIONS = "B11", "B12"
#: The Checks sheet's master check, count of checks not computed and of functions reporting a problem.
MASTER, NOT_COMPUTED, FUNCTIONS = "D3", "H4", "D5"
#: STP_* blocks: 14 in the template, and the LLR workbook's return on the acute programme.
N_BLOCKS, N_TEMPLATE_BLOCKS = 15, 14

_STRING = re.compile(r'"[^"]*"')
_REF = re.compile(r"(?<![A-Za-z0-9_.$])(?:([A-Za-z_][A-Za-z0-9_]*)!)?(\$?[A-Z]{1,3}\$?\d+)(?::(\$?[A-Z]{1,3}\$?\d+))?"
                  r"(?![A-Za-z0-9_(])")
_GUARD = re.compile(r"^=IF\(([a-z0-9_+]+)>0,NA\(\),")


# ---- reading a workbook ------------------------------------------------------------------------

def _text(v: Any) -> Any:
    return v.text if hasattr(v, "text") else v


def formulas_of(book: openpyxl.Workbook) -> dict[tuple[str, str], str]:
    """Every formula cell's text, by (sheet, cell)."""
    return {(ws.title, c.coordinate): _text(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
            if isinstance(_text(c.value), str) and _text(c.value).startswith("=")}


def references(sheet: str, formula: str) -> Iterator[tuple[str, str]]:
    """The cells a formula refers to (ranges expanded), as (sheet, cell)."""
    for m in _REF.finditer(_STRING.sub('""', formula)):
        target = m.group(1) or sheet
        first, last = m.group(2).replace("$", ""), (m.group(3) or m.group(2)).replace("$", "")
        c1, r1, c2, r2 = range_boundaries(f"{first}:{last}")
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                yield target, f"{get_column_letter(c)}{r}"


@dataclass(frozen=True)
class BlockCheck:
    name: str     # err_acute_funding
    flag: str     # its cell on Calculations
    sheet: str
    cells: frozenset[str]


def blocks_of(book: openpyxl.Workbook) -> dict[str, BlockCheck]:
    """Each STP_* block's error check, from the workbook itself: the defined name, the cell it
    names, and the block's cells (the range its =ROWS(...)*COLUMNS(...)-COUNT(...) counts)."""
    out = {}
    for name, defined in book.defined_names.items():
        if not name.startswith("err_") or name == "err_functions":
            continue
        sheet, cell = defined.attr_text.split("!")
        text = _text(book[sheet][cell.replace("$", "")].value)
        m = re.fullmatch(r"=ROWS\((\$[A-Z]+\$\d+:\$[A-Z]+\$\d+)\)\*COLUMNS\(\1\)-COUNT\(\1\)", text)
        assert m, (name, text)
        out[name] = BlockCheck(name, cell.replace("$", ""), sheet, frozenset(c for _, c in references(sheet, m[1])))
    return out


def named(values: openpyxl.Workbook, formulas: openpyxl.Workbook, name: str) -> Any:
    sheet, cell = formulas.defined_names[name].attr_text.split("!")
    return values[sheet][cell.replace("$", "")].value


def find_row(ws, label: str) -> int:
    return next(c.row for c in ws["A"] if c.value == label)


# ---- breaking a workbook -----------------------------------------------------------------------

class ErrorValueRegistry:
    """The registry, with a failed call giving Excel's ``#VALUE!`` error value instead of its
    ``#STP!`` message: what the batch engine is to write into a failed STP_* cell (an error value
    of the formulas package, so this registry is for the formulas engine)."""

    def __init__(self, registry):
        from formulas.functions import Error

        self.registry, self.value_error = registry, Error.errors["#VALUE!"]

    def _wrap(self, fn):
        if fn is None:
            return None

        def call(*args):
            out = fn(*args)
            return self.value_error if isinstance(out, str) and out.startswith("#STP!") else out
        call.name = fn.name
        return call

    def __getitem__(self, name):
        return self._wrap(self.registry[name])

    def __iter__(self):
        return iter(self.registry)

    def __len__(self):
        return len(self.registry)

    def items(self):
        return {name: self._wrap(fn) for name, fn in self.registry.items()}.items()

    def resolve(self, spelling):
        return self._wrap(self.registry.resolve(spelling))


def built_with(out: Path, name: str, table: str, row: str, column: str, value: float | str, was: float) -> Path:
    """The LLR workbook built with one figure entered as a user might: its values are what classic
    Excel shows (a failed call's #STP! message in its cell, the rest of its table blank)."""
    frame = Figures.load().frame.copy()
    cell = (frame["table"] == table) & (frame["row"] == row) & (frame["column"] == column)
    assert frame.loc[cell, "value"].tolist() == [was]
    frame["value"] = frame["value"].astype(object)
    frame.loc[cell, "value"] = value
    return build(out / f"{name}.xlsx", Figures(frame), strict=False).path


def pf2_in_mixed_signs(out: Path) -> Path:
    """PF2's 2019/20 figure entered as 27.2 instead of (27.2): the acute funding split refuses the
    mixed signs."""
    return built_with(out, "pf2_mixed_signs", "acute_funding", "PF2", "2019/20", 27.2, was=-27.2)


def text_in_a_capital_cost(out: Path) -> Path:
    """'12,000' typed as text over a capital cost (Reprovision of clinical services, 2018/19):
    the acute capital table refuses it, and the return on it cannot be worked out."""
    return built_with(out, "text_in_a_capital_cost", "acute_reconfiguration", "Reprovision of clinical services",
                      "2018/19", "12,000", was=10_000.0)


def text_in_community_funding(out: Path) -> Path:
    """'-3.4' typed as text in the community waterfall (Local Authority funded, 2018/19): the
    community funding split refuses it."""
    return built_with(out, "text_in_community_funding", "community_funding", "Local Authority funded", "2018/19",
                      "-3.4", was=-3.4)


@dataclass(frozen=True)
class Mistake:
    make: Callable[[Path], Path]
    failed: tuple[tuple[str, str], ...]  # (error check, label) of each block that reports a problem, in the blocks' order
    totals: tuple[tuple[str, str, str], ...]  # (sheet, row label, first column) of totals that must be #N/A
    intact: tuple[tuple[str, str], ...]       # (sheet, row label) of totals that do not depend on it (column B)


@lru_cache(maxsize=None)
def anchors() -> dict[str, str]:
    """Each block's cell by the name of its error check (column D of its error check's row)."""
    values, formulas = committed()
    out = {}
    for name in blocks_of(formulas):
        sheet, cell = formulas.defined_names[name].attr_text.split("!")
        out[name] = values[sheet].cell(int(cell.split("$")[-1]), 4).value
    return out


ACUTE_FUNDING = ("err_funding_1", "Acute configuration funding: STP_FUNDING_SPLIT")
ACUTE_CAPITAL = ("err_capital_1", "Acute hospitals reconfiguration: STP_CAPITAL_NET")
ACUTE_ROI = ("err_acute_roi", "Acute reconfiguration ROI: STP_ROI")
COMMUNITY_FUNDING = ("err_funding_2", "Community configuration funding: STP_FUNDING_SPLIT")
TOTAL_DH = ("Outputs", "Total LLR DH capital requirement", "B")
MISTAKES = {
    "pf2_mixed_signs": Mistake(pf2_in_mixed_signs, (ACUTE_FUNDING,),
                               (("Outputs", "Total Acute configuration DH requirement", "B"), TOTAL_DH,
                                ("Outputs", "Less: alternative funding", "B"),
                                ("Outputs", "Acute configuration external funding requirement", "B"),
                                ("Outputs", "DH funding requirement (residual; negative: over-funded)", "B"),
                                ("Outputs", "PF2", "B"), ("Calculations", "DH funding requirement", "H")),
                               (("Outputs", "Total Community configuration DH requirement"), ("Outputs", "Total capital"))),
    "text_in_a_capital_cost": Mistake(text_in_a_capital_cost, (ACUTE_CAPITAL, ACUTE_FUNDING, ACUTE_ROI),
                                      (("Outputs", "Acute hospitals reconfiguration", "B"), ("Outputs", "Total capital", "B"),
                                       ("Calculations", "Total capital cost (before disposals)", "B"), TOTAL_DH,
                                       ("Outputs", "Total Acute configuration DH requirement", "B")),
                                      (("Outputs", "Total Community configuration DH requirement"),
                                       ("Outputs", "Hinckley and District ambulatory care and diagnostics"))),
    "text_in_community_funding": Mistake(text_in_community_funding, (COMMUNITY_FUNDING,),
                                         (("Outputs", "Total Community configuration DH requirement", "B"), TOTAL_DH,
                                          ("Outputs", "Community configuration external funding requirement", "B"),
                                          ("Outputs", "Local Authority funded", "B")),
                                         (("Outputs", "Total Acute configuration DH requirement"), ("Outputs", "Total capital"))),
}


def problem_line(failed) -> str:
    n = len(failed)
    return f"{n} function{' reports' if n == 1 else 's report'} a problem"


# ---- a sound workbook --------------------------------------------------------------------------

@lru_cache(maxsize=None)
def committed(path: Path = WORKBOOK) -> tuple[openpyxl.Workbook, openpyxl.Workbook]:
    return openpyxl.load_workbook(path, data_only=True), openpyxl.load_workbook(path)


def test_every_formula_that_reads_a_block_is_guarded_by_its_check():
    """A formula reading any cell of an STP_* block (its spilled table) starts with
    =IF(err_<block>>0,NA(),...) naming that block; only the error checks themselves and other
    STP_* calls (which have their own) read a block unguarded."""
    _, formulas = committed()
    blocks = blocks_of(formulas)
    assert len(blocks) == N_BLOCKS
    guarded = 0
    for (sheet, cell), text in formulas_of(formulas).items():
        if text.startswith(("=STP_", "=ROWS(")):
            continue
        read = {b.name for s, c in references(sheet, text) for b in blocks.values() if s == b.sheet and c in b.cells}
        if read:
            m = _GUARD.match(text)
            assert m and read <= set(m[1].split("+")), (sheet, cell, text)
            guarded += 1
    assert guarded > 250


def test_a_sound_workbook_reports_no_problem():
    for path in (WORKBOOK, TEMPLATE):
        values, formulas = committed(path)
        flags = {name: named(values, formulas, name) for name in blocks_of(formulas)}
        assert set(flags.values()) == {0}  # an empty template reports no problem: blank rows are harmless
        assert named(values, formulas, "err_functions") == values["Checks"][FUNCTIONS].value == 0
        assert values["Checks"][NOT_COMPUTED].value == 0
        n = N_BLOCKS if path == WORKBOOK else N_TEMPLATE_BLOCKS
        assert len(flags) == n and values["Cover"][COVER_FUNCTIONS].value == f"none of the {n} functions reports a problem"
        master = "11 checks exceed rounding" if path == WORKBOOK else "OK"
        assert values["Cover"][COVER_MASTER].value == values["Checks"][MASTER].value == master


# ---- broken workbooks, each route --------------------------------------------------------------

@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("broken")
    return {name: mistake.make(out) for name, mistake in MISTAKES.items()}


def depends(formulas: dict[tuple[str, str], str], failed_cells: set[tuple[str, str]],
            barriers: frozenset = frozenset()) -> set[tuple[str, str]]:
    """The formula cells that depend, through any chain of references, on the failed blocks' cells
    (the error checks' own counting formulas left out: they read blocks on purpose; and the
    ``barriers``, SUMIFs that add up other programmes than the failed one)."""
    memo: dict[tuple[str, str], bool] = {}

    def visit(key: tuple[str, str], stack: frozenset) -> bool:
        if key in failed_cells:
            return True
        if key not in formulas or key in stack or formulas[key].startswith("=ROWS(") or key in barriers:
            return False
        if key not in memo:
            memo[key] = any(visit(ref, stack | {key}) for ref in references(key[0], formulas[key]))
        return memo[key]

    return {key for key in formulas if key not in failed_cells and visit(key, frozenset())}


def dependent_figures(values, texts: dict[tuple[str, str], str], failed_cells: set) -> list[tuple[str, str]]:
    """The figures (numbers in the sound workbook, not STP_* calls, on Checks the computed values,
    on Outputs not the counts of the checks summary) that depend on the failed cells. A SUMIF of
    capital by programme for a waterfall the failed programme does not go through adds up none of
    its #N/A: it keeps its figure (asserted), and what depends on it only does not count."""
    sound_values, _ = committed()
    reached = depends(texts, failed_cells)
    barriers = frozenset(k for k in reached if "SUMIF(" in texts[k] and isinstance(values[k[0]][k[1]].value, (int, float)))
    assert {k: values[k[0]][k[1]].value for k in barriers} == {k: sound_values[k[0]][k[1]].value for k in barriers}
    summary = next(c.row for c in sound_values["Outputs"]["A"] if str(c.value).startswith("Checks summary"))
    return [key for key in depends(texts, failed_cells, barriers)
            if isinstance(sound_values[key[0]][key[1]].value, (int, float))
            and not texts[key].startswith("=STP_")
            and (key[0] != "Checks" or key[1].startswith("E"))
            and not (key[0] == "Outputs" and int(re.sub("[A-Z]", "", key[1])) >= summary)]


LIBREOFFICE = [pytest.mark.libreoffice, pytest.mark.skipif(not lo_available(), reason="LibreOffice not installed")]
#: Each mistake by each route: the builder's own values (classic Excel), the batch engine with the
#: registry and with a registry whose failed calls give #VALUE!, and the LibreOffice engine.
#: The formulas engine takes about 25 s a run on this workbook (4,984 formulas): both of its routes
#: run on the first mistake; every mistake runs by classic Excel and on LibreOffice.
FIRST = next(iter(MISTAKES))
CASES = [*((name, route) for name in MISTAKES for route in ("classic Excel", "formulas", "formulas, #VALUE!")
           if name == FIRST or not route.startswith("formulas")),
         *(pytest.param(name, "libreoffice", marks=LIBREOFFICE) for name in MISTAKES)]


@pytest.mark.parametrize("name, route", CASES)
def test_a_failed_function_turns_its_totals_to_errors_and_the_checks_say_so(broken, name, route, tmp_path):
    mistake = MISTAKES[name]
    path = broken[name]
    if route != "classic Excel":
        registry = ErrorValueRegistry(REGISTRY) if route.endswith("#VALUE!") else REGISTRY
        result = regen_file(path, registry, out_dir=tmp_path, engine=route.split(",")[0])
        assert not result.failed, result.error
        path = Path(result.output)
    values = openpyxl.load_workbook(path, data_only=True)
    formulas = openpyxl.load_workbook(path)
    blocks = blocks_of(formulas)
    if route != "classic Excel":  # the builder stored what the engine computes, guards and all (STP_* cells aside)
        stored = openpyxl.load_workbook(broken[name], data_only=True)
        differ = {key for key, text in formulas_of(formulas).items() if not text.startswith("=STP_")
                  and stored[key[0]][key[1]].value != values[key[0]][key[1]].value}
        assert not differ, sorted(differ)[:5]
    failed = {f for f, _ in mistake.failed}

    # the error checks, the count, the master check and the Cover
    flags = {b: named(values, formulas, b) for b in blocks}
    assert {b for b, v in flags.items() if v} == failed, flags
    assert named(values, formulas, "err_functions") == values["Checks"][FUNCTIONS].value == len(failed)
    line = problem_line(failed)
    assert values["Checks"][MASTER].value == values["Cover"][COVER_MASTER].value == values["Outputs"]["B3"].value == line
    assert values["Cover"][COVER_FUNCTIONS].value == line + ": " + ", ".join(f"{anchors()[name]} ({label})"
                                                                            for name, label in mistake.failed)
    assert values["Checks"][NOT_COMPUTED].value > 0

    # no figure that depends on a failed block holds a number (the tables, the totals, the chart
    # data, the checks' computed values): each is an error value
    texts = formulas_of(formulas)
    figures = dependent_figures(values, texts, {(blocks[b].sheet, c) for b in failed for c in blocks[b].cells})
    assert len(figures) > 20
    shown = {key: values[key[0]][key[1]].value for key in figures}
    assert all(v in ERRORS for v in shown.values()), {k: v for k, v in shown.items() if v not in ERRORS}
    guarded = [key for key in figures if (m := _GUARD.match(texts[key])) and set(m[1].split("+")) & failed]
    assert guarded and all(shown[key] == "#N/A" for key in guarded)

    # the totals named in the issue, and those that do not depend on the mistake
    for sheet, label, column in mistake.totals:
        ws = values[sheet]
        row = [c.value for c in ws[find_row(ws, label)][column_index_from_string(column) - 1:]]
        assert row[0] == "#N/A" and not any(isinstance(v, (int, float)) for v in row), (sheet, label, row)
    for sheet, label in mistake.intact:
        assert isinstance(values[sheet].cell(find_row(values[sheet], label), 2).value, (int, float)), (sheet, label)

    # each check of a stated figure whose computed value is an error is 'not computed'
    checks = values["Checks"]
    for r in range(8, checks.max_row + 1):
        if checks.cell(r, 5).value in ERRORS:
            stated = checks.cell(r, 4).value not in (None, "")
            assert checks.cell(r, 9).value == ("not computed" if stated else "not stated"), r
