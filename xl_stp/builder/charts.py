"""The three native Excel charts of the Outputs sheet (stacked columns over its tables, not pictures)."""

from __future__ import annotations

from typing import Any

from ..llr.figures import YEARS
from .book import Book
from .calculations import BRIDGE_STEPS
from .outputs import BRIDGE_ENDS, Layout

SHEET = "Outputs"
CAPITAL_PALETTE = ["#1F4E79", "#2E75B6", "#9DC3E6", "#548235", "#A9D18E", "#BF9000"]
FUNDING_PALETTE = ["#7F7F7F", "#2E75B6", "#1F4E79", "#9DC3E6", "#BF9000", "#A9D18E", "#C00000"]
#: Gap bridge bars: the gaps, what closes the gap (savings, STF funding) and what widens it.
GAP, CLOSES, WIDENS = "#1F4E79", "#548235", "#C00000"


def insert_charts(book: Book, ws: Any, layout: Layout) -> None:
    """The charts, to the right of the Outputs tables, in this order."""
    ws.insert_chart(4, 9, capital_chart(book, layout))
    ws.insert_chart(26, 9, funding_chart(book, layout))
    ws.insert_chart(50, 9, bridge_chart(book, layout))


def _rows_as_series(chart: Any, first: int, last: int, n_cols: int, palette: list[str]) -> None:
    """One series per table row (its label in column A), the column headings above as categories."""
    for i, r in enumerate(range(first, last + 1)):
        chart.add_series({"name": [SHEET, r, 0], "categories": [SHEET, first - 1, 1, first - 1, n_cols],
                          "values": [SHEET, r, 1, r, n_cols], "fill": {"color": palette[i % len(palette)]}})


def capital_chart(book: Book, layout: Layout) -> Any:
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    _rows_as_series(chart, *layout.capital, len(YEARS), CAPITAL_PALETTE)
    chart.set_title({"name": "Capital cost by year and programme (£000)"})
    chart.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 400})
    return chart


def funding_chart(book: Book, layout: Layout) -> Any:
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    _rows_as_series(chart, *layout.funding, layout.funding_columns, FUNDING_PALETTE)
    chart.set_title({"name": "Capital funding by source and the DH requirement (£m)"})
    chart.set_y_axis({"num_format": '#,##0;(#,##0)'})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 420})
    return chart


def bridge_chart(book: Book, layout: Layout) -> Any:
    """A waterfall drawn as stacked columns: an invisible base, then the bar above and below zero."""
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    first, last = layout.bridge
    cats = [SHEET, first, 0, last, 0]
    chart.add_series({"name": "base", "categories": cats, "values": [SHEET, first, 2, last, 2],
                      "fill": {"none": True}, "border": {"none": True}})
    points = [{"fill": {"color": GAP if lab in BRIDGE_ENDS else
                        CLOSES if lab.startswith("Strand") or lab == "STF funding" else WIDENS}} for lab in BRIDGE_STEPS]
    chart.add_series({"name": "change", "categories": cats, "values": [SHEET, first, 3, last, 3],
                      "points": points, "gap": 40})
    chart.add_series({"name": "change (below zero)", "categories": cats, "values": [SHEET, first, 4, last, 4],
                      "points": points})
    chart.set_title({"name": "From the 'do nothing' gap to the residual gap, 2020/21 (£m)"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": '#,##0;(#,##0)'})
    chart.set_x_axis({"num_font": {"rotation": -30}})
    chart.set_size({"width": 720, "height": 420})
    return chart
