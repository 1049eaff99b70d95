"""The comparison workbook (XlsxWriter): the chosen outputs for the base case and each scenario,
the differences from base, and two native Excel charts — the first by-year output (the DH
requirement) as a line per scenario, and a tornado of each scenario's effect on a chosen total.
A sensitivity grid gets a sheet of its own with a line chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter

from .run import Comparison


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def differences(cmp: Comparison) -> list[list[float | None]]:
    """Each scenario's outputs less the base case's (None where either is not a number)."""
    base = [_number(v) for v in cmp.base.values]
    out = []
    for r in cmp.results[1:]:
        out.append([None if b is None or _number(v) is None else _number(v) - b for v, b in zip(r.values, base)])
    return out


def total_index(cmp: Comparison, total: str | None) -> int:
    """The output the tornado ranks scenarios by: the one labelled ``total`` (or beginning so), else
    the first labelled Total, else the last."""
    labels = cmp.labels()
    if total:
        for i, label in enumerate(labels):
            if label.casefold() == total.casefold() or label.casefold().startswith(total.casefold()):
                return i
    return next((i for i, label in enumerate(labels) if label.casefold().endswith("total")), len(labels) - 1)


def write_comparison(cmp: Comparison, dst: Path, total: str | None = None, title: str = "Scenarios") -> Path:
    """Write the comparison workbook to ``dst``; returns it."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(dst))
    try:
        fmt = {"bold": wb.add_format({"bold": True}), "num": wb.add_format({"num_format": "#,##0.0;(#,##0.0);-"}),
               "title": wb.add_format({"bold": True, "font_size": 14}), "wrap": wb.add_format({"text_wrap": True})}
        ws = wb.add_worksheet("Comparison")
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # one page wide, as long as it takes
        _table(ws, cmp, fmt, title)
        _charts(wb, ws, cmp, total_index(cmp, total))
        _notes(wb.add_worksheet("Notes"), cmp, fmt)
    finally:
        wb.close()
    return dst


def _table(ws, cmp: Comparison, fmt: dict, title: str) -> None:
    """Rows 4..: outputs by scenario; below them, the differences from base."""
    names = [r.name for r in cmp.results]
    labels = cmp.labels()
    ws.write(0, 0, title, fmt["title"])
    ws.write(1, 0, f"Outputs by scenario (as the workbook computes them; units as its headings say). Engine: {cmp.engine}")
    ws.set_column(0, 0, 42)
    ws.set_column(1, len(names), 16)
    ws.write(3, 0, "Output", fmt["bold"])
    ws.write_row(3, 1, names, fmt["bold"])
    for i, label in enumerate(labels):
        ws.write(4 + i, 0, label)
        for j, r in enumerate(cmp.results):
            v = r.values[i] if i < len(r.values) else r.error
            ws.write(4 + i, 1 + j, v, fmt["num"]) if _number(v) is not None else ws.write(4 + i, 1 + j, "" if v is None else str(v))
    top = 6 + len(labels)
    ws.write(top - 1, 0, "Difference from base", fmt["bold"])
    ws.write_row(top - 1, 1, names[1:], fmt["bold"])
    for i, label in enumerate(labels):
        ws.write(top + i, 0, label)
        for j, row in enumerate(differences(cmp)):
            ws.write(top + i, 1 + j, row[i], fmt["num"]) if row[i] is not None else ws.write(top + i, 1 + j, "")


def _charts(wb, ws, cmp: Comparison, total: int) -> None:
    n, labels = len(cmp.results), cmp.labels()
    first = next((o for o in cmp.outputs if len(o.cells.cells) > 1), None)
    anchor_row = 8 + 2 * len(labels)
    if first is not None:
        start = sum(len(o.cells.cells) for o in cmp.outputs[:cmp.outputs.index(first)])
        end = start + len(first.cells.cells) - 1
        line = wb.add_chart({"type": "line"})
        for j in range(n):
            line.add_series({"name": ["Comparison", 3, 1 + j], "categories": ["Comparison", 4 + start, 0, 4 + end, 0],
                             "values": ["Comparison", 4 + start, 1 + j, 4 + end, 1 + j], "marker": {"type": "circle"}})
        line.set_title({"name": f"{_title(first.labels[0])} by year, by scenario"})
        line.set_y_axis({"num_format": "#,##0;(#,##0)", "major_gridlines": {"visible": True}})
        line.set_size({"width": 720, "height": 360})
        ws.insert_chart(anchor_row, 0, line)
    if n > 1:
        _tornado(wb, ws, cmp, total, anchor_row)


