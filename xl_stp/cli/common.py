"""What the commands share: the one typer app, the consoles, and the names of the engines."""

from __future__ import annotations

from enum import Enum

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="xl-stp: STP finance functions for Excel, and batch recalculation of workbooks without Excel.")
console = Console(stderr=False, width=None if Console().is_terminal else 140)
errors = Console(stderr=True)


def consoles() -> None:
    """Make the consoles again for this process's standard output and error as they are now (a
    command run by the resident process: rich decides colours and width when a console is made).
    The same objects, so that every module that imported them sees the change."""
    console.__init__(stderr=False, width=None if Console().is_terminal else 140)
    errors.__init__(stderr=True)


class EngineName(str, Enum):
    auto = "auto"
    fused = "fused"
    libreoffice = "libreoffice"
    formulas = "formulas"
