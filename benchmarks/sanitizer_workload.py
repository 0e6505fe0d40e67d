"""A short GPU training run that launches every kernel and GEMM path, for compute-sanitizer.

    compute-sanitizer --tool memcheck --error-exitcode 1 python3 benchmarks/sanitizer_workload.py

(and with ``--tool racecheck`` and ``--tool synccheck`` for the kernels whose threads share
memory and meet at barriers: softmax, the losses and the cost's sum).

CuPy's memory pool hands out slices of large blocks, inside which an out-of-bounds access is
invisible to the sanitizer; this run turns the pool off so that every array is its own
allocation. It trains small networks in float32 and float64 with every hidden activation and
output (softmax over 3 classes, and over 40, whose columns split among 16 threads each), full
batch and shuffled mini-batches (the last one partial), then predicts, computes a cost and the
gradients, and checks the results are finite.
"""

from __future__ import annotations

import sys

import cupy
import numpy as np

from deepnet_gpu import DeepNet

HIDDEN = ("relu", "leaky_relu", "sigmoid", "tanh", "linear")
OUTPUTS = (("sigmoid", 1), ("softmax", 3), ("softmax", 40), ("linear", 2))


def labels(output: str, units: int, rng, m: int) -> np.ndarray:
    if output == "sigmoid":
        return rng.integers(0, 2, size=(1, m))
    if output == "softmax":
        return rng.integers(0, units, size=(1, m))
    return rng.standard_normal((units, m))


def main() -> int:
    cupy.cuda.set_allocator(None)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 53))
    runs = 0
    for dtype in ("float32", "float64"):
        for hidden in HIDDEN:
            for output, units in OUTPUTS:
                Y = labels(output, units, rng, X.shape[1])
                net = DeepNet([7, 6, 5, units], hidden_activation=hidden, output_activation=output,
                              device="cuda", dtype=dtype, seed=runs)
                history = net.fit(X, Y, learning_rate=0.05, epochs=3)
                history = net.fit(X, Y, learning_rate=0.05, epochs=2, batch_size=16)
                outputs = [net.predict_proba(X), net.cost(X, Y), *net.gradients(X, Y).values()]
                if not all(np.all(np.isfinite(np.asarray(value))) for value in outputs + [history["cost"]]):
                    print(f"non-finite result: {dtype} {hidden} -> {output}", file=sys.stderr)
                    return 1
                runs += 1
    print(f"{runs} training runs finished with finite results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
