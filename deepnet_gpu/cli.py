"""The ``deepnet`` command (also ``python -m deepnet_gpu`` and ``python -m deepnet_gpu.cli``):
``deepnet train``, ``deepnet info`` and ``deepnet bench``.

Subcommands live in :data:`COMMANDS`; :func:`register_command` adds one with a function that
adds its arguments to its subparser and a function that runs it from the parsed arguments and
returns the exit status (the calls are at the bottom of this file). Bad arguments exit with
status 2 and argparse's usage message; errors the library raises about the data, the device or
the settings, and running out of memory, print one line ``deepnet <command>: error: ...`` (a
kernel that fails to compile adds the compiler's log after it) and exit with status 2; a diverged
training exits with 1, and so, quietly, does a command whose output pipe was closed (``| head``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import arguments, backend, benchmark, datasets, info
from .activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from .errors import TrainingDivergedError
from .initializers import INITIALIZERS
from .kernels import KernelCompileError
from .network import DeepNet
from .validation import DTYPES

DEFAULT_HIDDEN = (16, 8)
DEFAULT_LEARNING_RATE = 0.1
DEFAULT_EPOCHS = 1000
DEFAULT_PRINT_EVERY = 100
DEFAULT_SEED = 1
DEFAULT_PLOT = "deepnet_cost.png"


@dataclass(frozen=True)
class Command:
    """A subcommand: its one-line help, how it adds its arguments, and how it runs (-> exit status)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


def register_command(name: str, help: str, add_arguments, run) -> None:
    """Add subcommand ``name``: ``add_arguments(subparser)`` declares its options, ``run(args)`` runs it."""
    if name in COMMANDS:
        raise ValueError(f"a subcommand named {name!r} is already registered")
    COMMANDS[name] = Command(help, add_arguments, run)


