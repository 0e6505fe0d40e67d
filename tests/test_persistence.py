"""save / load round trips, the errors for missing and corrupt files, and pickling and copies."""

import copy
import logging
import pickle

import numpy as np
import pytest

from deepnet_gpu import DeepNet, TrainingDivergedError


def test_round_trip_keeps_architecture_and_parameters(tmp_path):
    net = DeepNet([4, 5, 3, 3], hidden_activation=["leaky_relu", "tanh"], output_activation="softmax",
                  init="xavier", seed=4, device="cpu", dtype="float64", leaky_slope=0.2)
    path = tmp_path / "net.npz"
    net.save(path)
    loaded = DeepNet.load(path, device="cpu")
    assert loaded.layer_dims == net.layer_dims
    assert loaded.hidden_activations == ["leaky_relu", "tanh"]
    assert loaded.output_activation == "softmax"
    assert loaded.loss.name == "categorical_cross_entropy"
    assert loaded.dtype == np.float64 and loaded.leaky_slope == 0.2
    assert loaded.init == "xavier"
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(loaded.parameters[name], value)
    X = np.random.default_rng(0).standard_normal((4, 6))
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_single_layer_network_round_trips(tmp_path):
    net = DeepNet([3, 1], seed=1, device="cpu")
    net.save(tmp_path / "lr.npz")
    assert DeepNet.load(tmp_path / "lr.npz", device="cpu").hidden_activations == []


@pytest.mark.parametrize("path", ["an open file's descriptor", True, np.int64(0), b"net.npz", None])
def test_a_path_that_is_not_a_str_or_pathlike_is_refused_before_any_file_is_touched(tmp_path, path):
    net = DeepNet([2, 1], device="cpu")
    with open(tmp_path / "log.txt", "w") as log:
        log.write("kept\n")
        log.flush()
        if path == "an open file's descriptor":
            path = log.fileno()
        for call in (lambda: net.save(path), lambda: DeepNet.load(path, device="cpu")):
            with pytest.raises(TypeError, match=r"path must be a file path \(str or os.PathLike\); got "):
                call()
        log.write("still open\n")
    assert (tmp_path / "log.txt").read_text() == "kept\nstill open\n"


def test_missing_file_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        DeepNet.load(tmp_path / "absent.npz", device="cpu")


def test_corrupt_file_raises_valueerror(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(ValueError, match="garbage.npz"):
        DeepNet.load(garbage, device="cpu")
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.ones(3))
    with pytest.raises(ValueError, match="not a valid saved DeepNet"):
        DeepNet.load(other, device="cpu")
    net = DeepNet([2, 2, 1], device="cpu")
    net.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        stored = dict(data)
    stored["W1"] = np.ones((5, 5))
    np.savez(tmp_path / "bad_shape.npz", **stored)
    with pytest.raises(ValueError, match=r"must have shape \(2, 2\)"):
        DeepNet.load(tmp_path / "bad_shape.npz", device="cpu")


def test_saved_files_are_format_version_1(tmp_path):
    DeepNet([2, 1], seed=0, device="cpu").save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        assert int(data["format_version"]) == 1


def test_other_format_versions_and_pickled_arrays_are_refused(tmp_path):
    DeepNet([2, 1], seed=0, device="cpu").save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        stored = dict(data)
    np.savez(tmp_path / "v2.npz", **{**stored, "format_version": np.array(2)})
    with pytest.raises(ValueError, match="format version 2, this library reads 1"):
        DeepNet.load(tmp_path / "v2.npz", device="cpu")
    np.savez(tmp_path / "pickled.npz", **{**stored, "loss": np.array(str(stored["loss"]), dtype=object)})
    with pytest.raises(ValueError, match=r"pickled\.npz is not a saved DeepNet"):
        DeepNet.load(tmp_path / "pickled.npz", device="cpu")


@pytest.mark.parametrize("name", ["net", "net.weights", "net.npz"])
def test_save_writes_exactly_the_path_given(tmp_path, name):
    net = DeepNet([3, 2, 1], seed=2, device="cpu")
    net.save(tmp_path / name)
    assert [p.name for p in tmp_path.iterdir()] == [name]
    np.testing.assert_array_equal(DeepNet.load(tmp_path / name, device="cpu").parameters["W1"], net.parameters["W1"])


