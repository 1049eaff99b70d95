"""Sensitivities: one input (a reference, :mod:`.book`) stepped over a range, the outputs for each
step; and a breakeven search — the input's value at which one output reaches a target (the
savings delivery at which the residual gap is nil), to the input's precision.

A range is written ``<kind><from>:<to>:<step>``:

- ``x50%:100%:10%``  scale the cells by 50%, 60% ... 100% (savings deliver 50% to 100%);
- ``-50%:20%:10%``   change them by -50% ... +20% (disposal proceeds);
- ``=0:100:25``      set them to 0, 25 ... 100.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from .book import Book
from .changes import apply
from .definitions import Change, Scenario, ScenarioError, check_change, not_inputs, parse_change

_RANGE = re.compile(r"^(?P<kind>[x×*=]?)\s*(?P<a>[+-]?[\d.]+)(?P<pc>%?)\s*:\s*(?P<b>[+-]?[\d.]+)%?\s*:\s*(?P<s>[+-]?[\d.]+)%?$",
                    re.IGNORECASE)


@dataclass(frozen=True)
class Steps:
    """A range of one input: ``kind`` ('x' scale, '%' change, '=' value), the values and the unit."""

    kind: str
    start: float
    stop: float
    step: float
    percent: bool

    def values(self) -> list[float]:
        n = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [round(self.start + i * self.step, 10) for i in range(max(n, 0))]

    def text(self, p: float) -> str:
        """The change a step means, as a scenario file writes it."""
        unit = "%" if self.percent else ""
        if self.kind == "x":
            return f"x{p:g}{unit}"
        if self.kind == "%":
            return f"{p:+g}%"
        return f"={p:g}"

    def decimals(self, precision: float) -> int:
        return max(0, -int(math.floor(math.log10(precision) + 1e-9)))


def parse_steps(spec: str) -> Steps:
    """A range as written (see the module); ValueError saying what is expected."""
    m = _RANGE.match(spec.strip())
    if not m:
        raise ValueError(f"{spec!r} is not a range: write x50%:100%:10% (scale), -50%:20%:10% (change) or =0:100:25 (values)")
    kind = {"x": "x", "×": "x", "*": "x", "=": "="}.get(m["kind"].lower(), "%" if m["pc"] else "=")
    start, stop, step = float(m["a"]), float(m["b"]), float(m["s"])
    if step <= 0 or stop < start:
        raise ValueError(f"{spec!r}: the range must run upwards by a positive step")
    return Steps(kind, start, stop, step, bool(m["pc"]) or kind == "%")


def scenario_for(book: Book, ref: str, change: str) -> Scenario:
    """A one-change scenario (the input changed as a step says); ScenarioError if it cannot be."""
    cells = book.resolve(ref)
    kind, amount = parse_change(change)
    bad = not_inputs(book, cells)
    if bad:
        raise ScenarioError([f"{ref}: {bad}"])
    try:
        check_change(book, cells, kind, ref)
    except ValueError as e:
        raise ScenarioError([f"{ref}: {e}"]) from None
    return Scenario(change, [Change("--vary", ref, cells, kind, amount, change)])


Evaluate = Callable[[dict[str, dict[str, Any]]], list[Any]]


def grid(book: Book, ref: str, steps: Steps, evaluate: Evaluate) -> tuple[list[str], list[list[Any]]]:
    """The outputs at each step: (the steps as written, one row of outputs a step)."""
    texts, rows = [], []
    for p in steps.values():
        text = steps.text(p)
        texts.append(text)
        rows.append(evaluate(apply(book, scenario_for(book, ref, text)).values))
    return texts, rows


@dataclass
class Breakeven:
    found: bool
    value: float | None
    text: str  # the answer, or why there is none, in one line


def breakeven(book: Book, ref: str, steps: Steps, output: int, label: str, evaluate: Evaluate, target: float = 0.0,
              precision: float | None = None) -> Breakeven:
    """The input's value (within the range) at which output number ``output`` equals ``target``,
    to ``precision`` (default a hundredth of the step: 0.1% for steps of 10%), by bisection between the grid steps."""
    precision = precision or steps.step / 100
    unit = "%" if steps.percent else ""

    def gap(p: float) -> float:
        v = evaluate(apply(book, scenario_for(book, ref, steps.text(p))).values)[output]
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ScenarioError([f"{label} is {v!r} at {steps.text(p)}: no breakeven can be searched"])
        return float(v) - target

    points = steps.values()
    seen = [(p, gap(p)) for p in points]
    for (a, fa), (b, fb) in zip(seen, seen[1:]):
        if fa == 0 or fa * fb < 0 or fb == 0:
            p = a if fa == 0 else b if fb == 0 else _bisect(gap, a, b, fa, precision)
            shown = f"{round(p, steps.decimals(precision)):.{steps.decimals(precision)}f}{unit}"
            return Breakeven(True, p, f"{label} reaches {target:g} with {ref} {_kind_words(steps)} {shown}")
    lo, hi = min(f for _p, f in seen) + target, max(f for _p, f in seen) + target
    return Breakeven(False, None, f"no value of {ref} from {steps.text(points[0])} to {steps.text(points[-1])} brings {label} "
                                  f"to {target:g}: it stays between {lo:,.6g} and {hi:,.6g}")


def _kind_words(steps: Steps) -> str:
    return {"x": "scaled to", "%": "changed by", "=": "set to"}[steps.kind]


def _bisect(f: Callable[[float], float], a: float, b: float, fa: float, precision: float) -> float:
    while b - a > precision / 2:
        m = (a + b) / 2
        fm = f(m)
        if fm == 0:
            return m
        if (fm < 0) == (fa < 0):
            a, fa = m, fm
        else:
            b = m
    return (a + b) / 2
