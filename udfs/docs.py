"""The README's table of Excel functions, generated from the one registry.

``python -m udfs.docs`` rewrites the table between the ``functions`` markers in README.md; a
test fails when the README and the registry disagree.
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


def main(readme: str = "README.md") -> int:
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    start, end = text.index(START), text.index(END)
    path.write_text(text[: start + len(START)] + "\n" + function_table() + "\n" + text[end:], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
