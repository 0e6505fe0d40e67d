"""deepnet_gpu: deep L-layer fully connected networks in the notation of deeplearning.ai's course.

X is (n_x, m) with examples as columns, W[l] is (n[l], n[l-1]), b[l] is (n[l], 1);
Z = W·A + b, A = g(Z). The same code runs on NumPy (``device="cpu"``) and on an NVIDIA GPU
through CuPy and our fused CUDA kernels (``device="cuda"``); ``device="auto"`` picks the GPU
when one is usable. The course's own functions are in :mod:`deepnet_gpu.course`.
"""

import logging
import os

# OpenBLAS's idle worker threads spin for 2^28 cycles (about 0.1 s) after every GEMM before they
# sleep. With few cores that spin takes the core the next elementwise step needs: on 2 cores a
# 784-512-512-10 training step at batch 256 took 7.4 ms with the default and 5.0 ms with 2^20
# cycles (about 0.4 ms). It takes effect only where NumPy is imported after this package; a value
# the user set wins.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

from .backend import DeviceUnavailableError, get_backend
from .errors import DeviceMemoryError, TrainingDivergedError
from .gradcheck import gradcheck
from .kernels import KernelCompileError
from .network import DeepNet

__version__ = "0.1.0"

logging.getLogger("deepnet_gpu").addHandler(logging.NullHandler())

__all__ = [
    "DeepNet",
    "DeviceMemoryError",
    "DeviceUnavailableError",
    "KernelCompileError",
    "TrainingDivergedError",
    "__version__",
    "get_backend",
    "gradcheck",
]
