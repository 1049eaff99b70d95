"""Formula text through the one tokenizer: arguments, omitted arguments, calls, string literals."""

from __future__ import annotations

import re
import zipfile
from xml.sax.saxutils import unescape

from openpyxl.formula.tokenizer import Tokenizer

from tests.batch.common import LLR, SHARED
from tests.data.corpus import fidelity_workbook, finance_workbook
from xl_stp.batch.formula import (_Tokenizer, code_and_strings, fill_omitted, function_names, rename_calls, split_call,
                                  stp_spellings, tokens, without_strings)


def _formula_texts(paths) -> set[str]:
    texts = set()
    for path in paths:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    for m in re.finditer(rb"<f[^>]*>([^<]*)</f>", z.read(name)):
                        texts.add(unescape(m.group(1).decode(), {"&quot;": '"', "&apos;": "'"}))
    return texts


ODD = ['STP_X(A1,"a,b",,C1)', 'STP_X(A1,"a""b",,)', 'STP_X("(",A1)', "STP_X({1,2;3,4},,A1)", "STP_X(1E+3,,2)",
       "STP_X(Table1[[#This Row],[x]],,1)", "'C:\\addins\\xl_stp.xlam'!STP_X(A1,,B1)", "[1]!STP_X(A1,,B1)", "STP_X(\nA1,\n,B1)",
       "SUM(A1:INDEX(B:B,2))", "A1:\"x\"", "STP_X(A1))", 'STP_X(A1,"x)', "IF(\r\nA1,1,2)", "-1%+#N/A", "Sheet1!#REF!"]


def test_the_fast_tokenizer_gives_openpyxls_tokens(tmp_path):
    """The tokenizer's faster loop gives exactly openpyxl's tokens (or fails where it fails) on
    every formula of our workbooks, the Excel-saved corpus and odd texts."""
    paths = [fidelity_workbook(tmp_path / "f.xlsx"), finance_workbook(tmp_path / "m.xlsx", rows=40)[0], LLR]
    paths += sorted(SHARED.glob("**/*.xls[xm]")) if SHARED.exists() else []
    texts = _formula_texts(paths) | set(ODD)
    assert len(texts) > 100

    def items(cls, text):
        try:
            return [(t.value, t.type, t.subtype) for t in cls("=" + text).items]
        except Exception as e:
            return type(e).__name__
    for text in texts:
        assert items(_Tokenizer, text) == items(Tokenizer, text), text


def test_stp_calls_split_into_their_arguments_and_omitted_arguments_marked():
    assert fill_omitted("STP_FUNDING_SPLIT(A1:F1,A2:F4,,A5:F5)") == 'STP_FUNDING_SPLIT(A1:F1,A2:F4,"",A5:F5)'
    assert fill_omitted('SUM(A1,,2)') == 'SUM(A1,,2)'
    assert split_call("STP_ROI(B5,B6,-B7,\"net\")") == ("STP_ROI", ["B5", "B6", "-B7", '"net"'])
    assert split_call("1+STP_ROI(B5,B6)") is None and split_call("STP_ROI(B5,B6)*2") is None
    assert split_call('=STP_X(A1,"a,b",,{1,2;3,4})') == ("STP_X", ["A1", '"a,b"', "", "{1,2;3,4}"])
    assert split_call("_xludf.STP_X()") == ("_xludf.STP_X", []) and split_call("STP_X(A1") is None
    assert fill_omitted("STP_X(A1,)") == 'STP_X(A1,"")' and fill_omitted("STP_X()") == "STP_X()"
    assert fill_omitted("STP_X(SUM(A1,,2),,B1)") == 'STP_X(SUM(A1,,2),"",B1)'  # only STP_* calls' own arguments
    assert fill_omitted("STP_GAP(STP_SAVINGS(A1,,B1),C1)") == 'STP_GAP(STP_SAVINGS(A1,"",B1),C1)'  # nested too


def test_what_is_inside_a_string_literal_is_text_not_a_call():
    text = 'IF(A1="STP_X(1,,2)",STP_Y(A1,,B1),"x!y")'
    assert without_strings(text) == 'IF(A1="",STP_Y(A1,,B1),"")'
    assert stp_spellings(text) == ["STP_Y"] and function_names(text) == ["IF", "STP_Y"]
    assert fill_omitted(text) == 'IF(A1="STP_X(1,,2)",STP_Y(A1,"",B1),"x!y")'
    assert rename_calls(text, lambda s: "NEW") == 'IF(A1="STP_X(1,,2)",NEW(A1,,B1),"x!y")'
    assert code_and_strings(text) == ["IF(A1=", '"STP_X(1,,2)"', ",STP_Y(A1,,B1),", '"x!y"', ")"]


def test_spellings_of_an_add_in_function_are_found_and_renamed():
    for spelling in ["_xludf.STP_GAP", "_xll.STP_GAP", "[1]!STP_GAP", "'C:\\addins\\xl_stp.xlam'!STP_GAP", "_xldudf_XLSTP_STP_GAP",
                     "stp_gap"]:
        text = f"{spelling}(A1:B2,,C1)+1"
        assert stp_spellings(text) == [spelling], spelling
        assert rename_calls(text, lambda s: "STP_GAP") == "STP_GAP(A1:B2,,C1)+1", spelling
    assert stp_spellings("SUM(A1)") == [] and stp_spellings(None) == []


def test_text_the_tokenizer_cannot_read_is_read_as_before():
    """Quotes that do not pair up: no tokens; the expressions read the text as they always did."""
    assert tokens('STP_X(A1,"x)') is None and split_call('STP_X(A1,"x)') is None
    assert stp_spellings('STP_X(A1,"x)') == ["STP_X"] and without_strings('A1&"x"&"y') == 'A1&""&"y'
    assert fill_omitted('STP_X(A1,,"x)') == 'STP_X(A1,,"x)' and code_and_strings('"x') is None
