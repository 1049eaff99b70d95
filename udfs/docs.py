"""The README's tables generated from the code: the Excel functions (from the one registry) and
the rules for implausible input (from :mod:`udfs.rules`).

``python -m udfs.docs`` rewrites each table between its markers in README.md (``functions``,
``rules``); a test fails when the README and the code disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import discover

START, END = "<!-- functions:start -->", "<!-- functions:end -->"


def function_table() -> str:
    lines = ["| function | what it returns | arguments |", "|---|---|---|"]
    for fn in discover().values():
        args = "<br>".join(f"`{a.name}`{' (optional)' if a.optional else ''}: {a.doc}" for a in fn.args)
        lines.append(f"| `{fn.signature}` | {fn.summary} Returns {fn.returns}. | {args} |")
    return "\n".join(lines)


def tables() -> dict[str, str]:
    """Marker name -> the table generated for it."""
    from . import rules

    return {"functions": function_table(), "rules": rules.table()}


def replace_between(text: str, marker: str, table: str) -> str:
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    i, j = text.index(start), text.index(end)
    return text[: i + len(start)] + "\n" + table + "\n" + text[j:]


def main(readme: str = "README.md") -> int:
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    for marker, table in tables().items():
        text = replace_between(text, marker, table)
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
