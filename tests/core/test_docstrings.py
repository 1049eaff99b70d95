"""The worked examples in the core's docstrings are tests too."""

import doctest
import importlib

import pytest

MODULES = ["core.errors", "core.years", "core.capital", "core.funding", "core.phasing", "core.savings", "core.gap", "core.stf", "core.appraisal",
           "core.reconcile", "llr.figures", "llr.plan", "llr.checks"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"xl_stp.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
