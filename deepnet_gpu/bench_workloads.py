"""What the benchmark runner measures: the workloads, how their work is counted, and our side of each.

Network workloads time one full training step of :class:`~deepnet_gpu.network.DeepNet` on a
fixed batch already on the device: ``TrainingStep(net, SGD(lr), guard, 1/m)`` called as
``step(X, Y, ws, epoch_cost, x_rows=False)`` (forward, the cost kept on the device, backward,
one update kernel; no host synchronisation), as ``fit`` runs it: recorded once, then replayed.
Hidden layers use ReLU; the output is a sigmoid (binary cross-entropy) for one output and a
softmax (categorical cross-entropy) otherwise.

FLOPs of a step, counted as the issue defines them: 2·m·Σ n[l]·n[l-1] forward and twice that
backward, 6·m·Σ n[l]·n[l-1] in all. Nobody computes dA[0] = W[1]ᵀ·dZ[1] (no gradient is taken
with respect to the data, by us or by PyTorch), so the GEMMs actually run do 2·m·n[1]·n[0]
fewer: :func:`executed_training_flops`. Bias, activation, loss and update work is not counted.

Kernel workloads time one fused elementwise kernel through ``backend.ops`` (the NumPy twins on
the CPU, our CUDA kernels on a GPU) on N elements laid out as a (1024, N/1024) matrix (the
update: a flat buffer of N). Bytes moved = every input read once + every output written once:
bias_activation_forward in place, Z and b read, Z written: (2N + 1024) elements;
activation_backward_from_a, dA and A read, dZ written: 3N; sgd_update, θ, dθ and the guard
read, θ written: 3N + 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import DeepNet
from .numpy_kernels import RELU, SIGMOID
from .optimizers import SGD
from .training import TrainingStep

LEARNING_RATE = 0.01

CAT_DIMS = (12288, 20, 7, 5, 1)
CAT_BATCH = 209
MLP_DIMS = (784, 512, 512, 10)
MLP_BATCHES = (64, 256, 1024, 8192)
WIDE_DIMS = (4096, 4096, 4096, 4096, 4096)
WIDE_BATCH = 8192
WIDE_CPU_BATCH = 1024
KERNEL_SIZES = (1 << 20, 1 << 22, 1 << 24, 1 << 26)
CPU_KERNEL_MAX = 1 << 24
KERNEL_ROWS = 1024

KERNEL_ACTIVATIONS = {"relu": RELU, "sigmoid": SIGMOID}


def training_flops(dims, m: int) -> int:
    """FLOPs of one training step by the issue's count: 6·m·Σ n[l]·n[l-1]."""
    return 6 * m * sum(dims[l] * dims[l - 1] for l in range(1, len(dims)))


def executed_training_flops(dims, m: int) -> int:
    """FLOPs of the GEMMs a training step runs: the count above less dA[0]'s 2·m·n[1]·n[0]."""
    return training_flops(dims, m) - 2 * m * dims[1] * dims[0]


@dataclass(frozen=True)
class NetworkWorkload:
    """One training step of a ReLU network ``dims`` on a batch of ``batch`` examples."""

    name: str
    dims: tuple
    batch: int
    note: str = ""

    kind = "network"

    @property
    def output(self) -> str:
        """The output activation: sigmoid for one output, softmax for several."""
        return "sigmoid" if self.dims[-1] == 1 else "softmax"

    @property
    def flops(self) -> int:
        return training_flops(self.dims, self.batch)

    @property
    def executed_flops(self) -> int:
        return executed_training_flops(self.dims, self.batch)

    def data(self, seed: int):
        """Host data: X (n0, m) standard normal float32 and class labels (1, m) in [0, max(n[L], 2))."""
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((self.dims[0], self.batch), dtype=np.float32)
        labels = rng.integers(0, max(self.dims[-1], 2), size=(1, self.batch))
        return X, labels


