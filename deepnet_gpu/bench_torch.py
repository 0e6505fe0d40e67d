"""The PyTorch side of the benchmark: the same workloads in PyTorch eager, when PyTorch is installed.

Networks: ``nn.Sequential`` of ``nn.Linear`` layers with our ``dims``, ReLU between them, in our
dtype on the same device, fed the same data and batch with examples as rows (PyTorch's layout);
the loss that matches ours (``BCEWithLogitsLoss`` for one output, ``CrossEntropyLoss`` for a
softmax); plain ``torch.optim.SGD`` at the same learning rate. One step is PyTorch's ordinary
eager loop: ``zero_grad()``, forward, loss, ``backward()``, ``step()``, plus adding the detached
loss to a running cost on the device (as our step does), so nothing waits for the host.

Kernels, each PyTorch's own op for the job, writing into preallocated outputs where ours do:
bias + ReLU is ``Z.add_(b).relu_()`` (eager PyTorch has no fused op for it: two kernels); the
activation backwards are ``aten.threshold_backward`` and ``aten.sigmoid_backward`` (the ops its
autograd runs for ReLU and sigmoid); the update is ``θ.add_(dθ, alpha=-lr)``, what its SGD does
(without our guard against a non-finite cost).

On the CPU PyTorch runs with as many threads as NumPy's BLAS (``torch.set_num_threads``); on a GPU
it is timed with ``torch.cuda.Event`` pairs, like ours with CuPy's events.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .bench_timing import EventClock, HostClock, measure
from .bench_workloads import LEARNING_RATE, NetworkWorkload


def load():
    """(the torch module, "") or (None, why PyTorch cannot be used)."""
    try:
        import torch
    except ImportError as exc:
        return None, f"PyTorch is not installed ({exc})"
    return torch, ""


@contextlib.contextmanager
def threads(torch, count: int):
    """Run PyTorch on the CPU with ``count`` intra-op threads, restoring its setting afterwards."""
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class TorchSide:
    """PyTorch on ``device`` ("cpu" or "cuda:N"); ``reason`` says why it cannot run there (empty if it can)."""

    def __init__(self, torch, reason: str, device: str):
        self.torch = torch
        self.device = device
        self.reason = reason
        if torch is not None and device != "cpu" and not torch.cuda.is_available():
            self.reason = f"PyTorch {torch.__version__} cannot use CUDA here (torch.cuda.is_available() is False)"
        if self.reason:
            return
        if device == "cpu":
            self.synchronize = lambda: None
            self.clock = HostClock()
        else:
            self.synchronize = torch.cuda.synchronize
            self.clock = EventClock(lambda: torch.cuda.Event(enable_timing=True), lambda s, e: s.elapsed_time(e),
                                    torch.cuda.synchronize)

    @property
    def usable(self) -> bool:
        return not self.reason

    def build(self, workload, dtype, seed: int):
        """A callable running one step of ``workload`` in PyTorch, with ``first()`` and ``check()``."""
        if isinstance(workload, NetworkWorkload):
            return TorchNetwork(self.torch, workload, self.device, dtype, seed)
        return TorchKernel(self.torch, workload, self.device, dtype, seed)

    def gemm_gflops(self, n: int, dtype, repeats: int, min_rep_ms: float) -> float:
        """PyTorch's own n×n×n GEMM rate (``torch.matmul`` into a preallocated output), GFLOP/s."""
        torch = self.torch
        generator = torch.Generator().manual_seed(0)
        dtype = torch_dtype(torch, dtype)
        a, b = (torch.randn(n, n, generator=generator).to(self.device, dtype) for _ in range(2))
        c = torch.empty(n, n, device=self.device, dtype=dtype)
        timing = measure(lambda: torch.matmul(a, b, out=c), self.clock, repeats=repeats, min_rep_ms=min_rep_ms)
        return 2 * n**3 / timing.ms / 1e6


def torch_dtype(torch, dtype):
    """PyTorch's dtype of the same name as NumPy's ``dtype``."""
    return getattr(torch, np.dtype(dtype).name)


class TorchNetwork:
    """The PyTorch twin of :class:`~deepnet_gpu.bench_workloads.OursNetwork`."""

    def __init__(self, torch, workload: NetworkWorkload, device: str, dtype, seed: int):
        torch.manual_seed(seed)
        dtype = torch_dtype(torch, dtype)
        nn = torch.nn
        layers = []
        for l in range(1, len(workload.dims)):
            layers.append(nn.Linear(workload.dims[l - 1], workload.dims[l]))
            if l < len(workload.dims) - 1:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers).to(device=device, dtype=dtype)
        X, labels = workload.data(seed)
        self.X = torch.from_numpy(np.ascontiguousarray(X.T)).to(device=device, dtype=dtype)
        if workload.output == "sigmoid":
            self.Y = torch.from_numpy(labels.T.copy()).to(device=device, dtype=dtype)
            self.loss = nn.BCEWithLogitsLoss()
        else:
            self.Y = torch.from_numpy(labels[0].copy()).to(device=device, dtype=torch.long)
            self.loss = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE)
        self.running = torch.zeros((), device=device, dtype=dtype)

    def __call__(self):
        self.optimizer.zero_grad()
        loss = self.loss(self.model(self.X), self.Y)
        loss.backward()
        self.optimizer.step()
        self.running += loss.detach()

    first = __call__

    def check(self):
        """Raise if the cost stopped being finite."""
        running = float(self.running)
        if not np.isfinite(running):
            raise RuntimeError(f"PyTorch's benchmark training diverged (running cost {running}); its timings are void")


class TorchKernel:
    """The PyTorch twin of :class:`~deepnet_gpu.bench_workloads.OursKernel`."""

    def __init__(self, torch, workload, device: str, dtype, seed: int):
        arrays = {name: torch.from_numpy(np.asarray(a)).to(device=device)
                  for name, a in workload.data(seed, dtype).items()}
        aten = torch.ops.aten
        if workload.kernel == "bias_activation_forward":
            Z, b = arrays["Z"], arrays["b"]
            self._call = lambda: Z.add_(b).relu_()
        elif workload.activation == "relu":
            dA, A, dZ = arrays["dA"], arrays["A"], arrays["dZ"]
            self._call = lambda: aten.threshold_backward.grad_input(dA, A, 0, grad_input=dZ)
        elif workload.activation == "sigmoid":
            dA, A, dZ = arrays["dA"], arrays["A"], arrays["dZ"]
            self._call = lambda: aten.sigmoid_backward.grad_input(dA, A, grad_input=dZ)
        else:
            params, grads = arrays["params"], arrays["grads"]
            self._call = lambda: params.add_(grads, alpha=-LEARNING_RATE)

    def first(self):
        self._call()

    def __call__(self):
        self._call()

    def check(self):
        """Nothing to check: the kernels' inputs stay finite."""
