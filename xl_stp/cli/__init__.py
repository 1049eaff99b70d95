"""The ``xl-stp`` command line: where the layers are wired together.

    xl-stp regen PATH... (--out DIR | --in-place) [--engine auto|libreoffice|formulas] [--jobs N]
                 [--scheduler ADDRESS] [--report FILE.json|FILE.csv] [--cross-check] [--debug]
    xl-stp build [--out DIR] [--render DIR]   # the LLR reference workbook and the template
    xl-stp functions                          # the STP_* functions of the one registry

The base install (``pip install xl-stp``) is what the Excel functions need; the command line and
what its commands run come with extras (``xl-stp[cli]``, ``[regen]``, ``[build]``). A command whose
packages are missing says, in one line, which extra to install, and exits with status 2.
"""

from __future__ import annotations

import sys

#: The extra that brings what each command needs (any other command: the command line alone).
EXTRAS = {"regen": ("regen", "the batch engine"), "verify": ("regen", "the batch engine"),
          "build": ("build", "the workbook builder"), "scenarios": ("scenarios", "scenarios and sensitivities")}
OURS = ("xl_stp", "udfs")


def needs(command: str, error: ModuleNotFoundError) -> int:
    """Say which extra brings the missing package; the exit status. A module of our own that is
    missing is a broken install, not a missing extra: raised as it is."""
    if (error.name or "").split(".")[0] in OURS:
        raise error
    extra, what = EXTRAS.get(command, ("cli", "the command line"))
    print(f"xl-stp {command}: {what} needs packages the base install leaves out (no module {error.name!r}); "
          f"install them with: pip install 'xl-stp[{extra}]'", file=sys.stderr)
    return 2


def _command(argv: list[str]) -> str:
    return next((a for a in argv if not a.startswith("-")), "")


#: Commands that compute workbooks, and so may need LibreOffice (and are handed to a resident process).
COMPUTING = ("regen", "verify", "scenarios")
#: What a command stopped by Ctrl-C or SIGTERM says (exit status 130).
STOPPED = "xl-stp: stopped; workbooks already written are complete, nothing else was changed"


def _start_libreoffice_early(argv: list[str]) -> None:
    """For a command that computes workbooks with LibreOffice, start it now, so that it starts
    while Python imports the command's modules and reads the workbook (about 0.3 s of each
    one-shot run): nothing for other commands, for ``--engine formulas`` or ``--help``, or when
    LibreOffice is not installed (the command then chooses its engine as always)."""
    if _command(argv) not in COMPUTING or "--help" in argv:
        return
    engine = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--engine"), None)
    engine = next((a.split("=", 1)[1] for a in argv if a.startswith("--engine=")), engine)
    if engine == "formulas":
        return
    try:
        from xl_stp.batch.engines.libreoffice.client import start
    except ImportError:
        return  # the command says which extra is missing
    start()
    if _command(argv) == "regen":
        _open_early(argv)


def _open_early(argv: list[str]) -> None:
    """``xl-stp regen`` of one workbook: once the package has passed its safety checks, have
    LibreOffice load it (as the regeneration will: recalculating on load only for ``--full`` or a
    file that asks for it) while Python imports the rest; the engine adopts that opening if the
    file is unchanged when it gets there. Anything unusual (several files, a folder, a limit given,
    a package that needs a private copy, a file that fails its checks, a file with no formula):
    nothing, the run as always."""
    from pathlib import Path

    files = [a for a in argv if not a.startswith("-") and Path(a).suffix.lower() in (".xlsx", ".xlsm")]
    if len(files) != 1 or not Path(files[0]).is_file() or any(a.startswith("--max-") for a in argv):
        return
    try:
        from xl_stp.batch.engines.libreoffice.client import open_early
        from xl_stp.batch.package import Package

        with Package(Path(files[0])) as pkg:
            pkg.check_prologs()
            if pkg.readable_path() != pkg.path or not pkg.has_formulas():  # nothing for LibreOffice to compute
                return
            full = "--full" in argv or pkg.asks_full_calc()
        open_early(str(Path(files[0]).resolve()), recalc=full)
    except Exception:  # noqa: BLE001 - the run itself reports whatever this met
        return


def _stop(signum, _frame) -> None:
    """SIGTERM ends the run like Ctrl-C: temporary files are removed, finished outputs stay, originals
    are untouched. A second SIGTERM (a pool worker gets one from the group, then another as the
    pool shuts down) is ignored, so that it cannot cut the removal short."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    """``xl-stp``: the command in this user's resident process when one is there
    (:mod:`xl_stp.cli.resident`), else here (and one is started, for the next command, as it ends)."""
    from . import resident

    argv = sys.argv[1:]
    status = resident.forward(argv)
    if status is None:
        status = run(argv)
        resident.after()
    raise SystemExit(status)


def run(argv: list[str]) -> int:
    """Run one command in this process; its exit status."""
    import signal

    signal.signal(signal.SIGTERM, _stop)
    _start_libreoffice_early(argv)
    try:
        from .commands import app
    except ModuleNotFoundError as e:
        return needs(_command(argv), e)
    try:
        app(args=argv)
    except SystemExit as e:  # typer turns Ctrl-C (and so SIGTERM, _stop) into exit status 130
        status = _status(e.code)
    except KeyboardInterrupt:
        status = 130
    else:
        status = 0
    if status == 130:
        print(STOPPED, file=sys.stderr)
    return status


def _status(code) -> int:
    """SystemExit's code as an exit status, as Python's own exit makes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
