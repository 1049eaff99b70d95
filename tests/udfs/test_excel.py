"""Excel's value conventions (udfs.excel), written once for the converter, the engine and the builder."""

import math

import pytest

from udfs.excel import ERRORS, as_argument, canonical_name, decode_cached, encode_cached, is_error


def test_every_error_literal_excel_shows_including_the_dynamic_array_ones():
    assert {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#FIELD!",
            "#BUSY!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#GETTING_DATA"} <= ERRORS
    assert is_error(" #n/a ") and is_error(-2146826246) and not is_error("N/A") and not is_error(0)


def test_a_range_as_excel_passes_it():
    assert as_argument([[5.0]]) == 5.0
    assert as_argument([[1.0, None]]) == [[1.0, None]]


@pytest.mark.parametrize("value, stored", [
    (251232.0, (None, "251232")), (-2.5, (None, "-2.5")), (0.1 + 0.2, (None, "0.30000000000000004")),
    (True, ("b", "1")), (False, ("b", "0")), ("#SPILL!", ("e", "#SPILL!")), ("agrees", ("str", "agrees")),
    ("", ("str", "")), (math.inf, ("e", "#NUM!")),
])
def test_cached_values_written_as_excel_writes_them_and_read_back(value, stored):
    assert encode_cached(value) == stored
    back = decode_cached(*stored)
    assert back == (value if not (isinstance(value, float) and math.isinf(value)) else "#NUM!")


def test_cached_values_read():
    assert decode_cached("s", "1", ["a", "Hinckley"]) == "Hinckley"
    assert decode_cached(None, None) is None and decode_cached("n", "") is None
    assert decode_cached("str", "") == ""
    assert encode_cached("a\x01b") == ("str", "ab")  # XML cannot store control characters
    with pytest.raises(ValueError):
        decode_cached("b", "2")
    with pytest.raises(ValueError):
        decode_cached("d", "2017-04-01T00:00:00")


@pytest.mark.parametrize("spelling", ["STP_GAP", "stp_gap", "=_xludf.STP_GAP", "_xll.STP_GAP", "[1]!STP_GAP",
                                      "'C:\\addins\\xl_stp.xlam'!STP_GAP", "_xldudf_XLSTP_STP_GAP"])
def test_every_spelling_of_a_function_name(spelling):
    assert canonical_name(spelling) == "STP_GAP"
