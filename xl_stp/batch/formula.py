"""Formula text, read through one tokenizer: openpyxl's (``openpyxl.formula.tokenizer``).

Everything the batch engine learns from a formula's text comes from here: the text without its
string literals, the functions it calls and the STP_* spellings among them, an STP_* call split
into its arguments, omitted STP_* arguments marked, STP_* spellings renamed, the text cut into
code and string literals, an STP_* argument read as a literal or a reference, and the references
a formula reads. Formula text is as a file stores it, without the leading '='.

Tokens are cached by text (many formulas repeat, and the scan and the engines read the same STP_*
formulas); cheap tests on the text come first so that most formulas are never tokenized. Text the
tokenizer cannot read (no file Excel wrote has it: quotes that do not pair up, a stray bracket) is
read with the expressions below, as it always was.
"""

from __future__ import annotations

import functools
import re
from typing import Callable

from openpyxl.formula.tokenizer import Token, Tokenizer

from .cells import REF

#: A string literal: "text" with "" for a quote.
STRING = re.compile(r'"(?:[^"]|"")*"')
_PREFIX = r"(?:_xludf\.|_xll\.|\[\d+\]!|'[^']*'!|_xldudf_[A-Za-z0-9]+_)?"
#: A function call in formula text: an optional add-in prefix, then NAME( .
CALL = re.compile(rf"({_PREFIX}[A-Za-z_][A-Za-z0-9_.]*)\s*\(")
#: An STP_* call in any spelling: [1]!STP_GAP(, 'C:\addin.xlam'!STP_GAP(, _xludf.STP_GAP( ...
STP_CALL = re.compile(rf"{_PREFIX}STP_[A-Za-z0-9_]+(?=\s*\()", re.IGNORECASE)
#: The STP_* spelling at the end of a called function's name.
_STP_NAME = re.compile(rf"{_PREFIX}STP_[A-Za-z0-9_]+$", re.IGNORECASE)
_SPACE = re.compile(r"[ \n]+")
_QUOTED = re.compile(r"[\"'\[]")
_STP_CALL_TIGHT = re.compile(rf"{_PREFIX}STP_[A-Za-z0-9_]+(?=\()", re.IGNORECASE)  # as the tokenizer reads a call

OPEN, CLOSE, FUNC, SEP, ARG, TEXT, RANGE = Token.OPEN, Token.CLOSE, Token.FUNC, Token.SEP, Token.ARG, Token.TEXT, Token.RANGE
#: A run of characters the tokenizer adds to the token being read one by one (none it dispatches on).
_ORDINARY = re.compile(r"[^\"'\[# \n+\-*/^&=><%{()};,]+")


class _Tokenizer(Tokenizer):
    """openpyxl's tokenizer, taking each run of ordinary characters (names, references, numbers)
    in one step rather than one character at a time (its own TODO), with its table of what to do
    on each special character made once: the same tokens, about twice as fast.
    tests/batch/test_formula.py compares the two on every formula of the corpus."""

    _DISPATCH = {ch: consumer for chars, consumer in (
        ('"\'', Tokenizer._parse_string), ("[", Tokenizer._parse_brackets), ("#", Tokenizer._parse_error),
        (" \n", Tokenizer._parse_whitespace), ("+-*/^&=><%", Tokenizer._parse_operator),
        ("{(", Tokenizer._parse_opener), (")}", Tokenizer._parse_closer), (";,", Tokenizer._parse_separator)) for ch in chars}

    def _parse(self):
        if self.offset or not self.formula:
            return
        if self.formula[0] != "=":
            self.items.append(Token(self.formula, Token.LITERAL))
            return
        self.offset = 1
        formula, enders, dispatch, ordinary = self.formula, self.TOKEN_ENDERS, self._DISPATCH, _ORDINARY.match
        while self.offset < len(formula):
            ch = formula[self.offset]
            if ch in "+-" and self.check_scientific_notation():  # a + or - inside a number (1E+3)
                continue
            if ch in enders:
                self.save_token()
            consumer = dispatch.get(ch)
            if consumer is not None:
                self.offset += consumer(self)
            else:
                run = ordinary(formula, self.offset).group()
                self.token.extend(run)
                self.offset += len(run)
        self.save_token()


def clear_caches() -> None:
    tokens.cache_clear()
    _stp_spellings.cache_clear()


@functools.lru_cache(maxsize=16384)
def tokens(text: str) -> tuple[tuple[int, int, str, str], ...] | None:
    """The tokens of a formula as (start, end, type, subtype), positions in ``text``; white space
    is left out. None when the tokenizer cannot read the text."""
    try:
        items = _Tokenizer("=" + text).items
    except Exception:  # TokenizerError, or IndexError on a stray ')'
        return None
    out, pos = [], 0
    for t in items:
        if t.type == Token.WSPACE:
            m = _SPACE.match(text, pos)
            if m is None:
                return None
            pos = m.end()
            continue
        if not text.startswith(t.value, pos):
            return None  # a token the tokenizer moved (text glued to a range): not a formula Excel writes
        out.append((pos, pos + len(t.value), t.type, t.subtype))
        pos += len(t.value)
    return tuple(out) if pos == len(text) else None


