"""The training loop: divergence, checkpoints, printing, validation history."""

import logging

import numpy as np
import pytest

from deepnet_gpu import DeepNet, TrainingDivergedError
from deepnet_gpu import training
from deepnet_gpu.backend import get_backend


def regression_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40)) * 10
    return X, rng.standard_normal((1, 40)) * 100


def test_divergence_stops_with_the_epoch_and_keeps_the_last_finite_parameters():
    X, Y = regression_data()
    net = DeepNet([3, 8, 1], output_activation="linear", seed=0, device="cpu")
    with pytest.raises(TrainingDivergedError, match=r"the cost became (nan|inf) at epoch \d+") as caught:
        net.fit(X, Y, learning_rate=5.0, epochs=500)
    error = caught.value
    assert len(error.history["cost"]) == error.epoch
    assert np.isfinite(error.history["cost"]).all()
    assert all(np.isfinite(v).all() for v in net.parameters.values())
    replay = DeepNet([3, 8, 1], output_activation="linear", seed=0, device="cpu")
    replay.fit(X, Y, learning_rate=5.0, epochs=error.epoch - 1)
    last_finite = replay.parameters
    replay.fit(X, Y, learning_rate=5.0, epochs=1)
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(value, replay.parameters[name])
        assert not np.array_equal(value, last_finite[name]) or name.startswith("b")


def test_a_slow_divergence_updates_until_the_cost_itself_overflows():
    # s = w + b, J = s²/2, and each step multiplies s by 1 - 2·lr = -1.05: J grows 10% an epoch,
    # so the sum of the costs so far is ten times the last cost, and overflows float32 first.
    net = DeepNet([1, 1], output_activation="linear", init="course_small", seed=0, device="cpu")
    net.set_parameters({"W1": [[0.5]], "b1": [[0.5]]})
    with pytest.raises(TrainingDivergedError, match=r"the cost became inf at epoch 9\d\d") as caught:
        net.fit([[1.0]], [[0.0]], learning_rate=1.025, epochs=2000)
    costs = np.array(caught.value.history["cost"])
    assert costs[-1] > 1e37 and costs.sum() > np.finfo(np.float32).max
    np.testing.assert_allclose(costs[1:] / costs[:-1], 1.05**2, rtol=1e-4)


def test_the_cost_is_a_mean_that_overflows_only_where_the_mean_does():
    # every example's loss is (1.5e18)²/2 = 1.1e36: their sum, 1.1e39, is beyond float32, their mean is not
    net = DeepNet([1, 1], output_activation="linear", seed=0, device="cpu")
    net.set_parameters({"W1": [[0.0]], "b1": [[1.5e18]]})
    X, Y = np.ones((1, 1000)), np.zeros((1, 1000))
    assert net.cost(X, Y) == pytest.approx(0.5 * 1.5e18**2, rel=1e-6)
    history = net.fit(X, Y, learning_rate=1e-30, epochs=1, validation_data=(X, Y))
    assert history["cost"][0] == pytest.approx(0.5 * 1.5e18**2, rel=1e-6)
    assert history["val_cost"][0] == pytest.approx(0.5 * 1.5e18**2, rel=1e-6)


def test_divergence_is_caught_at_the_first_checkpoint(monkeypatch):
    X, Y = regression_data()
    reads = []
    real = training.CostRecord.read
    monkeypatch.setattr(training.CostRecord, "read", lambda record, end, *a: reads.append(end) or real(record, end, *a))
    net = DeepNet([3, 8, 1], output_activation="linear", seed=0, device="cpu")
    with pytest.raises(TrainingDivergedError) as caught:
        net.fit(X, Y, learning_rate=5.0, epochs=10 * training.CHECK_EVERY)
    assert caught.value.epoch < training.CHECK_EVERY
    assert reads == [training.CHECK_EVERY]


def test_print_every_prints_the_course_style_lines(capsys):
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((2, 10)), (rng.random((1, 10)) > 0.5)
    net = DeepNet([2, 3, 1], seed=0, device="cpu")
    history = net.fit(X, Y, learning_rate=0.1, epochs=7, print_every=3, validation_data=(X, Y))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"Cost after epoch {e}" for e in (0, 3, 6)]
    assert f"{history['cost'][3]:.6f}" in lines[1]
    assert f"{history['val_cost'][6]:.6f}" in lines[2]


def test_history_lengths_and_validation_cost_is_measured_after_each_epoch():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((2, 30)), (rng.random((1, 30)) > 0.5)
    net = DeepNet([2, 4, 1], seed=0, device="cpu", dtype="float64")
    history = net.fit(X, Y, learning_rate=0.2, epochs=5, batch_size=7, validation_data=(X[:, :9], Y[:, :9]))
    assert len(history["cost"]) == len(history["val_cost"]) == 5
    assert history["val_cost"][-1] == pytest.approx(net.cost(X[:, :9], Y[:, :9]), rel=1e-12)


def test_zero_epochs_changes_nothing():
    net = DeepNet([2, 2, 1], seed=0, device="cpu")
    before = net.parameters
    assert net.fit(np.ones((2, 3)), [[0, 1, 0]], learning_rate=0.1, epochs=0) == {"cost": []}
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[name])


