"""Tests write only under pytest's own temporary folder: the system temp directory of this
process and of every process it starts (LibreOffice's profile and pipes, Dask's scratch space,
the engines' private copies) is pointed there for the session."""

from __future__ import annotations

import os
import tempfile

from pathlib import Path

import pytest

import udfs.functions  # noqa: F401  as Excel imports it (xlwings' decorators applied), before a command line test

#: Commands the tests run start no resident process (tests/cli/test_resident.py turns it on for its own).
os.environ["XL_STP_RESIDENT"] = "0"

#: What xl-stp and its engines name their temporary files and folders.
OURS = ("xl-stp", ".xl-stp", "dask-scratch-space")


def _ours(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.startswith(OURS)} if folder.is_dir() else set()


@pytest.fixture(scope="session", autouse=True)
def _private_temp(tmp_path_factory):
    system = Path(tempfile.gettempdir())
    before = _ours(system)
    tmp = tmp_path_factory.mktemp("system-temp")
    saved = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = str(tmp)
    try:
        yield tmp
    finally:
        if saved[0] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved[0]
        tempfile.tempdir = saved[1]
    left = _ours(system) - before
    assert not left, f"the tests left these in {system}: {sorted(left)}"
