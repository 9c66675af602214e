"""Sidecars: every stage output X gets X.meta.json with the config, seed, versions and models used, and
where it was computed: the git commit of the code, the resolved device and the precision.

A downstream stage checks the sidecar of its inputs against its own config
(`require_consistent`), so outputs of a different configuration fail loudly instead of
being mixed in silently.
"""

from __future__ import annotations

import functools
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from fairl.io import atomic_write_dir, atomic_write_text

PACKAGES = ("fairl", "torch", "transformers", "trl", "datasets", "numpy", "scikit-learn", "sentence-transformers")


def sidecar_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + ".meta.json")


def versions() -> dict[str, str]:
    """Installed versions, read from package metadata: importing torch for its version cost a table job 2 s."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


@functools.cache
def git_commit() -> str:
    """The commit of the checkout fairl runs from, '+dirty' when its tracked files differ; 'unknown' outside git."""
    repo = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def computed_on(config: dict[str, Any]) -> dict[str, str]:
    """Where an output was computed: code commit, resolved device (with its hardware name) and precision.

    A process that never imported torch (the table and figure jobs) computed on the CPU whatever the config's
    device says, and is described so without importing torch for it (2 s a job)."""
    if "torch" in sys.modules:
        from fairl.devices import describe_device

        device = describe_device(config.get("device", "auto"))
    else:
        device = f"cpu ({platform.machine() or 'unknown'})"
    return {"git_commit": git_commit(), "device": device, "precision": config.get("precision", "fp32")}


def write_sidecar(output: str | Path, stage: str, config: dict[str, Any], seed: int | None = None,
                  models: dict[str, str] | None = None, **extra: Any) -> Path:
    record = {"stage": stage, "config": config, "seed": seed, "models": models or {}, "versions": versions(),
              "computed_on": computed_on(config), **extra}
    path = sidecar_path(output)
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    return path


def publish_with_sidecar(directory: str | Path, name: str, write, stage: str, config: dict[str, Any],
                         seed: int | None = None, models: dict[str, str] | None = None) -> None:
    """`write(tmp)` fills a directory, its sidecar `name`.meta.json is written inside it, and both are published
    together as `directory` (fairl.io.atomic_write_dir): a published directory always has its sidecar."""
    def build(tmp: Path) -> None:
        write(tmp)
        write_sidecar(tmp / name, stage, config, seed, models)

    atomic_write_dir(directory, build)


def read_sidecar(output: str | Path) -> dict[str, Any]:
    path = sidecar_path(output)
    if not path.is_file():
        raise FileNotFoundError(f"{output} has no sidecar {path.name}: it was not written by a fairl stage; rebuild it")
    return json.loads(path.read_text())


def require_consistent(output: str | Path, **expected: Any) -> dict[str, Any]:
    """Raise if the sidecar's config differs from `expected` on any given key."""
    record = read_sidecar(output)
    config = record["config"]
    differences = {
        key: (config.get(key, "<absent>"), value)
        for key, value in expected.items()
        if json.loads(json.dumps(config.get(key, "<absent>"), default=str)) != json.loads(json.dumps(value, default=str))
    }
    if differences:
        lines = "\n".join(f"  {k}: input has {a!r}, this run has {b!r}" for k, (a, b) in differences.items())
        raise ValueError(f"{output} was made with a different configuration; rebuild it:\n{lines}")
    return record
