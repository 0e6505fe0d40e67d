"""The library's own exceptions (``DeviceUnavailableError`` lives with the device seam in ``backend``)."""

from __future__ import annotations


class DeviceMemoryError(MemoryError):
    """The device ran out of memory for a step's buffers; the model is unchanged."""


class TrainingDivergedError(FloatingPointError):
    """The cost became NaN or Inf during ``fit``.

    ``epoch`` is the first epoch whose cost was not finite and ``history`` the costs recorded
    up to the epoch before it; when only the last update left NaN or Inf in the parameters,
    ``epoch`` is the number of epochs run and ``history`` all of them. No update was applied
    from the step whose cost was not finite on, so the parameters are those the last step with
    a finite cost left; that step's update is usually the one that overflowed, so they may hold
    Inf or NaN.
    """

    def __init__(self, message: str, epoch: int, history: dict):
        super().__init__(message)
        self.epoch = epoch
        self.history = history
