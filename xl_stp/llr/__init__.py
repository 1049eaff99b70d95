"""The reference case: the Leicester, Leicestershire & Rutland STP of November 2016.

- :mod:`xl_stp.llr.figures` — the transcribed figures (``data/llr_stp_2016.csv``), their loader and
  the layout of the published tables (years, capital tables, funding columns, units);
- :mod:`xl_stp.llr.plan` — :class:`LLRPlan`, the plan rebuilt from its line items with the core;
- :mod:`xl_stp.llr.checks` — every stated total against its computed value, one function per
  section, with the tolerance that rounding of the printed figures allows.

Imports only the core (and numpy, pandas). Note that ``xl_stp.llr.checks`` here is the function
:func:`~xl_stp.llr.checks.checks`; import the module's other names from ``xl_stp.llr.checks``.
"""

from .checks import Check, CheckResult, check_results, checks
from .figures import (ACUTE_FUNDING_COLUMNS, ACUTE_SOURCES, CAPITAL_COLUMNS, CAPITAL_TABLES, COMMUNITY_CAPITAL_TABLES,
                      COMMUNITY_DISPOSAL_TABLES, COMMUNITY_FUNDING_COLUMNS, COMMUNITY_SCHEMES, COMMUNITY_SOURCES,
                      NO_DISPOSALS, STF_COLUMNS, STF_TOTAL_ROWS, STRAND_2, STRANDS, UNIT, YEARS, Figures, Key, data_path,
                      has_disposals, item_rows, stf_lines)
from .plan import LLRPlan

__all__ = [
    "ACUTE_FUNDING_COLUMNS", "ACUTE_SOURCES", "CAPITAL_COLUMNS", "CAPITAL_TABLES", "COMMUNITY_CAPITAL_TABLES",
    "COMMUNITY_DISPOSAL_TABLES", "COMMUNITY_FUNDING_COLUMNS", "COMMUNITY_SCHEMES", "COMMUNITY_SOURCES", "NO_DISPOSALS",
    "STF_COLUMNS", "STF_TOTAL_ROWS", "STRAND_2", "STRANDS", "UNIT", "YEARS", "Check", "CheckResult", "Figures", "Key",
    "LLRPlan", "check_results", "checks", "data_path", "has_disposals", "item_rows", "stf_lines",
]