@dataclass(frozen=True)
class KernelWorkload:
    """One fused elementwise kernel over ``elements`` values; ``activation`` names g where it applies."""

    name: str
    kernel: str
    elements: int
    activation: str | None = None
    note: str = ""

    kind = "kernel"

    @property
    def shape(self) -> tuple:
        """The matrix the kernel runs over: (1024, N/1024), or (N,) for the flat update."""
        return (self.elements,) if self.kernel == "sgd_update" else (KERNEL_ROWS, self.elements // KERNEL_ROWS)

    def bytes(self, itemsize: int) -> int:
        """Bytes moved: inputs read once plus outputs written once (see the module docstring)."""
        n = self.elements
        count = {"bias_activation_forward": 2 * n + KERNEL_ROWS, "activation_backward_from_a": 3 * n,
                 "sgd_update": 3 * n + 1}[self.kernel]
        return count * itemsize

    def data(self, seed: int, dtype) -> dict:
        """Host arrays of ``dtype`` for the kernel's arguments (outputs included)."""
        rng = np.random.default_rng(seed)

        def normal(shape):
            return rng.standard_normal(shape, dtype=np.float32).astype(dtype)

        if self.kernel == "bias_activation_forward":
            return {"Z": normal(self.shape), "b": normal((KERNEL_ROWS, 1))}
        if self.kernel == "activation_backward_from_a":
            Z = normal(self.shape)
            A = np.maximum(Z, 0) if self.activation == "relu" else 1 / (1 + np.exp(-Z))
            return {"dA": normal(self.shape), "A": A.astype(dtype), "dZ": np.empty(self.shape, dtype)}
        return {"params": normal(self.shape), "grads": normal(self.shape), "guard": np.zeros((), dtype)}


def catalogue(device_kind: str, quick: bool):
    """(workloads, notes) for a device kind ("cpu" or "cuda"): the full list or the --quick one.

    The notes say what differs from the issue's list on this device and why; every change also
    shows in the affected row's ``note``.
    """
    notes = []
    networks = [NetworkWorkload("cat-net", CAT_DIMS, CAT_BATCH)]
    batches = (256,) if quick else MLP_BATCHES
    networks += [NetworkWorkload("mnist-mlp", MLP_DIMS, m) for m in batches]
    if quick:
        notes.append("--quick: the cat network, 784-512-512-10 at batch 256 and the kernels at 1M elements only")
        sizes = KERNEL_SIZES[:1]
    else:
        if device_kind == "cpu":
            note = (f"batch scaled from {WIDE_BATCH} to {WIDE_CPU_BATCH} on the CPU to keep the run in minutes "
                    f"(a step at {WIDE_BATCH} is {training_flops(WIDE_DIMS, WIDE_BATCH) / 1e12:.1f} TFLOP); "
                    "GEMM-bound at either size")
            networks.append(NetworkWorkload("wide-4096", WIDE_DIMS, WIDE_CPU_BATCH, note))
            notes.append(f"wide-4096: {note}")
            sizes = tuple(n for n in KERNEL_SIZES if n <= CPU_KERNEL_MAX)
            notes.append(f"CPU kernel rows stop at {CPU_KERNEL_MAX >> 20}M elements to keep the run short "
                         f"({', '.join(f'{n >> 20}M' for n in KERNEL_SIZES if n > CPU_KERNEL_MAX)} not measured)")
        else:
            networks.append(NetworkWorkload("wide-4096", WIDE_DIMS, WIDE_BATCH))
            sizes = KERNEL_SIZES
    kernels = []
    for n in sizes:
        kernels.append(KernelWorkload("bias_activation_forward(relu)", "bias_activation_forward", n, "relu"))
        for g in KERNEL_ACTIVATIONS:
            kernels.append(KernelWorkload(f"activation_backward_from_a({g})", "activation_backward_from_a", n, g))
        kernels.append(KernelWorkload("sgd_update", "sgd_update", n))
    return networks + kernels, notes


class OursNetwork:
    """Our training step on a fixed batch on ``backend``'s device.

    Built from a fresh seeded network: ``first()`` allocates the step's buffers and runs the first
    step, which is recorded; each call after that replays it, one more step, without
    synchronising (``after_call``: see :class:`~deepnet_gpu.training.TrainingStep`).
    """

    def __init__(self, workload: NetworkWorkload, backend, dtype, seed: int):
        X, labels = workload.data(seed)
        self.backend = backend
        self.batch = workload.batch
        self.net = DeepNet(workload.dims, hidden_activation="relu", output_activation=workload.output,
                           seed=seed, device=backend, dtype=dtype)
        self.X, self.Y = self.net._inputs(X, labels)
        with backend.device_scope():
            self.guard = backend.xp.zeros((), self.net.dtype)
            self.epoch_cost = backend.xp.zeros((), self.net.dtype)
        self._step = TrainingStep(self.net, SGD(LEARNING_RATE), self.guard, 1.0 / workload.batch)
        self.ws = None

    def first(self):
        self.ws = self.net._workspace(self.batch, training=True)
        self()

    def __call__(self, after_call=None):
        self._step(self.X, self.Y, self.ws, self.epoch_cost, x_rows=False, after_call=after_call)

    def check(self):
        """Raise if the cost stopped being finite: the update would have been skipped, the timing not of real steps."""
        guard = float(self.backend.to_numpy(self.guard))
        if not np.isfinite(guard):
            raise RuntimeError(f"the benchmark's training diverged (its cost became {guard}); its timings are void")


class OursKernel:
    """One of our fused elementwise kernels through ``backend.ops``, on arrays already on the device.

    As in ``fit``, the call is recorded once (checked, its arguments in the launch's form) and its
    launches are replayed, so a row times the kernel and its launch, not the Python that checks the
    arguments. The backward kernel writes a separate dZ so that its inputs stay the same from call
    to call.
    """

    def __init__(self, workload: KernelWorkload, backend, dtype, seed: int):
        arrays = {name: backend.asarray(a) for name, a in workload.data(seed, dtype).items()}
        self._ops = backend.ops
        code = KERNEL_ACTIVATIONS.get(workload.activation)
        if workload.kernel == "bias_activation_forward":
            self._call = ("bias_activation_forward", arrays["Z"], arrays["b"], arrays["Z"], code, 0.0)
        elif workload.kernel == "activation_backward_from_a":
            self._call = ("activation_backward_from_a", arrays["dA"], arrays["A"], arrays["dZ"], code, 0.0)
        else:
            self._call = ("sgd_update", arrays["params"], arrays["grads"], LEARNING_RATE, arrays["guard"])
        self._launches = None

    def first(self):
        _, launches = self._ops.recorded(*self._call)
        if launches is None:
            raise RuntimeError(f"{self._call[0]} converted an argument, so its launches cannot be replayed")
        self._launches = launches

    def __call__(self):
        for launch in self._launches:
            launch()

    def check(self):
        """Nothing to check: the kernels' inputs stay finite."""
