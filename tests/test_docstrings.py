"""The worked examples in the core's docstrings are tests too."""

import doctest
import importlib

import pytest

MODULES = ["years", "capital", "funding", "phasing", "savings", "gap", "stf", "appraisal", "reconcile", "reference"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"xl_stp.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
