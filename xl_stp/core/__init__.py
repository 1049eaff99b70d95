"""The finance core of an NHS Sustainability and Transformation Plan.

Pure functions over numpy arrays, in £000 unless stated; no Excel and no file I/O here (the
Excel functions live in ``udfs/``, the batch engine in ``xl_stp.batch``). Imports numpy and nothing
else outside the standard library.

Sign convention throughout: costs and requirements positive; funding sources and disposal
proceeds negative in tables (as NHS tables print them in brackets).
"""

from .appraisal import Appraisal, capital_charges, discount_factors, green_book_rates, npv, payback, roi
from .capital import CapitalRequirement, capital_net
from .errors import STPError
from .funding import FundingWaterfall, funding_waterfall
from .gap import Bridge, DoNothing, do_nothing_gap, gap_bridge
from .phasing import PROFILES, phase, profile_weights, rephase
from .reconcile import Reconciliation, check, reconcile, rounding_tolerance, to_thousands
from .savings import Savings, net_savings
from .stf import STFInvestment, stf_totals
from .years import Timeline, fy_label, fy_labels, parse_fy

__version__ = "0.1.0"

__all__ = [
    "Appraisal", "Bridge", "CapitalRequirement", "DoNothing", "FundingWaterfall", "PROFILES", "Reconciliation",
    "STFInvestment", "STPError", "Savings", "Timeline", "capital_charges", "capital_net", "check",
    "discount_factors", "do_nothing_gap", "funding_waterfall", "fy_label", "fy_labels", "gap_bridge",
    "green_book_rates", "net_savings", "npv", "parse_fy", "payback", "phase", "profile_weights", "reconcile",
    "rephase", "roi", "rounding_tolerance", "stf_totals", "to_thousands",
]
