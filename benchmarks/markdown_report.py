"""What the timing benchmarks share: the command line that made a table, and writing the table as Markdown."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from fairl.io import atomic_write_text


def command_line() -> str:
    """How this benchmark was started, as a user would retype it: `python benchmarks/NAME.py ARGS...`."""
    return " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])


def write_markdown(out: str | Path, header: str, table: pd.DataFrame, floatfmt: str = ".3f") -> None:
    """Print `header` and `table` as Markdown and write them to `out` (atomically; atomic_write makes its folder)."""
    markdown = header + table.to_markdown(index=False, floatfmt=floatfmt) + "\n"
    print(markdown)
    atomic_write_text(out, markdown)