def _title(label: str) -> str:
    parts = label.rsplit(" ", 1)
    return parts[0] if len(parts) == 2 and "/" in parts[1] else label


def _tornado(wb, ws, cmp: Comparison, total: int, anchor_row: int) -> None:
    """Scenarios ranked by the size of their effect on the total, largest at the top."""
    diffs = [(r.name, d[total]) for r, d in zip(cmp.results[1:], differences(cmp))]
    ranked = sorted(diffs, key=lambda x: abs(x[1] or 0.0))  # a bar chart draws its first category at the bottom
    col = len(cmp.results) + 3
    ws.write(3, col, "Tornado: effect on " + cmp.labels()[total])
    for i, (name, d) in enumerate(ranked):
        ws.write(4 + i, col, name)
        ws.write(4 + i, col + 1, d)
    bar = wb.add_chart({"type": "bar"})
    bar.add_series({"name": f"Change in {cmp.labels()[total]} from base",
                    "categories": ["Comparison", 4, col, 3 + len(ranked), col],
                    "values": ["Comparison", 4, col + 1, 3 + len(ranked), col + 1],
                    "invert_if_negative": False, "data_labels": {"value": True, "num_format": "#,##0.0;(#,##0.0)"}})
    bar.set_title({"name": f"Effect of each scenario on {cmp.labels()[total]}"})
    bar.set_legend({"none": True})
    bar.set_size({"width": 720, "height": 60 + 50 * len(ranked)})
    ws.insert_chart(anchor_row + 19, 0, bar)


def _notes(ws, cmp: Comparison, fmt: dict) -> None:
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 120)
    ws.write_row(0, 0, ["Scenario", "Note"], fmt["bold"])
    row = 1
    for r in cmp.results:
        for note in r.notes + ([r.error] if r.error else []):
            ws.write_row(row, 0, [r.name, note])
            row += 1
    if row == 1:
        ws.write(1, 0, "No notes: every change stayed within the years shown.")


def write_sensitivity(wb_path: Path, input_label: str, steps: list[str], labels: list[str], rows: list[list[Any]]) -> Path:
    """A sensitivity grid: one row a step of the input, one column an output, and a line chart of
    each output against the input."""
    wb = xlsxwriter.Workbook(str(wb_path))
    try:
        ws = wb.add_worksheet("Sensitivity")
        bold, num = wb.add_format({"bold": True}), wb.add_format({"num_format": "#,##0.0;(#,##0.0);-"})
        ws.set_column(0, 0, 24)
        ws.set_column(1, len(labels), 16)
        ws.write(0, 0, f"Sensitivity of the outputs to {input_label}", bold)
        ws.write(2, 0, input_label, bold)
        ws.write_row(2, 1, labels, bold)
        for i, (step, values) in enumerate(zip(steps, rows)):
            ws.write(3 + i, 0, step)
            for j, v in enumerate(values):
                ws.write(3 + i, 1 + j, v, num) if _number(v) is not None else ws.write(3 + i, 1 + j, str(v))
        chart = wb.add_chart({"type": "line"})
        for j in range(len(labels)):
            chart.add_series({"name": ["Sensitivity", 2, 1 + j], "categories": ["Sensitivity", 3, 0, 2 + len(steps), 0],
                              "values": ["Sensitivity", 3, 1 + j, 2 + len(steps), 1 + j]})
        chart.set_title({"name": f"Outputs against {input_label}"})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(4 + len(steps), 0, chart)
    finally:
        wb.close()
    return wb_path
