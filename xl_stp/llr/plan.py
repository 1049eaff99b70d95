"""The LLR plan rebuilt from its line items with the core.

From the line items alone, :class:`LLRPlan` rebuilds the plan — capital net of disposals for each
programme (£000), the acute and community funding waterfalls (£m), STF investment (£000), the
strand savings and the gap bridge (£m) — and names every computed figure in
:attr:`LLRPlan.quantities`, which the checks and the workbook builder refer to. Inputs are never
edited to make a total match: the checks (:mod:`xl_stp.llr.checks`) report the differences.

>>> plan = LLRPlan(Figures.load())
>>> plan.capital["acute_reconfiguration"].total_cost
279582.0
>>> round(float(plan.acute_funding.dh_requirement.sum()), 1)
114.5
>>> plan.quantities["capital|oakham_lutterworth|TOTAL|Total"]
-2408.0
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..core.appraisal import roi
from ..core.capital import CapitalRequirement, capital_net
from ..core.funding import FundingWaterfall, funding_waterfall
from ..core.gap import Bridge, gap_bridge
from ..core.savings import Savings, net_savings
from ..core.stf import STFInvestment, stf_totals
from .figures import (ACUTE_FUNDING_COLUMNS, ACUTE_SOURCES, CAPITAL_COLUMNS, CAPITAL_TABLES, COMMUNITY_FUNDING_COLUMNS,
                      COMMUNITY_SCHEMES, COMMUNITY_SOURCES, STF_COLUMNS, STRAND_2, STRANDS, YEARS, Figures, item_rows,
                      stf_lines)


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
        self.stf_lines = lines = stf_lines(f)
        self.stf: STFInvestment = stf_totals(f.block("stf_investment", lines, STF_COLUMNS[0::2]),
                                             f.block("stf_investment", lines, STF_COLUMNS[1::2]))
        self.strand2: Savings = net_savings(
            [[f.value("strand_savings", STRAND_2, "Gross: acute reconfiguration")
              + f.value("strand_savings", STRAND_2, "Gross: community inpatients and planned care")]],
            capital_charges=[[f.value("strand_savings", STRAND_2, "Capital charges 2017/18 to 2020/21")]],
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
            body = req.table()
            for i, r in enumerate(self.capital_rows[table] + ["TOTAL"]):
                for j, col in enumerate(CAPITAL_COLUMNS):
                    q[f"capital|{table}|{r}|{col}"] = float(body[i, j])
            q[f"capital|{table}|cost"] = float(req.total_cost)
        for name, w, cols in (("acute", self.acute_funding, ACUTE_FUNDING_COLUMNS),
                              ("community", self.community_funding, COMMUNITY_FUNDING_COLUMNS)):
            labels, table = w.table()  # each row by year (programmes summed) and its Total
            for label, row in zip(labels, table):
                for col, v in zip((*cols, "Total"), row):
                    q[f"funding|{name}|{label}|{col}"] = float(v)
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
