"""One full training step (forward, cost on the device, backward, one update), as the runner times it.

The step is ``deepnet_gpu.bench_workloads.OursNetwork``: ``TrainingStep(net, SGD(lr), guard, 1/m)``
on a fixed batch already on the device, with no host synchronisation inside the step.
"""

import pytest
from bench_config import sizes

from deepnet_gpu.bench_workloads import (
    CAT_DIMS,
    MLP_DIMS,
    WIDE_DIMS,
    NetworkWorkload,
    OursNetwork,
)

WORKLOADS = sizes(
    [NetworkWorkload("cat-net", CAT_DIMS, 209), NetworkWorkload("mnist-mlp", MLP_DIMS, 64),
     NetworkWorkload("mnist-mlp", MLP_DIMS, 256)],
    [NetworkWorkload("mnist-mlp", MLP_DIMS, 8192), NetworkWorkload("wide-4096", WIDE_DIMS, 1024)],
)


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: f"{w.name}-{w.batch}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_step(backend, timed, workload, dtype):
    step = OursNetwork(workload, backend, dtype, seed=0)
    step.first()
    timed(step)
    step.check()
