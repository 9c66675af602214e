"""File writing that never leaves a half-written file that looks complete.

Each writer writes to a temporary file beside the target and renames it into place;
a killed stage leaves at most a hidden `.NAME.*` temporary, never NAME itself.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[str], None], suffix: str = ".tmp") -> None:
    """Call write(temporary_path), then rename the temporary file to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private; outputs get the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def atomic_write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    atomic_write_text(path, frame.to_csv(index=False, float_format="%.8g"))


def atomic_save_npz(path: str | Path, **arrays) -> None:
    atomic_write(path, lambda tmp: np.savez(tmp, **arrays), suffix=".npz")


def atomic_write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False), suffix=".parquet")
