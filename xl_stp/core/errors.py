"""One exception family for the whole core.

Every problem with a caller's input is an :class:`STPError` whose message names the argument
(as the caller called it) and says what was found and what to type instead, in words a finance
director reads without a Python traceback::

    STPError("disposals", "has 5 years, costs has 4")   ->  "disposals: has 5 years, costs has 4"

Beside the words, two optional fields say *where* the problem is, for whoever can show it better
than a sentence (the batch engine turns them into the input cell and its labels):

- ``at``: ``(row, column)``, 0-based, of the offending cell within the argument's range as the
  caller passed it (a single cell is ``(0, 0)``; a one-dimensional sequence counts as one row, so
  its k-th value is ``(0, k)``); ``None`` when the problem is not one cell (a range too short, a
  missing argument);
- ``label``: the name of the offending row when the range carries names (a funding source
  ``"PF2"``); the message then names the row by it: ``sources 'PF2': ...``.

The Excel adapters turn it into ``#STP! disposals: has 5 years, costs has 4``; the command line
turns it into a one-line message and a non-zero exit.

>>> e = STPError("sources", "has 3 years, programme has 2", at=(1, 2), label="PF2")
>>> str(e), e.at
("sources 'PF2': has 3 years, programme has 2", (1, 2))
"""

from __future__ import annotations

from typing import Any

#: (row, column), 0-based, within the argument's range as the caller passed it.
Position = tuple[int, int]

_UNCHANGED: Any = object()


class STPError(ValueError):
    """Bad input to an xl-stp calculation.

    ``argument`` is the name of the offending argument (or ``None`` when the problem is not tied
    to one); ``problem`` says what is wrong and what was expected; ``at`` and ``label`` say where
    (see the module docstring). Pickles with all four.
    """

    def __init__(self, argument: str | None, problem: str, *, at: Position | None = None, label: str | None = None):
        self.argument = argument
        self.problem = problem
        self.at: Position | None = None if at is None else (int(at[0]), int(at[1]))
        self.label = label
        super().__init__(self._text())

    def _text(self) -> str:
        head = self.argument
        if self.label:
            head = f"{head} {self.label!r}" if head else repr(self.label)
        return f"{head}: {self.problem}" if head else self.problem

    def __str__(self) -> str:
        return self._text()

    def __reduce__(self):
        return (_rebuild, (type(self), self.argument, self.problem, self.at, self.label))

    def moved(self, *, argument: Any = _UNCHANGED, problem: Any = _UNCHANGED, at: Any = _UNCHANGED,
              label: Any = _UNCHANGED) -> "STPError":
        """The same error with some fields changed (an adapter that knows the range better than
        the core does: the label column it split off, the shape it flattened)."""
        return type(self)(
            self.argument if argument is _UNCHANGED else argument,
            self.problem if problem is _UNCHANGED else problem,
            at=self.at if at is _UNCHANGED else at,
            label=self.label if label is _UNCHANGED else label,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, STPError):
            return NotImplemented
        return (type(self), self.argument, self.problem, self.at, self.label) == (
            type(other), other.argument, other.problem, other.at, other.label)

    def __hash__(self) -> int:
        return hash((type(self), self.argument, self.problem, self.at, self.label))

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in (("at", self.at), ("label", self.label)) if v is not None)
        return f"{type(self).__name__}({self.argument!r}, {self.problem!r}{extra})"


def _rebuild(cls: type, argument: str | None, problem: str, at: Position | None, label: str | None) -> STPError:
    return cls(argument, problem, at=at, label=label)
