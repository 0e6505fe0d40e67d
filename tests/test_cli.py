"""``deepnet train`` / ``deepnet info`` run in-process through ``cli.main``."""

import errno
import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest

from deepnet_gpu import DeepNet, arguments, backend, cli, datasets, get_backend

FAST = ["--epochs", "30", "--print-every", "10"]
SOURCE_TREE_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                                os.environ.get("PYTHONPATH", "")])}


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_train_on_the_embedded_dataset(capsys):
    status, out, err = run(capsys, "train", "--no-plot", *FAST)
    assert status == 0, err
    assert "data: breast_cancer: 455 training and 114 test examples, 30 features" in out
    assert f"device: {get_backend('auto').device}" in out
    assert "DeepNet([30, 16, 8, 1]" in out
    assert "Cost after epoch 10:" in out and "Cost after epoch 29:" in out
    assert "train accuracy: " in out and "test accuracy: " in out
    assert "cost curve" not in out and err == ""


def test_default_settings_reach_a_good_test_accuracy(capsys):
    status, out, _ = run(capsys, "train", "--no-plot", "--print-every", "0")
    assert status == 0
    accuracy = float(out.split("test accuracy: ")[1].split("%")[0])
    assert accuracy >= 95.0


def test_train_writes_the_cost_curve(capsys, tmp_path):
    path = tmp_path / "curve.png"
    status, out, _ = run(capsys, "train", "--plot", str(path), *FAST)
    assert status == 0
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed (pip install 'deepnet_gpu[plot]')" in out
    else:
        assert f"cost curve: {path}" in out
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("plot", [[], ["--plot", "{tmp}/c.png"]])
def test_train_without_matplotlib_says_so_and_does_not_try_the_plots_file(capsys, tmp_path, monkeypatch, plot):
    def read_only(path, mode):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes the import fail
    monkeypatch.setattr(arguments, "open", read_only, raising=False)
    status, out, err = run(capsys, "train", *(arg.format(tmp=tmp_path) for arg in plot), *FAST)
    assert status == 0, err
    assert "cost curve not plotted: matplotlib is not installed (pip install 'deepnet_gpu[plot]')" in out
    assert not (tmp_path / "c.png").exists()


def test_train_save_then_load(capsys, tmp_path):
    path = tmp_path / "net.npz"
    status, out, _ = run(capsys, "train", "--no-plot", "--hidden", "5", "--save", str(path), *FAST)
    assert status == 0
    assert f"saved the network to {path}; it takes the raw features: their standardization is folded into W1 and b1" in out
    net = DeepNet.load(path, device="cpu")
    assert list(net.layer_dims) == [30, 5, 1]
    raw = datasets.load(datasets.DEFAULT_FILE)
    assert f"test accuracy: {100 * net.score(raw.X_test, raw.Y_test):.2f}%" in out


@pytest.mark.parametrize("standardize", [True, False])
def test_a_saved_network_takes_the_features_of_the_data_file(capsys, tmp_path, standardize):
    rng = np.random.default_rng(2)
    X = rng.normal([[40.0], [-3.0], [0.5]], [[8.0], [0.2], [1.0]], size=(3, 80))
    Y = (X[0] - 40 + 30 * (X[1] + 3) > 0).astype(int)
    np.savez(tmp_path / "d.npz", X=X, Y=Y)
    options = ["--hidden", "4", "--dtype", "float64", "--device", "cpu", "--seed", "2", "--epochs", "20"]
    status, out, err = run(capsys, "train", "--data", str(tmp_path / "d.npz"), "--save", str(tmp_path / "net.npz"),
                           "--no-plot", *(["--standardize"] if standardize else []), *options)
    assert status == 0, err
    assert out.endswith(f"saved the network to {tmp_path / 'net.npz'}" +
                        ("; it takes the raw features: their standardization is folded into W1 and b1\n" if standardize else "\n"))
    data = datasets.load(tmp_path / "d.npz", standardize=standardize)
    trained = DeepNet([3, 4, 1], seed=2, device="cpu", dtype="float64")
    trained.fit(data.X_train, data.Y_train, learning_rate=cli.DEFAULT_LEARNING_RATE, epochs=20)
    saved = DeepNet.load(tmp_path / "net.npz", device="cpu")
    np.testing.assert_allclose(saved.predict_proba(datasets.load(tmp_path / "d.npz").X_test),
                               trained.predict_proba(data.X_test), rtol=1e-12)


