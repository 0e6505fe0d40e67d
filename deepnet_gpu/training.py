"""The training loop behind :meth:`DeepNet.fit`.

Each step: forward, the batch's cost added to the epoch's on the device, backward, one update
kernel. The costs stay on the device; the host reads them only at a checkpoint: every
``print_every`` epochs when printing, at least every ``CHECK_EVERY`` epochs, and at the end
(:class:`CostRecord`). That read is also where a NaN or Inf cost is caught. The update kernel
skips every step once an epoch's cost is not finite (the cost kernel then sets a guard that
stays set), so the parameters stay as the last step with a finite cost left them, however far
the checkpoint lies behind (that step's update is usually the one that overflowed, so they may
hold Inf or NaN). An overflow in the very last update, whose cost no later step measures, is
caught at the end by checking the parameters themselves.

The first step on a workspace is recorded and the later ones replay its GEMM and kernel calls
(:class:`TrainingStep`, :mod:`~deepnet_gpu.step_replay`).

Full batch (``batch_size=None``): every step uses X as given, (n0, m). Mini-batches: X is
copied once with examples as rows, (m, n0), so that each batch is a gather of whole rows; the
order is reshuffled every epoch from the network's seed unless ``shuffle=False``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np

from .errors import TrainingDivergedError
from .propagation import backward, forward
from .step_replay import Recording

log = logging.getLogger("deepnet_gpu")

CHECK_EVERY = 50


def train(net, X, Y, optimizer, *, epochs, batch_size, shuffle, print_every, validation):
    """Run ``epochs`` epochs; return {"cost": [...], "val_cost": [...]} (val_cost with ``validation``)."""
    backend, dtype = net.backend, net.dtype
    xp = backend.xp
    m = X.shape[1]
    record = CostRecord(backend, dtype, epochs, validation is not None)
    with backend.device_scope():
        guard = xp.zeros((), dtype)
    batched = batch_size is not None and batch_size < m
    if batched:
        with backend.device_scope():
            X_rows = xp.ascontiguousarray(X.T)
        order = np.arange(m)
        order_dev = backend.asarray(order)
        rng = np.random.default_rng(net.seed)
    else:
        workspace = net._workspace(m, training=True)

    step = TrainingStep(net, optimizer, guard, 1.0 / m)
    for epoch in range(epochs):
        epoch_cost = record.cost(epoch)
        if batched:
            if shuffle:
                rng.shuffle(order)
                order_dev = backend.asarray(order)
            for start in range(0, m, batch_size):
                idx = order_dev[start:start + batch_size]
                ws = net._workspace(idx.shape[0], training=True, gather=True)
                xp.take(X_rows, idx, axis=0, out=ws.X)
                xp.take(Y, idx, axis=1, out=ws.Y)
                step(ws.X, ws.Y, ws, epoch_cost, x_rows=True)
        else:
            step(X, Y, workspace, epoch_cost, x_rows=False)
        if validation:
            net._cost_into(*validation, record.val_cost(epoch))
        if epoch == epochs - 1 or (print_every and epoch % print_every == 0) or record.full(epoch):
            record.read(epoch + 1, print_every, epochs)
    if epochs and not bool(xp.isfinite(net._flat).all()):
        raise _diverged(f"after the last epoch ({epochs - 1}) the parameters hold NaN or Inf, though every cost "
                        f"was finite (an update overflowed after its cost was measured)", epochs, record.history)
    return record.history


def _diverged(what: str, epoch: int, history: dict) -> TrainingDivergedError:
    """The error for a diverged ``fit``, logged: "training diverged: ``what``; try a smaller learning_rate"."""
    message = f"training diverged: {what}; try a smaller learning_rate"
    log.error(message)
    return TrainingDivergedError(message, epoch, history)


class CostRecord:
    """The epochs' costs (and validation costs): summed on the device, read to the host in chunks.

    The device holds at most ``CHECK_EVERY`` epochs at a time, so memory does not grow with
    ``epochs``; :meth:`read` moves the epochs held to :attr:`history`, stops on a NaN or Inf
    cost and prints the lines due.
    """

    def __init__(self, backend, dtype, epochs: int, validation: bool):
        self.backend = backend
        size = min(epochs, CHECK_EVERY)
        with backend.device_scope():
            self._costs = backend.xp.zeros(size, dtype)
            self._val_costs = backend.xp.zeros(size, dtype) if validation else None
        self.start = 0
        """The first epoch whose cost is held on the device."""
        self.history = {"cost": [], "val_cost": []} if validation else {"cost": []}

    def cost(self, epoch: int):
        """Epoch ``epoch``'s cost, a 0-d device array (zero until its steps add to it)."""
        return self._costs[epoch - self.start, ...]

    def val_cost(self, epoch: int):
        """Epoch ``epoch``'s validation cost, a 0-d device array."""
        return self._val_costs[epoch - self.start, ...]

    def full(self, epoch: int) -> bool:
        """Whether the device holds no room for the epoch after ``epoch``."""
        return epoch + 1 - self.start >= len(self._costs)

    def read(self, end: int, print_every: int, epochs: int):
        """Read the costs of epochs [start, end) to the host, stop on a non-finite one, print the due
        lines; then the device's buffer starts again at epoch ``end``, zeroed. (On the CPU the
        chunk read is the buffer itself, so it is zeroed only once read.)"""
        start, held = self.start, end - self.start
        chunk = self.backend.to_numpy(self._costs[:held])
        val_chunk = self.backend.to_numpy(self._val_costs[:held]) if self._val_costs is not None else None
        bad = np.flatnonzero(~np.isfinite(chunk))
        if bad.size:
            epoch = start + int(bad[0])
            self._keep(chunk[:bad[0]], val_chunk[:bad[0]] if val_chunk is not None else None)
            raise _diverged(f"the cost became {chunk[bad[0]]} at epoch {epoch}; no update was applied from that step "
                            f"on, so the parameters are those the last step with a finite cost left, and may hold Inf "
                            f"or NaN", epoch, self.history)
        self._keep(chunk, val_chunk)
        for offset, cost in enumerate(chunk):
            epoch = start + offset
            if print_every and (epoch % print_every == 0 or epoch == epochs - 1):
                line = f"Cost after epoch {epoch}: {cost:.6f}"
                if val_chunk is not None:
                    line += f"  validation cost: {val_chunk[offset]:.6f}"
                print(line, flush=True)
                log.info(line)
        self._costs.fill(0)
        self.start = end

    def _keep(self, chunk, val_chunk):
        self.history["cost"] += chunk.astype(float).tolist()
        if val_chunk is not None:
            self.history["val_cost"] += val_chunk.astype(float).tolist()


