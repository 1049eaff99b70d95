"""The reference case: the Leicester, Leicestershire & Rutland STP of November 2016.

``xl_stp/data/llr_stp_2016.csv`` holds every figure of the plan's finance and capital sections as
published, one per line: ``table, row, column, value, units, kind, source, note``. Brackets are
negative numbers; a printed '-' is 0 (noted); a blank cell is simply absent. ``kind`` is ``item``
(a line item), ``total`` (a total the document states) or ``stated`` (a figure from the text).

From the line items alone, :class:`LLRPlan` rebuilds the plan with the core — capital net of
disposals for each programme, the acute and community funding waterfalls, STF investment, the
strand savings and the gap bridge — and :func:`checks` compares every stated total with its
computed value (and the same figure where two tables print it), with the tolerance that rounding
of the printed cells allows. Inputs are never edited to make a total match: the checks report the
differences.

>>> plan = LLRPlan(Figures.load())
>>> plan.capital["acute_reconfiguration"].total_cost
279582.0
>>> round(float(plan.acute_funding.dh_requirement.sum()), 1)
114.5
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..core.capital import CapitalRequirement, capital_net
from ..core.errors import STPError
from ..core.funding import FundingWaterfall, funding_waterfall
from ..core.gap import Bridge, gap_bridge
from ..core.appraisal import roi
from ..core.reconcile import MISMATCH, NIL, ROUNDING
from ..core.savings import Savings, net_savings
from ..core.stf import STFInvestment, stf_totals

YEARS: tuple[str, ...] = ("2017/18", "2018/19", "2019/20", "2020/21")
ACUTE_FUNDING_COLUMNS: tuple[str, ...] = ("Prior years", "2016/17", *YEARS)
COMMUNITY_FUNDING_COLUMNS: tuple[str, ...] = ("2016/17", *YEARS)
STF_COLUMNS: tuple[str, ...] = tuple(f"{y} {k}" for y in YEARS for k in ("Non Rec", "Rec"))

#: capital programme table -> (its stated totals row, its summary box table, published title)
CAPITAL_TABLES: dict[str, tuple[str, str | None, str]] = {
    "acute_reconfiguration": ("TOTAL ACUTE HOSPITAL RECONFIGURATION CAPITAL", "acute_reconfiguration_summary",
                              "Acute hospitals reconfiguration"),
    "community_hospitals": ("TOTAL COMMUNITY HOSPITAL RECONFIGURATION CAPITAL", "community_hospitals_summary",
                            "Community hospital inpatient services and planned care reconfiguration"),
    "hinckley": ("Hinckley and District", "hinckley_summary", "Hinckley and District ambulatory care and diagnostics"),
    "oakham_lutterworth": ("Total Capital Investment", "oakham_lutterworth_summary",
                           "Oakham and Lutterworth ambulatory care and diagnostics"),
    "epr": ("", "epr_summary", "Electronic patient records (UHL)"),
    "other_schemes": ("Total Cost of Other Capital Schemes", None, "Other capital schemes"),
}
ACUTE_SOURCES: tuple[str, ...] = ("Site disposal", "PF2", "Welcome Centre")
COMMUNITY_SOURCES: tuple[str, ...] = ("Disposals", "Commercially funded", "Local Authority funded")
STRANDS: tuple[str, ...] = ("Strand 1 - New Models of Care", "Strand 2 - Service Configuration",
                            "Strand 3 - Redesigned Pathways", "Strand 4 - Operational Efficiencies",
                            "Strand 5 - Getting the Enablers right")

#: Each scheme row of the community funding summary (£m) and the capital-table rows (£000) it
#: summarises — a transcription of which scheme is which, not of any figure.
COMMUNITY_SCHEMES: dict[str, tuple[tuple[str, str], ...]] = {
    "Lutterworth reprovision": (("oakham_lutterworth", "Lutterworth"),
                                ("oakham_lutterworth", "Lutterworth Imaging & Diagnostics Equipment")),
    "Diagnostic/Primary Care Hub": (("other_schemes", "City Hub"),),
    "Hinckley (inc day case theatre)": (("hinckley", "Hinckley & Bosworth Ambulatory Care Refurbishment"),
                                        ("hinckley", "Hinckley Health Centre Equipment"),
                                        ("hinckley", "Hinckley Health Centre Refurbishment")),
    "East ward reconfiguration -Melton": (("community_hospitals", "Melton (NHSPS)"),),
    "East ward reconfiguration -Harborough": (("community_hospitals", "Market Harborough (NHSPS)"),),
    "CAMHS": (("other_schemes", "CAMHS relocation"),),
    "Relocation LGH stroke to evington": (("community_hospitals", "Evington Centre (LPT)"),),
    "Rutland": (("oakham_lutterworth", "Oakham"),),
}
#: Capital tables whose disposals the community summary's Disposals row brings together.
COMMUNITY_DISPOSAL_TABLES: tuple[str, ...] = ("community_hospitals", "hinckley", "oakham_lutterworth")

UNIT = {"£000": 1.0, "£m": 0.1, "%": 0.01, "years": 0.01, "beds": 1.0}


def data_path() -> Path:
    return Path(str(resources.files("xl_stp.llr") / "data" / "llr_stp_2016.csv"))


Key = tuple[str, str, str]


@dataclass(frozen=True)
class Figures:
    """The transcribed figures, looked up by (table, row, column)."""

    frame: pd.DataFrame

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Figures":
        frame = pd.read_csv(path or data_path(), dtype={"table": str, "row": str, "column": str, "units": str,
                                                       "kind": str, "source": str, "note": str},
                            keep_default_na=False)
        frame["value"] = pd.to_numeric(frame["value"], errors="raise").astype(float)
        dup = frame.duplicated(["table", "row", "column"])
        if dup.any():
            t, r, c = frame.loc[dup, ["table", "row", "column"]].iloc[0]
            raise STPError("figures", f"{t} / {r} / {c} appears twice")
        return cls(frame)

    @cached_property
    def _index(self) -> dict[Key, int]:
        return {(t, r, c): i for i, (t, r, c) in enumerate(zip(self.frame["table"], self.frame["row"], self.frame["column"]))}

    def __contains__(self, key: Key) -> bool:
        return key in self._index

    def record(self, table: str, row: str, column: str) -> pd.Series:
        try:
            return self.frame.iloc[self._index[(table, row, column)]]
        except KeyError:
            raise STPError("figures", f"no figure for {table} / {row} / {column}") from None

    def value(self, table: str, row: str, column: str) -> float:
        return float(self.record(table, row, column)["value"])

    def get(self, table: str, row: str, column: str, default: float = 0.0) -> float:
        i = self._index.get((table, row, column))
        return default if i is None else float(self.frame["value"].iat[i])

    def rows(self, table: str, exclude: Iterable[str] = ()) -> list[str]:
        """Row names of a table in published order."""
        skip = set(exclude)
        names = self.frame.loc[self.frame["table"] == table, "row"]
        return [r for r in dict.fromkeys(names) if r not in skip]

    def block(self, table: str, rows: Sequence[str], columns: Sequence[str]) -> np.ndarray:
        """rows x columns of values; a blank (absent) cell is 0."""
        return np.array([[self.get(table, r, c) for c in columns] for r in rows], dtype=float)

    def tables(self) -> list[str]:
        return list(dict.fromkeys(self.frame["table"]))


def item_rows(figures: Figures, table: str) -> list[str]:
    """The line-item rows of a capital programme table (its stated totals row excluded)."""
    total_row = CAPITAL_TABLES[table][0]
    if table == "epr":
        return figures.rows(table)
    return figures.rows(table, exclude=[total_row])


class LLRPlan:
    """The plan rebuilt from its line items with the core (capital in £000, summaries in £m)."""

    def __init__(self, figures: Figures):
        self.figures = f = figures
        self.capital: dict[str, CapitalRequirement] = {}
        self.capital_rows: dict[str, list[str]] = {}
        for table in CAPITAL_TABLES:
            rows = item_rows(f, table)
            self.capital_rows[table] = rows
            self.capital[table] = capital_net(f.block(table, rows, YEARS), f.block(table, rows, ["Disposals"])[:, 0])
        a = "acute_funding"
        self.acute_funding: FundingWaterfall = funding_waterfall(
            f.block(a, ["Reconfiguration programme"], ACUTE_FUNDING_COLUMNS)[0],
            {s: f.block(a, [s], ACUTE_FUNDING_COLUMNS)[0] for s in ACUTE_SOURCES},
            approved=f.block(a, ["Approved to date"], ACUTE_FUNDING_COLUMNS)[0],
            internal=f.block(a, ["Internally funded"], ACUTE_FUNDING_COLUMNS)[0],
        )
        c = "community_funding"
        self.community_funding: FundingWaterfall = funding_waterfall(
            f.block(c, list(COMMUNITY_SCHEMES), COMMUNITY_FUNDING_COLUMNS),
            {s: f.block(c, [s], COMMUNITY_FUNDING_COLUMNS)[0] for s in COMMUNITY_SOURCES},
        )
        lines = [r for r in f.rows("stf_investment") if r not in ("Total", "Total Non Recurrent and Recurrent")]
        self.stf_lines = lines
        self.stf: STFInvestment = stf_totals(f.block("stf_investment", lines, STF_COLUMNS[0::2]),
                                             f.block("stf_investment", lines, STF_COLUMNS[1::2]))
        s2 = "Strand 2 - Service Configuration"
        self.strand2: Savings = net_savings(
            [[f.value("strand_savings", s2, "Gross: acute reconfiguration")
              + f.value("strand_savings", s2, "Gross: community inpatients and planned care")]],
            capital_charges=[[f.value("strand_savings", s2, "Capital charges 2017/18 to 2020/21")]],
        )
        self.strand_net = np.array([f.value("strand_savings", s, "Net") for s in STRANDS])
        self.bridge: Bridge = gap_bridge(
            [[f.value("narrative", "Do nothing gap by 2020/21", "Health")],
             [f.value("narrative", "Do nothing gap by 2020/21", "Social care")]],
            self.strand_net.reshape(-1, 1),
            investment=[[f.value("narrative", "STF net investment 2020/21", "2020/21")]],
            stf=[[f.value("narrative", "STF net investment 2020/21", "2020/21")]],
            strand_names=STRANDS,
        )
        self.acute_roi = roi(f.value("narrative", "Acute reconfiguration gross saving", "a year") * 1000,
                             self.capital["acute_reconfiguration"].total_cost,
                             self.capital["acute_reconfiguration"].total_disposals, basis="net")

    # ---- named quantities: every computed figure a check (or the workbook) refers to --------
    @cached_property
    def quantities(self) -> dict[str, float]:
        """Every computed figure by a stable key (the workbook builder places each in a cell)."""
        q: dict[str, float] = {}
        for table, req in self.capital.items():
            rows = self.capital_rows[table]
            body = req.table()
            for i, r in enumerate(rows + ["TOTAL"]):
                for j, col in enumerate(YEARS + ("Disposals", "Total")):
                    q[f"capital|{table}|{r}|{col}"] = float(body[i, j])
            q[f"capital|{table}|cost"] = float(req.total_cost)
        for name, w, cols in (("acute", self.acute_funding, ACUTE_FUNDING_COLUMNS),
                              ("community", self.community_funding, COMMUNITY_FUNDING_COLUMNS)):
            for label, values in w.rows():
                row = np.broadcast_to(values, w.programme.shape)
                row = row.sum(axis=0) if row.ndim > 1 else row
                for col, v in zip(cols, row):
                    q[f"funding|{name}|{label}|{col}"] = float(v)
                q[f"funding|{name}|{label}|Total"] = float(row.sum())
        for k, values in (("Non Rec", self.stf.non_recurrent), ("Rec", self.stf.recurrent), ("Total", self.stf.total)):
            for y, v in zip(YEARS, values):
                q[f"stf|{k}|{y}"] = float(v)
            q[f"stf|{k}|Total"] = float(values.sum())
        q["savings|strand2|net"] = float(self.strand2.net.sum())
        q["savings|strands|total"] = float(self.strand_net.sum())
        labels, table = self.bridge.table()
        for label, row in zip(labels, table):
            q[f"bridge|{label}"] = float(row[-1])
        q["appraisal|acute|roi"] = float(np.ravel(self.acute_roi.value)[0])
        return q


# ---- checks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A stated figure against its computed value.

    ``computed`` is a sum of (factor x term); a term is a quantity key of :attr:`LLRPlan.quantities`
    or ``figure|table|row|column`` (another stated figure: the same number in two places).
    ``tolerance`` is what rounding of the printed figures allows: half a unit for the stated
    figure plus half a unit for each printed figure behind the computed value.
    """

    section: str
    description: str
    stated: Key
    computed: tuple[tuple[str, float], ...]
    tolerance: float

    def computed_value(self, plan: LLRPlan) -> float:
        total = 0.0
        for term, factor in self.computed:
            if term.startswith("figure|"):
                _, t, r, c = term.split("|")
                total += factor * plan.figures.value(t, r, c)
            else:
                total += factor * plan.quantities[term]
        return round(total, 9)

    def result(self, plan: LLRPlan) -> "CheckResult":
        return CheckResult(self, plan.figures.value(*self.stated), self.computed_value(plan))


