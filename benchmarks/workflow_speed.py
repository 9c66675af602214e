"""Wall and CPU time of a whole workflow run at two revisions, side by side in one invocation, and whether both
wrote the same bytes: the before/after figure of a speed change that must not change a number.

    python benchmarks/workflow_speed.py --before 0a95d97 --after HEAD --out results/workflow_speed.md
    python benchmarks/workflow_speed.py --before HEAD~1 --after HEAD --configfile config/config.yaml   # the default study

Each revision is exported (`git archive`) into a temporary directory and run there with its own `src/` first on
PYTHONPATH (the environment's editable install would otherwise import this checkout's fairl into both runs), from
scratch: `snakemake all --cores 2 --configfile FILE`. The revisions run one after the other, `--repeats` times
alternating, so a slow spell of the machine hits both. Every table, figure and work file of the two runs is
compared byte for byte (provenance sidecars, logs, rule benchmarks and the RLHF step logs' wall-clock column
excepted). Measure on a quiet machine: anything else on the 2 cores distorts every figure.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from markdown_report import command_line

from fairl.io import atomic_write_text

REPO = Path(__file__).resolve().parents[1]
COMPARED = ("results", "paper_figures", "work")
"""Folders of an output root whose files both runs must write identically."""


def export(revision: str, into: Path) -> str:
    """The tree of `revision` in `into`; returns its full commit id."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", revision], capture_output=True, text=True,
                            check=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return commit


def run_once(tree: Path, configfile: str) -> dict[str, float]:
    """`snakemake all` from scratch in `tree`; wall seconds and the CPU seconds of every process it started."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src"), os.environ.get("PYTHONPATH", "")])}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "snakemake", "all", "--cores", "2", "--configfile", configfile],
                          cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"snakemake failed in {tree}:\n{done.stderr[-3000:]}")
    return {"wall_seconds": wall, "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def products(root: Path) -> dict[str, bytes]:
    """Every output file under `root` that must not depend on the code's speed."""
    files = {}
    for folder in COMPARED:
        for path in sorted((root / folder).rglob("*")):
            name = str(path.relative_to(root))
            if not path.is_file() or name.endswith((".meta.json", ".log", ".writer.lock")) or "/checkpoints/" in name:
                continue
            data = path.read_bytes()
            if path.name in ("training_log.csv", "log.csv"):
                data = pd.read_csv(io.BytesIO(data)).drop(columns="wall_seconds").to_csv(index=False).encode()
            files[name] = data
    return files


def compare(before: dict[str, bytes], after: dict[str, bytes]) -> tuple[list[str], list[str], list[str]]:
    """(files both runs write with other bytes, files only the before run writes, files only the after run writes):
    a change that adds a stage adds files, which are new, not different."""
    differing = sorted(name for name in before.keys() & after.keys() if before[name] != after[name])
    return differing, sorted(before.keys() - after.keys()), sorted(after.keys() - before.keys())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="git revision of the baseline")
    parser.add_argument("--after", default="HEAD", help="git revision of the change")
    parser.add_argument("--configfile", default="tests/config/tiny.yaml", help="the configuration both runs use")
    parser.add_argument("--repeats", type=int, default=1, help="runs per revision, alternating")
    parser.add_argument("--out", default="results/workflow_speed.md", help="Markdown table to write")
    args = parser.parse_args()

    rows, outputs = [], {}
    with tempfile.TemporaryDirectory(prefix="workflow_speed_") as scratch:
        for repeat in range(args.repeats):
            for label, revision in (("before", args.before), ("after", args.after)):
                tree = Path(scratch) / f"{label}{repeat}"
                commit = export(revision, tree)
                output_root = yaml.safe_load((tree / args.configfile).read_text())["output_root"]
                timing = run_once(tree, args.configfile)
                print(f"{label} {commit[:10]}: {timing['wall_seconds']:.1f} s wall", flush=True)
                rows.append({"revision": label, "commit": commit[:10], "repeat": repeat, **timing})
                outputs.setdefault(label, products(tree / output_root))
    table = pd.DataFrame(rows)
    medians = table.groupby("revision", sort=False)[["wall_seconds", "cpu_seconds"]].median()
    ratio = medians.loc["after"] / medians.loc["before"]
    before, after = outputs["before"], outputs["after"]
    differing, only_before, only_after = compare(before, after)
    text = (
        f"# Whole-workflow time: `{args.configfile}`, {args.before} vs {args.after}\n\n"
        f"command: `{command_line()}`\n\n"
        f"{table.to_markdown(index=False, floatfmt='.1f')}\n\n"
        f"after / before (medians): wall ×{ratio['wall_seconds']:.2f}, CPU ×{ratio['cpu_seconds']:.2f}\n\n"
        f"outputs compared byte for byte ({len(before.keys() & after.keys())} files both runs write; sidecars, logs and "
        "wall-clock columns excepted): "
        + ("identical\n" if not differing else f"{len(differing)} differ: {', '.join(differing[:20])}\n")
        + "".join(f"\nonly the {label} run writes {len(names)}: {', '.join(names[:20])}\n"
                  for label, names in (("before", only_before), ("after", only_after)) if names)
    )
    print(text)
    atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