def test_a_single_array_file_is_not_a_saved_network(tmp_path):
    np.save(tmp_path / "plain.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"plain\.npy is not a saved DeepNet \(\.npz\): it holds a single ndarray"):
        DeepNet.load(tmp_path / "plain.npy", device="cpu")


def test_load_checks_device_and_tf32_before_reading_the_file(tmp_path):
    with pytest.raises(ValueError, match="device must be one of cpu, cuda, cuda:N, auto; got 'gpu'"):
        DeepNet.load(tmp_path / "absent.npz", device="gpu")
    with pytest.raises(TypeError, match="tf32 must be True or False; got 'yes'"):
        DeepNet.load(tmp_path / "absent.npz", device="cpu", tf32="yes")


def test_the_seed_is_saved_so_a_loaded_network_shuffles_as_the_original(tmp_path):
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((3, 40)), (rng.random((1, 40)) > 0.5).astype(float)
    net = DeepNet([3, 4, 1], seed=7, device="cpu", dtype="float64")
    net.save(tmp_path / "net.npz")
    loaded = DeepNet.load(tmp_path / "net.npz", device="cpu")
    assert loaded.seed == 7
    original_history = net.fit(X, Y, learning_rate=0.1, epochs=3, batch_size=8)
    loaded_history = loaded.fit(X, Y, learning_rate=0.1, epochs=3, batch_size=8)
    assert loaded_history == original_history
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(loaded.parameters[name], value)


def test_a_network_without_a_seed_loads_without_one(tmp_path):
    net = DeepNet([3, 2, 1], device="cpu")
    net.save(tmp_path / "net.npz")
    assert "seed" not in np.load(tmp_path / "net.npz").files
    assert DeepNet.load(tmp_path / "net.npz", device="cpu").seed is None


def test_pickling_keeps_architecture_device_seed_and_parameters():
    net = DeepNet([4, 5, 3, 3], hidden_activation=["leaky_relu", "tanh"], output_activation="softmax",
                  init="course_scaled", seed=4, device="cpu", dtype="float64", leaky_slope=0.2, tf32=True)
    net.fit(np.random.default_rng(1).standard_normal((4, 9)), [0, 1, 2, 2, 1, 0, 1, 2, 0], learning_rate=0.1, epochs=2)
    restored = pickle.loads(pickle.dumps(net))
    assert repr(restored) == repr(net)
    assert (restored.device, restored.tf32, restored.seed, restored.init, restored.leaky_slope) == ("cpu", True, 4, "course_scaled", 0.2)
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(restored.parameters[name], value)
        assert restored.parameters[name].dtype == np.float64
    X = np.random.default_rng(0).standard_normal((4, 6))
    np.testing.assert_array_equal(restored.predict_proba(X), net.predict_proba(X))


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy])
def test_a_copy_trains_apart_from_the_original_and_as_the_original_would(copier):
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((3, 40)), (rng.random((1, 40)) > 0.5).astype(float)
    net = DeepNet([3, 4, 1], seed=7, device="cpu", dtype="float64")
    net.fit(X, Y, learning_rate=0.1, epochs=2, batch_size=8)
    before = net.parameters
    twin = copier(net)
    twin_history = twin.fit(X, Y, learning_rate=0.1, epochs=3, batch_size=8)
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[name])
        assert not np.array_equal(twin.parameters[name], value)
    assert net.fit(X, Y, learning_rate=0.1, epochs=3, batch_size=8) == twin_history
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(twin.parameters[name], value)


class NamedNet(DeepNet):
    """A user's subclass, which copies and pickles must keep."""


def test_copies_and_pickles_keep_a_subclass():
    net = NamedNet([2, 3, 1], seed=1, device="cpu")
    assert type(copy.deepcopy(net)) is NamedNet
    assert type(pickle.loads(pickle.dumps(net))) is NamedNet


def test_a_text_file_is_not_a_saved_network(tmp_path):
    (tmp_path / "notes.npz").write_text("W1 = [[1, 2]]\n")
    with pytest.raises(ValueError, match=r"notes\.npz is not a saved DeepNet \(\.npz\): it is neither an \.npz "
                                         r"archive nor any other NumPy file"):
        DeepNet.load(tmp_path / "notes.npz", device="cpu")


@pytest.mark.parametrize("key, value", [("seed", np.inf), ("seed", 3.7), ("format_version", 1.5),
                                        ("layer_dims", np.array([2.0, 3.0, 1.0]))])
def test_hand_edited_integers_that_are_not_integers_are_refused(tmp_path, key, value):
    DeepNet([2, 3, 1], seed=3, device="cpu").save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        stored = dict(data)
    np.savez(tmp_path / "edited.npz", **{**stored, key: np.asarray(value)})
    with pytest.raises(ValueError, match=rf"edited\.npz is not a valid saved DeepNet: {key} must be stored as integers"):
        DeepNet.load(tmp_path / "edited.npz", device="cpu")


def test_a_diverged_network_copies_pickles_saves_and_loads_as_it_is(tmp_path, caplog):
    net = DeepNet([1, 1], output_activation="linear", seed=0, device="cpu")
    with pytest.raises(TrainingDivergedError):
        net.fit([[1.0, 2.0]], [[300.0, -100.0]], learning_rate=1e37, epochs=1)
    diverged = net.parameters
    assert np.isinf(diverged["W1"]).all()
    net.save(tmp_path / "net.npz")
    caplog.set_level(logging.WARNING, logger="deepnet_gpu")
    caplog.clear()
    copies = [copy.deepcopy(net), pickle.loads(pickle.dumps(net)), DeepNet.load(tmp_path / "net.npz", device="cpu")]
    assert [r.getMessage() for r in caplog.records] == [
        "the restored network's parameters hold NaN or Inf (saved after a diverged fit?): its outputs will too"] * 3
    for twin in copies:
        for name, value in diverged.items():
            np.testing.assert_array_equal(twin.parameters[name], value)
    with pytest.raises(ValueError, match=r"parameters\['W1'\] contains NaN or Inf"):
        DeepNet([1, 1], output_activation="linear", device="cpu").set_parameters(diverged)


def test_a_finite_network_restores_without_a_warning(caplog):
    caplog.set_level(logging.WARNING, logger="deepnet_gpu")
    copy.deepcopy(DeepNet([2, 3, 1], seed=0, device="cpu"))
    assert caplog.records == []
