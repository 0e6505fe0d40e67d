"""Bad input: a clear error naming the argument, raised before any work, and nothing changed."""

import numpy as np
import pytest

from deepnet_gpu import DeepNet, gradcheck
from deepnet_gpu.backend import get_backend
from deepnet_gpu.validation import encode_Y


@pytest.mark.parametrize("kwargs, match", [
    ({"layer_dims": [3]}, "layer_dims needs at least two"),
    ({"layer_dims": [3, 0, 1]}, r"layer_dims\[1\] must be a positive integer"),
    ({"layer_dims": [3, 2.5, 1]}, r"layer_dims\[1\]"),
    ({"layer_dims": [3, True, 1]}, r"layer_dims\[1\]"),
    ({"layer_dims": 5}, "layer_dims must be a sequence"),
    ({"layer_dims": "3,4,1"}, "layer_dims must be a sequence of positive integers .*got '3,4,1'"),
    ({"layer_dims": {3: 0, 4: 0, 1: 0}}, "layer_dims must be a sequence"),
    ({"hidden_activation": None}, "hidden_activation must be one name or a list of L-1=1 names; got None"),
    ({"hidden_activation": 5}, "hidden_activation must be one name or a list of L-1=1 names; got 5"),
    ({"hidden_activation": "swish"}, "hidden_activation must be one of relu"),
    ({"hidden_activation": ["relu", "tanh"]}, "list of L-1=1 names"),
    ({"output_activation": "relu"}, "output_activation must be one of sigmoid, softmax, linear"),
    ({"loss": "hinge"}, "loss must be one of"),
    ({"loss": ["hinge"]}, r"loss must be one of .*; got \['hinge'\]"),
    ({"loss": "squared_error"}, "needs output_activation='linear'"),
    ({"init": "zeros"}, "init must be one of he, xavier, course_small, course_scaled"),
    ({"device": "tpu"}, "device must be one of cpu, cuda, cuda:N, auto"),
    ({"device": 3}, "device must be one of"),
    ({"dtype": "float16"}, "dtype must be one of float32, float64"),
    ({"dtype": 1.5}, "dtype must be one of float32, float64; got 1.5"),
    ({"dtype": None}, "dtype must be one of float32, float64; got None"),
    ({"seed": -1}, r"seed must be None or an integer in \[0, 2\*\*32\); got -1"),
    ({"seed": 2**32, "init": "course_scaled"}, r"seed must be None or an integer in \[0, 2\*\*32\); got 4294967296"),
    ({"seed": 2**40}, r"seed must be None or an integer in \[0, 2\*\*32\)"),
    ({"seed": 1.0}, r"seed must be None or an integer"),
    ({"seed": 10**5000}, r"seed must be None or an integer in \[0, 2\*\*32\); got an integer of about 10\*\*5000$"),
    ({"tf32": "yes"}, "tf32 must be True or False"),
    ({"hidden_activation": "leaky_relu", "leaky_slope": 1.5}, r"leaky_slope must be a number in \[0, 1\)"),
    ({"leaky_slope": 1.5}, r"leaky_slope must be a number in \[0, 1\); got 1.5"),
    ({"leaky_slope": "abc"}, r"leaky_slope must be a number in \[0, 1\); got 'abc'"),
    ({"leaky_slope": float("nan")}, r"leaky_slope must be a number in \[0, 1\)"),
    ({"leaky_slope": -10**400}, r"leaky_slope must be a number in \[0, 1\); got an integer of about -10\*\*400$"),
    ({"output_activation": "softmax", "layer_dims": [3, 4, 1]}, "softmax output needs n\\[L\\] >= 2"),
])
def test_constructor_rejects(kwargs, match):
    args = {"layer_dims": [3, 4, 1], "device": "cpu", **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        DeepNet(**args)


@pytest.fixture
def net():
    return DeepNet([3, 4, 1], seed=0, device="cpu")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 8)), (rng.random((1, 8)) > 0.5).astype(float)


