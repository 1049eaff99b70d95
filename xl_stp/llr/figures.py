"""The LLR STP 2016 figures as published, and the layout of the tables they come from.

``xl_stp/llr/data/llr_stp_2016.csv`` holds every figure of the plan's finance and capital sections
as published, one per line: ``table, row, column, value, units, kind, source, note``. Brackets are
negative numbers; a printed '-' is 0 (noted); a blank cell is simply absent. ``kind`` is ``item``
(a line item), ``total`` (a total the document states) or ``stated`` (a figure from the text).

The constants name the published tables, rows and columns (a transcription of the layout, not of
any figure); :class:`Figures` loads the file and looks figures up by (table, row, column).

>>> f = Figures.load()
>>> f.value("acute_reconfiguration_summary", "ROI", "Value")
10.2
>>> len(item_rows(f, "acute_reconfiguration")), len(stf_lines(f))
(14, 17)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..core.errors import STPError

YEARS: tuple[str, ...] = ("2017/18", "2018/19", "2019/20", "2020/21")
#: Columns of a capital programme table with disposals (the others have no Disposals column).
CAPITAL_COLUMNS: tuple[str, ...] = (*YEARS, "Disposals", "Total")
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
#: Capital tables printed without a Disposals column.
NO_DISPOSALS: tuple[str, ...] = ("epr", "other_schemes")
ACUTE_SOURCES: tuple[str, ...] = ("Site disposal", "PF2", "Welcome Centre")
COMMUNITY_SOURCES: tuple[str, ...] = ("Disposals", "Commercially funded", "Local Authority funded")
STRANDS: tuple[str, ...] = ("Strand 1 - New Models of Care", "Strand 2 - Service Configuration",
                            "Strand 3 - Redesigned Pathways", "Strand 4 - Operational Efficiencies",
                            "Strand 5 - Getting the Enablers right")
#: The strand whose net saving the plan works out from its parts (gross less capital charges).
STRAND_2 = "Strand 2 - Service Configuration"

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
#: Capital tables whose schemes the community summary's external funding requirement brings together.
COMMUNITY_CAPITAL_TABLES: tuple[str, ...] = ("community_hospitals", "hinckley", "oakham_lutterworth", "other_schemes")
#: Capital tables whose disposals the community summary's Disposals row brings together.
COMMUNITY_DISPOSAL_TABLES: tuple[str, ...] = ("community_hospitals", "hinckley", "oakham_lutterworth")
#: The STF investment table's totals rows (every other row is a line of investment).
STF_TOTAL_ROWS: tuple[str, ...] = ("Total", "Total Non Recurrent and Recurrent")

#: The rounding unit of a printed figure, in its own units: £000 tables print whole thousands, £m
#: tables one decimal, percentages and years two decimals.
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


def stf_lines(figures: Figures) -> list[str]:
    """The lines of investment of the STF table (its totals rows excluded), in published order."""
    return [r for r in figures.rows("stf_investment") if r not in STF_TOTAL_ROWS]


def has_disposals(table: str) -> bool:
    """Whether a capital programme table prints a Disposals column."""
    return table not in NO_DISPOSALS
