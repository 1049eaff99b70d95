"""The LLR STP 2016 as the template holds it: each transcribed figure (``xl_stp/llr/data``) in its
template input, and the figures the template has no place for (the community summary's scheme
rows, the text's own figures, the summary boxes' returns, organisational growth, beds) in LLR's own
blocks below the template's, as published.

:func:`llr_footprint` maps the figures to template keys; :func:`write_llr_inputs` writes LLR's
blocks and returns the cell of each of their figures by ``("figure", table, row, column)``.
Nothing is edited to make a total match: a published figure is typed as published (the STF
investment of 2020/21, £66m, is both the plan's extra running cost and its STF funding there).
"""

from __future__ import annotations

from typing import Any, Iterator

from ..llr.figures import (
    ACUTE_FUNDING_COLUMNS,
    CAPITAL_TABLES,
    COMMUNITY_FUNDING_COLUMNS,
    COMMUNITY_SCHEMES,
    STF_COLUMNS,
    STRAND_2,
    STRANDS,
    YEARS,
    Figures,
    item_rows,
    stf_lines,
)
from .arithmetic import rounding_unit, rounding_unit_formula
from .footprint import DEFAULTS, PLAN_YEARS, Entry, Footprint, Key, key
from .inputs import PLAN_COL, SOURCE_COLUMN, InputsWriter

FOOTPRINT, TITLE = "LLR", "LLR STP 2016"
DESCRIPTION = ("The finance and capital sections of the Leicester, Leicestershire & Rutland Sustainability and "
               "Transformation Plan (November 2016), rebuilt from their line items.")
ACUTE, COMMUNITY = "Acute configuration", "Community configuration"
#: The funding waterfall each LLR capital programme goes through (EPR goes through neither).
WATERFALL_OF = {"acute_reconfiguration": ACUTE, "community_hospitals": COMMUNITY, "hinckley": COMMUNITY,
                "oakham_lutterworth": COMMUNITY, "other_schemes": COMMUNITY}
#: The funding sources besides disposals, in the order of the template's rows.
SOURCES = ("PF2", "Welcome Centre", "Commercially funded", "Local Authority funded")
#: Each waterfall's published rows -> the template's rows.
ACUTE_ROWS = {"Reconfiguration programme": "programme", "Approved to date": "approved", "Internally funded": "internal",
              "External funding requirement": "external", "Site disposal": "disposals", "PF2": 1, "Welcome Centre": 2,
              "DH funding requirement": "dh"}
COMMUNITY_ROWS = {"External Funding Requirement": "external", "Disposals": "disposals", "Commercially funded": 3,
                  "Local Authority funded": 4, "DH funding requirement": "dh"}
REQUIREMENT_ROWS = {"UHL Reconfiguration": (1, "external"), "Less: Alternative funding (UHL)": (1, "alternative"),
                    "Total UHL DH requirement": (1, "dh"),
                    "Community Hospital & CAMHS reconfiguration": (2, "external"),
                    "Less: Alternative funding (Community)": (2, "alternative"),
                    "Total Community DH requirement": (2, "dh"), "Total LLR DH Capital requirement": ("total",)}
FINAL = PLAN_YEARS - 1
#: The savings lines: (line, strand, the figure).
SAVINGS_LINES = (("Strand 1: net savings, as headed", STRANDS[0], (STRANDS[0], "Net")),
                 ("Acute reconfiguration (gross)", STRAND_2, (STRAND_2, "Gross: acute reconfiguration")),
                 ("Community inpatients and planned care (gross)", STRAND_2, (STRAND_2, "Gross: community inpatients and planned care")),
                 ("Strand 3: net savings, as headed", STRANDS[2], (STRANDS[2], "Net")),
                 ("Strand 4: net savings, as headed", STRANDS[3], (STRANDS[3], "Net")),
                 ("Strand 5: net savings, as headed", STRANDS[4], (STRANDS[4], "Net")))
#: Figures typed in two template inputs (the first holds it for the record).
NARRATIVE = {("Do nothing gap by 2020/21", "Health"): [key("sector", 1, FINAL)],
             ("Do nothing gap by 2020/21", "Social care"): [key("sector", 2, FINAL)],
             ("Do nothing gap by 2020/21", "Total"): [key("gap", "do nothing stated", FINAL)],
             ("STF net investment 2020/21", "2020/21"): [key("gap", "investment", FINAL), key("gap", "stf", FINAL)],
             ("Savings across five priority areas", "Total"): [key("stated", "savings")],
             ("STF investment requested over five years", "Total"): [key("stated", "stf requested")],
             ("Capital required", "Plan on a page"): [key("stated", "capital")]}


def _funding_column(col: str) -> Any:
    return {"Prior years": "prior", "2016/17": "base", "Total": "total"}.get(col, YEARS.index(col) if col in YEARS else None)


