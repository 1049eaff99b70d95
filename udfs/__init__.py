"""xl-stp's Excel functions (xlwings UDFs).

``udfs.functions`` is the UDF module to import in Excel; :func:`discover` returns the one registry
of STP_* functions (the batch engine, the docs and the tests read it); ``udfs.excel`` holds Excel's
value conventions; ``udfs.convert`` turns Excel values into the core's types and back; ``udfs.rules``
writes down what input is refused and what is only warned about (``UDF.explain`` lists both).
"""


def discover(excel: bool = True):
    """Import the UDF module(s) so that every function is registered; return the registry.

    ``excel=False``: for a process that runs the functions outside Excel (the command line's batch
    engine): when the module is imported here for the first time, xlwings' decorators are not
    applied, which spares importing xlwings (and pandas, which it imports). The functions, their
    results and the registry are the same."""
    import sys

    from . import registry

    if not excel and "udfs.functions" not in sys.modules:
        registry.DECORATE = False
        try:
            from . import functions
        finally:
            registry.DECORATE = True
    from . import functions

    return functions.REGISTRY