def build_parser() -> argparse.ArgumentParser:
    """The ``deepnet`` parser with one subparser per registered command."""
    parser = argparse.ArgumentParser(
        prog="deepnet",
        description="Deep L-layer fully connected networks (deeplearning.ai notation) on NumPy or a CUDA GPU.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(
            name, help=command.help, description=command.help, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        command.add_arguments(sub)
        sub.set_defaults(_run=command.run, _parser=sub)
    return parser


def main(argv=None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the subcommand and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args._run(args)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except MemoryError as exc:
        print(f"{args._parser.prog}: error: out of memory: {exc}", file=sys.stderr)
        return 2
    except (ValueError, OSError, ImportError, backend.DeviceUnavailableError, KernelCompileError) as exc:
        print(f"{args._parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except TrainingDivergedError as exc:
        print(f"{args._parser.prog}: error: {exc}", file=sys.stderr)
        return 1


# deepnet train ------------------------------------------------------------------------------------

TRAIN_EPILOG = """\
data files:
  With no --data, trains on the embedded Breast Cancer Wisconsin (Diagnostic) dataset
  (569 examples, 30 features, 0 = malignant, 1 = benign; split 455/114, standardised).
  --data reads .h5/.hdf5 (the course's train_set_x/train_set_y and/or test_set_x/test_set_y
  keys; uint8 images are scaled by 1/255), .npz (X_train, Y_train[, X_test, Y_test], or X, Y;
  X is (n_x, m), one example per column) or .csv (one example per row, the label in the last
  column, optional header). Test examples come from --test-data (for the course:
  --data train_catvnoncat.h5 --test-data test_catvnoncat.h5), else from the file's own test
  keys, else a seeded stratified split holds out --test-fraction of the examples.

layer sizes:
  --hidden 16,8 gives the hidden layer sizes; the input size is the data's number of features
  and the output size follows from the labels. --layers 30,16,8,1 gives every size instead and
  must agree with the data. The output activation, unless given, is sigmoid for 0/1 labels,
  softmax for integer class labels 0..K-1, each present, with K > 2 (K outputs) or one-hot
  columns, and linear for anything else.
"""


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``deepnet train``."""
    parser.epilog = TRAIN_EPILOG
    data = parser.add_argument_group("data")
    data.add_argument("--data", metavar="FILE", help="training data (.h5/.hdf5, .npz or .csv); default: the embedded dataset")
    data.add_argument("--test-data", metavar="FILE", help="test data in any of the same formats (requires --data)")
    data.add_argument("--test-fraction", type=arguments.fraction, default=0.2, metavar="F",
                      help="share of the examples held out for testing when no test set is given (default 0.2)")
    data.add_argument("--split-seed", type=arguments.non_negative_int, default=0, metavar="N",
                      help="seed of the stratified train/test split (default 0)")
    data.add_argument("--standardize", action="store_true",
                      help="z-score the features of --data with the training set's mean and standard deviation "
                           "(the embedded dataset always is)")
    model = parser.add_argument_group("network")
    sizes = model.add_mutually_exclusive_group()
    sizes.add_argument("--hidden", type=arguments.sizes, metavar="N,N,...",
                       help=f"hidden layer sizes (default {','.join(map(str, DEFAULT_HIDDEN))})")
    sizes.add_argument("--layers", type=arguments.sizes, metavar="N0,...,NL", help="every layer size, input and output included")
    model.add_argument("--hidden-activation", choices=HIDDEN_ACTIVATIONS, default="relu", help="(default relu)")
    model.add_argument("--output-activation", choices=OUTPUT_ACTIVATIONS,
                       help="(default: inferred from the labels)")
    model.add_argument("--init", choices=INITIALIZERS, default="he", help="weight initialisation (default he)")
    model.add_argument("--seed", type=arguments.seed, default=DEFAULT_SEED, metavar="N",
                       help=f"seed of the initial weights and the mini-batch order (default {DEFAULT_SEED})")
    model.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default auto: the first GPU if usable)")
    model.add_argument("--dtype", choices=DTYPES, default="float32", help="(default float32)")
    training = parser.add_argument_group("training")
    training.add_argument("--learning-rate", type=arguments.positive_float, default=DEFAULT_LEARNING_RATE, metavar="LR",
                          help=f"(default {DEFAULT_LEARNING_RATE})")
    training.add_argument("--epochs", type=arguments.positive_int, default=DEFAULT_EPOCHS, metavar="N",
                          help=f"(default {DEFAULT_EPOCHS})")
    training.add_argument("--batch-size", type=arguments.positive_int, metavar="N",
                          help="mini-batch size (default: full batch, one step per epoch)")
    training.add_argument("--print-every", type=arguments.non_negative_int, default=DEFAULT_PRINT_EVERY, metavar="N",
                          help=f"print the cost every N epochs, 0 for never (default {DEFAULT_PRINT_EVERY})")
    output = parser.add_argument_group("output")
    output.add_argument("--plot", default=DEFAULT_PLOT, metavar="PATH",
                        help=f"write the cost curve here, in the format its extension names "
                             f"({', '.join(arguments.PLOT_FORMATS)}; needs matplotlib; default {DEFAULT_PLOT})")
    output.add_argument("--no-plot", action="store_true", help="do not plot the cost curve")
    output.add_argument("--save", metavar="PATH",
                        help="save the trained network to exactly this path (an .npz archive; DeepNet.load reads it); "
                             "it takes the raw features, any standardization folded into W1 and b1")


def _load_data(args) -> datasets.Dataset:
    if args.data is None:
        if args.test_data is not None:
            raise ValueError("argument --test-data: needs --data (the embedded dataset is split by --test-fraction)")
        return datasets.load_default(test_fraction=args.test_fraction, seed=args.split_seed)
    return datasets.load(args.data, args.test_data, test_fraction=args.test_fraction, seed=args.split_seed,
                         standardize=args.standardize)


def infer_output(Y_train: np.ndarray, Y_test: np.ndarray, activation: str | None):
    """(n[L], output activation) for labels Y (n_y, m); ``activation`` None means infer it too.

    One row of labels: 0/1 -> (1, sigmoid); integers 0..K-1, every one of them present, with
    K > 2 -> (K, softmax); anything else -> (1, linear): integer targets such as 47000..53000 or
    a class coding such as {2, 4} are not read as classes unless softmax is asked for. Several
    rows: one-hot columns -> softmax, 0/1 -> sigmoid, else linear, with n_y outputs. A given
    softmax over one row of labels gets K outputs; a given sigmoid needs 0/1 labels.
    """
    Y = np.concatenate([Y_train, Y_test], axis=1).astype(np.float64)
    binary = bool(np.isin(Y, (0.0, 1.0)).all())
    if activation == "sigmoid" and not binary:
        others = np.unique(Y[~np.isin(Y, (0.0, 1.0))])[:5]
        raise ValueError(f"argument --output-activation: sigmoid needs labels 0 or 1; the data's labels include "
                         f"{', '.join(f'{v:g}' for v in others)}")
    if Y.shape[0] == 1:
        labels = Y[0]
        is_classes = bool((labels >= 0).all() and (labels == np.floor(labels)).all())
        n_classes = int(labels.max()) + 1 if is_classes else 0
        if activation is None:
            dense = is_classes and np.unique(labels).size == n_classes
            activation = "sigmoid" if binary else "softmax" if dense and n_classes > 2 else "linear"
        if activation == "softmax":
            if not is_classes:
                raise ValueError("argument --output-activation: softmax needs integer class labels 0..K-1")
            return max(n_classes, 2), activation
        return 1, activation
    if activation is None:
        one_hot = binary and bool((Y.sum(axis=0) == 1).all())
        activation = "softmax" if one_hot else "sigmoid" if binary else "linear"
    return Y.shape[0], activation


def _layer_dims(args, n_x: int, n_out: int) -> list:
    if args.layers is None:
        return [n_x, *(args.hidden or DEFAULT_HIDDEN), n_out]
    dims = list(args.layers)
    if len(dims) < 2:
        raise ValueError(f"argument --layers: needs at least the input and output sizes; got {dims[0]}")
    if dims[0] != n_x or dims[-1] != n_out:
        raise ValueError(
            f"argument --layers: the data needs input size {n_x} and output size {n_out}; got {','.join(map(str, dims))} "
            f"(or give only the hidden sizes with --hidden)"
        )
    return dims


def _metric_name(output_activation: str) -> str:
    return "R²" if output_activation == "linear" else "accuracy"


def _format_metric(value: float, output_activation: str) -> str:
    return f"{value:.4f}" if output_activation == "linear" else f"{100 * value:.2f}%"


def plot_costs(history: dict, path, title: str) -> Path:
    """Write the training (and test) cost per epoch at ``path``, in the format its extension names
    (:data:`~deepnet_gpu.arguments.PLOT_FORMATS`); ImportError without matplotlib."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    axes = figure.add_subplot()
    axes.plot(history["cost"], label="training cost")
    if "val_cost" in history:
        axes.plot(history["val_cost"], label="test cost")
    axes.set_xlabel("epoch")
    axes.set_ylabel("cost J")
    if min(history["cost"] + history.get("val_cost", [])) > 0:
        axes.set_yscale("log")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format=arguments.plot_format(path))
    return Path(path)


def _save(net: DeepNet, standardizer: datasets.Standardizer | None, path) -> None:
    """Save ``net`` at ``path``, taking raw features: a standardization it was trained behind is
    folded into W1 and b1 (the network in memory is changed too)."""
    folded = ""
    if standardizer is not None:
        parameters = net.parameters
        parameters["W1"], parameters["b1"] = standardizer.folded_into(parameters["W1"], parameters["b1"])
        net.set_parameters(parameters)
        folded = "; it takes the raw features: their standardization is folded into W1 and b1"
    net.save(path)
    print(f"saved the network to {path}{folded}")


def run_train(args) -> int:
    """``deepnet train``: load the data, build and fit the network, report, plot and save."""
    plotting = not args.no_plot and arguments.has_matplotlib()
    arguments.check_output_files((("--save", args.save, None),
                                  ("--plot", args.plot if plotting else None, arguments.PLOT_FORMATS)))
    try:
        chosen = backend.get_backend(args.device)
    except (ValueError, backend.DeviceUnavailableError) as exc:
        raise ValueError(arguments.device_error(exc)) from None
    data = _load_data(args)
    n_x, m_train, m_test = data.X_train.shape[0], data.X_train.shape[1], data.X_test.shape[1]
    n_out, output_activation = infer_output(data.Y_train, data.Y_test, args.output_activation)
    dims = _layer_dims(args, n_x, n_out)
    print(f"data: {data.name}: {m_train} training and {m_test} test examples, {n_x} features")
    if data.description:
        print(f"  {data.description}")
    net = DeepNet(dims, hidden_activation=args.hidden_activation, output_activation=output_activation,
                  init=args.init, seed=args.seed, device=chosen, dtype=args.dtype)
    reason = f" ({backend.describe_auto()})" if args.device.strip().lower() == "auto" else ""
    print(f"device: {net.device}{reason}")
    print(f"network: {net!r}")
    if args.print_every:
        print("(the validation cost printed below is measured on the test set)")
    start = time.perf_counter()
    history = net.fit(data.X_train, data.Y_train, learning_rate=args.learning_rate, epochs=args.epochs,
                      batch_size=args.batch_size, print_every=args.print_every,
                      validation_data=(data.X_test, data.Y_test))
    seconds = time.perf_counter() - start
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    metric = _metric_name(output_activation)
    print(f"train {metric}: {_format_metric(net.score(data.X_train, data.Y_train), output_activation)}")
    print(f"test {metric}: {_format_metric(net.score(data.X_test, data.Y_test), output_activation)}")
    if args.save is not None:
        _save(net, data.standardizer, args.save)
    if plotting:
        path = plot_costs(history, args.plot, f"{data.name}: {','.join(map(str, dims))} {net.device}")
        print(f"cost curve: {path}")
    elif not args.no_plot:
        print("cost curve not plotted: matplotlib is not installed (pip install 'deepnet_gpu[plot]')")
    return 0


# deepnet info -------------------------------------------------------------------------------------


def add_info_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``deepnet info``."""
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run_info(args) -> int:
    """``deepnet info``: NumPy and its BLAS, the CPU, CuPy, the GPUs and our kernels."""
    report = info.collect()
    print(json.dumps(report, indent=2) if args.json else info.format(report))
    return 0


register_command("train", "train a network (default: on the embedded breast-cancer dataset)", add_train_arguments, run_train)
register_command("info", "report NumPy/BLAS, the CPU, CuPy, the GPUs and whether our CUDA kernels compile",
                 add_info_arguments, run_info)
register_command("bench", "benchmark the CPU and GPU paths against PyTorch and the hardware's measured ceilings",
                 benchmark.add_arguments, benchmark.run)

if __name__ == "__main__":
    sys.exit(main())
