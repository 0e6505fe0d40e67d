"""Data in the course's layout: X is (n_x, m) and Y is (n_y, m), one example per column.

* :func:`load_default` gives the dataset shipped inside the package: Breast Cancer Wisconsin
  (Diagnostic), 569 examples of 30 features with binary labels (0 malignant, 1 benign),
  split 455/114 with a seeded stratified split and z-scored with the training statistics.
  Its source and licence are in ``deepnet_gpu/data/breast_cancer.txt``.
* :func:`load` reads a file (and optionally a separate test file) in one of three formats:

  ``.h5`` / ``.hdf5``, the course's format (needs h5py: ``pip install 'deepnet_gpu[hdf5]'``)
      ``train_set_x`` (m, ...) and ``train_set_y`` (m,) for the training set, ``test_set_x`` and
      ``test_set_y`` for the test set, optional ``list_classes``. A file may hold either key set
      or both, so the course's ``train_catvnoncat.h5`` is given as ``path`` and
      ``test_catvnoncat.h5`` as ``test_path``. Each example is flattened to one column; uint8
      images are scaled by 1/255, other dtypes are used as stored.
  ``.npz``
      ``X_train`` (n_x, m) and ``Y_train`` (n_y, m) or (m,), optionally ``X_test`` and
      ``Y_test``; or one ``X`` / ``Y`` pair of all examples. X is in course layout, examples as
      columns. Optional ``feature_names`` (n_x,) and ``class_names`` string arrays.
  ``.csv``
      Comma-separated, one example per row, the last column the label (one output); an
      optional header row (a first row in which no field is a number) names the features.

  Test examples come from ``test_path`` when it is given (its test set, or all its examples
  when it is one X / Y pair or a .csv; a file of training keys only is refused), else from the
  file's own test set, else a seeded stratified split holds out ``test_fraction`` of the examples
  (:func:`stratified_split`).

Errors name the file and what was expected: ``FileNotFoundError`` for a missing file,
``ValueError`` for an unknown extension, missing keys, wrong shapes, no examples or features,
NaN or Inf, non-numeric CSV fields or a CSV that is not UTF-8, ``ImportError`` when an HDF5
file is read without h5py.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .validation import REAL_KINDS, check_path

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_FILE = DATA_DIR / "breast_cancer.npz"
DEFAULT_ATTRIBUTION = DATA_DIR / "breast_cancer.txt"

HDF5_EXTENSIONS = (".h5", ".hdf5")


@dataclass(frozen=True)
class Dataset:
    """A train/test pair in course layout.

    ``X_train`` (n_x, m_train), ``Y_train`` (n_y, m_train), ``X_test`` (n_x, m_test),
    ``Y_test`` (n_y, m_test); labels of a classification task are one row (n_y = 1).
    ``feature_names`` has n_x entries and ``class_names`` one per class when the source names them.
    ``standardizer`` is the z-scoring both X went through, when they did (:meth:`standardized`).
    """

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    name: str
    description: str = ""
    feature_names: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None
    standardizer: Standardizer | None = None

    def standardized(self) -> Dataset:
        """This dataset with both X z-scored by the mean and standard deviation of ``X_train``."""
        scaler = Standardizer.fit(self.X_train)
        return replace(self, X_train=scaler(self.X_train), X_test=scaler(self.X_test), standardizer=scaler)


@dataclass(frozen=True)
class Standardizer:
    """z = (x - mean) / scale, per feature; ``mean`` and ``scale`` are (n_x, 1)."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardizer:
        """Statistics of X (n_x, m) over its examples; a constant feature gets scale 1."""
        X = np.asarray(X, dtype=np.float64)
        mean = X.mean(axis=1, keepdims=True)
        std = X.std(axis=1, keepdims=True)
        return cls(mean, np.where(std > 0, std, 1.0))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """X (n_x, m) standardised, float64."""
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.scale

    def folded_into(self, W1: np.ndarray, b1: np.ndarray):
        """(W1', b1'), float64, with W1'·x + b1' = W1·((x - mean) / scale) + b1 for every x.

        The first layer of a network trained on standardized features, made to take the raw
        ones: W1' = W1 / scaleᵀ (each column j divided by scale[j]), b1' = b1 - W1'·mean. W1 is
        (n1, n_x), b1 (n1, 1). Z[1] then sums terms of about |mean| / scale that cancel, so in
        float32 it carries an absolute error of about 1e-7 · Σ_j |W1[:, j]| |mean[j]| / scale[j].
        """
        W1 = np.asarray(W1, dtype=np.float64) / self.scale.T
        return W1, np.asarray(b1, dtype=np.float64) - W1 @ self.mean


