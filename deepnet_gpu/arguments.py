"""The ``deepnet`` command's argument types and the check of the files it will write.

The types turn a command-line string into a value or raise ``argparse.ArgumentTypeError``, which
argparse reports as ``argument --name: expected ...; got '...'`` with exit status 2.
:func:`check_output_file` runs before any work, so that a long training or benchmark run does
not end on a path it cannot write.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
from pathlib import Path

from .validation import SEED_LIMIT

PLOT_FORMATS = ("png", "pdf", "svg", "eps", "ps")
"""The plot formats matplotlib writes without further packages, named by the file's extension."""


def number(convert, accepts, expected: str):
    """An argparse type: ``convert(text)``, rejected unless ``accepts(value)``, with "expected ``expected``"."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accepts(value):
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
        return value

    return parse


positive_int = number(int, lambda n: n >= 1, "a positive integer")
non_negative_int = number(int, lambda n: n >= 0, "an integer >= 0")
positive_float = number(float, lambda x: math.isfinite(x) and x > 0, "a positive finite number")
fraction = number(float, lambda x: 0 < x < 1, "a number between 0 and 1 (exclusive)")
seed = number(int, lambda n: 0 <= n < SEED_LIMIT, "an integer in [0, 2**32)")


def sizes(text: str) -> tuple:
    """'16,8' -> (16, 8): comma-separated positive layer sizes."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or any(n < 1 for n in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers such as 16,8; got {text!r}")
    return values


def check_output_file(path, option: str, formats: tuple[str, ...] | None = None) -> Path:
    """``path`` as a file the command can create or replace; ValueError naming ``option`` otherwise.

    The name must not be empty, the folder (of the file a link leads to) must exist and ``path``
    must not be a folder; with ``formats``, its extension must be one of them (it chooses the
    format the file is written in). Then a regular file, or a new one, is opened for appending
    and closed (a new one removed again), so that a read-only file system, a missing permission or
    a link loop is found now rather than when the results are written. Other existing files
    (/dev/null, /dev/stdout, a named pipe) are written as they are, without a trial.
    """
    if not str(path):
        raise ValueError(f"argument {option}: expected a file name; got ''")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"argument {option}: {path} is a folder; expected a file name")
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        raise ValueError(f"argument {option}: cannot write {path}: the folder {target.parent} does not exist")
    if formats is not None and plot_format(path) not in formats:
        listed = ", ".join(f".{name}" for name in formats)
        raise ValueError(f"argument {option}: expected a file ending in {listed}; got {str(path)!r}")
    if _special(path):
        return path
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise ValueError(f"argument {option}: cannot write {path}: {exc.strerror}") from None
    if not existed:
        target.unlink()
    return path


def _special(path: Path) -> bool:
    """True for an existing file that is not a regular one: a device, a pipe, a terminal."""
    return path.exists() and not path.is_file()


def check_output_files(outputs) -> None:
    """:func:`check_output_file` for each ``(option, path, formats)`` given (``path`` not None), and
    no two of them the same regular file, which the later would overwrite."""
    seen = {}
    for option, path, formats in outputs:
        if path is None:
            continue
        if _special(check_output_file(path, option, formats)):
            continue
        target = os.path.realpath(path)
        if target in seen:
            raise ValueError(f"argument {option}: {path} is also the file of {seen[target]}; expected another file")
        seen[target] = option


def has_matplotlib() -> bool:
    """Whether matplotlib, which writes the plots, is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def check_matplotlib(option: str) -> None:
    """ValueError naming ``option`` when matplotlib is not installed."""
    if not has_matplotlib():
        raise ValueError(f"argument {option}: needs matplotlib, which is not installed (pip install 'deepnet_gpu[plot]')")


def device_error(exc: Exception) -> str:
    """A device error as the command line says it: naming ``--device`` and spelling the fix as an option."""
    return f"argument --device: {exc}".replace("device='cpu'", "--device cpu")


def plot_format(path) -> str:
    """The format a file at ``path`` is written in: its extension, lower case, without the dot
    (see :data:`PLOT_FORMATS`)."""
    return Path(path).suffix.lower().lstrip(".")
