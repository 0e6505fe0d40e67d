"""The ``deepnet`` command's argument types and the check of the files it will write.

The types turn a command-line string into a value or raise ``argparse.ArgumentTypeError``, which
argparse reports as ``argument --name: expected ...; got '...'`` with exit status 2.
:func:`check_output_file` runs before any work, so that a long training or benchmark run does
not end on a path it cannot write.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

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

    The folder must exist and ``path`` must not be a folder; with ``formats``, its extension
    must be one of them (it chooses the format the file is written in).
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"argument {option}: {path} is a folder; expected a file name")
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"argument {option}: cannot write {path}: the folder {folder} does not exist")
    if formats is not None and plot_format(path) not in formats:
        listed = ", ".join(f".{name}" for name in formats)
        raise ValueError(f"argument {option}: expected a file ending in {listed}; got {str(path)!r}")
    return path


def plot_format(path) -> str:
    """The format a file at ``path`` is written in: its extension, lower case, without the dot
    (see :data:`PLOT_FORMATS`)."""
    return Path(path).suffix.lower().lstrip(".")
