"""The three native Excel charts of the Outputs sheet (stacked columns over its tables, not
pictures), on a page of their own: capital by plan year and programme, funding by source with the
DH requirement, and the final plan year's gap bridge. Series names and categories are the tables'
own labels, so that the charts follow the Inputs."""

from __future__ import annotations

from typing import Any

from .book import Book
from .footprint import FUNDING_COLUMNS, PLAN_YEARS
from .outputs import COMPACT, SERIES, Outputs

SHEET = "Outputs"
CAPITAL_PALETTE = ["#1F4E79", "#2E75B6", "#9DC3E6", "#548235", "#A9D18E", "#BF9000", "#7F6000", "#C9C9C9"]
FUNDING_PALETTE = ["#7F7F7F", "#A5A5A5", "#2E75B6", "#1F4E79", "#9DC3E6", "#BF9000", "#A9D18E", "#548235", "#C00000"]
#: Gap bridge bars: the gaps, what closes the gap (savings, STF funding) and what widens it.
GAP_COLOUR, CLOSES, WIDENS = "#1F4E79", "#548235", "#C00000"
#: Rows the charts' page takes on the sheet; the charts' width in pixels and the gap between them
#: (the Outputs' print width is about 1,010 pixels).
CHART_ROWS, WIDTH, GAP = 36, 490, 20


def insert_charts(book: Book, o: Outputs) -> None:
    """The charts on their own page below the tables: capital and funding side by side, the bridge
    below. Every row of a table is a series, named by its label (an unused programme or source has
    a blank one), so that a plan filled into the template later charts all of its rows."""
    o.page_break()
    s = o.sheet
    s.text(o.row, 0, ["Charts: capital, funding and the gap"], "heading")
    top = o.row + 1
    s.ws.insert_chart(top, 0, capital_chart(book, o), {"x_offset": 2, "y_offset": 4})
    s.ws.insert_chart(top, 0, funding_chart(book, o), {"x_offset": 2 + WIDTH + GAP, "y_offset": 4})
    s.ws.insert_chart(top + 17, 0, bridge_chart(book, o), {"x_offset": 2, "y_offset": 8})
    o.row += CHART_ROWS


def _rows_as_series(chart: Any, first: int, last: int, n_cols: int, palette: list[str]) -> None:
    """One series per table row (its label in column A), the column headings above as categories."""
    for i, r in enumerate(range(first, last + 1)):
        chart.add_series({"name": [SHEET, r, 0], "categories": [SHEET, first - 1, 1, first - 1, n_cols],
                          "values": [SHEET, r, 1, r, n_cols], "fill": {"color": palette[i % len(palette)]}})


def capital_chart(book: Book, o: Outputs) -> Any:
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    first, last = o.capital
    _rows_as_series(chart, first, last, PLAN_YEARS, CAPITAL_PALETTE)
    chart.set_title({"name": "Capital cost by year and programme (£000)", "name_font": {"size": 11}})
    chart.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_size({"width": WIDTH, "height": 330})
    return chart


def funding_chart(book: Book, o: Outputs) -> Any:
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    first, last = o.funding
    _rows_as_series(chart, first, last, len(FUNDING_COLUMNS), FUNDING_PALETTE)
    chart.set_title({"name": "Capital funding by source and the DH requirement (£m)", "name_font": {"size": 11}})
    chart.set_y_axis({"num_format": '#,##0;(#,##0)', "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_size({"width": WIDTH, "height": 330})
    return chart


def bridge_chart(book: Book, o: Outputs) -> Any:
    """A waterfall drawn as stacked columns: an invisible base, then each bar above and below zero
    in the colour of its kind (the gaps, what closes the gap, what widens it), from the bars
    without unused strands."""
    chart = book.wb.add_chart({"type": "column", "subtype": "stacked"})
    first, last = o.bridge
    cats = [SHEET, first, COMPACT, last, COMPACT]
    colours = {"gap": GAP_COLOUR, "closes": CLOSES, "widens": WIDENS}
    for j, name in enumerate(SERIES, start=1):
        values = [SHEET, first, COMPACT + j, last, COMPACT + j]
        if name == "base":
            chart.add_series({"name": name, "categories": cats, "values": values, "fill": {"none": True},
                              "border": {"none": True}, "gap": 40})
        else:
            chart.add_series({"name": name, "categories": cats, "values": values,
                              "fill": {"color": colours[name.split(" ")[1]]}})
    chart.set_title({"name": "From the 'do nothing' gap to the residual gap, final plan year (£m)", "name_font": {"size": 11}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": '#,##0;(#,##0)', "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_x_axis({"num_font": {"rotation": -30, "size": 8}})
    chart.set_size({"width": 2 * WIDTH + GAP, "height": 330})
    return chart