def test_no_allocation_per_step_for_a_fixed_batch_shape():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((4, 64)), (rng.random((1, 64)) > 0.5)
    net = DeepNet([4, 5, 1], seed=0, device="cpu")
    net.fit(X, Y, learning_rate=0.1, epochs=1, batch_size=16)
    buffers = {key: id(ws) for key, ws in net._workspaces.items()}
    assert set(buffers) == {(16, True, True)}
    net.fit(X, Y, learning_rate=0.1, epochs=3, batch_size=16)
    assert {key: id(ws) for key, ws in net._workspaces.items()} == buffers


EVERY = training.CHECK_EVERY


@pytest.mark.parametrize("print_every, epochs, expected", [
    (3, 7, [(0, 1), (1, 4), (4, 7)]),
    (1, 3, [(0, 1), (1, 2), (2, 3)]),
    (0, 2 * EVERY + 10, [(0, EVERY), (EVERY, 2 * EVERY), (2 * EVERY, 2 * EVERY + 10)]),
])
def test_the_host_reads_each_epochs_cost_once_at_the_documented_checkpoints(monkeypatch, capsys, print_every,
                                                                           epochs, expected):
    reads = []
    real = training.CostRecord.read
    monkeypatch.setattr(training.CostRecord, "read",
                        lambda record, end, *a: reads.append((record.start, end)) or real(record, end, *a))
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((2, 6)), (rng.random((1, 6)) > 0.5)
    history = DeepNet([2, 3, 1], seed=0, device="cpu").fit(X, Y, learning_rate=0.1, epochs=epochs,
                                                          print_every=print_every)
    assert reads == expected
    due = [e for e in range(epochs) if print_every and (e % print_every == 0 or e == epochs - 1)]
    assert capsys.readouterr().out.splitlines() == [f"Cost after epoch {e}: {history['cost'][e]:.6f}" for e in due]


def test_progress_lines_and_divergence_go_to_the_log(caplog, capsys):
    caplog.set_level(logging.INFO, logger="deepnet_gpu")
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((2, 10)), (rng.random((1, 10)) > 0.5)
    DeepNet([2, 3, 1], seed=0, device="cpu").fit(X, Y, learning_rate=0.1, epochs=4, print_every=2)
    progress = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "Cost after" in r.getMessage()]
    assert progress == capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in progress] == ["Cost after epoch 0", "Cost after epoch 2", "Cost after epoch 3"]
    caplog.clear()
    X, Y = regression_data()
    with pytest.raises(TrainingDivergedError) as caught:
        DeepNet([3, 8, 1], output_activation="linear", seed=0, device="cpu").fit(X, Y, learning_rate=5.0, epochs=10)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [str(caught.value)]


def test_fit_shuffles_and_prints_nothing_by_default(capsys):
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((3, 40)), (rng.random((1, 40)) > 0.5)
    runs = [DeepNet([3, 4, 1], seed=1, device="cpu", dtype="float64").fit(X, Y, learning_rate=0.3, epochs=3,
                                                                         batch_size=8, **shuffle)["cost"]
            for shuffle in ({}, {"shuffle": True})]
    assert runs[0] == runs[1]
    assert capsys.readouterr().out == ""


def test_costs_read_in_chunks_match_one_epoch_per_fit_call():
    # The device keeps CHECK_EVERY epochs' costs at a time, zeroed between chunks: a long fit must
    # record what one-epoch fits record (full batch, so every call takes the same steps).
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((3, 12)), (rng.random((1, 12)) > 0.5)
    epochs = 2 * EVERY + 3
    long_run = DeepNet([3, 4, 1], seed=0, device="cpu", dtype="float64")
    history = long_run.fit(X, Y, learning_rate=0.05, epochs=epochs, validation_data=(X[:, :5], Y[:, :5]))
    stepped = DeepNet([3, 4, 1], seed=0, device="cpu", dtype="float64")
    singles = [stepped.fit(X, Y, learning_rate=0.05, epochs=1, validation_data=(X[:, :5], Y[:, :5]))
               for _ in range(epochs)]
    assert history["cost"] == [h["cost"][0] for h in singles]
    assert history["val_cost"] == [h["val_cost"][0] for h in singles]


def test_the_device_holds_a_bounded_number_of_epoch_costs():
    record = training.CostRecord(get_backend("cpu"), np.dtype(np.float32), 10**12, validation=True)
    assert record.cost(EVERY - 1).shape == () and record.val_cost(0).shape == ()
    with pytest.raises(IndexError):
        record.cost(EVERY)


def test_an_overflow_in_the_last_update_is_divergence():
    # Each cost is measured before its update, so only the parameters show the last update's overflow.
    net = DeepNet([1, 1], output_activation="linear", seed=0, device="cpu")
    with pytest.raises(TrainingDivergedError, match=r"after the last epoch \(0\) the parameters hold NaN or Inf, "
                                                    r"though every cost was finite") as caught:
        net.fit([[1.0, 2.0]], [[300.0, -100.0]], learning_rate=1e37, epochs=1)
    assert caught.value.epoch == 1
    assert len(caught.value.history["cost"]) == 1 and np.isfinite(caught.value.history["cost"]).all()
    assert np.isinf(net.parameters["W1"]).all()
