"""The workbook builder: the LLR reference workbook and the empty template, from the transcribed figures.

A module per sheet — :mod:`~xl_stp.builder.cover`, :mod:`~xl_stp.builder.inputs`,
:mod:`~xl_stp.builder.calculations`, :mod:`~xl_stp.builder.outputs` (with
:mod:`~xl_stp.builder.charts`) and :mod:`~xl_stp.builder.checks` — over the sheet writer of
:mod:`~xl_stp.builder.book`; :mod:`~xl_stp.builder.build` puts them together (``xl-stp build``) and
:mod:`~xl_stp.builder.render` shows the result through LibreOffice.
"""
