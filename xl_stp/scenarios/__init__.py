"""Scenarios and sensitivities: named sets of changes to a workbook's input cells, run through the
batch engine, compared with the base case (``xl-stp scenarios``).

A layer above the batch engine (it is given the registry of functions, as the batch engine is) and
below the command line: ``book`` (the workbook's cells and references to them), ``definitions``
(scenario files and Scenarios sheets, checked line by line), ``changes`` (what each change writes),
``run`` (base and scenarios: one loaded workbook with LibreOffice overrides, or regenerated copies),
``compare`` (the comparison workbook), ``sensitivity`` (grids and breakeven).
"""
