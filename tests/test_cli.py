"""``deepnet train`` / ``deepnet info`` run in-process through ``cli.main``."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepnet_gpu import DeepNet, cli, get_backend

FAST = ["--epochs", "30", "--print-every", "10"]


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


def test_train_without_matplotlib_says_so(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    status, out, _ = run(capsys, "train", "--plot", str(tmp_path / "c.png"), *FAST)
    assert status == 0
    assert "cost curve not plotted: matplotlib is not installed (pip install 'deepnet_gpu[plot]')" in out
    assert not (tmp_path / "c.png").exists()


def test_train_save_then_load(capsys, tmp_path):
    path = tmp_path / "net.npz"
    status, out, _ = run(capsys, "train", "--no-plot", "--hidden", "5", "--save", str(path), *FAST)
    assert status == 0 and f"saved the network to {path}" in out
    net = DeepNet.load(path, device="cpu")
    assert list(net.layer_dims) == [30, 5, 1]


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
        (["train", "--device", "tpu"], "argument --device: device must be one of cpu, cuda, cuda:N, auto; got 'tpu'"),
        (["train", "--test-data", "t.npz"], "argument --test-data: needs --data"),
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
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    for command, expected in (("train", "train_catvnoncat.h5"), ("bench", "--markdown FILE")):
        result = subprocess.run([sys.executable, "-m", module, command, "--help"], capture_output=True, text=True,
                                env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        assert f"usage: deepnet {command}" in result.stdout and expected in result.stdout
