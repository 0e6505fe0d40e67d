"""Fixtures of the pytest-benchmark benches: the device to run on and a synchronised timer.

Every bench runs on the CPU, and again on the GPU where one is usable (those carry
``@pytest.mark.gpu`` and are skipped otherwise). Sizes come from ``bench_config``: small by
default so that ``pytest benchmarks/ --benchmark-disable`` (each bench run once, as CI does)
takes seconds; ``DEEPNET_BENCH_FULL=1`` adds the runner's large sizes. A benched call
synchronises the device, so the time is that of the work, not of its launch.
"""

import pytest

from deepnet_gpu.backend import cuda_status, get_backend


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def backend(request):
    """The CPU backend, or the first GPU's (skipped without a usable GPU)."""
    if request.param == "cuda":
        status = cuda_status()
        if not status.usable:
            pytest.skip(f"needs a usable GPU: {status.reason}")
    return get_backend(request.param)


@pytest.fixture
def timed(benchmark, backend):
    """``timed(fn)`` benches ``fn`` followed by a device synchronisation."""

    def run(fn):
        def call():
            fn()
            backend.synchronize()

        return benchmark(call)

    return run