def without_strings(text: str) -> str:
    """The text with every string literal emptied: 'IF(A1,"a!b",B1)' -> 'IF(A1,"",B1)'."""
    if '"' not in text:
        return text
    if "'" not in text and "[" not in text:  # no quoted sheet names or brackets: the strings are all the quotes
        return STRING.sub('""', text)
    toks = tokens(text)
    if toks is None:
        return STRING.sub('""', text)
    out, pos = [], 0
    for start, end, _type, subtype in toks:
        if subtype == TEXT:
            out.append(text[pos:start])
            out.append('""')
            pos = end
    out.append(text[pos:])
    return "".join(out)


def code_and_strings(text: str) -> list[str] | None:
    """The text cut at its string literals: [code, string, code, ..., code] (the strings with their
    quotes); None when the tokenizer cannot read it."""
    toks = tokens(text) if '"' in text else ()
    if toks is None:
        return None
    out, pos = [], 0
    for start, end, _type, subtype in toks:
        if subtype == TEXT:
            out += [text[pos:start], text[start:end]]
            pos = end
    out.append(text[pos:])
    return out


def _called(text: str, toks) -> list[tuple[int, int]]:
    """(start, end) of each called function's name (the token before its '(')."""
    return [(start, end - 1) for start, end, type_, subtype in toks if type_ == FUNC and subtype == OPEN]


def function_names(text: str) -> list[str]:
    """The functions a formula calls, as written (with an add-in prefix): 'SUM(A1:INDEX(B:B,2))'
    -> ['SUM', 'INDEX']."""
    if "(" not in text:
        return []
    toks = tokens(text)
    if toks is None:
        return CALL.findall(STRING.sub('""', text))
    return [name for start, end in _called(text, toks) for name in CALL.findall(text[start:end + 1])]


@functools.lru_cache(maxsize=16384)
def _stp_spellings(text: str) -> tuple[str, ...]:
    plain = STRING.sub('""', text) if '"' in text else text
    if not _QUOTED.search(plain.replace('""', "")):  # no quoted sheets or brackets: a call is a name before '('
        return tuple(_STP_CALL_TIGHT.findall(plain))
    toks = tokens(text)
    if toks is None:
        return tuple(STP_CALL.findall(STRING.sub('""', text)))
    out = []
    for start, end in _called(text, toks):
        m = _STP_NAME.search(text, start, end)
        if m:
            out.append(m.group(0))
    return tuple(out)


def stp_spellings(text: str | None) -> list[str]:
    """The STP_* functions a formula calls, each as spelled: '_xludf.STP_CHECK(A1,STP_FY(2017,3))'
    -> ['_xludf.STP_CHECK', 'STP_FY']."""
    if not text or "stp_" not in text.lower():
        return []
    return list(_stp_spellings(text))


def _split_simple(text: str, name_end: int) -> list[str] | None:
    """The arguments of ``NAME(...)`` read without the tokenizer when nothing in them needs it: no
    brackets, braces or quotes outside string literals, so that every comma outside a string
    separates two arguments (the tokenizer's answer, faster); None otherwise."""
    if text[name_end:name_end + 1] != "(":
        return None
    inner = text[name_end + 1:-1]
    masked = STRING.sub(lambda m: '"' + "x" * (len(m.group()) - 2) + '"', inner) if '"' in inner else inner
    if _NOT_SIMPLE.search(STRING.sub("", masked)):
        return None
    args, begin = [], 0
    for i, ch in enumerate(masked):
        if ch == ",":
            args.append(inner[begin:i].strip())
            begin = i + 1
    args.append(inner[begin:].strip())
    return [] if args == [""] else args


_NOT_SIMPLE = re.compile(r"""[()\[\]{}"']""")


def rename_calls(text: str, rename: Callable[[str], str | None]) -> str:
    """The text with each STP_* spelling that ``rename`` gives a new name for (None: keep it) renamed."""
    if "stp_" not in text.lower():
        return text
    toks = tokens(text)
    if toks is None:
        return STP_CALL.sub(lambda m: rename(m.group(0)) or m.group(0), text)
    out, pos = [], 0
    for start, end in _called(text, toks):
        m = _STP_NAME.search(text, start, end)
        new = rename(m.group(0)) if m else None
        if new is not None:
            out += [text[pos:m.start()], new]
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def split_call(text: str | None) -> tuple[str, list[str]] | None:
    """'STP_X(A1:B2,,"net")' -> ('STP_X', ['A1:B2', '', '"net"']), or None when the STP_* call is
    not the whole formula."""
    text = (text or "").strip().lstrip("=").strip()
    m = STP_CALL.match(text)
    if not m or not text.endswith(")"):
        return None
    simple = _split_simple(text, m.end())
    if simple is not None:
        return m.group(0), simple
    toks = tokens(text)
    if not toks or toks[0][:3] != (0, m.end() + 1, FUNC):
        return None  # not read, or a space before the '('
    args, depth, begin = [], 0, toks[0][1]
    for k, (start, end, type_, subtype) in enumerate(toks):
        if subtype == OPEN:
            depth += 1
        elif subtype == CLOSE:
            depth -= 1
            if depth == 0:
                if k != len(toks) - 1:
                    return None  # the call closes before the end: something follows it
                args.append(text[begin:start].strip())
        elif depth == 1 and type_ == SEP and subtype == ARG:
            args.append(text[begin:start].strip())
            begin = end
    if depth != 0:
        return None
    return m.group(0), ([] if args == [""] else args)


