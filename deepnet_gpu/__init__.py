"""deepnet_gpu: deep L-layer fully connected networks in the notation of deeplearning.ai's course.

X is (n_x, m) with examples as columns, W[l] is (n[l], n[l-1]), b[l] is (n[l], 1);
Z = W·A + b, A = g(Z). The same code runs on NumPy (``device="cpu"``) and on an NVIDIA GPU
through CuPy and our fused CUDA kernels (``device="cuda"``); ``device="auto"`` picks the GPU
when one is usable. The course's own functions are in :mod:`deepnet_gpu.course`.
"""

import logging

from .backend import DeviceUnavailableError, get_backend
from .errors import DeviceMemoryError, TrainingDivergedError
from .gradcheck import gradcheck
from .network import DeepNet
from .optimizers import SGD

__version__ = "0.1.0"

logging.getLogger("deepnet_gpu").addHandler(logging.NullHandler())

__all__ = [
    "DeepNet",
    "DeviceMemoryError",
    "DeviceUnavailableError",
    "SGD",
    "TrainingDivergedError",
    "__version__",
    "get_backend",
    "gradcheck",
]