def test_train_on_a_multiclass_npz_infers_softmax(capsys, tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 20)
    X = rng.normal(size=(4, 60)) + labels  # separable enough
    np.savez(tmp_path / "three.npz", X=X, Y=labels)
    status, out, err = run(capsys, "train", "--data", str(tmp_path / "three.npz"), "--hidden", "6",
                           "--standardize", "--no-plot", *FAST)
    assert status == 0, err
    assert "data: three: 48 training and 12 test examples, 4 features" in out
    assert "DeepNet([4, 6, 3]" in out and "output_activation='softmax'" in out


def test_train_on_a_csv_with_layers_batches_and_options(capsys, tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    rows = "\n".join(",".join(f"{v:.5f}" for v in row) + f",{label}" for row, label in zip(X, y, strict=True))
    (tmp_path / "d.csv").write_text("a,b,c,label\n" + rows + "\n")
    status, out, err = run(capsys, "train", "--data", str(tmp_path / "d.csv"), "--layers", "3,4,1", "--batch-size", "8",
                           "--hidden-activation", "tanh", "--init", "xavier", "--dtype", "float64", "--device", "cpu",
                           "--learning-rate", "0.5", "--seed", "3", "--no-plot", *FAST)
    assert status == 0, err
    assert "DeepNet([3, 4, 1], hidden_activation=['tanh']" in out and "dtype='float64'" in out
    assert "device: cpu\n" in out


def test_train_on_real_valued_targets_reports_r2(capsys, tmp_path):
    X = np.linspace(-1, 1, 50).reshape(1, -1)
    np.savez(tmp_path / "reg.npz", X=X, Y=0.5 * X + 0.1)
    status, out, err = run(capsys, "train", "--data", str(tmp_path / "reg.npz"), "--no-plot", *FAST)
    assert status == 0, err
    assert "output_activation='linear'" in out and "test R²: " in out


def test_train_on_the_course_hdf5_files(capsys, tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(2)
    for part, m in (("train", 20), ("test", 6)):
        with h5py.File(tmp_path / f"{part}_catvnoncat.h5", "w") as f:
            f[f"{part}_set_x"] = rng.integers(0, 256, (m, 4, 4, 3), dtype=np.uint8)
            f[f"{part}_set_y"] = np.arange(m) % 2
            f["list_classes"] = np.array([b"non-cat", b"cat"])
    status, out, err = run(capsys, "train", "--data", str(tmp_path / "train_catvnoncat.h5"),
                           "--test-data", str(tmp_path / "test_catvnoncat.h5"), "--no-plot", *FAST)
    assert status == 0, err
    assert "data: train_catvnoncat+test_catvnoncat: 20 training and 6 test examples, 48 features" in out
    assert "DeepNet([48, 16, 8, 1]" in out


def test_info_prints_numpy_blas_and_cuda(capsys):
    status, out, _ = run(capsys, "info")
    assert status == 0
    assert "NumPy " in out and "BLAS: " in out and "CUDA: " in out and "device='auto': " in out


def test_info_json(capsys):
    import json

    status, out, _ = run(capsys, "info", "--json")
    assert status == 0 and json.loads(out)["numpy"] == np.__version__


@pytest.mark.parametrize(
    "argv, named",
    [
        (["train", "--epochs", "0"], "argument --epochs: expected a positive integer; got '0'"),
        (["train", "--learning-rate", "-1"], "argument --learning-rate: expected a positive finite number; got '-1'"),
        (["train", "--hidden", "4,x"], "argument --hidden: expected comma-separated positive integers"),
        (["train", "--hidden-activation", "swish"], "argument --hidden-activation: invalid choice: 'swish'"),
        (["train", "--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
        (["train", "--test-fraction", "1.5"], "argument --test-fraction: expected a number between 0 and 1"),
        (["train", "--hidden", "4", "--layers", "30,4,1"], "argument --layers: not allowed with argument --hidden"),
        (["train", "--epochs", "abc"], "argument --epochs: expected a positive integer; got 'abc'"),
        (["train", "--print-every", "-1"], "argument --print-every: expected an integer >= 0; got '-1'"),
        (["train", "--learning-rate", "0"], "argument --learning-rate: expected a positive finite number; got '0'"),
        (["train", "--test-fraction", "0"], "argument --test-fraction: expected a number between 0 and 1 (exclusive); got '0'"),
        (["train", "--test-fraction", "1"], "argument --test-fraction: expected a number between 0 and 1 (exclusive); got '1'"),
        (["train", "--hidden", "16,0"], "argument --hidden: expected comma-separated positive integers such as 16,8; got '16,0'"),
        (["train", "--init", "zeros"], "argument --init: invalid choice: 'zeros'"),
        (["train", "--output-activation", "relu"], "argument --output-activation: invalid choice: 'relu'"),
        (["train", "--hidden", "16,,8"], "argument --hidden: expected comma-separated positive integers such as 16,8; got '16,,8'"),
        (["train", "--hidden", ""], "argument --hidden: expected comma-separated positive integers such as 16,8; got ''"),
        (["bench", "--seed", "-1"], "argument --seed: expected an integer in [0, 2**32); got '-1'"),
        (["bench", "--seed", "4294967296"], "argument --seed: expected an integer in [0, 2**32); got '4294967296'"),
        (["train", "--seed", "4294967296"], "argument --seed: expected an integer in [0, 2**32); got '4294967296'"),
        (["bogus"], "argument COMMAND: invalid choice: 'bogus'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(capsys, argv, named):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert named in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--layers", "31,4,1"], "argument --layers: the data needs input size 30 and output size 1; got 31,4,1"),
        (["train", "--layers", "30"], "argument --layers: needs at least the input and output sizes; got 30"),
        (["train", "--device", "tpu"], "argument --device: device must be one of cpu, cuda, cuda:N, auto; got 'tpu'"),
        (["train", "--test-data", "t.npz"], "argument --test-data: needs --data (the embedded dataset is split by --test-fraction)"),
        (["train", "--data", "no/such/file.csv"], "data file not found: no/such/file.csv"),
        (["train", "--data", "data.txt"], "unknown extension '.txt'"),
    ],
)
def test_errors_are_one_line_with_status_2(capsys, argv, message):
    status, _, err = run(capsys, *argv, "--no-plot")
    assert status == 2
    assert err.startswith("deepnet train: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv", [["train", "--device", "cuda", "--no-plot"], ["bench", "--device", "cuda"]])
def test_a_kernel_compile_failure_exits_2_with_the_log(capsys, monkeypatch, argv):
    from deepnet_gpu import backend
    from deepnet_gpu.kernels import KernelCompileError

    def fail(device, index, tf32=False):
        raise KernelCompileError("kernels/update.cu (accumulate_cost, sgd_update) failed to compile:\nerror: the log")

    monkeypatch.setattr(backend, "_cuda_backend", fail)
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert err.startswith(f"deepnet {argv[0]}: error: kernels/update.cu") and "error: the log" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["train", "--save", "{tmp}/no/such/folder/net.npz"], "argument --save: cannot write {tmp}/no/such/folder/net.npz: "
                                                          "the folder {tmp}/no/such/folder does not exist"),
    (["train", "--save", "{tmp}"], "argument --save: {tmp} is a folder; expected a file name"),
    (["train", "--plot", "{tmp}/missing/c.png"], "argument --plot: cannot write {tmp}/missing/c.png: the folder {tmp}/missing"),
    (["train", "--plot", "{tmp}"], "argument --plot: {tmp} is a folder"),
    (["train", "--plot", "{tmp}/c.jpg"], "argument --plot: expected a file ending in .png, .pdf, .svg, .eps, .ps; got '{tmp}/c.jpg'"),
    (["train", "--plot", "{tmp}/c"], "argument --plot: expected a file ending in .png"),
    (["bench", "--quick", "--json", "{tmp}/none/r.json"], "argument --json: cannot write {tmp}/none/r.json"),
    (["bench", "--quick", "--markdown", "{tmp}"], "argument --markdown: {tmp} is a folder"),
    (["bench", "--quick", "--plot", "{tmp}/s.gif"], "argument --plot: expected a file ending in .png"),
    (["bench", "--quick", "--json", ""], "argument --json: expected a file name; got ''"),
    (["train", "--save", ""], "argument --save: expected a file name; got ''"),
    (["bench", "--quick", "--json", "{tmp}/r.out", "--markdown", "{tmp}/r.out"],
     "argument --markdown: {tmp}/r.out is also the file of --json; expected another file"),
    (["train", "--save", "{tmp}/c.png", "--plot", "{tmp}/./c.png"],
     "argument --plot: {tmp}/./c.png is also the file of --save; expected another file"),
    (["bench", "--quick", "--json", "{tmp}/dangling.json"], "argument --json: cannot write {tmp}/dangling.json: "
                                                            "the folder {tmp}/no/such does not exist"),
])
def test_output_files_are_checked_before_any_work(capsys, monkeypatch, tmp_path, argv, message):
    def no_work(*args, **kwargs):
        raise AssertionError("work started before the output files were checked")

    monkeypatch.setattr(cli.datasets, "load_default", no_work)
    monkeypatch.setattr(cli.benchmark, "_backends", no_work)
    (tmp_path / "dangling.json").symlink_to(tmp_path / "no" / "such" / "r.json")
    status, out, err = run(capsys, *(arg.format(tmp=tmp_path) for arg in argv))
    assert status == 2 and out == ""
    assert err.startswith(f"deepnet {argv[0]}: error: " + message.format(tmp=tmp_path)) and err.count("\n") == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dangling.json"]