def stratified_split(X: np.ndarray, Y: np.ndarray, test_fraction: float = 0.2, seed: int = 0):
    """Split X (n_x, m) and Y (n_y, m) into ``(X_train, Y_train, X_test, Y_test)``, same seed, same split.

    ``round(test_fraction * m)`` examples go to the test set, shared among the classes in
    proportion to their sizes (largest remainder first, ties broken by the seed). The class of an
    example is its label (n_y = 1) or the argmax of its one-hot column (n_y > 1); with
    real-valued targets every value is its own class and the split is a plain random one.
    Both parts keep the examples' original order.
    """
    m = X.shape[1]
    if Y.shape[1] != m:
        raise ValueError(f"X has {m} examples (columns) but Y has {Y.shape[1]}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive); got {test_fraction}")
    n_test = int(round(test_fraction * m))
    if not 0 < n_test < m:
        raise ValueError(
            f"test_fraction={test_fraction} of {m} examples leaves {n_test} test and {m - n_test} training examples; "
            "both need at least one"
        )
    labels = Y[0] if Y.shape[0] == 1 else np.argmax(Y, axis=0)
    _, classes = np.unique(labels, return_inverse=True)
    counts = np.bincount(classes)
    rng = np.random.default_rng(seed)
    take, remainder = np.divmod(counts * n_test, m)
    shortfall = n_test - int(take.sum())
    order = np.lexsort((rng.random(counts.size), -remainder))
    take[order[:shortfall]] += 1
    is_test = np.zeros(m, dtype=bool)
    for c, k in enumerate(take):
        members = np.flatnonzero(classes == c)
        is_test[rng.permutation(members)[:k]] = True
    return X[:, ~is_test], Y[:, ~is_test], X[:, is_test], Y[:, is_test]


