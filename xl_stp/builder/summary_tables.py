"""The tables ``xl-stp build`` prints: capital by programme and each funding waterfall's
requirements, from the core's own computation of the plan (:func:`~xl_stp.builder.footprint.quantities`)."""

from __future__ import annotations

from typing import Any

from .footprint import (
    FUNDING_COLUMNS,
    PLAN_YEARS,
    PROGRAMMES,
    WATERFALLS,
    key,
    quantities,
)


def _money(v: float) -> str:
    """£000 as the tables print it: brackets for negatives, '-' for nil."""
    return f"({-v:,.0f})" if v < -0.5 else ("-" if abs(v) < 0.5 else f"{v:,.0f}")


def _millions(v: float) -> str:
    """£m to one decimal as the tables print it."""
    return f"({-v:,.1f})" if v < -0.05 else ("-" if abs(v) < 0.05 else f"{v:,.1f}")


def _years(built: Any) -> dict[Any, str]:
    from .arithmetic import year_label

    first = built.footprint.get(key("plan", "first year"))
    return {"prior": "Prior years", "base": year_label(first, -1), **{y: year_label(first, y) for y in range(PLAN_YEARS)}}


def capital_summary(built: Any):
    from rich.table import Table

    fp, q, years = built.footprint, quantities(built.footprint), _years(built)
    title = fp.name(key("plan", "title")) or "STP"
    t = Table(title=f"{title}: capital net of disposals (£000)")
    for h in ("Programme", *(years[y] for y in range(PLAN_YEARS)), "Disposals", "Net"):
        t.add_column(h, justify="right" if h != "Programme" else "left")
    for p in range(1, PROGRAMMES + 1):
        if fp.name(key("programme", p, "name")):
            t.add_row(fp.name(key("programme", p, "name")), *(_money(q[f"capital|{p}|TOTAL|{y}"]) for y in range(PLAN_YEARS)),
                      _money(q[f"capital|{p}|TOTAL|disposals"]), _money(q[f"capital|{p}|TOTAL|total"]))
    return t


def funding_summary(built: Any):
    from rich.table import Table

    fp, q, years = built.footprint, quantities(built.footprint), _years(built)
    f = Table(title="Funding: external requirement and DH requirement (£m), the capital programme linked from the tables")
    for h in ("", *(years[c] for c in FUNDING_COLUMNS), "Total"):
        f.add_column(h, justify="right" if h else "left")
    for w in range(1, WATERFALLS + 1):
        name = fp.name(key("waterfall", w, "name"))
        if name:
            for row, label in (("external", "external requirement"), ("dh", "DH requirement")):
                f.add_row(f"{name} {label}", *(_millions(q[f"funding|{w}|{row}|{c}"]) for c in (*FUNDING_COLUMNS, "total")))
    return f
