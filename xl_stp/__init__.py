"""xl-stp: the finance figures of an NHS Sustainability and Transformation Plan, in Python and Excel.

One layer a folder, imports only downward (see the README's "How the code is laid out"):

- :mod:`xl_stp.core` — the finance model: pure numpy, no Excel, no files;
- ``udfs`` (top level) — the STP_* Excel functions over the core, and Excel's value conventions;
- :mod:`xl_stp.batch` — recalculates workbooks without Excel, for any registry of functions;
- :mod:`xl_stp.llr` — the LLR reference case (data, plan rebuilt from line items, checks);
- :mod:`xl_stp.builder` — builds the reference workbook and the template;
- :mod:`xl_stp.cli` — the ``xl-stp`` command line, where the layers are wired together.

The core's public names are re-exported here, so ``from xl_stp import capital_net`` works; importing
``xl_stp`` imports nothing but the core.
"""

from .core import *  # noqa: F401,F403
from .core import __all__, __version__  # noqa: F401
