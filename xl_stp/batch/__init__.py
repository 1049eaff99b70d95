"""The batch engine: recalculate existing workbooks without Excel and write the values back.

``scan`` (formula cells, array ranges, STP_* spellings) -> ``Engine.compute`` (LibreOffice
headless or the pure-Python ``formulas`` package; STP_* through the registry of functions it is
given; a failed call's cells hold #VALUE!, and so does every figure computed from them) ->
``patch`` (only cached values change). ``diagnose`` turns the calls that failed or warned into
report lines at the input cells, with their labels. ``regen_file(path, registry)`` runs these for
one workbook, opening and checking it once; ``run_batch`` runs many, and ``xl-stp regen`` is the
command line (which passes ``udfs.discover()``).
"""

from .exports import lazily

__all__ = lazily(__name__, {
    "Limits": ".package",
    "WorkbookError": ".package",
    "PatchReport": ".patch",
    "patch": ".patch",
    "FileResult": ".run",
    "expand_paths": ".run",
    "regen_file": ".run",
    "run_batch": ".run",
    "WorkbookScan": ".scan",
    "scan": ".scan",
})
