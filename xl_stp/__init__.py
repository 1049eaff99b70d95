"""xl-stp: the finance figures of an NHS Sustainability and Transformation Plan, in Python and Excel.

One layer a folder, imports only downward (see the README's "How the code is laid out"):

- :mod:`xl_stp.core` — the finance model: pure numpy, no Excel, no files;
- ``udfs`` (top level) — the STP_* Excel functions over the core, and Excel's value conventions;
- :mod:`xl_stp.batch` — recalculates workbooks without Excel, for any registry of functions;
- :mod:`xl_stp.llr` — the LLR reference case (data, plan rebuilt from line items, checks);
- :mod:`xl_stp.builder` — builds the reference workbook and the template;
- :mod:`xl_stp.cli` — the ``xl-stp`` command line, where the layers are wired together.

The core's public names are re-exported here, so ``from xl_stp import capital_net`` works. They
are imported when first used (PEP 562): importing a module of another layer (the command line's
LibreOffice client, which it starts before anything else) does not import the core and numpy.
"""

import importlib


def __getattr__(name: str):
    core = importlib.import_module(".core", __name__)
    if name in ("__all__", "__version__") or name in core.__all__:
        value = getattr(core, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(importlib.import_module(".core", __name__).__all__))
