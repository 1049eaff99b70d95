"""The xlwings Lite files, generated from the one registry (like the README's function table).

``python -m udfs.lite`` writes ``lite/main.py`` (what a Lite user pastes into the workbook's
editor) and ``lite/requirements.txt`` (what Lite installs); a test fails when they and the
registry disagree.

``main.py`` declares each STP_* function once more for Lite, under its own name (no namespace:
``=STP_CAPITAL_NET(...)`` in both routes), with ``from xlwings import func, arg`` as Lite's
documentation writes it. The wrapper carries the registry's help text (docstring and ``doc=`` of
each argument) and its conversion options, and its body calls the registry's function — the
finance stays in the installed package, so the pasted file never drifts from it.

Conversion options, read off xlwings' Office.js code (``xlwings/pro/udfs_officejs.py`` and
``xlwings/pro/_xlofficejs.py``), which is what Lite runs:

- Office.js sends every argument as a 2-D matrix; xlwings first unwraps a 1x1 matrix to its
  value (``to_scalar``), turns a blank or omitted argument into the Python default (None for
  our optional ones), and converts the rest with the argument's options. ``ndim=2`` on range
  arguments keeps every range a list of rows (a single cell becomes ``[[x]]`` again), so a row
  of years stays a row and a column of schemes a column. Single-cell arguments take no ``ndim``
  and arrive as the value.
- An error cell arrives as an Office.js error object (``{"type": "Error", "basicType": "Error",
  "basicValue": "#N/A", "errorType": "NotAvailable"}``). Without ``err_to_str`` xlwings turns it
  into None — a blank, which a money range counts as 0, silently. ``err_to_str=True`` gives its
  text (``'#N/A'``), which our converter names in the ``#STP!`` message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from xl_stp import __version__

from . import discover

#: What Lite installs: the package itself, base install only (no extras).
REQUIREMENT = "xl-stp"

_GENERATED = "Generated from xl-stp's function registry by `python -m udfs.lite`: do not edit by hand."


def _str(text: str) -> str:
    """A Python string literal, double-quoted."""
    return json.dumps(text, ensure_ascii=False)


def _docstring(text: str) -> str:
    """The registry's doc as the wrapper's docstring, unchanged (Lite shows it in Excel)."""
    if '"""' in text or "\\" in text or text.endswith('"'):
        return repr(text)
    return f'"""{text}"""'


def main_py() -> str:
    """The text of ``lite/main.py``."""
    out = [
        f"# xl-stp for xlwings Lite. {_GENERATED}",
        "#",
        "# Paste this whole file into the main.py tab of the xlwings Lite editor, and add the xl-stp",
        "# line of requirements.txt to its requirements.txt tab. Each function below is the registry's",
        "# STP_* function under its own name, with its help text; the figures come from the",
        "# installed xl-stp package. Range arguments arrive as rows of cells (ndim=2) and error",
        "# cells as their text (err_to_str=True), so a problem comes back as '#STP! <argument>: ...'.",
        "",
        "from xlwings import func, arg",
        "",
        "import udfs.functions as stp",
        "",
    ]
    for fn in discover().values():
        out += ["", "@func"]
        for a in fn.args:
            options = "".join(f", {k}={v!r}" for k, v in a.xlwings_options.items())
            out.append(f"@arg({_str(a.name)}{options}, doc={_str(a.doc)})")
        params = ", ".join(f"{a.name}=None" if a.optional else a.name for a in fn.args)
        names = ", ".join(a.name for a in fn.args)
        out += [
            f"def {fn.name}({params}):",
            f"    {_docstring(fn.doc)}",
            f"    return stp.{fn.name}({names})",
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


def requirements_txt() -> str:
    """The text of ``lite/requirements.txt``: xl-stp at the version this main.py was generated
    from (its registry), base install only."""
    return "\n".join([
        f"# xl-stp for xlwings Lite. {_GENERATED}",
        "# Add the line below to the requirements.txt tab of the xlwings Lite editor, under the",
        "# lines Lite marks '# required' (keep those). Base install only: numpy comes from Pyodide's",
        "# own build, the other dependencies are pure-Python wheels. Without access to the public",
        "# package index, see the README (a wheel of xl-stp built with `python -m build`).",
        f"{REQUIREMENT}=={__version__}",
        "",
    ])


def files() -> dict[str, str]:
    """File name -> text, for everything under ``lite/``."""
    return {"main.py": main_py(), "requirements.txt": requirements_txt()}


def main(folder: str = "lite") -> int:
    """Write the files into ``folder`` (run from the repository root)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files().items():
        (target / name).write_text(text, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
