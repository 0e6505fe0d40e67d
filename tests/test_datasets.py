"""The embedded dataset, the split, standardisation and the .h5 / .npz / .csv readers."""

import dataclasses

import numpy as np
import pytest

from deepnet_gpu import datasets
from deepnet_gpu.datasets import (
    Dataset,
    Standardizer,
    load,
    load_default,
    stratified_split,
)

# the embedded dataset ------------------------------------------------------------------------------


def test_default_dataset_shapes_labels_and_names():
    data = load_default()
    assert data.X_train.shape == (30, 455) and data.Y_train.shape == (1, 455)
    assert data.X_test.shape == (30, 114) and data.Y_test.shape == (1, 114)
    labels = np.concatenate([data.Y_train, data.Y_test], axis=1)
    assert np.bincount(labels[0]).tolist() == [212, 357]
    assert data.class_names == ("malignant", "benign")
    assert len(data.feature_names) == 30 and data.feature_names[0] == "mean radius"
    assert "Wolberg" in data.description and data.name == "breast_cancer"


def test_default_dataset_is_standardised_with_training_statistics():
    data = load_default()
    np.testing.assert_allclose(data.X_train.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=1), 1, rtol=1e-12)
    assert np.abs(data.X_test.mean(axis=1)).max() > 1e-3  # test statistics were not used


def test_default_split_is_stratified_and_deterministic():
    a, b, c = load_default(seed=0), load_default(seed=0), load_default(seed=1)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)
    assert np.bincount(a.Y_test[0]).tolist() == [42, 72]  # 212 * 0.2 and 357 * 0.2, rounded to 114


def test_embedded_files_are_shipped_and_small():
    assert datasets.DEFAULT_FILE.stat().st_size < 100_000
    text = datasets.DEFAULT_ATTRIBUTION.read_text(encoding="utf-8")
    assert "Wolberg" in text and "BSD" in text and "CC BY 4.0" in text


# split and standardisation -------------------------------------------------------------------------


def test_stratified_split_keeps_class_shares_and_every_example_once():
    X = np.arange(200, dtype=float).reshape(2, 100)
    Y = np.repeat([0, 1, 2], [50, 30, 20]).reshape(1, -1)
    X_train, Y_train, X_test, Y_test = stratified_split(X, Y, test_fraction=0.25, seed=3)
    assert np.bincount(Y_test[0]).tolist() in ([13, 7, 5], [12, 8, 5])  # 12.5, 7.5, 5: one tie, broken by the seed
    assert X_test.shape == (2, 25) and X_train.shape == (2, 75)
    assert sorted(np.concatenate([X_train[0], X_test[0]]).tolist()) == X[0].tolist()
    np.testing.assert_array_equal(X_train[1], X_train[0] + 100)  # columns stay whole
    assert np.all(np.diff(X_train[0]) > 0)  # and in their original order


def test_stratified_split_of_one_hot_and_real_valued_targets():
    Y_one_hot = np.eye(2)[:, np.repeat([0, 1], [30, 10])]
    X = np.zeros((1, 40))
    _, _, _, Y_test = stratified_split(X, Y_one_hot, test_fraction=0.5, seed=0)
    assert Y_test.sum(axis=1).tolist() == [15, 5]
    _, _, X_test, _ = stratified_split(X, np.linspace(0, 1, 40).reshape(1, -1), test_fraction=0.25, seed=0)
    assert X_test.shape == (1, 10)