def test_an_output_file_the_system_will_not_open_is_found_before_any_work(capsys, monkeypatch, tmp_path):
    def read_only(path, mode):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(arguments, "open", read_only, raising=False)
    monkeypatch.setattr(cli.benchmark, "_backends", lambda device: pytest.fail("work started"))
    status, out, err = run(capsys, "bench", "--json", str(tmp_path / "r.json"))
    assert status == 2 and out == ""
    assert err == f"deepnet bench: error: argument --json: cannot write {tmp_path / 'r.json'}: Read-only file system\n"


def test_devices_and_pipes_are_written_as_they_are_and_a_link_loop_is_refused(tmp_path):
    arguments.check_output_files((("--json", os.devnull, None), ("--markdown", os.devnull, None)))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    checking = threading.Thread(target=arguments.check_output_file, args=(fifo, "--save"), daemon=True)
    checking.start()
    checking.join(timeout=10)
    assert not checking.is_alive(), "the check opened the named pipe, which waits for a reader"
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    with pytest.raises(ValueError, match=f"argument --save: cannot write {tmp_path / 'loop1'}: Too many levels"):
        arguments.check_output_file(tmp_path / "loop1", "--save")


def test_the_output_check_removes_the_file_it_made_and_leaves_an_existing_one_as_it_was(tmp_path):
    arguments.check_output_file(tmp_path / "new.json", "--json")
    (tmp_path / "link.json").symlink_to(tmp_path / "target.json")
    arguments.check_output_file(tmp_path / "link.json", "--json")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["link.json"]
    kept = tmp_path / "kept.json"
    kept.write_text("{}")
    before = kept.stat()
    arguments.check_output_file(kept, "--json")
    assert kept.read_text() == "{}" and kept.stat().st_mtime_ns == before.st_mtime_ns