@dataclass(frozen=True)
class CheckResult:
    check: Check
    stated: float
    computed: float

    @property
    def difference(self) -> float:
        """Stated less computed."""
        return round(self.stated - self.computed, 9)

    @property
    def status(self) -> str:
        d = abs(self.difference)
        if d <= 1e-9 * max(1.0, abs(self.stated)):
            return NIL
        return ROUNDING if d <= self.check.tolerance + 1e-9 else MISMATCH


def _tol(stated_units: str, *item_units: str, items: int | None = None) -> float:
    """Half a rounding unit for the stated figure plus half a unit per printed item (in the stated
    figure's units)."""
    scale = {"£000": 1.0, "£m": 1000.0}
    base = scale.get(stated_units, 1.0)
    total = UNIT[stated_units] / 2
    units = list(item_units)
    if items is not None:
        units = units * items if len(units) == 1 else units
    for u in units:
        total += UNIT[u] * scale.get(u, 1.0) / base / 2
    return round(total, 9)


def checks(figures: Figures) -> list[Check]:
    """Every check of the plan, in the order of the Checks sheet."""
    f = figures
    out: list[Check] = []

    def add(section: str, description: str, stated: Key, computed: Sequence[tuple[str, float]], tolerance: float) -> None:
        if stated not in f:
            return
        out.append(Check(section, description, stated, tuple(computed), tolerance))

    # Capital programme tables (£000): row totals, column totals, the totals row, the summary box.
    for table, (total_row, summary, title) in CAPITAL_TABLES.items():
        rows = item_rows(f, table)
        disp = table not in ("epr", "other_schemes")
        for r in rows:
            n = sum((table, r, c) in f for c in YEARS + ("Disposals",))
            add(title, f"{r}: total = cost by year less disposal proceeds", (table, r, "Total"),
                [(f"capital|{table}|{r}|Total", 1.0)], _tol("£000", "£000", items=n))
        n_rows = len(rows)
        for y in YEARS:
            add(title, f"{y}: column total = sum of schemes", (table, total_row, y),
                [(f"capital|{table}|TOTAL|{y}", 1.0)], _tol("£000", "£000", items=n_rows))
        if disp:
            add(title, "Disposals: column total = sum of schemes", (table, total_row, "Disposals"),
                [(f"capital|{table}|TOTAL|Disposals", 1.0)], _tol("£000", "£000", items=n_rows))
        add(title, "Total net requirement = sum of schemes", (table, total_row, "Total"),
            [(f"capital|{table}|TOTAL|Total", 1.0)], _tol("£000", "£000", items=n_rows * 2))
        if summary:
            cost_row = next(r for r in f.rows(summary) if "Capital Cost" in r)
            add(title, "Summary box: total capital cost = sum of scheme costs", (summary, cost_row, "Value"),
                [(f"capital|{table}|cost", 1.0)], _tol("£000", "£000", items=n_rows))
            for r in f.rows(summary):
                if "Disposal" in r:
                    add(title, "Summary box: disposal proceeds = sum of schemes", (summary, r, "Value"),
                        [(f"capital|{table}|TOTAL|Disposals", 1.0)], _tol("£000", "£000", items=n_rows))
                if r == "Net Capital Requirement":
                    add(title, "Summary box: net capital requirement = cost less disposals", (summary, r, "Value"),
                        [(f"capital|{table}|TOTAL|Total", 1.0)], _tol("£000", "£000", items=n_rows * 2))

    # Acute funding summary (£m).
    a, sec = "acute_funding", "Acute configuration funding (£m)"
    src_rows = ["Approved to date", "Internally funded", *ACUTE_SOURCES]
    label = {"Reconfiguration programme": "Programme", "Approved to date": "Approved to date",
             "Internally funded": "Internally funded", **{s: s for s in ACUTE_SOURCES}}
    for r in ("Reconfiguration programme", *src_rows):
        n = sum((a, r, c) in f for c in ACUTE_FUNDING_COLUMNS)
        add(sec, f"{r}: total = sum of years", (a, r, "Total"), [(f"funding|acute|{label[r]}|Total", 1.0)],
            _tol("£m", "£m", items=max(n, 1)))
    for col in (*ACUTE_FUNDING_COLUMNS, "Total"):
        add(sec, f"{col}: external requirement = programme less approved less internally funded",
            (a, "External funding requirement", col), [(f"funding|acute|External funding requirement|{col}", 1.0)],
            _tol("£m", "£m", items=3 if col != "Total" else 18))
        add(sec, f"{col}: DH requirement = external requirement less alternative funding",
            (a, "DH funding requirement", col), [(f"funding|acute|DH funding requirement|{col}", 1.0)],
            _tol("£m", "£m", items=6 if col != "Total" else 36))
    for y in YEARS:
        add(sec, f"{y}: programme = acute reconfiguration table (£000)", (a, "Reconfiguration programme", y),
            [(f"capital|acute_reconfiguration|TOTAL|{y}", 0.001)], _tol("£m", "£000", items=len(item_rows(f, "acute_reconfiguration"))))
    add(sec, "Site disposal = acute reconfiguration table disposals (£000)", (a, "Site disposal", "Total"),
        [("capital|acute_reconfiguration|TOTAL|Disposals", 0.001)], _tol("£m", "£000"))

    # Community funding summary (£m).
    c, sec = "community_funding", "Community configuration funding (£m)"
    for r in (*COMMUNITY_SCHEMES, *COMMUNITY_SOURCES):
        present = [col for col in COMMUNITY_FUNDING_COLUMNS if (c, r, col) in f]
        terms = ([(f"funding|community|{r}|Total", 1.0)] if r in COMMUNITY_SOURCES
                 else [(f"figure|{c}|{r}|{col}", 1.0) for col in present])
        add(sec, f"{r}: total = sum of years", (c, r, "Total"), terms, _tol("£m", "£m", items=max(len(present), 1)))
    n_s = len(COMMUNITY_SCHEMES)
    for col in (*COMMUNITY_FUNDING_COLUMNS, "Total"):
        add(sec, f"{col}: external requirement = sum of schemes", (c, "External Funding Requirement", col),
            [(f"funding|community|External funding requirement|{col}", 1.0)], _tol("£m", "£m", items=n_s * (1 if col != "Total" else 5)))
        add(sec, f"{col}: DH requirement = external requirement less alternative funding", (c, "DH funding requirement", col),
            [(f"funding|community|DH funding requirement|{col}", 1.0)],
            _tol("£m", "£m", items=(n_s + 3) * (1 if col != "Total" else 5)))
    for scheme, parts in COMMUNITY_SCHEMES.items():
        for col in (*YEARS, "Total"):
            years = YEARS if col == "Total" else (col,)
            if f.get(c, scheme, col) == 0 and all(f.get(t, r, y) == 0 for t, r in parts for y in years):
                continue  # nothing in either table for this year
            terms = [(f"capital|{t}|{r}|{y}", 0.001) for t, r in parts for y in years]
            add(sec, f"{scheme}, {col}: = capital tables (£000)", (c, scheme, col), terms,
                _tol("£m", "£000", items=len(terms)))
    for y in YEARS:
        terms = [(f"capital|{t}|TOTAL|{y}", 0.001) for t in ("community_hospitals", "hinckley", "oakham_lutterworth", "other_schemes")]
        # the stated figure adds up to eight rounded scheme figures: each may be half a unit out
        add(sec, f"{y}: external requirement = community, Hinckley, Oakham & Lutterworth and other schemes tables (£000)",
            (c, "External Funding Requirement", y), terms, _tol("£m", "£m", items=n_s) + _tol("£000", "£000", items=len(terms)) / 1000)
    add(sec, "Total external requirement = those capital tables' total cost (£000)", (c, "External Funding Requirement", "Total"),
        [(f"capital|{t}|cost", 0.001) for t in ("community_hospitals", "hinckley", "oakham_lutterworth", "other_schemes")],
        _tol("£m", "£m", items=n_s) + _tol("£000", "£000", items=4) / 1000)
    add(sec, "Disposals = disposal proceeds of the community, Hinckley and Oakham & Lutterworth tables (£000)",
        (c, "Disposals", "Total"), [(f"capital|{t}|TOTAL|Disposals", 0.001) for t in COMMUNITY_DISPOSAL_TABLES],
        _tol("£m", "£000", items=3))

    # Summary of total requirement (£m).
    t, sec = "total_requirement", "Summary of total requirement (£m)"
    add(sec, "UHL reconfiguration = acute external funding requirement", (t, "UHL Reconfiguration", "£m"),
        [("funding|acute|External funding requirement|Total", 1.0)], _tol("£m", "£m", items=18))
    add(sec, "UHL alternative funding = site disposal + PF2 + Welcome Centre", (t, "Less: Alternative funding (UHL)", "£m"),
        [(f"funding|acute|{s}|Total", 1.0) for s in ACUTE_SOURCES], _tol("£m", "£m", items=5))
    add(sec, "Total UHL DH requirement = acute DH requirement (from line items)", (t, "Total UHL DH requirement", "£m"),
        [("funding|acute|DH funding requirement|Total", 1.0)], _tol("£m", "£m", items=23))
    add(sec, "Total UHL DH requirement = the acute table's DH total (same figure, two tables)",
        (t, "Total UHL DH requirement", "£m"), [("figure|acute_funding|DH funding requirement|Total", 1.0)], _tol("£m", "£m"))
    add(sec, "Community & CAMHS = community external funding requirement", (t, "Community Hospital & CAMHS reconfiguration", "£m"),
        [("funding|community|External funding requirement|Total", 1.0)], _tol("£m", "£m", items=n_s * 5))
    add(sec, "Community alternative funding = disposals + commercial + local authority", (t, "Less: Alternative funding (Community)", "£m"),
        [(f"funding|community|{s}|Total", 1.0) for s in COMMUNITY_SOURCES], _tol("£m", "£m", items=15))
    add(sec, "Total community DH requirement = community DH requirement (from line items)", (t, "Total Community DH requirement", "£m"),
        [("funding|community|DH funding requirement|Total", 1.0)], _tol("£m", "£m", items=(n_s + 3) * 5))
    add(sec, "Total LLR DH requirement = acute + community DH requirement (from line items)", (t, "Total LLR DH Capital requirement", "£m"),
        [("funding|acute|DH funding requirement|Total", 1.0), ("funding|community|DH funding requirement|Total", 1.0)],
        _tol("£m", "£m", items=23 + (n_s + 3) * 5))
    add(sec, "Total LLR capital (plan on a page) = all capital programme tables (£000)", ("narrative", "Capital required", "Plan on a page"),
        [(f"capital|{k}|cost", 0.001) for k in CAPITAL_TABLES], 0.5 + 0.0005 * 6)
    add(sec, "Total capital requirement (text) = acute programme 2017/18-2020/21 (£000) + community external requirement",
        ("narrative", "Capital required", "Summary of Overall Capital Requirement"),
        [("capital|acute_reconfiguration|cost", 0.001), ("funding|community|External funding requirement|Total", 1.0)],
        _tol("£m", "£m", items=n_s * 5) + 0.0005 * 11)

    # STF investment (£000).
    s, sec = "stf_investment", "STF investment (£000)"
    n_l = len([r for r in f.rows(s) if r not in ("Total", "Total Non Recurrent and Recurrent")])
    for y in YEARS:
        add(sec, f"{y} non-recurrent: total = sum of lines", (s, "Total", f"{y} Non Rec"), [(f"stf|Non Rec|{y}", 1.0)],
            _tol("£000", "£000", items=n_l))
        add(sec, f"{y} recurrent: total = sum of lines", (s, "Total", f"{y} Rec"), [(f"stf|Rec|{y}", 1.0)],
            _tol("£000", "£000", items=n_l))
        add(sec, f"{y}: non-recurrent + recurrent = sum of lines", (s, "Total Non Recurrent and Recurrent", f"{y} Total"),
            [(f"stf|Total|{y}", 1.0)], _tol("£000", "£000", items=2 * n_l))
    add(sec, "STF 2020/21 in the text (£m) = investment table 2020/21 (£000)", ("narrative", "STF net investment 2020/21", "2020/21"),
        [("stf|Total|2020/21", 0.001)], _tol("£m", "£000", items=2 * n_l))
    add(sec, "STF requested over five years (plan on a page, £m) = investment table total (£000)",
        ("narrative", "STF investment requested over five years", "Total"), [("stf|Total|Total", 0.001)],
        _tol("£m", "£000", items=8 * n_l))

    # Savings and the gap (£m).
    sv, sec = "strand_savings", "Savings and gap (£m)"
    s2 = "Strand 2 - Service Configuration"
    add(sec, "Strand 2 net (heading) = gross (acute + community) less capital charges", (sv, s2, "Net"),
        [("savings|strand2|net", 1.0)], _tol("£m", "£m", items=3))
    add(sec, "Strand 2 net (text) = gross (acute + community) less capital charges", (sv, s2, "Net (text)"),
        [("savings|strand2|net", 1.0)], _tol("£m", "£m", items=3))
    add(sec, "Strand 2 net: heading = text (same figure, two places)", (sv, s2, "Net"),
        [(f"figure|{sv}|{s2}|Net (text)", 1.0)], _tol("£m", "£m"))
    add(sec, "Acute reconfiguration saving: plan text = strand 2 text", ("narrative", "Acute reconfiguration gross saving", "a year"),
        [(f"figure|{sv}|{s2}|Gross: acute reconfiguration", 1.0)], _tol("£m", "£m"))
    add(sec, "Savings across the five strands = sum of strand net savings", ("narrative", "Savings across five priority areas", "Total"),
        [("savings|strands|total", 1.0)], _tol("£m", "£m", items=5))
    add(sec, "'Do nothing' gap = health + social care", ("narrative", "Do nothing gap by 2020/21", "Total"),
        [("bridge|Do nothing gap", 1.0)], _tol("£m", "£m", items=2))
    add(sec, "Net gap after STF = 'do nothing' gap less STF 2020/21", ("narrative", "Net gap after STF", "Total"),
        [("bridge|Do nothing gap", 1.0), ("bridge|STF funding", 1.0)], 0.5 + 0.05 * 3)
    add(sec, "Net saving after STF = strand net savings less STF investment 2020/21", ("narrative", "Net saving after STF", "Total"),
        [("savings|strands|total", 1.0), ("bridge|Investment", -1.0)], 0.5 + 0.05 * 6)
    add(sec, "Spend on health and social care 2016/17: plan on a page = finance section (same figure, two places)",
        ("narrative", "Spend on health and social care 2016/17", "Plan on a page"),
        [("figure|narrative|Spend on health and social care 2016/17|Finance: How we spend our money", 1.0)], 0.5 + 0.5)
    add(sec, "Acute ROI (%) = annual gross saving / net capital requirement (net of disposals)",
        ("acute_reconfiguration_summary", "ROI", "Value"), [("appraisal|acute|roi", 100.0)],
        0.005 + 100 * 0.05 * 1000 / 251_232)

    # Organisational growth (%): net planned growth = 'do nothing' growth less savings.
    og = "org_growth"
    for org in f.rows(og):
        add("Organisational growth (%)", f"{org}: net planned growth = 'do nothing' growth less savings schemes",
            (og, org, "Net Planned Growth"), [(f"figure|{og}|{org}|Do Nothing Growth", 1.0), (f"figure|{og}|{org}|Savings Schemes", -1.0)],
            0.005 + 0.5 + 0.5)
    return out


def check_results(figures: Figures | None = None) -> list[CheckResult]:
    f = figures or Figures.load()
    plan = LLRPlan(f)
    return [c.result(plan) for c in checks(f)]
