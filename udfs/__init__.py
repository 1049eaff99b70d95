"""xl-stp's Excel functions (xlwings UDFs).

``udfs.functions`` is the UDF module to import in Excel; :func:`discover` returns the one registry
of STP_* functions (the batch engine, the docs and the tests read it); ``udfs.excel`` holds Excel's
value conventions; ``udfs.convert`` turns Excel values into the core's types and back; ``udfs.rules``
writes down what input is refused and what is only warned about (``UDF.explain`` lists both).
"""


def discover():
    """Import the UDF module(s) so that every function is registered; return the registry."""
    from . import functions

    return functions.REGISTRY