class TrainingStep:
    """One training step of ``net``: ``step(Xb, Yb, ws, epoch_cost, x_rows)``.

    Forward into workspace ``ws``; epoch_cost += Σ cost_scale · losses, and ``guard`` takes the
    epoch cost if that is not finite (0-d device arrays; the guard starts at zero); backward;
    ``optimizer`` updates the parameters unless ``guard`` is not finite. Nothing is read back to
    the host.

    With ``replay`` (the default) the first step on a set of buffers (the workspace, the batch
    arrays, the parameter and gradient buffers) is recorded and later steps on the same ones
    replay its calls (:mod:`~deepnet_gpu.step_replay`), for up to ``REPLAYS_KEPT`` sets at a
    time; a step that cannot be replayed, and every step without ``replay``, runs through the
    propagation code. ``after_call(label)``, when given, runs after each GEMM and kernel call.
    """

    REPLAYS_KEPT = 4

    def __init__(self, net, optimizer, guard, cost_scale: float, replay: bool = True):
        self.net, self.optimizer, self.guard, self.cost_scale = net, optimizer, guard, cost_scale
        self.replay = replay
        self._replays = OrderedDict()

    def __call__(self, Xb, Yb, ws, epoch_cost, x_rows: bool, after_call=None):
        net = self.net
        buffers = (ws, Xb, Yb, net._flat, net._grad_flat)
        key = (*map(id, buffers), x_rows)
        kept = self._replays.get(key) if self.replay else None
        live = {"epoch_cost": epoch_cost}
        if kept is not None and kept[0] is not None:
            kept[0](live, after_call)
            return
        if after_call is None and (kept is not None or not self.replay):
            self._run(net.backend, Xb, Yb, ws, epoch_cost, x_rows)
            return
        recording = Recording(net.backend, live, after_call)
        self._run(recording, Xb, Yb, ws, epoch_cost, x_rows)
        if self.replay and kept is None:
            while len(self._replays) >= self.REPLAYS_KEPT:
                self._replays.popitem(last=False)
            self._replays[key] = (recording.replay if recording.replayable else None, buffers)

    def _run(self, backend, Xb, Yb, ws, epoch_cost, x_rows):
        net = self.net
        ZL, AL = forward(backend, net._activations, net._layers, Xb, ws, x_rows=x_rows)
        net.loss.terms(backend.ops, ZL, AL, Yb, ws.terms)
        backend.ops.accumulate_cost(ws.terms, self.cost_scale, epoch_cost, self.guard)
        backward(backend, net._activations, net.loss, net._layers, net._grad_layers, Xb, Yb, ws, x_rows=x_rows)
        self.optimizer.step(backend, net._flat, net._grad_flat, self.guard)
