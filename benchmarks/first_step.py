"""Seconds from a fresh process to a finished first training step on the GPU.

    python3 benchmarks/first_step.py

Imports, CUDA context, our kernels (compiled by NVRTC, or loaded from CuPy's disk cache when an
earlier process compiled them), allocation and one step of 784-512-512-10 at batch 256, float32.
Run it twice with the same ``CUPY_CACHE_DIR``: the first run compiles, the second loads.
"""

from __future__ import annotations

import time

START = time.perf_counter()

import numpy as np  # noqa: E402

from deepnet_gpu import DeepNet  # noqa: E402


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((784, 256), dtype=np.float32)
    y = rng.integers(0, 10, size=(1, 256))
    net = DeepNet([784, 512, 512, 10], output_activation="softmax", device="cuda", seed=0)
    net.fit(X, y, learning_rate=0.01, epochs=1)
    net.backend.synchronize()
    print(f"first step finished {time.perf_counter() - START:.2f} s after the process started")


if __name__ == "__main__":
    main()
