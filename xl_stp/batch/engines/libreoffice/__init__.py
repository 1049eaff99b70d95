"""The LibreOffice engine: LibreOffice headless over UNO, STP_* computed in Python and fed back.

``client`` (the warm worker process and the pipe to it), ``plan`` (the STP_* calls: arguments,
order, scratch cells, how results are written and read), ``engine`` (the fixed point, the
read-back, and overrides of a workbook kept open), ``worker`` (the script on the UNO side, run by
Debian's python3; values read as Excel holds them).
"""

from ...exports import lazily

__all__ = lazily(__name__, {
    "available": ".client",
    "version": ".client",
    "worker": ".client",
    "LibreOfficeEngine": ".engine",
})
