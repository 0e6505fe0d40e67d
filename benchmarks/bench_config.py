"""Which sizes the benches run: small ones always, the runner's large ones under DEEPNET_BENCH_FULL=1."""

import os

FULL = os.environ.get("DEEPNET_BENCH_FULL") == "1"


def sizes(small, large):
    """The parameter list: ``small`` always, ``large`` too under DEEPNET_BENCH_FULL=1."""
    return list(small) + (list(large) if FULL else [])
