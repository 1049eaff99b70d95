"""``python -m xl_stp.cli``: the same as ``xl-stp``."""

from . import main

main()
