"""File writing that never leaves a half-written file that looks complete, and one writer per directory.

Each writer writes to a temporary file beside the target and renames it into place;
a killed stage leaves at most a hidden `.NAME.*` temporary, never NAME itself.
`exclusive_writer` keeps a second process out of a directory a live process is still writing.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def atomic_write_dir(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call write(temporary_directory), then put the directory in place of `path` (replacing an old one):
    only a complete directory ever carries the output's name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        write(tmp)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def atomic_write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    atomic_write_text(path, frame.to_csv(index=False, float_format="%.8g"))


def atomic_save_npz(path: str | Path, **arrays) -> None:
    atomic_write(path, lambda tmp: np.savez(tmp, **arrays), suffix=".npz")


def atomic_write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False), suffix=".parquet")


LOCK_NAME = ".writer.lock"
log = logging.getLogger(__name__)
_HELD: dict[Path, int] = {}  # directories this process holds, and how deeply (the lock is re-entrant)


class DirectoryBusyError(RuntimeError):
    """Another live process is writing the directory."""


@contextmanager
def exclusive_writer(directory: str | Path, what: str) -> Iterator[Path]:
    """Hold `directory/.writer.lock` while writing `directory`; raise DirectoryBusyError if a live process holds it.

    The lock is an advisory `flock` on the file, which the kernel releases when its holder dies (also by
    SIGKILL), so a lock left by a killed process is stale by construction: it is detected (the file still
    names its owner), logged and taken over. The file records the owner's pid, host, start time and command
    line, for the error another process gets while the owner is alive. Re-entrant within one process.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    key = directory.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield path
        finally:
            _HELD[key] -= 1
        return
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "{}"
        handle.close()
        try:
            owner = json.loads(owner)
        except json.JSONDecodeError:
            owner = {}
        raise DirectoryBusyError(
            f"{directory} is being written by another live process (pid {owner.get('pid', '?')} on "
            f"{owner.get('host', '?')}, started {owner.get('started', '?')}: {owner.get('command', '?')}). "
            f"Two {what} processes on one directory would overwrite each other's checkpoints. Wait for it to "
            f"finish, or stop it (`kill {owner.get('pid', 'PID')}`; an orphan of a killed Snakemake keeps running), "
            "then start this one again.") from None
    handle.seek(0)
    previous = handle.read().strip()
    if previous:
        log.warning("%s: taking over a stale lock (its owner ended without releasing it): %s", directory, previous)
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
             "command": " ".join(sys.argv)}
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(owner) + "\n")
    handle.flush()
    _HELD[key] = 1
    try:
        yield path
    finally:
        del _HELD[key]
        handle.seek(0)
        handle.truncate()  # an empty file: released cleanly, nothing stale to report next time
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