def test_no_plot_skips_the_plot_path_check(capsys, tmp_path):
    status, out, err = run(capsys, "train", "--no-plot", "--plot", str(tmp_path / "c.jpg"), "--epochs", "1", "--print-every", "0")
    assert status == 0, err
    assert "cost curve" not in out


@pytest.mark.parametrize("suffix", [".svg", ".PDF"])
def test_the_plot_is_written_in_the_format_its_extension_names(capsys, tmp_path, suffix):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"curve{suffix}"
    status, out, err = run(capsys, "train", "--plot", str(path), "--epochs", "2", "--print-every", "0")
    assert status == 0, err
    head = path.read_bytes()[:200]
    assert (b"<svg" in head) if suffix == ".svg" else head.startswith(b"%PDF")


def test_running_out_of_memory_is_one_line_with_status_2(capsys, monkeypatch):
    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.28 TiB for an array with shape (1000000, 1000000)")

    monkeypatch.setattr(cli, "DeepNet", too_big)
    status, _, err = run(capsys, "train", "--no-plot", "--hidden", "1000000,1000000")
    assert status == 2
    assert err == "deepnet train: error: out of memory: Unable to allocate 7.28 TiB for an array with shape (1000000, 1000000)\n"


def test_a_given_sigmoid_output_needs_binary_labels(capsys, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "three.npz", X=rng.standard_normal((2, 30)), Y=np.arange(30) % 3)
    status, _, err = run(capsys, "train", "--no-plot", "--data", str(tmp_path / "three.npz"), "--output-activation", "sigmoid")
    assert status == 2
    assert err == "deepnet train: error: argument --output-activation: sigmoid needs labels 0 or 1; the data's labels include 2\n"


