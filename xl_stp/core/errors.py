"""One exception family for the whole core.

Every problem with a caller's input is an :class:`STPError` whose message names the argument
(as the caller called it) and says what was expected, in words a finance director reads
without a Python traceback::

    STPError("disposals", "has 5 years, costs has 4")   ->  "disposals: has 5 years, costs has 4"

The Excel adapters turn it into ``#STP! disposals: has 5 years, costs has 4``; the command line
turns it into a one-line message and a non-zero exit.
"""

from __future__ import annotations


class STPError(ValueError):
    """Bad input to an xl-stp calculation.

    ``argument`` is the name of the offending argument (or ``None`` when the problem is not tied
    to one); ``problem`` says what is wrong and what was expected.
    """

    def __init__(self, argument: str | None, problem: str):
        self.argument = argument
        self.problem = problem
        super().__init__(f"{argument}: {problem}" if argument else problem)
