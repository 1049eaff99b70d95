"""xl-stp's Excel functions (xlwings UDFs). ``udfs.functions`` is the UDF module to import in
Excel; ``udfs.registry.discover()`` returns the one registry of STP_* functions."""