def test_a_closed_output_pipe_ends_the_command_quietly():
    process = subprocess.Popen([sys.executable, "-m", "deepnet_gpu", "train", "--device", "cpu", "--no-plot",
                                "--epochs", "5000", "--print-every", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=SOURCE_TREE_ENV)
    assert process.stdout.readline().startswith(b"data: breast_cancer")
    process.stdout.close()
    assert process.wait(timeout=120) == 1
    assert process.stderr.read() == b""


def test_diverged_training_exits_1_with_one_line(capsys):
    status, _, err = run(capsys, "train", "--learning-rate", "1e10", "--epochs", "20", "--print-every", "0", "--no-plot")
    assert status == 1
    assert err.startswith("deepnet train: error: training diverged") and err.count("\n") == 1


def test_a_registered_command_gets_its_own_subparser(capsys, monkeypatch):
    monkeypatch.setattr(cli, "COMMANDS", dict(cli.COMMANDS))
    seen = {}

    def add_arguments(parser):
        parser.add_argument("--size", type=int, default=1)

    def run_it(args):
        seen["size"] = args.size
        return 0

    cli.register_command("probe", "time things", add_arguments, run_it)
    assert cli.main(["probe", "--size", "7"]) == 0 and seen == {"size": 7}
    with pytest.raises(ValueError, match="already registered"):
        cli.register_command("probe", "again", add_arguments, run_it)


@pytest.mark.parametrize("module", ["deepnet_gpu", "deepnet_gpu.cli"])
def test_python_dash_m_runs_the_cli(module):
    for command, expected in (("train", "train_catvnoncat.h5"), ("bench", "--markdown FILE")):
        result = subprocess.run([sys.executable, "-m", module, command, "--help"], capture_output=True, text=True,
                                env=SOURCE_TREE_ENV, timeout=60)
        assert result.returncode == 0, result.stderr
        assert f"usage: deepnet {command}" in result.stdout and expected in result.stdout


def test_train_defaults_are_the_documented_ones():
    args = cli.build_parser().parse_args(["train"])
    assert (args.data, args.test_data, args.test_fraction, args.split_seed, args.standardize) == (None, None, 0.2, 0, False)
    assert (args.hidden, args.layers, args.hidden_activation, args.output_activation) == (None, None, "relu", None)
    assert (args.init, args.seed, args.device, args.dtype) == ("he", 1, "auto", "float32")
    assert (args.learning_rate, args.epochs, args.batch_size, args.print_every) == (0.1, 1000, None, 100)
    assert (args.plot, args.no_plot, args.save) == ("deepnet_cost.png", False, None)


def test_train_accepts_the_smallest_valid_values():
    args = cli.build_parser().parse_args(
        ["train", "--epochs", "1", "--print-every", "0", "--batch-size", "1", "--seed", "0", "--split-seed", "5",
         "--test-fraction", "0.5", "--learning-rate", "1e-3", "--hidden", "1,2"]
    )
    assert (args.epochs, args.print_every, args.batch_size, args.seed, args.split_seed) == (1, 0, 1, 0, 5)
    assert (args.test_fraction, args.learning_rate, args.hidden) == (0.5, 1e-3, (1, 2))


def test_the_split_options_reach_the_loader(tmp_path):
    args = cli.build_parser().parse_args(["train", "--test-fraction", "0.5", "--split-seed", "3"])
    expected = datasets.load_default(test_fraction=0.5, seed=3)
    np.testing.assert_array_equal(cli._load_data(args).X_test, expected.X_test)
    rng = np.random.default_rng(4)
    np.savez(tmp_path / "d.npz", X=rng.normal(3.0, 2.0, size=(2, 20)), Y=np.arange(20) % 2)
    args = cli.build_parser().parse_args(
        ["train", "--data", str(tmp_path / "d.npz"), "--test-fraction", "0.25", "--split-seed", "4", "--standardize"]
    )
    expected = datasets.load(tmp_path / "d.npz", test_fraction=0.25, seed=4, standardize=True)
    data = cli._load_data(args)
    np.testing.assert_array_equal(data.X_train, expected.X_train)
    np.testing.assert_array_equal(data.X_test, expected.X_test)


ONE_HOT = np.eye(3)[:, [0, 1, 2, 0]]


@pytest.mark.parametrize(
    "Y, activation, expected",
    [
        ([[0, 1, 1, 0]], None, (1, "sigmoid")),
        ([[0, 1, 2, 2]], None, (3, "softmax")),
        ([[-1, 0, 1, 2, 3]], None, (1, "linear")),
        ([[2, 4, 4, 2]], None, (1, "linear")),
        ([[47000, 53000, 50112, 48000]], None, (1, "linear")),
        ([[0, 1, 3, 3]], None, (1, "linear")),
        ([[2, 4, 4, 2]], "softmax", (5, "softmax")),
        ([[0.5, 1.5, 2.5]], None, (1, "linear")),
        ([[0, 0, 0]], "softmax", (2, "softmax")),
        ([[0, 1, 0, 1]], "linear", (1, "linear")),
        (ONE_HOT, None, (3, "softmax")),
        ([[1, 0, 1, 1], [1, 1, 0, 0]], None, (2, "sigmoid")),
        ([[0.5, 2.0, 1.0], [1.0, 0.0, 3.0]], None, (2, "linear")),
        (ONE_HOT, "sigmoid", (3, "sigmoid")),
    ],
)
def test_infer_output_from_the_labels(Y, activation, expected):
    Y = np.asarray(Y, dtype=float)
    assert cli.infer_output(Y[:, :-1], Y[:, -1:], activation) == expected


def test_infer_output_refuses_softmax_over_non_class_labels():
    with pytest.raises(ValueError, match="argument --output-activation: softmax needs integer class labels"):
        cli.infer_output(np.array([[0.5, 1.5]]), np.array([[2.5]]), "softmax")


def test_train_with_only_input_and_output_sizes(capsys):
    status, out, err = run(capsys, "train", "--layers", "30,1", "--epochs", "1", "--print-every", "0", "--no-plot")
    assert status == 0, err
    assert "DeepNet([30, 1]" in out


def test_metrics_are_printed_as_percentages_or_r2():
    assert cli._format_metric(0.875, "sigmoid") == "87.50%"
    assert cli._format_metric(0.875, "softmax") == "87.50%"
    assert cli._format_metric(0.875, "linear") == "0.8750"


def test_plot_costs_draws_both_curves_on_a_log_scale_when_positive(tmp_path, monkeypatch):
    figure_module = pytest.importorskip("matplotlib.figure")
    saved = []
    savefig = figure_module.Figure.savefig

    def spy(self, *args, **kwargs):
        saved.append(self)
        return savefig(self, *args, **kwargs)

    monkeypatch.setattr(figure_module.Figure, "savefig", spy)
    path = cli.plot_costs({"cost": [0.7, 0.5, 0.3], "val_cost": [0.8, 0.6, 0.4]}, tmp_path / "c.png", "the title")
    assert path == tmp_path / "c.png"
    png = path.read_bytes()
    assert int.from_bytes(png[16:20], "big") == 640 and int.from_bytes(png[20:24], "big") == 400
    (axes,) = saved[0].axes
    lines = axes.get_lines()
    assert [line.get_label() for line in lines] == ["training cost", "test cost"]
    np.testing.assert_array_equal(lines[0].get_ydata(), [0.7, 0.5, 0.3])
    np.testing.assert_array_equal(lines[1].get_ydata(), [0.8, 0.6, 0.4])
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_title(), axes.get_yscale()) == ("epoch", "cost J", "the title", "log")
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["training cost", "test cost"]
    cli.plot_costs({"cost": [0.5, 0.4], "val_cost": [0.6, 0.0]}, tmp_path / "d.png", "zero test cost")
    assert saved[1].axes[0].get_yscale() == "linear"
    cli.plot_costs({"cost": [0.5, 0.25]}, tmp_path / "e.png", "no test set")
    assert saved[2].axes[0].get_yscale() == "log" and len(saved[2].axes[0].get_lines()) == 1