def fill_omitted(text: str) -> str:
    """Mark the omitted arguments of STP_* calls with "" (which Excel and xlwings pass as a blank):
    the formulas package would pass an omitted argument as 0, which is not what Excel does.
    ``STP_FUNDING_SPLIT(A1:F1,A2:F4,,A5:F5)`` -> ``STP_FUNDING_SPLIT(A1:F1,A2:F4,"",A5:F5)``."""
    if "," not in text or "stp_" not in text.lower():
        return text
    toks = tokens(text)
    if toks is None:
        return text
    marks = _omitted(text, toks)
    if not marks:
        return text
    out, pos = [], 0
    for at in marks:
        out += [text[pos:at], '""']
        pos = at
    out.append(text[pos:])
    return "".join(out)


def _omitted(text: str, toks) -> list[int]:
    """Where an STP_* call's omitted arguments are: before a ',' that follows its '(' or another
    ',', and before a ')' that follows a ','."""
    marks: list[int] = []
    stack: list[list] = []  # per open bracket: [an STP_* call?, what came last: "(", "," or "x"]
    for start, end, type_, subtype in toks:
        if subtype == OPEN:
            if stack:
                stack[-1][1] = "x"
            stp = type_ == FUNC and _STP_NAME.search(text, start, end - 1) is not None
            stack.append([stp, "("])
        elif subtype == CLOSE and stack:
            stp, last = stack.pop()
            if stp and last == ",":
                marks.append(start)
            if stack:
                stack[-1][1] = "x"
        elif type_ == SEP and subtype == ARG and stack:
            if stack[-1][0] and stack[-1][1] in ("(", ","):
                marks.append(start)
            stack[-1][1] = ","
        elif stack:
            stack[-1][1] = "x"
    return marks


# ---- arguments and references ------------------------------------------------------------------

#: A number literal as a formula writes it (a trailing % divides by 100).
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?%?$")


def _sheet_name(raw: str | None, default: str) -> str:
    if not raw:
        return default
    return raw[1:-1].replace("''", "'") if raw.startswith("'") else raw


def parse_arg(arg: str, sheet: str, names: dict[str, str]) -> tuple[str, object]:
    """An argument of a call (as :func:`split_call` gives it) on ``sheet``: ('empty', None) |
    ('value', literal) | ('ref', (sheet, 'A1:B2')) | ('unsupported', text) for an expression.
    A global defined name that is a plain reference is that reference."""
    a = arg.strip()
    if a == "":
        return "empty", None
    if len(a) >= 2 and a[0] == a[-1] == '"':
        return "value", a[1:-1].replace('""', '"')
    if a.upper() in ("TRUE", "FALSE"):
        return "value", a.upper() == "TRUE"
    if NUMBER.match(a):
        return "value", float(a.rstrip("%")) / (100 if a.endswith("%") else 1)
    m = REF.match(a)
    if m:
        ref = (m["a"] + (":" + m["b"] if m["b"] else "")).replace("$", "")
        return "ref", (_sheet_name(m["sheet"], sheet), ref)
    if a in names:  # a defined name that is a plain reference
        kind, val = parse_arg(names[a], sheet, {})
        if kind == "ref":
            return kind, val
    return "unsupported", a


def references(text: str | None, sheet: str, names: dict[str, str]) -> list[tuple[str, str]] | None:
    """The cells and ranges a formula reads, as (sheet, 'A1:B2') without dollars: references on
    ``sheet`` unless they name another, and global names that are plain references. None when the
    text cannot be read (or holds a reference that is not a plain one: whole columns, 3-D, another
    workbook), so that a caller knows it does not have them all."""
    if not text:
        return None
    toks = tokens(text)
    if toks is None:
        return None
    out = []
    for start, end, type_, subtype in toks:
        if subtype != RANGE:
            continue
        kind, val = parse_arg(text[start:end], sheet, names)
        if kind != "ref":
            if text[start:end] in names or text[start:end].upper() in ("TRUE", "FALSE"):
                continue  # a name that is not a reference (a constant), or a logical
            return None
        out.append(val)
    return out