def template_places(f: Figures) -> Iterator[tuple[tuple, Key]]:
    """Each transcribed figure that has a place in the template: (its key, the template input)."""
    for p, table in enumerate(CAPITAL_TABLES, start=1):
        yield from _capital_places(f, table, p)
    for table, rows, w in (("acute_funding", ACUTE_ROWS, 1), ("community_funding", COMMUNITY_ROWS, 2)):
        for row, r in rows.items():
            for col in (*ACUTE_FUNDING_COLUMNS, "Total"):
                if (table, row, col) in f:
                    yield (table, row, col), key("waterfall", w, r, _funding_column(col))
    for row, place in REQUIREMENT_ROWS.items():
        yield ("total_requirement", row, "£m"), key("requirement", *place)
    for i, line in enumerate(stf_lines(f), start=1):
        for j, col in enumerate(STF_COLUMNS):
            if ("stf_investment", line, col) in f:
                yield ("stf_investment", line, col), key("stf", i, "nr" if col.endswith("Non Rec") else "r", YEARS.index(col[:7]))
    for col in STF_COLUMNS:
        yield ("stf_investment", "Total", col), key("stf stated", "nr" if col.endswith("Non Rec") else "r", YEARS.index(col[:7]))
    for y, year in enumerate(YEARS):
        yield ("stf_investment", "Total Non Recurrent and Recurrent", f"{year} Total"), key("stf stated", "total", y)
    yield ("strand_savings", STRAND_2, "Capital charges 2017/18 to 2020/21"), key("strand", 2, "charges", FINAL)
    yield ("strand_savings", STRAND_2, "Net"), key("strand", 2, "stated")
    for i, (_line, _strand, (row, col)) in enumerate(SAVINGS_LINES, start=1):
        yield ("strand_savings", row, col), key("line", i, FINAL)
    for (row, col), places in NARRATIVE.items():
        for place in places:
            yield ("narrative", row, col), place


def _capital_places(f: Figures, table: str, p: int) -> Iterator[tuple[tuple, Key]]:
    total_row, summary, _title = CAPITAL_TABLES[table]
    columns = {**{y: i for i, y in enumerate(YEARS)}, "Disposals": "disposals", "Total": "total"}
    for s, row in enumerate(item_rows(f, table), start=1):
        for col, c in columns.items():
            if (table, row, col) in f:
                yield (table, row, col), key("scheme", p, s, c)
    for col, c in columns.items():
        if (table, total_row, col) in f and total_row not in item_rows(f, table):
            yield (table, total_row, col), key("programme", p, "stated", c)
    for row in f.rows(summary) if summary else []:
        field_ = "cost" if "Capital Cost" in row else "summary disposals" if "Disposal" in row else \
            "net" if row == "Net Capital Requirement" else None
        if field_:
            yield (summary, row, "Value"), key("programme", p, "stated", field_)


def _names(f: Figures) -> dict[Key, Entry]:
    """The names LLR types: footprint, programmes and schemes, waterfalls, sources, lines, strands."""
    out = {key("plan", "footprint"): Entry(FOOTPRINT), key("plan", "title"): Entry(TITLE),
           key("plan", "description"): Entry(DESCRIPTION)}
    for p, (table, (_t, _s, title)) in enumerate(CAPITAL_TABLES.items(), start=1):
        out[key("programme", p, "name")] = Entry(title, "published table title")
        if table in WATERFALL_OF:
            out[key("programme", p, "waterfall")] = Entry(WATERFALL_OF[table])
        for s, row in enumerate(item_rows(f, table), start=1):
            out[key("scheme", p, s, "name")] = Entry(row)
    out[key("waterfall", 1, "name")], out[key("waterfall", 2, "name")] = Entry(ACUTE), Entry(COMMUNITY)
    out.update({key("source", k): Entry(name) for k, name in enumerate(SOURCES, start=1)})
    out.update({key("stf", i, "name"): Entry(line) for i, line in enumerate(stf_lines(f), start=1)})
    out[key("sector", 1, "name")], out[key("sector", 2, "name")] = Entry("Health"), Entry("Social care")
    out.update({key("strand", k, "name"): Entry(name) for k, name in enumerate(STRANDS, start=1)})
    for i, (line, strand, _figure) in enumerate(SAVINGS_LINES, start=1):
        out[key("line", i, "name")], out[key("line", i, "strand")] = Entry(line), Entry(strand)
    return out


def llr_footprint(f: Figures) -> Footprint:
    """The LLR plan in the template's inputs: its names, and each figure that has a place there."""
    entries = {**DEFAULTS, **_names(f)}
    for figure, place in template_places(f):
        rec = f.record(*figure)
        value = rec["value"] if isinstance(rec["value"], str) else float(rec["value"])
        note = f" ({rec['note']})" if rec["note"] else ""
        entries[place] = Entry(value, f"{rec['source'].rsplit(' / ', 1)[0]}{note}", figure)
    return Footprint(entries)