def bad_fit_calls(X, Y):
    nan_X = X.copy()
    nan_X[1, 2] = np.nan
    inf_Y = Y.copy()
    inf_Y[0, 0] = np.inf
    return [
        ({"X": X[0]}, r"X must be 2-D of shape \(n_x=3, m\)"),
        ({"X": X[:2]}, "X must have n_x=3 rows"),
        ({"X": X.T}, r"transpose it\?"),
        ({"X": nan_X}, "X contains NaN or Inf"),
        ({"X": X + 1j}, "X must be a numeric array of real numbers; got dtype complex128"),
        ({"X": [[1.0, 2.0], [3.0]]}, r"X must be a numeric array; got list \(setting an array element with a sequence"),
        ({"X": np.where(X > 0, 1e39, X)}, r"X has values beyond the float32 range \(largest magnitude 1e\+39; "
                                          r"float32 holds up to 3.403e\+38\)"),
        ({"X": np.where(X > 0, np.longdouble("1e400"), X.astype(np.longdouble))},
         r"X has values beyond the float32 range \(largest magnitude 1e\+400; "),
        ({"X": None}, "X must be a numeric array; got NoneType"),
        ({"X": np.ma.masked_greater(X, 0)}, r"X is a masked array with masked entries \(11 of 24\), whose hidden "
                                             r"values would be computed with; fill them first \(np.ma.filled\)"),
        ({"Y": np.ma.masked_equal(Y, 1)}, r"Y is a masked array with masked entries"),
        ({"Y": None}, "Y must be the targets of X's examples; got None"),
        ({"Y": Y.T}, r"Y must hold m=8 examples \(columns\), as X does; got shape \(8, 1\) \(examples as columns: transpose it\?\)"),
        ({"Y": {"labels": Y}}, "Y must be a numeric array; got dict"),
        ({"Y": Y.astype(str)}, "Y must be a numeric array of real numbers; got dtype <U"),
        ({"Y": Y[:, :5]}, "Y must hold m=8 examples"),
        ({"Y": np.vstack([Y, Y])}, "Y must have n_y=1 rows"),
        ({"Y": inf_Y}, "Y contains NaN or Inf"),
        ({"Y": Y * 2}, "Y must hold labels 0 or 1 for a sigmoid output; got values 2.0"),
        ({"learning_rate": 0}, "learning_rate must be a positive finite number"),
        ({"learning_rate": float("nan")}, "learning_rate must be a positive finite number"),
        ({"learning_rate": "0.1"}, "learning_rate must be a positive finite number"),
        ({"learning_rate": 1e300}, r"learning_rate must be at most 3.403e\+38, the largest float32; got 1e\+300"),
        ({"learning_rate": 1e-50}, r"learning_rate must be at least 1.401e-45, the smallest positive float32: 1e-50 "
                                   r"rounds to 0 there"),
        ({"epochs": -1}, "epochs must be an integer >= 0"),
        ({"epochs": 2.5}, "epochs must be an integer >= 0"),
        ({"epochs": True}, "epochs must be an integer >= 0; got True"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"print_every": -2}, "print_every must be an integer >= 0"),
        ({"shuffle": "yes"}, "shuffle must be True or False"),
        ({"validation_data": X}, r"validation_data must be a pair \(X_val, Y_val\), a tuple or list; got ndarray"),
        ({"validation_data": (X, Y, X)}, r"validation_data must be a pair \(X_val, Y_val\); got a tuple of 3 items"),
        ({"validation_data": (X, Y[:, :5])}, r"validation_data\[1\] must hold m=8 examples \(columns\), as "
                                             r"validation_data\[0\] does; got shape \(1, 5\)$"),
        ({"Y": Y[0, :5]}, r"Y must hold m=8 examples \(columns\), as X does; got shape \(5,\)$"),
        ({"learning_rate": 10**400}, r"learning_rate must be a positive finite number; got an integer of about 10\*\*400$"),
        ({"epochs": -10**5000}, r"epochs must be an integer >= 0; got an integer of about -10\*\*5000$"),
        ({"validation_data": (X[:2], Y)}, r"validation_data\[0\] must have n_x=3 rows"),
        ({"validation_data": (None, Y)}, r"validation_data\[0\] must be a numeric array; got NoneType"),
    ]


def test_fit_rejects_bad_input_and_changes_nothing(net, data):
    X, Y = data
    before = net.parameters
    for change, match in bad_fit_calls(X, Y):
        args = {"X": X, "Y": Y, "learning_rate": 0.1, "epochs": 2, **change}
        with pytest.raises((ValueError, TypeError), match=match):
            net.fit(args.pop("X"), args.pop("Y"), **args)
        for name, value in net.parameters.items():
            np.testing.assert_array_equal(value, before[name])


def test_softmax_labels_out_of_range_or_fractional():
    net = DeepNet([2, 3], output_activation="softmax", device="cpu")
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"class labels must be integers in \[0, 3\); got values 3.0"):
        net.fit(X, [0, 1, 3], learning_rate=0.1, epochs=1)
    with pytest.raises(ValueError, match="got values 0.5"):
        net.fit(X, [[0, 0.5, 1]], learning_rate=0.1, epochs=1)
    with pytest.raises(ValueError, match="got values 0.3$"):  # as given, not float32's 0.30000001192092896
        net.fit(X, [[0, 0.3, 1]], learning_rate=0.1, epochs=1)
    with pytest.raises(ValueError, match="one-hot"):
        net.fit(X, np.ones((3, 3)), learning_rate=0.1, epochs=1)


