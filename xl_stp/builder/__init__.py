"""The workbook builder: one template for any footprint, and the LLR reference workbook as the
template filled with LLR's figures.

- :mod:`~xl_stp.builder.footprint` — the template's inputs by key (:class:`Footprint`), its
  capacities, and the plan worked out with the core (:func:`quantities`, what the tests compare);
- a module per sheet over the sheet writer of :mod:`~xl_stp.builder.book` (with the Excel
  arithmetic of :mod:`~xl_stp.builder.arithmetic`): :mod:`~xl_stp.builder.inputs`,
  :mod:`~xl_stp.builder.calculations`, :mod:`~xl_stp.builder.outputs` (with
  :mod:`~xl_stp.builder.charts` and :mod:`~xl_stp.builder.checks_summary`),
  :mod:`~xl_stp.builder.checks` (the rows, tolerances and master check) with the checks every plan
  gets in :mod:`~xl_stp.builder.template_checks`, and :mod:`~xl_stp.builder.cover`;
- LLR's part: :mod:`~xl_stp.builder.llr_inputs` (its figures in the template's inputs, and its own
  blocks) and :mod:`~xl_stp.builder.llr_checks` (its own calculation and checks);
- :mod:`~xl_stp.builder.build` puts them together (``xl-stp build``) and
  :mod:`~xl_stp.builder.render` makes the print pack through LibreOffice.
"""
