"""The usual mistakes a new user makes in an STP workbook (issue 14), made in copies of real
workbooks for tests/batch/test_mistakes.py.

Two workbooks take each mistake: a copy of the LLR reference workbook (``workbooks/``), edited
in its sheet XML directly (openpyxl would lose what it does not model: the edit must leave the rest
of the file as Excel wrote it), and a small hand-made model (:func:`small_model`, XlsxWriter) laid
out like a finance workbook: names in column A, units in B, years across, disposals in brackets.

:func:`edit_cells` sets cells of a copy — a number, text (as typed: ``'12,000'``), a blank, or a
formula — and :func:`find` finds a cell by its row's name and its column's heading, so that the
tests follow the LLR workbook when its builder moves rows.
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter


@dataclass(frozen=True)
class Formula:
    """A formula to put in a cell (text without '='); ``array``: the range of an array formula."""

    text: str
    array: str | None = None


# ---- editing a copy's sheet XML --------------------------------------------------------------------

def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its part in the package (xl/worksheets/sheetN.xml)."""
    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = {}
    for m in re.finditer(r"<Relationship\b([^>]*)/?>", rels):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        targets[attrs.get("Id")] = "xl/" + attrs.get("Target", "").lstrip("/").removeprefix("xl/")
    out = {}
    for m in re.finditer(r"<sheet\b([^>]*)/?>", wb):
        attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', m.group(1)))
        out[html.unescape(attrs["name"])] = targets[attrs["r:id"]]
    return out


_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


def _cell_xml(ref: str, attrs: str, value: Any) -> str:
    style = re.search(r'\ss="\d+"', attrs or "")
    s = style.group(0) if style else ""
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, Formula):
        f = f'<f t="array" ref="{value.array}">' if value.array else "<f>"
        return f'<c r="{ref}"{s}>{f}{escape(value.text)}</f><v>0</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def _set_cell(xml: str, ref: str, value: Any) -> str:
    letters, row = coordinate_from_string(ref)
    col = column_index_from_string(letters)
    row_re = re.compile(rf'<row r="{row}"(\s[^>]*?)?(/>|>(.*?)</row>)', re.S)
    m = row_re.search(xml)
    if m is None:  # a new row, in its place among the others
        new = f'<row r="{row}">{_cell_xml(ref, "", value)}</row>'
        after = next((r for r in re.finditer(r'<row r="(\d+)"', xml) if int(r.group(1)) > row), None)
        if after is not None:
            return xml[:after.start()] + new + xml[after.start():]
        if "<sheetData/>" in xml:
            return xml.replace("<sheetData/>", f"<sheetData>{new}</sheetData>", 1)
        return xml.replace("</sheetData>", new + "</sheetData>", 1)
    head = f'<row r="{row}"{m.group(1) or ""}>'
    body = m.group(3) or ""
    cells = list(_CELL.finditer(body))
    same = next((c for c in cells if c.group(1) == letters), None)
    if same is not None:
        body = body[:same.start()] + _cell_xml(ref, same.group(3), value) + body[same.end():]
    else:
        after = next((c for c in cells if column_index_from_string(c.group(1)) > col), None)
        at = after.start() if after is not None else len(body)
        body = body[:at] + _cell_xml(ref, "", value) + body[at:]
    return xml[:m.start()] + head + body + "</row>" + xml[m.end():]