def load_default(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Breast Cancer Wisconsin (Diagnostic), split by :func:`stratified_split`, standardised.

    X_train (30, 455), Y_train (1, 455), X_test (30, 114), Y_test (1, 114) with the defaults;
    labels 0 = malignant, 1 = benign.
    """
    data = load(DEFAULT_FILE, test_fraction=test_fraction, seed=seed, standardize=True)
    return replace(
        data,
        name="breast_cancer",
        description=(
            "Breast Cancer Wisconsin (Diagnostic): 569 examples, 30 features, 0 = malignant, 1 = benign. "
            "W. H. Wolberg, W. N. Street, O. L. Mangasarian, UCI Machine Learning Repository "
            f"(CC BY 4.0), as distributed by scikit-learn (BSD-3-Clause); see {DEFAULT_ATTRIBUTION}"
        ),
    )


def load(path, test_path=None, *, test_fraction: float = 0.2, seed: int = 0, standardize: bool = False) -> Dataset:
    """Read ``path`` (and ``test_path``, in any of the formats) into a :class:`Dataset`.

    The formats and where test examples come from are described in the module docstring.
    ``test_fraction`` and ``seed`` apply only when a split is needed; ``standardize`` z-scores
    both sets with the training set's statistics.
    """
    check_path(path)
    if test_path is not None:
        check_path(test_path, "test_path")
    contents = _read(path)
    train = contents.parts.get("train", contents.parts.get("examples"))
    if train is None:
        raise ValueError(f"{path} holds only a test set ({_expected_train(path)} missing); give the training file first")
    name, class_names = Path(path).stem, contents.class_names
    if test_path is not None:
        if "test" in contents.parts:
            raise ValueError(
                f"{path} already holds a test set; drop the separate test file {test_path} or use a file without one"
            )
        test_contents = _read(test_path)
        test = test_contents.parts.get("test", test_contents.parts.get("examples"))
        if test is None:
            raise ValueError(f"test file {test_path} holds only a training set; expected {_expected_test(test_path)}")
        name = f"{name}+{Path(test_path).stem}"
        class_names = class_names or test_contents.class_names
    elif "test" in contents.parts:
        test = contents.parts["test"]
    else:
        split = stratified_split(*train, test_fraction=test_fraction, seed=seed)
        train, test = split[:2], split[2:]
    _check_compatible(train, test, path, test_path or path)
    data = Dataset(*train, *test, name=name, feature_names=contents.feature_names, class_names=class_names)
    return data.standardized() if standardize else data


@dataclass(frozen=True)
class _Contents:
    """What one file holds: ``parts`` maps "train", "test" or "examples" (unsplit) to (X, Y)."""

    parts: dict
    feature_names: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None


def _read(path) -> _Contents:
    path = Path(path)
    suffix = path.suffix.lower()
    readers = {**dict.fromkeys(HDF5_EXTENSIONS, _read_hdf5), ".npz": _read_npz, ".csv": _read_csv}
    if suffix not in readers:
        raise ValueError(
            f"cannot read {path}: unknown extension {suffix or '(none)'!r}; expected .h5/.hdf5 (course HDF5), .npz or .csv"
        )
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    return readers[suffix](path)


def _expected_train(path) -> str:
    if Path(path).suffix.lower() in HDF5_EXTENSIONS:
        return "keys train_set_x and train_set_y"
    return "keys X_train and Y_train, or X and Y"


def _expected_test(path) -> str:
    if Path(path).suffix.lower() in HDF5_EXTENSIONS:
        return "keys test_set_x and test_set_y"
    return "keys X_test and Y_test, or X and Y"


def _numeric(a: np.ndarray, path, key: str) -> np.ndarray:
    """``a`` itself when it holds numbers (bool, integer or float), else a ValueError naming ``key``."""
    if a.dtype.kind not in REAL_KINDS:
        raise ValueError(f"{path}: {key} must hold numbers; found dtype {a.dtype}")
    return a


def _as_labels(Y: np.ndarray, path, key: str) -> np.ndarray:
    """Y as (n_y, m): a (m,) vector becomes one row."""
    if Y.ndim == 1:
        return Y.reshape(1, -1)
    if Y.ndim != 2:
        raise ValueError(f"{path}: {key} must be (m,) or (n_y, m); found shape {Y.shape}")
    return Y


def _as_features(X: np.ndarray) -> np.ndarray:
    """X as floating point: float32 and float64 kept, anything else converted to float64."""
    return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)


def _pair(X: np.ndarray, Y: np.ndarray, path, x_key: str, y_key: str):
    """Validate a course-layout pair X (n_x, m), Y (n_y, m) and return it."""
    X, Y = _numeric(X, path, x_key), _numeric(Y, path, y_key)
    if X.ndim != 2:
        raise ValueError(f"{path}: {x_key} must be 2-D (n_x, m) with one example per column; found shape {X.shape}")
    Y = _as_labels(Y, path, y_key)
    if X.shape[1] != Y.shape[1]:
        hint = ""
        if X.shape[0] == Y.shape[1]:
            hint = f"; {x_key} looks like one example per row: store its transpose, (n_x, m)"
        raise ValueError(
            f"{path}: {x_key} has {X.shape[1]} examples (columns) but {y_key} has {Y.shape[1]}{hint}"
        )
    return _checked_examples(_as_features(X), Y, path, x_key, y_key)


def _checked_examples(X: np.ndarray, Y: np.ndarray, path, x_key: str, y_key: str):
    """(X, Y) once X (n_x, m) has at least one feature and one example and both are finite."""
    if X.shape[0] == 0:
        raise ValueError(f"{path}: {x_key} has no features; found shape {X.shape}")
    if X.shape[1] == 0:
        raise ValueError(f"{path}: {x_key} holds no examples; found shape {X.shape}")
    for key, a in ((x_key, X), (y_key, Y)):
        if not np.isfinite(a).all():
            raise ValueError(f"{path}: {key} contains NaN or Inf")
    return X, Y


def _half_pair(path, x_key: str, y_key: str, keys) -> ValueError:
    """The error for a file that holds one of ``x_key`` and ``y_key`` but not the other."""
    present, missing = (x_key, y_key) if x_key in keys else (y_key, x_key)
    return ValueError(f"{path} has {present} but not {missing}; both are needed")


def _check_compatible(train, test, train_path, test_path):
    if train[0].shape[0] != test[0].shape[0]:
        raise ValueError(
            f"training examples ({train_path}) have {train[0].shape[0]} features "
            f"but test examples ({test_path}) have {test[0].shape[0]}"
        )
    if train[1].shape[0] != test[1].shape[0]:
        raise ValueError(
            f"training labels ({train_path}) have {train[1].shape[0]} rows but test labels ({test_path}) have {test[1].shape[0]}"
        )


def _names(values) -> tuple[str, ...]:
    return tuple(v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel())


def _read_hdf5(path: Path) -> _Contents:
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(f"reading {path} needs h5py, an optional extra: pip install 'deepnet_gpu[hdf5]'") from exc
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"cannot read {path} as HDF5: {exc}") from exc
    with handle:
        parts = {}
        for part in ("train", "test"):
            x_key, y_key = f"{part}_set_x", f"{part}_set_y"
            if x_key in handle and y_key in handle:
                X, Y = (_hdf5_array(handle, key, path, h5py) for key in (x_key, y_key))
                parts[part] = _hdf5_pair(X, Y, path, x_key, y_key)
            elif x_key in handle or y_key in handle:
                raise _half_pair(path, x_key, y_key, handle)
        if not parts:
            raise ValueError(
                f"{path} has none of the course's keys: expected train_set_x/train_set_y and/or test_set_x/test_set_y; "
                f"found {sorted(handle.keys())}"
            )
        class_names = _names(handle["list_classes"][()]) if "list_classes" in handle else None
    return _Contents(parts, class_names=class_names)


def _hdf5_array(handle, key: str, path, h5py) -> np.ndarray:
    """The array stored as dataset ``key``; a ValueError when ``key`` names a group."""
    entry = handle[key]
    if not isinstance(entry, h5py.Dataset):
        raise ValueError(f"{path}: {key} must be a dataset (an array); found a {type(entry).__name__}")
    return entry[()]


def _hdf5_pair(X: np.ndarray, Y: np.ndarray, path, x_key: str, y_key: str):
    """Course arrays, examples first: X (m, ...) flattened to (n_x, m), uint8 scaled by 1/255."""
    X, Y = _numeric(X, path, x_key), _numeric(Y, path, y_key)
    if X.ndim < 2:
        raise ValueError(f"{path}: {x_key} must be (m, ...) with one example per entry of the first axis; found shape {X.shape}")
    if Y.ndim == 2 and 1 in Y.shape:
        Y = Y.reshape(-1)
    if Y.ndim != 1:
        raise ValueError(f"{path}: {y_key} must hold one label per example, (m,); found shape {Y.shape}")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"{path}: {x_key} has {X.shape[0]} examples but {y_key} has {Y.shape[0]}")
    if X.shape[0] == 0:
        raise ValueError(f"{path}: {x_key} holds no examples; found shape {X.shape}")
    flat = X.reshape(X.shape[0], -1).T
    flat = flat / 255.0 if X.dtype == np.uint8 else _as_features(flat)
    return _checked_examples(np.ascontiguousarray(flat), Y.reshape(1, -1), path, x_key, y_key)


def _read_npz(path: Path) -> _Contents:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"cannot read {path} as a NumPy .npz archive of plain arrays: {exc}") from exc
    keys = set(arrays)
    parts = {}
    if "X_train" in keys or "Y_train" in keys:
        for part in ("train", "test"):
            x_key, y_key = f"X_{part}", f"Y_{part}"
            if {x_key, y_key} <= keys:
                parts[part] = _pair(arrays[x_key], arrays[y_key], path, x_key, y_key)
            elif x_key in keys or y_key in keys:
                raise _half_pair(path, x_key, y_key, keys)
    elif {"X", "Y"} <= keys:
        parts["examples"] = _pair(arrays["X"], arrays["Y"], path, "X", "Y")
    elif "X_test" in keys and "Y_test" in keys:
        parts["test"] = _pair(arrays["X_test"], arrays["Y_test"], path, "X_test", "Y_test")
    else:
        raise ValueError(
            f"{path} lacks the expected arrays: X_train and Y_train (optionally X_test, Y_test), or X and Y; found {sorted(keys)}"
        )
    feature_names = _names(arrays["feature_names"]) if "feature_names" in keys else None
    class_names = _names(arrays["class_names"]) if "class_names" in keys else None
    return _Contents(parts, feature_names, class_names)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: Path) -> _Contents:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if not rows:
        raise ValueError(f"{path} is empty; expected one example per row, the last column the label")
    header = None
    if not any(_is_number(cell) for cell in rows[0][1]):
        header = [cell.strip() for cell in rows[0][1]]
        rows = rows[1:]
    if not rows:
        raise ValueError(f"{path} has a header but no examples")
    n_columns = len(header) if header is not None else len(rows[0][1])
    if n_columns < 2:
        raise ValueError(f"{path}: expected at least 2 columns (features, then the label); found {n_columns}")
    values = np.empty((len(rows), n_columns))
    for i, (line, row) in enumerate(rows):
        if len(row) != n_columns:
            raise ValueError(f"{path} line {line}: expected {n_columns} columns, found {len(row)}")
        try:
            values[i] = row
        except ValueError:
            column, cell = next((j, cell) for j, cell in enumerate(row, start=1) if not _is_number(cell))
            raise ValueError(f"{path} line {line}, column {column}: expected a number, found {cell!r}") from None
        if not np.isfinite(values[i]).all():
            column = int(np.flatnonzero(~np.isfinite(values[i]))[0]) + 1
            raise ValueError(f"{path} line {line}, column {column}: expected a finite number, found {row[column - 1]!r}")
    X = np.ascontiguousarray(values[:, :-1].T)
    Y = values[:, -1].reshape(1, -1)
    feature_names = tuple(header[:-1]) if header is not None else None
    return _Contents({"examples": (X, Y)}, feature_names=feature_names)