def placed(f: Figures) -> dict[tuple, Key]:
    """Each figure with a template place -> its (first) place."""
    out: dict[tuple, Key] = {}
    for figure, place in template_places(f):
        out.setdefault(figure, place)
    return out


# ---- LLR's own blocks on Inputs ---------------------------------------------------------------------

#: The tables of LLR's own blocks and their titles, in order.
OWN_TABLES = {"community_funding": "Community configuration: schemes as the summary prints them (£m)",
              "strand_savings": "Savings by strand: figures the text gives",
              "narrative": "Plan on a page and finance narrative: figures the text gives",
              "summary_returns": "Capital programmes: return and payback as the summary boxes print them",
              "org_growth": "Organisational impacts of growth (%)", "beds": "Key bed changes"}


def write_llr_inputs(w: InputsWriter, f: Figures) -> dict[tuple, str]:
    """LLR's own blocks, below the template's: every figure not placed in the template, as
    published, blue, with its source and the unit it is rounded to (worked out from the figure)."""
    s = w.sheet
    s.label(w.row, 0, "LLR: figures the template has no place for (the checks of the LLR workbook use them)", "title")
    w.row += 2
    done = placed(f)
    cells: dict[tuple, str] = {}
    community = [r for r in COMMUNITY_SCHEMES]
    _table(w, f, "community_funding", community, [*COMMUNITY_FUNDING_COLUMNS, "Total"], cells)
    rest = [rec for rec in f.frame.itertuples() if (rec.table, rec.row, rec.column) not in done
            and rec.table not in ("community_funding", "org_growth", "beds")]
    by_table: dict[str, list] = {}
    for rec in rest:
        table = "summary_returns" if rec.table.endswith("_summary") else rec.table
        by_table.setdefault(table, []).append(rec)
    for table in ("strand_savings", "narrative", "summary_returns"):
        _figures(w, table, by_table.get(table, []), cells)
    for table in ("org_growth", "beds"):
        _table(w, f, table, f.rows(table), list(dict.fromkeys(f.frame.loc[f.frame["table"] == table, "column"])), cells)
    return cells


def _figures(w: InputsWriter, table: str, records: list, cells: dict[tuple, str]) -> None:
    """Figures the text states, one a row: figure, units, value, the unit it is rounded to, source."""
    s = w.sheet
    w.heading(OWN_TABLES[table])
    w.column_heads("Figure", ["Value", "Rounded to"])
    for rec in records:
        label = f"{rec.row}: {rec.column}" if table != "summary_returns" else f"{CAPITAL_TITLES.get(rec.table, rec.table)}: {rec.row}"
        s.label(w.row, 0, label)
        s.label(w.row, 1, rec.units, "source")
        value = rec.value if isinstance(rec.value, str) else float(rec.value)
        s.value(w.row, PLAN_COL, value, rec.units if rec.units in ("£000", "£m", "%") else "£m")
        cell = s.ref(w.row, PLAN_COL)
        unit = rounding_unit(value) if not isinstance(value, str) else "#VALUE!"
        s.formula(w.row, PLAN_COL + 1, f"={rounding_unit_formula(cell)}", unit, "unit")
        cells[("figure", rec.table, rec.row, rec.column)] = cell
        cells[("unit", rec.table, rec.row, rec.column)] = s.ref(w.row, PLAN_COL + 1)
        s.label(w.row, SOURCE_COLUMN, rec.source.rsplit(" / ", 1)[0] + (f" ({rec.note})" if rec.note else ""), "source")
        w.row += 1
    w.row += 1


CAPITAL_TITLES = {summary: title for _t, (_r, summary, title) in CAPITAL_TABLES.items() if summary}


def _table(w: InputsWriter, f: Figures, table: str, rows: list[str], cols: list[str], cells: dict[tuple, str]) -> None:
    """A published table as printed, a blank where it was blank; the unit each figure is rounded
    to is its table's (£m: ``unit_millions``) or, for percentages and beds, worked out from it."""
    s = w.sheet
    w.heading(OWN_TABLES[table])
    w.column_heads("", cols)
    for r in rows:
        s.label(w.row, 0, r)
        units = f.frame.loc[(f.frame["table"] == table) & (f.frame["row"] == r), "units"].iloc[0]
        s.label(w.row, 1, units, "source")
        for j, c in enumerate(cols):
            value = None
            if (table, r, c) in f:
                value = f.record(table, r, c)["value"]
                value = value if isinstance(value, str) else float(value)
            s.value(w.row, PLAN_COL + j, value, units if units in ("£000", "£m", "%") else "count")
            cells[("figure", table, r, c)] = s.ref(w.row, PLAN_COL + j)
        s.label(w.row, SOURCE_COLUMN, f"{OWN_TABLES[table]} / {r}", "source")
        w.row += 1
    w.row += 1