def _widen_dimension(xml: str, refs: list[str]) -> str:
    m = re.search(r'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"/>', xml)
    if not m:
        return xml
    c1, r1 = column_index_from_string(m.group(1)), int(m.group(2))
    c2, r2 = (column_index_from_string(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    for ref in refs:
        letters, row = coordinate_from_string(ref.split(":")[-1])
        c2, r2 = max(c2, column_index_from_string(letters)), max(r2, row)
    new = f'<dimension ref="{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"/>'
    return xml[:m.start()] + new + xml[m.end():]


def edit_cells(src: Path, dst: Path, edits: dict[tuple[str, str], Any]) -> Path:
    """A copy of ``src`` with each (sheet, cell) set to its value: a number, text (stored as an
    inline string, as typed), True/False, None (a blank; the cell keeps its format) or a
    :class:`Formula`. Every other part, and every other cell, is copied as it was."""
    parts = sheet_parts(src)
    by_part: dict[str, dict[str, Any]] = {}
    for (sheet, ref), value in edits.items():
        by_part.setdefault(parts[sheet], {})[ref] = value
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in by_part:
                xml = data.decode("utf-8")
                for ref, value in by_part[info.filename].items():
                    xml = _set_cell(xml, ref, value)
                xml = _widen_dimension(xml, list(by_part[info.filename]))
                data = xml.encode("utf-8")
            zout.writestr(info, data)
    return Path(dst)


# ---- finding cells by their labels -------------------------------------------------------------------

class Sheet:
    """A sheet's stored values (openpyxl, read only: reading loses nothing) with look-ups by label."""

    def __init__(self, path: Path, name: str):
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        self.name = name
        self.cells: dict[tuple[int, int], Any] = {}
        for row in wb[name].iter_rows():
            for c in row:
                if getattr(c, "value", None) is not None:
                    self.cells[(c.row, c.column)] = c.value
        wb.close()
        self.max_row = max((r for r, _c in self.cells), default=0)

    def row(self, label: str, after: int = 0) -> int:
        """The first row below ``after`` whose column A is ``label``."""
        for r in range(after + 1, self.max_row + 1):
            v = self.cells.get((r, 1))
            if isinstance(v, str) and v.strip() == label:
                return r
        raise LookupError(f"{self.name}: no row named {label!r} below row {after}")

    def column(self, heading: str, row: int) -> int:
        """The column whose nearest heading above ``row`` is ``heading``."""
        for r in range(row - 1, 0, -1):
            for (rr, c), v in sorted(self.cells.items()):
                if rr == r and isinstance(v, str) and v.strip() == heading:
                    return c
        raise LookupError(f"{self.name}: no heading {heading!r} above row {row}")

    def cell(self, label: str, heading: str, after: int = 0) -> str:
        r = self.row(label, after)
        return f"{get_column_letter(self.column(heading, r))}{r}"


def find(path: Path, sheet: str, label: str, heading: str, after: str | None = None) -> str:
    """The cell of ``sheet`` in the row named ``label`` (column A; the first below the row named
    ``after``, if given) and the column headed ``heading``: ``find(llr, "Inputs", "PF2", "2019/20")``."""
    s = Sheet(path, sheet)
    start = s.row(after) if after else 0
    return s.cell(label, heading, start)


# ---- the hand-made model -------------------------------------------------------------------------------

YEARS = ["2017/18", "2018/19", "2019/20", "2020/21"]

#: Where things are in the small model (cells the tests and the mistakes refer to).
SMALL = {
    "capital": ("Calculations", "B5"),  # STP_CAPITAL_NET: B5:G9, schemes and a TOTAL row
    "funding": ("Calculations", "B13"),  # STP_FUNDING_SPLIT: B13:E16
    "do_nothing": ("Calculations", "B20"),  # STP_DO_NOTHING: B20:E20
    "savings": ("Calculations", "B23"),  # STP_SAVINGS: B23:E24
    "gap": ("Calculations", "B27"),  # STP_GAP: B27:E27
}
#: The totals of the small model's Outputs sheet, each computed from one block of STP_* results.
SMALL_TOTALS = {
    "capital": ("Outputs", "B4"), "capital_cost": ("Outputs", "B5"), "dh_requirement": ("Outputs", "B6"),
    "do_nothing": ("Outputs", "B7"), "savings": ("Outputs", "B8"), "gap": ("Outputs", "B9"),
}


def small_model(path: Path) -> Path:
    """A small STP model, laid out as finance workbooks are: Inputs (capital schemes with four
    years and disposals in brackets, funding sources named in column A, growth rates, savings with
    a delivery % per strand), Calculations (one STP_* block each, array formulas, SUM totals),
    Outputs (totals over the blocks) and Checks (STP_CHECK against stated figures). The stored
    values are the right ones, so that a clean regeneration changes nothing."""
    from udfs import discover

    R = discover()
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    money = wb.add_format({"num_format": "#,##0;(#,##0)"})
    pct = wb.add_format({"num_format": "0%"})
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("Inputs")
    ws.write("A1", "Inputs: a small STP plan", bold)
    # capital (£000): rows 6-9, years C:F, disposals G
    ws.write("A4", "Capital schemes (£000)", bold)
    ws.write_row("A5", ["£000", "Units", *YEARS, "Disposals"], bold)
    schemes = [("Riverside", [1000, 12000, 8000, 2000], None), ("Hilltop", [500, 3000, 4000, 0], -1500),
               ("Meadow", [0, 2500, 2500, 2500], -2000), ("Lakeside", [0, 0, 1500, 1500], -800)]
    for k, (name, costs, disposal) in enumerate(schemes):
        r = 5 + k
        ws.write(r, 0, name)
        ws.write(r, 1, "£000")
        ws.write_row(r, 2, costs, money)
        if disposal is not None:
            ws.write_number(r, 6, disposal, money)
    # funding (£m): rows 13-15
    ws.write("A11", "Funding (£m)", bold)
    ws.write_row("A12", ["£m", "Units", *YEARS], bold)
    programme = [10, 20, 30, 25]
    sources = [("PF2", [0, -2, -5, -5]), ("Local Authority", [-1, -1, -1, -1])]
    ws.write_row("A13", ["Programme", "£m", *programme])
    for k, (name, row) in enumerate(sources):
        ws.write_row(13 + k, 0, [name, "£m", *row])
    # do nothing (£m): rows 19-22
    ws.write("A18", "Do nothing (£m)", bold)
    ws.write_row("A19", ["Figure", "Units", "Value"], bold)
    ws.write_row("A20", ["Baseline spend", "£m", 1200])
    ws.write_row("A21", ["Funding growth a year", "%"])
    ws.write_number("C21", 0.02, pct)
    ws.write_row("A22", ["Cost growth a year", "%"])
    ws.write_number("C22", 0.04, pct)
    ws.write_row("A23", ["Years", "years", 4])
    # savings (£m): rows 27-28, delivery G
    ws.write("A25", "Savings (£m)", bold)
    ws.write_row("A26", ["£m", "Units", *YEARS, "Delivery"], bold)
    gross = [("Strand 1 - New Models of Care", [5, 10, 15, 20], 0.5), ("Strand 2 - Operational Efficiencies", [3, 6, 9, 12], 0.8)]
    for k, (name, row, delivery) in enumerate(gross):
        ws.write_row(26 + k, 0, [name, "£m", *row])
        ws.write_number(26 + k, 6, delivery, pct)

    calc = wb.add_worksheet("Calculations")
    calc.write("A1", "Calculations", bold)
    calc.write_row("A4", ["Capital (£000): =STP_CAPITAL_NET", *YEARS, "Disposals", "Total"], bold)
    capital_f = "STP_CAPITAL_NET(Inputs!$C$6:$F$9,Inputs!$G$6:$G$9)"
    capital = R["STP_CAPITAL_NET"]([s[1] for s in schemes], [[s[2]] for s in schemes])
    for k, name in enumerate([s[0] for s in schemes] + ["Total"]):
        calc.write(4 + k, 0, name)
    calc.write_array_formula("B5:G9", "{=" + capital_f + "}", None, capital[0][0])
    _cached(calc, 4, 1, capital)
    calc.write("A10", "Total capital cost (before disposals)")
    calc.write_formula("B10", "=SUM($B$9:$E$9)", None, sum(capital[-1][:4]))

    calc.write_row("A12", ["Funding (£m): =STP_FUNDING_SPLIT", *YEARS, "Total"], bold)
    funding_f = "STP_FUNDING_SPLIT(Inputs!$C$13:$F$13,Inputs!$C$14:$F$15)"
    funding = R["STP_FUNDING_SPLIT"]([programme], [s[1] for s in sources])
    for k, name in enumerate(["Programme", "PF2", "Local Authority", "DH funding requirement"]):
        calc.write(12 + k, 0, name)
        calc.write_formula(12 + k, 5, f"=SUM($B${13 + k}:$E${13 + k})", None, sum(funding[k]))
    calc.write_array_formula("B13:E16", "{=" + funding_f + "}", None, funding[0][0])
    _cached(calc, 12, 1, funding)

    calc.write_row("A19", ["Do nothing gap (£m): =STP_DO_NOTHING", *YEARS, "Total"], bold)
    dn_f = "STP_DO_NOTHING(Inputs!$C$20,Inputs!$C$21,Inputs!$C$22,Inputs!$C$23)"
    dn = R["STP_DO_NOTHING"](1200.0, 0.02, 0.04, 4.0)
    calc.write("A20", "Do nothing gap")
    calc.write_array_formula("B20:E20", "{=" + dn_f + "}", None, dn[0][0])
    _cached(calc, 19, 1, dn)
    calc.write_formula("F20", "=SUM($B$20:$E$20)", None, sum(dn[0]))

    calc.write_row("A22", ["Net savings (£m): =STP_SAVINGS", *YEARS, "Total"], bold)
    sav_f = "STP_SAVINGS(Inputs!$C$27:$F$28,,,Inputs!$G$27:$G$28)"
    sav = R["STP_SAVINGS"]([g[1] for g in gross], None, None, [[g[2]] for g in gross])
    for k, g in enumerate(gross):
        calc.write(22 + k, 0, g[0])
        calc.write_formula(22 + k, 5, f"=SUM($B${23 + k}:$E${23 + k})", None, sum(sav[k]))
    calc.write_array_formula("B23:E24", "{=" + sav_f + "}", None, sav[0][0])
    _cached(calc, 22, 1, sav)

    calc.write_row("A26", ["Residual gap (£m): =STP_GAP", *YEARS], bold)
    gap_f = "STP_GAP($B$20:$E$20,$B$23:$E$24)"
    gap = R["STP_GAP"](dn, sav)
    calc.write("A27", "Residual gap")
    calc.write_array_formula("B27:E27", "{=" + gap_f + "}", None, gap[0][0])
    _cached(calc, 26, 1, gap)

    out = wb.add_worksheet("Outputs")
    out.write("A1", "Outputs", bold)
    out.write_row("A3", ["Figure", "Value"], bold)
    totals = [
        ("Total net capital requirement (£000)", "=Calculations!$G$9", capital[-1][-1]),
        ("Total capital cost before disposals (£000)", "=Calculations!$B$10", sum(capital[-1][:4])),
        ("Total DH funding requirement (£m)", "=Calculations!$F$16", sum(funding[-1])),
        ("Do nothing gap, four years (£m)", "=Calculations!$F$20", sum(dn[0])),
        ("Net savings, four years (£m)", "=Calculations!$F$23+Calculations!$F$24", sum(sav[0]) + sum(sav[1])),
        ("Residual gap 2020/21 (£m)", "=Calculations!$E$27", gap[0][-1]),
    ]
    for k, (name, f, v) in enumerate(totals):
        out.write(3 + k, 0, name)
        out.write_formula(3 + k, 1, f, None, v)

    checks = wb.add_worksheet("Checks")
    checks.write_row("A1", ["Check", "Stated", "Computed", "Result"], bold)
    stated = [("Net capital requirement", capital[-1][-1], "Outputs!$B$4"),
              ("DH funding requirement", sum(funding[-1]), "Outputs!$B$6"),
              ("Residual gap 2020/21", round(gap[0][-1], 1), "Outputs!$B$9")]
    for k, (name, v, ref) in enumerate(stated):
        checks.write(1 + k, 0, name)
        checks.write_number(1 + k, 1, v)
        checks.write_formula(1 + k, 2, f"={ref}", None, _value_of(ref, totals))
        result = R["STP_CHECK"](v, _value_of(ref, totals), 0.05)
        checks.write_formula(1 + k, 3, f"=STP_CHECK($B${2 + k},$C${2 + k},0.05)", None, result)
    wb.close()
    return path


def _value_of(ref: str, totals: list) -> float:
    row = int(ref.rsplit("$", 1)[1])
    return totals[row - 4][2]


def _cached(ws, r0: int, c0: int, block: list[list[Any]]) -> None:
    """The cached values of an array formula's other cells (XlsxWriter stores the first only)."""
    for i, row in enumerate(block):
        for j, v in enumerate(row):
            if i or j:
                ws.write_number(r0 + i, c0 + j, v)


# ---- the mistakes --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mistake:
    """A broken copy of a workbook and what regenerating it must say: ``kind`` error (the call
    refuses it: status 'inputs need fixing') or warning (a value that may be meant: 'ok'); the
    input ``cell`` and its ``labels`` that the report's first line names, a fragment of the
    ``problem``; and ``totals``, figures computed from the refused cell — errors after an error,
    numbers after a warning."""

    name: str
    path: Path
    kind: str
    cell: str
    labels: tuple[str, ...]
    problem: str
    totals: tuple[tuple[str, str], ...]
    refused: tuple[str, str]  # the STP_* cell whose call reads the mistake


#: The six usual mistakes of issue 14, and a funding source with mixed signs (the issue's PF2).
NAMES = ("positive_and_brackets", "text_in_money_cell", "blank_year", "fifth_year", "percentage_typed_50",
         "growth_typed_4", "source_positive_and_brackets")


def small_mistakes(folder: Path) -> dict[str, Mistake]:
    """Each mistake in a copy of :func:`small_model`."""
    folder = Path(folder)
    base = small_model(folder / "small.xlsx")
    t = SMALL_TOTALS
    capital = (t["capital"], t["capital_cost"], ("Checks", "D2"))
    cases = [
        ("positive_and_brackets", "G8", 2000, "error", ("Meadow", "Disposals"), "positive", capital, SMALL["capital"]),
        ("text_in_money_cell", "D6", "12,000", "error", ("Riverside", "2018/19"), "'12,000' is text", capital, SMALL["capital"]),
        ("blank_year", "E6", None, "warning", ("Riverside", "2019/20"), "blank", capital, SMALL["capital"]),
        ("fifth_year", "G6", 2000, "error", ("Riverside", "Disposals"), "positive", capital, SMALL["capital"]),
        ("percentage_typed_50", "G27", 50, "error", ("Strand 1 - New Models of Care", "Delivery"), "5000%",
         (t["savings"], t["gap"], ("Checks", "D4")), SMALL["savings"]),
        ("growth_typed_4", "C22", 4, "error", ("Cost growth a year", "Value"), "400%",
         (t["do_nothing"], t["gap"], ("Checks", "D4")), SMALL["do_nothing"]),
        ("source_positive_and_brackets", "E14", 2, "error", ("PF2", "2019/20"), "positive",
         (t["dh_requirement"], ("Checks", "D3")), SMALL["funding"]),
    ]
    out = {}
    for name, cell, value, kind, labels, problem, totals, refused in cases:
        path = edit_cells(base, folder / f"small_{name}.xlsx", {("Inputs", cell): value})
        out[name] = Mistake(name, path, kind, f"Inputs!{cell}", labels, problem, totals, refused)
    return out


def llr_mistakes(llr: Path, folder: Path) -> dict[str, Mistake]:
    """Each mistake in a copy of the LLR reference workbook, its cells found by their labels.
    The LLR workbook has no growth or delivery rate: for those two, the copy gains what a user
    adds — rows of rates at the foot of Inputs, a 'do nothing' block (STP_DO_NOTHING, an array
    formula, and its total) at the foot of Calculations, and a delivery rate for the strand 2
    savings (STP_SAVINGS' fourth argument) with a four-year total."""
    from xl_stp.batch import scan
    from xl_stp.batch.formula import split_call

    folder = Path(folder)
    inputs, calc, outputs = Sheet(llr, "Inputs"), Sheet(llr, "Calculations"), Sheet(llr, "Outputs")
    acute_title = next(v for (r, c), v in sorted(calc.cells.items()) if c == 1 and isinstance(v, str)
                       and v.startswith("Acute hospitals reconfiguration (£000)"))
    community_title = next(v for (r, c), v in sorted(calc.cells.items()) if c == 1 and isinstance(v, str)
                           and v.startswith("Community hospital inpatient services"))
    acute_funding_title = next(v for (r, c), v in sorted(calc.cells.items()) if c == 1 and isinstance(v, str)
                               and v.startswith("Acute configuration funding"))
    by_programme = outputs.row("Capital cost by programme and year (£000)")

    def totals_of_capital(title: str, programme: str) -> tuple[tuple[str, str], ...]:
        block = calc.row(title)
        return (("Calculations", calc.cell("Total", "Total", block)),
                ("Calculations", f"B{calc.row('Total capital cost (before disposals)', block)}"),
                ("Outputs", outputs.cell(programme, "Total", by_programme)))

    acute = totals_of_capital(acute_title, "Acute hospitals reconfiguration")
    community = totals_of_capital(community_title, "Community hospital inpatient services and planned care reconfiguration")
    dh = (("Outputs", f"B{outputs.row('Total LLR DH capital requirement')}"),
          ("Calculations", calc.cell("DH funding requirement", "Total", calc.row(acute_funding_title))))
    stp = {(f.sheet, f.ref): f for f in scan(llr).stp_cells()}
    capital_acute = next(k for k, f in stp.items() if k[0] == "Calculations" and f.array_ref
                         and f.ref == f"B{calc.row(acute_title) + 1}")
    capital_community = next(k for k, f in stp.items() if k[0] == "Calculations" and f.ref == f"B{calc.row(community_title) + 1}")
    funding = next(k for k, f in stp.items() if k[0] == "Calculations" and f.ref == f"B{calc.row(acute_funding_title) + 1}")

    d8 = inputs.cell("Reprovision of clinical services", "2018/19")
    g8 = inputs.cell("Reprovision of clinical services", "Disposals")
    g33 = inputs.cell("Melton (NHSPS)", "Disposals")
    pf2 = inputs.cell("PF2", "2019/20")
    out: dict[str, Mistake] = {}

    def simple(name, cell, value, kind, labels, problem, totals, refused):
        path = edit_cells(llr, folder / f"llr_{name}.xlsx", {("Inputs", cell): value})
        out[name] = Mistake(name, path, kind, f"Inputs!{cell}", labels, problem, totals, refused)

    simple("positive_and_brackets", g33, 7000, "error", ("Melton (NHSPS)", "Disposals"), "positive", community, capital_community)
    simple("text_in_money_cell", d8, "12,000", "error", ("Reprovision of clinical services", "2018/19"), "'12,000' is text",
           acute, capital_acute)
    simple("blank_year", d8, None, "warning", ("Reprovision of clinical services", "2018/19"), "blank", acute, capital_acute)
    simple("fifth_year", g8, 2000, "error", ("Reprovision of clinical services", "Disposals"), "positive", acute, capital_acute)
    simple("source_positive_and_brackets", pf2, 27.2, "error", ("PF2", "2019/20"), "positive", dh, funding)

    # rows a user adds for rates, below everything on Inputs and Calculations
    top, foot = inputs.max_row + 3, calc.max_row + 3
    rates = {("Inputs", f"A{top}"): "Rates added by a user", ("Inputs", f"A{top + 1}"): "Figure",
             ("Inputs", f"B{top + 1}"): "Units", ("Inputs", f"C{top + 1}"): "Value"}

    # a percentage typed 50 instead of 50%: the strand 2 delivery rate
    savings = next(k for k, f in stp.items() if (f.text or "").upper().startswith("STP_SAVINGS("))
    name, args = split_call(stp[savings].text)
    args = (args + ["", "", "", ""])[:4]
    args[3] = f"Inputs!$C${top + 2}"
    edits = dict(rates)
    edits.update({("Inputs", f"A{top + 2}"): "Strand 2 delivery", ("Inputs", f"B{top + 2}"): "%", ("Inputs", f"C{top + 2}"): 50,
                  savings: Formula(f"{name}({','.join(args)})"),
                  ("Calculations", f"A{foot}"): "Strand 2 net savings over four years (£m)",
                  ("Calculations", f"B{foot}"): Formula(f"4*{savings[0]}!${savings[1][0]}${savings[1][1:]}")})
    path = edit_cells(llr, folder / "llr_percentage_typed_50.xlsx", edits)
    out["percentage_typed_50"] = Mistake("percentage_typed_50", path, "error", f"Inputs!C{top + 2}", ("Strand 2 delivery", "Value"),
                                         "5000%", (("Calculations", f"B{foot}"),), savings)

    # growth typed 4 instead of 4%: a 'do nothing' block
    edits = dict(rates)
    edits.update({("Inputs", f"A{top + 2}"): "Baseline spend 2016/17", ("Inputs", f"B{top + 2}"): "£m", ("Inputs", f"C{top + 2}"): 2121,
                  ("Inputs", f"A{top + 3}"): "Funding growth a year", ("Inputs", f"B{top + 3}"): "%", ("Inputs", f"C{top + 3}"): 0.02,
                  ("Inputs", f"A{top + 4}"): "Cost growth a year", ("Inputs", f"B{top + 4}"): "%", ("Inputs", f"C{top + 4}"): 4,
                  ("Calculations", f"A{foot}"): "Do nothing gap (£m): =STP_DO_NOTHING",
                  ("Calculations", f"A{foot + 1}"): "Do nothing gap",
                  ("Calculations", f"B{foot + 1}"): Formula(f"STP_DO_NOTHING(Inputs!$C${top + 2},Inputs!$C${top + 3},Inputs!$C${top + 4},4)",
                                                            array=f"B{foot + 1}:E{foot + 1}"),
                  ("Calculations", f"F{foot + 1}"): Formula(f"SUM($B${foot + 1}:$E${foot + 1})")})
    for k, year in enumerate(YEARS):
        edits[("Calculations", f"{'BCDE'[k]}{foot}")] = year
    edits[("Calculations", f"F{foot}")] = "Total"
    path = edit_cells(llr, folder / "llr_growth_typed_4.xlsx", edits)
    out["growth_typed_4"] = Mistake("growth_typed_4", path, "error", f"Inputs!C{top + 4}", ("Cost growth a year", "Value"), "400%",
                                    (("Calculations", f"F{foot + 1}"),), ("Calculations", f"B{foot + 1}"))
    return out