def test_predict_and_gradients_check_their_input(net, data):
    X, Y = data
    for method in (net.cost, net.score, net.gradients):
        with pytest.raises(TypeError, match="Y must be the targets of X's examples; got None"):
            method(X, None)
    with pytest.raises(TypeError, match="X must be a numeric array of real numbers; got dtype complex128"):
        net.predict_proba(X.astype(complex))
    with pytest.raises(ValueError, match="X must have n_x=3 rows"):
        net.predict(X[:1])
    with pytest.raises(ValueError, match="Y must hold m=8 examples"):
        net.gradients(X, Y[:, :3])
    with pytest.raises(TypeError, match="X must be a numeric array"):
        net.predict([["a", "b", "c"]] * 3)


def test_set_parameters_rejects_wrong_shapes_and_keeps_the_old(net):
    before = net.parameters
    wrong = dict(before, W1=np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"parameters\['W1'\] must have shape \(4, 3\); got \(4, 2\)"):
        net.set_parameters(wrong)
    missing = {k: v for k, v in before.items() if k != "b2"}
    with pytest.raises(ValueError, match="missing 'b2'"):
        net.set_parameters(missing)
    with pytest.raises(ValueError, match=r"parameters has keys this network does not have: 'W3', 'b3' "
                                         r"\(it has W1, b1, W2, b2\)"):
        net.set_parameters(dict(before, W3=np.zeros((1, 1)), b3=np.zeros((1, 1))))
    with pytest.raises(ValueError, match="parameters has keys this network does not have: 'w2'"):
        net.set_parameters(dict(before, w2=before["W2"]))
    nan = dict(before, b1=np.full((4, 1), np.nan))
    with pytest.raises(ValueError, match="contains NaN"):
        net.set_parameters(nan)
    for value, error, match in [
        (before["W1"] + 1j, TypeError, r"parameters\['W1'\] must be a numeric array of real numbers; got dtype complex64"),
        (before["W1"].astype(str), TypeError, r"parameters\['W1'\] must be a numeric array of real numbers; got dtype <U"),
        (np.full((4, 3), 1e39), ValueError, r"parameters\['W1'\] has values beyond the float32 range"),
    ]:
        with pytest.raises(error, match=match):
            net.set_parameters(dict(before, W1=value))
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_masked_arrays_without_masked_entries_and_other_subclasses_are_read_as_their_values(net, data):
    X, _ = data
    expected = net.predict_proba(X)
    np.testing.assert_array_equal(net.predict_proba(np.ma.masked_array(X)), expected)
    np.testing.assert_array_equal(net.predict_proba(np.matrix(X)), expected)
    with pytest.raises(ValueError, match=r"parameters\['b2'\] is a masked array with masked entries \(1 of 1\)"):
        net.set_parameters(dict(net.parameters, b2=np.ma.masked_array([[0.5]], mask=True)))


class ArrayLike:
    """An object NumPy reads through ``__array__``, as it reads a pandas DataFrame or a PyTorch CPU tensor."""

    def __init__(self, values):
        self.values = values

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)


def test_objects_numpy_reads_are_taken_for_inputs_and_parameters(net, data):
    X, Y = data
    np.testing.assert_array_equal(net.predict_proba(ArrayLike(X)), net.predict_proba(X))
    assert net.cost(ArrayLike(X), ArrayLike(Y)) == net.cost(X, Y)
    W1 = np.arange(12.0).reshape(4, 3) / 10
    net.set_parameters(dict(net.parameters, W1=ArrayLike(W1)))
    np.testing.assert_array_equal(net.parameters["W1"], W1.astype(np.float32))


def test_the_largest_seed_reproduces_the_legacy_stream():
    net = DeepNet([3, 4, 1], init="course_small", seed=2**32 - 1, device="cpu", dtype="float64")
    np.testing.assert_array_equal(net.parameters["W1"], np.random.RandomState(2**32 - 1).randn(4, 3) * 0.01)


def test_leaky_slope_bounds_are_zero_inclusive_and_one_exclusive():
    X = np.random.default_rng(0).standard_normal((3, 5))
    zero = DeepNet([3, 4, 1], hidden_activation="leaky_relu", leaky_slope=0.0, seed=0, device="cpu", dtype="float64")
    relu = DeepNet([3, 4, 1], hidden_activation="relu", seed=0, device="cpu", dtype="float64")
    np.testing.assert_array_equal(zero.predict_proba(X), relu.predict_proba(X))
    with pytest.raises(ValueError, match=r"leaky_slope must be a number in \[0, 1\); got 1.0"):
        DeepNet([3, 4, 1], hidden_activation="leaky_relu", leaky_slope=1.0, device="cpu")


