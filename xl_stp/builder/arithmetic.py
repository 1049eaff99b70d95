"""Excel's own results for the formulas the builder writes, so that each is stored with its value.

Text formulas (``=Inputs!$A$9&" (£000)"``: labels and titles driven by the Inputs), ``SUMIF``,
``COUNT``, the unit a figure is rounded to, and financial-year labels, each as Excel, LibreOffice
and the ``formulas`` package work it out. A formula is built from parts: :class:`Ref` (a cell,
``Sheet!$A$1``), :class:`Named` (a name cell, with a fallback when it is blank) or literal text.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from udfs.excel import is_error


class Ref(str):
    """A reference to one cell (``Inputs!$C$5``) among the parts of a text formula."""


class Named(str):
    """A name cell among the parts of a text formula: its text, or ``fallback`` when it is blank
    (``IF(Inputs!$C$20="","Capital programme 1",Inputs!$C$20)``)."""

    fallback: str

    def __new__(cls, ref: str, fallback: str) -> "Named":
        obj = super().__new__(cls, ref)
        obj.fallback = fallback
        return obj


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def excel_text(v: Any) -> str:
    """A value as ``&`` turns it into text: blank as "", whole numbers without a point."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.15g}"
    return str(v)


def blank_test(unless: str | Sequence[str]) -> str:
    """The test that a name cell (or any of several) is blank: ``A1=""`` or ``OR(A1="",B1="")``."""
    cells = [unless] if isinstance(unless, str) else list(unless)
    tests = [f'{c}=""' for c in cells]
    return tests[0] if len(tests) == 1 else f"OR({','.join(tests)})"


def any_blank(unless: str | Sequence[str], value_of: Callable[[str], Any]) -> bool:
    cells = [unless] if isinstance(unless, str) else list(unless)
    return any(value_of(c) in (None, "") for c in cells)


def text_formula(parts: Sequence[str], value_of: Callable[[str], Any],
                 unless: str | Sequence[str] | None = None) -> tuple[str, Any]:
    """``=a&"text"&b`` from parts, and its value (an error value in a referenced cell passes on);
    with ``unless`` (a name cell, or several), nothing while it is blank: ``=IF(name="","",a&"text")``."""
    if unless is not None:
        formula, value = text_formula(parts, value_of)
        return f'=IF({blank_test(unless)},"",{formula[1:]})', "" if any_blank(unless, value_of) else value
    pieces, texts = [], []
    for part in parts:
        if isinstance(part, Named):
            v = value_of(part)
            pieces.append(f"IF({part}=\"\",{quoted(part.fallback)},{part})")
            v = part.fallback if v is None or v == "" else v
        elif isinstance(part, Ref):
            v = value_of(part)
            pieces.append(str(part))
        else:
            pieces.append(quoted(part))
            v = part
        if is_error(v):
            return "=" + "&".join(pieces), v
        texts.append(excel_text(v))
    if len(pieces) == 1 and isinstance(parts[0], Ref) and not isinstance(parts[0], Named):
        pieces.append('""')  # =A1&"": a blank shows as nothing, not 0
    return "=" + "&".join(pieces), "".join(texts)


def _matches(cell: Any, criterion: Any) -> bool:
    """SUMIF's test for a plain criterion: equal, ignoring case for text."""
    if isinstance(criterion, str):
        return isinstance(cell, str) and cell.lower() == criterion.lower() and criterion != ""
    return cell == criterion


def excel_sumif(names: Sequence[Any], criterion: Any, amounts: Sequence[Any]) -> Any:
    """``SUMIF(names, criterion, amounts)``: amounts whose name matches; an error among them wins."""
    total = 0.0
    for name, amount in zip(names, amounts):
        if _matches(name, criterion):
            if is_error(amount):
                return amount
            if isinstance(amount, (int, float)) and not isinstance(amount, bool):
                total += float(amount)
    return total


def excel_count(values: Sequence[Any]) -> float:
    """``COUNT``: the cells holding a number."""
    return float(sum(1 for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)))


def rounding_unit(v: Any) -> float:
    """The unit a figure was rounded to, from the figure itself: 1, 0.1 or 0.01 (the formula of
    :func:`rounding_unit_formula`)."""
    if round(v) == v:
        return 1.0
    return 0.1 if round(v, 1) == v else 0.01


def rounding_unit_formula(cell: str) -> str:
    return f"IF(ROUND({cell},0)={cell},1,IF(ROUND({cell},1)={cell},0.1,0.01))"


def year_label_formula(first: str, offset: int) -> str:
    """The financial year ``offset`` years after the first plan year in ``first`` (2017/18 or
    2017): ``=VALUE(LEFT(first,4))+1&"/"&RIGHT(VALUE(LEFT(first,4))+2,2)`` is 2018/19."""
    start = f"VALUE(LEFT({first},4))"
    return f'={start}{offset:+d}&"/"&RIGHT({start}{offset + 1:+d},2)'


def year_label(first: Any, offset: int) -> str:
    """:func:`year_label_formula`'s value."""
    try:
        start = int(excel_text(first)[:4]) + offset
    except ValueError:
        return "#VALUE!"
    return f"{start}/{str(start + 1)[-2:]}"
