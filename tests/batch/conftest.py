"""Fixtures of the batch tests: the fidelity corpus, built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.corpus import fidelity_workbook


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("corpus")
    return {"xlsx": fidelity_workbook(d / "fidelity.xlsx"), "xlsm": fidelity_workbook(d / "fidelity.xlsm", vba=True)}