def test_one_example_is_enough_and_none_is_refused(net):
    X = np.random.default_rng(1).standard_normal((3, 1))
    assert net.predict_proba(X).shape == (1, 1)
    assert net.fit(X, [[1.0]], learning_rate=0.1, epochs=1)["cost"][0] > 0
    with pytest.raises(ValueError, match=r"X must hold at least one example \(column\); got shape \(3, 0\)"):
        net.predict(np.zeros((3, 0)))


def test_class_labels_become_one_hot_columns_in_the_networks_dtype():
    Y = encode_Y(np.array([2.0, 0.0, 1.0]), 3, 3, "softmax", get_backend("cpu"), np.dtype(np.float32))
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, np.eye(3)[:, [2, 0, 1]])


def test_targets_come_back_in_the_networks_dtype():
    Y = encode_Y(np.array([[0.0, 1.0]]), 2, 1, "sigmoid", get_backend("cpu"), np.dtype(np.float32))
    assert Y.dtype == np.float32


def test_targets_of_three_dimensions_are_refused():
    with pytest.raises(ValueError, match=r"Y must be 2-D \(n_y=1, m\) or 1-D \(m,\); got shape \(1, 1, 3\)"):
        encode_Y(np.zeros((1, 1, 3)), 3, 1, "sigmoid", get_backend("cpu"), np.dtype(np.float64))


@pytest.mark.parametrize("Y, came", [
    ([[1.5, 0.0], [-0.5, 1.0]], "got values -0.5, 1.5"),  # columns sum to 1 but are not probabilities
    ([[0.5, 0.0], [0.5015, 1.0]], r"column 0 sums to 1.0015 \(allowed: 1 ± 0.001\)"),
    ([[1.0, 0.0], [0.0, 0.998]], r"column 1 sums to 0.998 \(allowed: 1 ± 0.001\)"),
    ([[-0.5], [0.75], [0.75]], "got values -0.5"),
    ([[1.0005], [0.0]], "got values 1.0005"),  # an entry above 1, the sum within the tolerance
])
def test_softmax_targets_must_be_probability_columns(Y, came):
    Y = np.array(Y)
    with pytest.raises(ValueError, match="must be one-hot \\(or probability\\) columns summing to 1 .*; " + came + "$"):
        encode_Y(Y, Y.shape[1], Y.shape[0], "softmax", get_backend("cpu"), np.dtype(np.float64))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_probabilities_rounded_to_three_decimals_over_three_classes_are_all_taken(dtype):
    # Such a column sums to exactly 1 or 1 ± 0.001, which in binary may land a few ulps past the tolerance.
    rng = np.random.default_rng(4)
    rounded = np.round(rng.dirichlet(np.ones(3), size=2000).T, 3)
    off = np.abs(rounded.sum(axis=0) - 1)
    assert (off > 1e-3).any() and (off < 1.5e-3).all()  # the columns that used to be refused are here
    encoded = encode_Y(rounded, 2000, 3, "softmax", get_backend("cpu"), np.dtype(dtype))
    np.testing.assert_allclose(encoded.sum(axis=0), 1, rtol=0, atol=1e-6)
    for column in ([0.1, 0.2, 0.699], [0.2, 0.301, 0.5]):
        encode_Y(np.array(column).reshape(3, 1), 1, 3, "softmax", get_backend("cpu"), np.dtype(dtype))


def test_rounded_softmax_probabilities_are_divided_by_their_column_sums():
    X = np.random.default_rng(3).standard_normal((4, 3))
    rounded = np.array([[0.333, 0.5, 0.1667], [0.333, 0.25, 0.1667], [0.333, 0.25, 0.6667]])
    sums = rounded.sum(axis=0)
    encoded = encode_Y(rounded, 3, 3, "softmax", get_backend("cpu"), np.dtype(np.float64))
    np.testing.assert_allclose(encoded.sum(axis=0), 1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(encoded, rounded / sums, rtol=1e-15)
    net = DeepNet([4, 5, 3], hidden_activation="tanh", output_activation="softmax", seed=0, device="cpu",
                  dtype="float64")
    assert net.cost(X, rounded) == net.cost(X, rounded / sums)
    assert gradcheck(net, X, rounded) < 2e-7


def test_negative_class_labels_are_refused_and_at_most_five_are_named():
    with pytest.raises(ValueError, match=r"class labels must be integers in \[0, 2\); got values -1.0$"):
        encode_Y(np.array([-1.0, 0.0]), 2, 2, "softmax", get_backend("cpu"), np.dtype(np.float64))
    with pytest.raises(ValueError, match=r"got values 2.0, 3.0, 4.0, 5.0, 6.0$"):
        encode_Y(np.array([0.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), 7, 2, "softmax", get_backend("cpu"), np.dtype(np.float64))