@pytest.mark.parametrize("fraction", [0.0, 1.0, 0.001])
def test_stratified_split_rejects_fractions_leaving_a_set_empty(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split(np.zeros((1, 10)), np.zeros((1, 10)), test_fraction=fraction)


def test_standardizer_maps_constant_features_to_zero():
    X = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    scaler = Standardizer.fit(X)
    Z = scaler(X)
    np.testing.assert_allclose(Z[0], [-1.2247448714, 0, 1.2247448714])
    np.testing.assert_array_equal(Z[1], 0)
    assert scaler.mean.shape == (2, 1) and scaler.scale.shape == (2, 1)


def test_dataset_standardized_uses_training_statistics_only():
    data = Dataset(np.array([[0.0, 2.0]]), np.array([[0, 1]]), np.array([[4.0]]), np.array([[1]]), name="t")
    out = data.standardized()
    np.testing.assert_allclose(out.X_train, [[-1.0, 1.0]])
    np.testing.assert_allclose(out.X_test, [[3.0]])
    assert data.standardizer is None
    np.testing.assert_array_equal(out.standardizer(data.X_test), out.X_test)
    assert load_default().standardizer is not None


def test_a_standardization_folded_into_the_first_layer_gives_the_same_z_on_raw_features():
    rng = np.random.default_rng(3)
    X = rng.normal(rng.normal(0, 50, (6, 1)), rng.uniform(0.1, 20, (6, 1)), size=(6, 30))
    X[4] = 7.0  # a constant feature: scale 1
    scaler = Standardizer.fit(X)
    W1, b1 = rng.standard_normal((5, 6)), rng.standard_normal((5, 1))
    W1_raw, b1_raw = scaler.folded_into(W1.astype(np.float32), b1.astype(np.float32))
    assert W1_raw.dtype == b1_raw.dtype == np.float64 and W1_raw.shape == (5, 6) and b1_raw.shape == (5, 1)
    X_new = rng.normal(0, 60, (6, 9))
    np.testing.assert_allclose(W1_raw @ X_new + b1_raw, W1.astype(np.float32) @ scaler(X_new) + b1.astype(np.float32),
                               rtol=1e-9, atol=1e-9)


def test_dataset_and_standardizer_are_frozen():
    data = load_default()
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.name = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        Standardizer.fit(data.X_train).mean = 0.0


def test_standardizer_fits_lists_in_float64_and_gives_constant_features_scale_one():
    scaler = Standardizer.fit([[1, 2, 3], [5, 5, 5]])
    assert scaler.mean.dtype == np.float64 and scaler.mean.tolist() == [[2.0], [5.0]]
    assert scaler.scale[1, 0] == 1.0
    assert Standardizer.fit(np.array([[1.0, 2.0, 4.0]], np.float32)).mean.dtype == np.float64


def test_load_default_honours_the_test_fraction():
    data = load_default(test_fraction=0.5, seed=0)
    assert data.X_test.shape == (30, 284) and data.X_train.shape == (30, 285)


def test_stratified_split_checks_its_arguments():
    X = np.arange(10.0).reshape(1, 10)
    Y = np.array([[0, 1] * 5])
    with pytest.raises(ValueError, match=r"X has 10 examples \(columns\) but Y has 9"):
        stratified_split(X, Y[:, :9])
    for fraction in (0.0, 1.0, -0.5, 1.5):
        with pytest.raises(ValueError, match=rf"test_fraction must be between 0 and 1 \(exclusive\); got {fraction}"):
            stratified_split(X, Y, test_fraction=fraction)
    with pytest.raises(ValueError, match="leaves 10 test and 0 training examples"):
        stratified_split(X, Y, test_fraction=0.96)
    _, _, X_test, _ = stratified_split(X, Y, test_fraction=0.1)
    assert X_test.shape == (1, 1)
    _, _, X_test, _ = stratified_split(X, Y, test_fraction=0.9)
    assert X_test.shape == (1, 9)


# .npz -----------------------------------------------------------------------------------------------


def test_npz_with_train_and_test_keys(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X_train=np.ones((3, 8), np.float32), Y_train=np.zeros(8), X_test=np.ones((3, 2)),
             Y_test=np.ones((1, 2)), feature_names=np.array(["a", "b", "c"]))
    data = load(path)
    assert data.X_train.shape == (3, 8) and data.X_train.dtype == np.float32
    assert data.Y_train.shape == (1, 8) and data.X_test.shape == (3, 2)
    assert data.feature_names == ("a", "b", "c") and data.name == "d"


def test_npz_with_one_pair_is_split(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(20.0).reshape(2, 10), Y=np.array([[0, 1] * 5]))
    data = load(path, test_fraction=0.2, seed=0)
    assert data.X_train.shape == (2, 8) and data.X_test.shape == (2, 2)
    assert sorted(data.Y_test[0].tolist()) == [0, 1]


def test_npz_separate_test_file(tmp_path):
    np.savez(tmp_path / "train.npz", X=np.ones((2, 6)), Y=np.zeros((1, 6)))
    np.savez(tmp_path / "test.npz", X_test=np.ones((2, 3)), Y_test=np.zeros((1, 3)))
    data = load(tmp_path / "train.npz", tmp_path / "test.npz")
    assert data.X_train.shape == (2, 6) and data.X_test.shape == (2, 3) and data.name == "train+test"


def test_paths_must_be_paths_not_file_descriptors(tmp_path):
    np.savez(tmp_path / "train.npz", X=np.ones((2, 6)), Y=np.zeros((1, 6)))
    with pytest.raises(TypeError, match=r"path must be a file path \(str or os.PathLike\); got 0"):
        load(0)
    with pytest.raises(TypeError, match=r"test_path must be a file path \(str or os.PathLike\); got 3"):
        load(tmp_path / "train.npz", 3)


def test_npz_errors_name_the_file_and_the_keys(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, features=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"bad\.npz.*X_train and Y_train.*found \['features'\]"):
        load(path)
    np.savez(path, X_train=np.ones((2, 3)))
    with pytest.raises(ValueError, match="has X_train but not Y_train"):
        load(path)
    np.savez(path, X=np.ones((2, 3)), Y=np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"bad\.npz: X has 3 examples \(columns\) but Y has 4"):
        load(path)
    np.savez(path, X=np.ones((4, 3)), Y=np.ones(4))
    with pytest.raises(ValueError, match="one example per row: store its transpose"):
        load(path)
    np.savez(path, X=np.ones((2, 3)), Y=np.array(["cat", "dog", "cat"]))
    with pytest.raises(ValueError, match=r"bad\.npz: Y must hold numbers; found dtype <U3"):
        load(path)


def test_npz_feature_count_mismatch_between_train_and_test(tmp_path):
    np.savez(tmp_path / "a.npz", X_train=np.ones((2, 5)), Y_train=np.zeros(5), X_test=np.ones((3, 2)), Y_test=np.zeros(2))
    with pytest.raises(ValueError, match="have 2 features but test examples .* have 3"):
        load(tmp_path / "a.npz")


def test_not_an_npz_archive(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_text("not a zip")
    with pytest.raises(ValueError, match=r"junk\.npz"):
        load(path)


def test_npz_layouts_and_their_errors(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X_train=np.arange(10.0).reshape(2, 5), Y_train=np.array([0, 1, 0, 1, 1]))
    data = load(path, test_fraction=0.4)
    assert data.X_train.shape == (2, 3) and data.X_test.shape == (2, 2) and data.Y_train.shape == (1, 3)
    np.savez(path, Y_train=np.zeros(3))
    with pytest.raises(ValueError, match="has Y_train but not X_train"):
        load(path)
    for only in ("X", "Y"):
        np.savez(path, **{only: np.ones((2, 3))})
        with pytest.raises(ValueError, match="lacks the expected arrays"):
            load(path)
    np.savez(path, X_test=np.ones((2, 3)))
    with pytest.raises(ValueError, match="lacks the expected arrays"):
        load(path)
    np.savez(path, X_test=np.ones((2, 3)), Y_test=np.zeros(3))
    with pytest.raises(ValueError, match=r"holds only a test set \(keys X_train and Y_train, or X and Y missing\)"):
        load(path)
    np.savez(path, X_test=np.ones((2, 5)), Y_test=np.zeros(4))
    with pytest.raises(ValueError, match=r"X_test has 5 examples \(columns\) but Y_test has 4"):
        load(path)
    np.savez(path, X=np.ones((2, 3)), Y=np.zeros((1, 1, 3)))
    with pytest.raises(ValueError, match=r"Y must be \(m,\) or \(n_y, m\); found shape \(1, 1, 3\)"):
        load(path)
    np.savez(path, X=np.ones(3), Y=np.zeros(3))
    with pytest.raises(ValueError, match=r"X must be 2-D \(n_x, m\) with one example per column; found shape \(3,\)"):
        load(path)


@pytest.mark.parametrize("arrays, match", [
    ({"X": np.ones((0, 3)), "Y": np.zeros(3)}, r"d\.npz: X has no features; found shape \(0, 3\)"),
    ({"X": np.ones((2, 0)), "Y": np.zeros(0)}, r"d\.npz: X holds no examples; found shape \(2, 0\)"),
    ({"X": np.array([[1.0, np.nan]]), "Y": np.zeros(2)}, r"d\.npz: X contains NaN or Inf"),
    ({"X_train": np.ones((1, 2)), "Y_train": np.array([0.0, np.inf])}, r"d\.npz: Y_train contains NaN or Inf"),
])
def test_npz_without_examples_or_features_or_with_non_finite_values(tmp_path, arrays, match):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(ValueError, match=match):
        load(tmp_path / "d.npz")


# .csv ---------------------------------------------------------------------------------------------


def test_csv_with_header_is_transposed_and_split(tmp_path):
    path = tmp_path / "d.csv"
    rows = "\n".join(f"{i},{i * 10},{i % 2}" for i in range(10))
    path.write_text("width,height,label\n" + rows + "\n\n")
    data = load(path, test_fraction=0.2)
    assert data.feature_names == ("width", "height")
    assert data.X_train.shape == (2, 8) and data.X_test.shape == (2, 2) and data.Y_train.shape == (1, 8)
    np.testing.assert_array_equal(data.X_train[1], data.X_train[0] * 10)
    np.testing.assert_array_equal(data.Y_train[0], data.X_train[0] % 2)


def test_csv_without_header(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1.5,2,0\n3,4,1\n5,6,0\n7,8,1\n9,1e1,1\n")
    data = load(path, test_fraction=0.4)
    assert data.feature_names is None and data.X_train.shape == (2, 3) and data.X_test.shape == (2, 2)


@pytest.mark.parametrize("text, match", [
    ("a,b,y\n1,2,0\n3,oops,1\n", r"d\.csv line 3, column 2: expected a number, found 'oops'"),
    ("1,2,0\n3,4\n", r"line 2: expected 3 columns, found 2"),
    ("1,2,0\n3,nan,1\n", r"line 2, column 2: expected a finite number, found 'nan'"),
    ("1,2,0\ninf,nan,1\n", r"line 2, column 1: expected a finite number, found 'inf'"),
    ("", "is empty"),
    ("a,b,label\n", "has a header but no examples"),
    ("1\n2\n", "expected at least 2 columns .*found 1"),
    ("caf\u00e9,y\n1,0\n".encode("latin-1"), r"d\.csv is not UTF-8 text: invalid continuation byte at byte 3"),
])
def test_csv_errors_name_line_column_and_value(tmp_path, text, match):
    path = tmp_path / "d.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ValueError, match=match):
        load(path)


def test_csv_with_one_feature_or_a_utf8_header(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,label\n1,0\n2,1\n3,0\n4,1\n5,1\n")
    data = load(path)
    assert data.X_train.shape[0] == 1 and data.feature_names == ("x",)
    path.write_text("température,label\n1,0\n2,1\n3,0\n", encoding="utf-8")
    assert load(path).feature_names == ("température",)


def test_csv_with_a_byte_order_mark_as_excel_writes_utf8(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,label\n1,0\n2,1\n3,0\n4,1\n5,1\n", encoding="utf-8-sig")
    assert load(path).feature_names == ("x",)
    path.write_text("1.5,0\n2,1\n3,0\n4,1\n5,1\n", encoding="utf-8-sig")
    data = load(path, test_fraction=0.4)
    assert sorted(np.concatenate([data.X_train, data.X_test], axis=1)[0]) == [1.5, 2, 3, 4, 5]


# files and extensions -------------------------------------------------------------------------------


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(FileNotFoundError, match="data file not found: .*nothing.npz"):
        load(tmp_path / "nothing.npz")
    (tmp_path / "data.txt").write_text("1,2\n")
    with pytest.raises(ValueError, match=r"unknown extension '\.txt'; expected \.h5/\.hdf5 \(course HDF5\), \.npz or \.csv"):
        load(tmp_path / "data.txt")


def test_test_file_given_twice_is_refused(tmp_path):
    np.savez(tmp_path / "a.npz", X_train=np.ones((2, 5)), Y_train=np.zeros(5), X_test=np.ones((2, 2)), Y_test=np.zeros(2))
    np.savez(tmp_path / "b.npz", X=np.ones((2, 3)), Y=np.zeros(3))
    with pytest.raises(ValueError, match="already holds a test set"):
        load(tmp_path / "a.npz", tmp_path / "b.npz")


def test_separate_npz_and_csv_test_files(tmp_path):
    np.savez(tmp_path / "train.npz", X=np.ones((2, 6)), Y=np.zeros((1, 6)))
    np.savez(tmp_path / "only_train.npz", X_train=np.ones((2, 3)), Y_train=np.zeros(3))
    with pytest.raises(ValueError, match="holds only a training set; expected keys X_test and Y_test, or X and Y"):
        load(tmp_path / "train.npz", tmp_path / "only_train.npz")
    np.savez(tmp_path / "named.npz", X=np.ones((2, 3)), Y=np.zeros(3), class_names=np.array(["no", "yes"]))
    assert load(tmp_path / "train.npz", tmp_path / "named.npz").class_names == ("no", "yes")
    (tmp_path / "train.csv").write_text("1,2,0\n3,4,1\n5,6,0\n")
    (tmp_path / "test.csv").write_text("7,8,1\n")
    data = load(tmp_path / "train.csv", tmp_path / "test.csv")
    assert data.X_train.shape == (2, 3) and data.X_test.tolist() == [[7.0], [8.0]]


def test_label_rows_that_differ_name_both_files(tmp_path):
    np.savez(tmp_path / "a.npz", X_train=np.ones((2, 5)), Y_train=np.zeros(5), X_test=np.ones((2, 2)), Y_test=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"training labels \(.*a\.npz\) have 1 rows but test labels \(.*a\.npz\) have 2"):
        load(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", X_train=np.ones((2, 5)), Y_train=np.zeros(5), X_test=np.ones((3, 2)), Y_test=np.zeros(2))
    with pytest.raises(ValueError, match=r"test examples \(.*b\.npz\) have 3"):
        load(tmp_path / "b.npz")


# the course's HDF5 ---------------------------------------------------------------------------------


def _course_files(tmp_path, h5py, m_train=12, m_test=4):
    rng = np.random.default_rng(0)
    train, test = tmp_path / "train_catvnoncat.h5", tmp_path / "test_catvnoncat.h5"
    with h5py.File(train, "w") as f:
        f["train_set_x"] = rng.integers(0, 256, (m_train, 4, 4, 3), dtype=np.uint8)
        f["train_set_y"] = np.arange(m_train) % 2
        f["list_classes"] = np.array([b"non-cat", b"cat"])
    with h5py.File(test, "w") as f:
        f["test_set_x"] = rng.integers(0, 256, (m_test, 4, 4, 3), dtype=np.uint8)
        f["test_set_y"] = np.arange(m_test) % 2
        f["list_classes"] = np.array([b"non-cat", b"cat"])
    return train, test


def test_course_hdf5_train_and_test_files(tmp_path):
    h5py = pytest.importorskip("h5py")
    train, test = _course_files(tmp_path, h5py)
    data = load(train, test)
    assert data.X_train.shape == (48, 12) and data.Y_train.shape == (1, 12)
    assert data.X_test.shape == (48, 4) and data.Y_test.shape == (1, 4)
    assert 0 <= data.X_train.min() and data.X_train.max() <= 1
    assert data.class_names == ("non-cat", "cat")
    with h5py.File(train, "r") as f:  # flattening follows the course: reshape(m, -1).T / 255
        np.testing.assert_allclose(data.X_train, f["train_set_x"][()].reshape(12, -1).T / 255)


def test_course_hdf5_single_file_with_both_sets_and_split_without_test(tmp_path):
    h5py = pytest.importorskip("h5py")
    both = tmp_path / "both.hdf5"
    with h5py.File(both, "w") as f:
        f["train_set_x"] = np.zeros((6, 2, 2), np.uint8)
        f["train_set_y"] = np.zeros((1, 6))
        f["test_set_x"] = np.zeros((2, 2, 2), np.uint8)
        f["test_set_y"] = np.ones(2)
    data = load(both)
    assert data.X_train.shape == (4, 6) and data.X_test.shape == (4, 2)
    train, _ = _course_files(tmp_path, h5py, m_train=10)
    assert load(train, test_fraction=0.2).X_test.shape == (48, 2)


def test_course_hdf5_errors(tmp_path):
    h5py = pytest.importorskip("h5py")
    train, test = _course_files(tmp_path, h5py)
    with pytest.raises(ValueError, match="holds only a test set .*train_set_x and train_set_y"):
        load(test)
    with pytest.raises(ValueError, match="test file .* holds only a training set; expected keys test_set_x and test_set_y"):
        load(train, train)
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f["train_set_x"] = np.zeros((5, 2), np.uint8)
        f["train_set_y"] = np.zeros(4)
        f["other"] = np.zeros(1)
    with pytest.raises(ValueError, match=r"bad\.h5: train_set_x has 5 examples but train_set_y has 4"):
        load(bad)
    with h5py.File(bad, "w") as f:
        f["pixels"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"none of the course's keys.*found \['pixels'\]"):
        load(bad)
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(ValueError, match=r"cannot read .*text\.h5 as HDF5"):
        load(tmp_path / "text.h5")


def test_hdf5_without_h5py_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py":
            raise ImportError("No module named 'h5py'")
        return real_import(name, *args, **kwargs)

    (tmp_path / "x.h5").write_bytes(b"")
    monkeypatch.setattr(builtins, "__import__", no_h5py)
    with pytest.raises(ImportError, match=r"x\.h5 needs h5py.*pip install 'deepnet_gpu\[hdf5\]'"):
        load(tmp_path / "x.h5")


def test_course_hdf5_shape_errors(tmp_path):
    h5py = pytest.importorskip("h5py")
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f["train_set_x"] = np.zeros((5, 2), np.uint8)
    with pytest.raises(ValueError, match="has train_set_x but not train_set_y"):
        load(bad)
    with h5py.File(bad, "w") as f:
        f["train_set_x"] = np.zeros(5, np.uint8)
        f["train_set_y"] = np.zeros(5)
    with pytest.raises(ValueError, match=r"train_set_x must be \(m, \.\.\.\) with one example per entry"):
        load(bad)
    with h5py.File(bad, "w") as f:
        f["train_set_x"] = np.zeros((5, 2), np.uint8)
        f["train_set_y"] = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"train_set_y must hold one label per example, \(m,\); found shape \(5, 2\)"):
        load(bad)
    with h5py.File(bad, "w") as f:
        f["train_set_x"] = np.array([[b"a", b"b"]] * 5)
        f["train_set_y"] = np.zeros(5)
    with pytest.raises(ValueError, match="train_set_x must hold numbers"):
        load(bad)
    with h5py.File(bad, "w") as f:
        f.create_group("train_set_x")
        f["train_set_y"] = np.zeros(5)
    with pytest.raises(ValueError, match=r"bad\.h5: train_set_x must be a dataset \(an array\); found a Group"):
        load(bad)
    with h5py.File(bad, "w") as f:
        f["train_set_x"] = np.zeros((0, 4, 4, 3), np.uint8)
        f["train_set_y"] = np.zeros(0)
    with pytest.raises(ValueError, match=r"bad\.h5: train_set_x holds no examples; found shape \(0, 4, 4, 3\)"):
        load(bad)
    with h5py.File(bad, "w") as f:
        f["train_set_x"] = np.array([[0.5, np.nan]] * 3)
        f["train_set_y"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"bad\.h5: train_set_x contains NaN or Inf"):
        load(bad)
