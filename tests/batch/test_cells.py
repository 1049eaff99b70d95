"""A1 names and ranges."""

from __future__ import annotations

from xl_stp.batch.cells import REF, SHEET_CELLS, area, bounds, clear_caches, column_index, column_letter, expand, shape


def test_ranges_bounds_cells_and_shapes():
    assert bounds("B5:D6") == (2, 5, 4, 6) and bounds("B5") == (2, 5, 2, 5)
    assert expand("B5:D6") == ("B5", "C5", "D5", "B6", "C6", "D6") and expand("AA1") == ("AA1",)
    assert shape("B5:D6") == (2, 3) and area(2, 5, 4, 6) == "B5:D6"
    assert column_index("A") == 1 and column_index("AB") == 28 and column_letter(28) == "AB"
    clear_caches()
    assert bounds.cache_info().currsize == 0 and expand.cache_info().currsize == 0


def test_references_as_arguments_and_inside_formula_text():
    m = REF.match("'My Sheet'!$B$5:D6")
    assert (m["sheet"], m["a"], m["b"]) == ("'My Sheet'", "$B$5", "D6")
    assert REF.match("A1+B1") is None and REF.match("Inputs!E10")["sheet"] == "Inputs"
    assert SHEET_CELLS.findall("A10+Inputs!E10*'My Sheet'!A1:B2") == [("Inputs", "E10"), ("'My Sheet'", "A1:B2")]
