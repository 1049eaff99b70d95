"""The LLR DH requirement and residual gap computed with xl_stp.core from the workbook's input
cells (read with openpyxl, found by their labels), independently of xl_stp.scenarios."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl

from xl_stp.core.capital import capital_net
from xl_stp.core.funding import funding_waterfall
from xl_stp.core.gap import gap_bridge
from xl_stp.core.savings import net_savings

WORKBOOK = Path(__file__).resolve().parents[2] / "workbooks" / "llr_stp_2016.xlsx"
YEAR = re.compile(r"^\d{4}/\d{2}$")


class Inputs:
    def __init__(self, path: Path = WORKBOOK):
        ws = openpyxl.load_workbook(path, data_only=True)["Inputs"]
        self.rows = [[c for c in row] for row in ws.iter_rows(values_only=True)]

    def label(self, r: int) -> str:
        v = self.rows[r][0]
        return "" if v is None else str(v).strip()

    def find(self, text: str, after: int = 0) -> int:
        for r in range(after, len(self.rows)):
            if self.label(r).casefold().startswith(text.casefold()):
                return r
        raise LookupError(text)

    def years(self, header: int) -> list[int]:
        return [j for j, v in enumerate(self.rows[header]) if j and isinstance(v, str) and YEAR.match(v)]

    def row(self, r: int, cols: list[int]) -> np.ndarray:
        return np.array([float(self.rows[r][j] or 0.0) for j in cols])


def programmes(x: Inputs) -> list[dict]:
    """Each capital programme: waterfall it is funded through, costs (schemes x plan years), disposals."""
    out = []
    for k in range(1, 9):
        top = x.find(f"Capital programme {k} ")
        header = x.find("Scheme", top)
        cols = x.years(header)
        end = x.find("Total, as stated", header)
        disposals_col = next(j for j, v in enumerate(x.rows[header]) if v == "Disposals")
        out.append({"funded": str(x.rows[top + 2][2] or ""), "costs": np.array([x.row(r, cols) for r in range(header + 1, end)]),
                    "disposals": np.array([float(x.rows[r][disposals_col] or 0.0) for r in range(header + 1, end)])})
    return out


def waterfalls(x: Inputs) -> list[dict]:
    out = []
    for k in range(1, 4):
        top = x.find(f"Funding waterfall {k} ")
        header = top + 2
        cols = list(range(2, 8))  # Prior years, base year, four plan years
        rows = {x.label(r): r for r in range(header + 1, header + 12)}
        sources = [r for r in range(header + 5, header + 11)]
        out.append({"name": str(x.rows[top + 1][2] or ""), "cols": cols,
                    "programme": x.row(header + 1, cols), "approved": x.row(rows["Approved to date"], cols),
                    "internal": x.row(rows["Internally funded"], cols), "sources": np.array([x.row(r, cols) for r in sources])})
    return out


def dh_requirement(x: Inputs, slip_acute: int = 0, pf2_off: bool = False, disposals_late: int = 0) -> np.ndarray:
    """DH requirement (£m) 2016/17 .. 2020/21 and the total over every column (prior years too)."""
    progs = programmes(x)
    total = np.zeros(6)
    for k, w in enumerate(waterfalls(x)):
        if not w["name"]:
            continue
        plan = np.zeros(4)
        for i, p in enumerate(progs):
            if p["funded"] == w["name"] and p["costs"].size:
                costs = _shift(p["costs"], slip_acute) if i == 0 else p["costs"]
                plan += capital_net(costs, p["disposals"]).cost_by_year / 1000
        programme = np.concatenate([w["programme"][:2], plan])
        sources = w["sources"].copy()
        if pf2_off and k == 0:
            sources[1] = 0.0  # PF2: the first named source, after disposal proceeds
        sources[0, 1:] = _shift(sources[0:1, 1:], disposals_late)[0]
        wf = funding_waterfall(programme, sources, approved=-w["approved"], internal=-w["internal"],
                               names=[f"s{i}" for i in range(len(sources))])
        total += wf.dh_requirement
    return np.concatenate([total[1:], [total.sum()]])


def _shift(a: np.ndarray, n: int) -> np.ndarray:
    if n == 0:
        return a
    out = np.zeros_like(a)
    out[:, n:] = a[:, :-n]
    return out


def residual_gap(x: Inputs, delivery: float = 1.0) -> np.ndarray:
    """Residual gap (£m) by plan year with every savings line delivering ``delivery`` of its gross."""
    top = x.find("Savings line (name)")
    cols = x.years(top)
    strands_top = x.find("Strand (name): capital charges")
    strand_rows = [r for r in range(strands_top + 1, strands_top + 9)]
    names = [x.label(r) for r in strand_rows]
    lines = [r for r in range(top + 1, top + 17) if x.label(r)]
    gross = np.array([sum((x.row(r, cols) for r in lines if x.rows[r][6] == n), np.zeros(4)) for n in names])
    charges = np.array([x.row(r, cols) for r in strand_rows])
    savings = net_savings(gross, capital_charges=charges, delivery=delivery).net
    gap_top = x.find("'Do nothing' gap by sector")
    dn = np.array([x.row(r, cols) for r in range(gap_top + 1, gap_top + 4)])
    inv, stf = x.row(x.find("Investment (extra"), cols), x.row(x.find("STF funding", gap_top), cols)
    return gap_bridge(dn, savings, inv, stf).residual