def test_train_prints_the_dataset_device_choice_and_validation_note(capsys):
    status, out, err = run(capsys, "train", "--no-plot", "--epochs", "2", "--print-every", "1")
    assert status == 0, err
    assert "\n  Breast Cancer Wisconsin (Diagnostic): 569 examples" in out
    assert f"device: {get_backend('auto').device} ({backend.describe_auto()})\n" in out
    assert "(the validation cost printed below is measured on the test set)" in out
    status, out, err = run(capsys, "train", "--no-plot", "--epochs", "2", "--print-every", "0", "--device", "cpu")
    assert status == 0, err
    assert "device: cpu\n" in out and "validation cost" not in out


def test_train_passes_every_option_to_the_network(capsys, monkeypatch):
    calls = {}

    class Recording(DeepNet):
        def __init__(self, *args, **kwargs):
            calls["init"] = (args, kwargs)
            super().__init__(*args, **kwargs)

        def fit(self, *args, **kwargs):
            calls["fit"] = kwargs
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(cli, "DeepNet", Recording)
    status, _, err = run(capsys, "train", "--device", "cpu", "--hidden", "4", "--hidden-activation", "tanh",
                         "--init", "xavier", "--seed", "3", "--dtype", "float64", "--learning-rate", "0.05",
                         "--epochs", "2", "--batch-size", "50", "--print-every", "1", "--no-plot")
    assert status == 0, err
    assert calls["init"] == (([30, 4, 1],), {"hidden_activation": "tanh", "output_activation": "sigmoid", "init": "xavier",
                                             "seed": 3, "device": get_backend("cpu"), "dtype": "float64"})
    fit = calls["fit"]
    assert (fit["learning_rate"], fit["epochs"], fit["batch_size"], fit["print_every"]) == (0.05, 2, 50, 1)
    assert fit["validation_data"][0].shape == (30, 114) and fit["validation_data"][1].shape == (1, 114)


def test_train_reports_its_time_and_the_saved_file(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "time", types.SimpleNamespace(perf_counter=iter([100.0, 102.5]).__next__))
    status, out, err = run(capsys, "train", "--no-plot", "--epochs", "2", "--print-every", "0",
                           "--save", str(tmp_path / "net"))
    assert status == 0, err
    assert "trained 2 epochs in 2.50 s\n" in out
    assert f"saved the network to {tmp_path / 'net'};" in out and not (tmp_path / "net.npz").exists()
    assert DeepNet.load(tmp_path / "net", device="cpu").layer_dims == (30, 16, 8, 1)
    monkeypatch.setattr(cli, "time", types.SimpleNamespace(perf_counter=iter([0.0, 1.0]).__next__))
    status, out, err = run(capsys, "train", "--no-plot", "--epochs", "2", "--print-every", "0",
                           "--save", str(tmp_path / "again.npz"))
    assert status == 0, err
    assert f"saved the network to {tmp_path / 'again.npz'};" in out
