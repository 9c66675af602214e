"""The Snakemake workflow end to end on the tiny config, in a copy of the repository."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import REPO

TINY = "tests/config/tiny.yaml"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    for name in ("Snakefile", "environment.yml"):
        shutil.copy(REPO / name, root / name)
    for name in ("rules", "config", "src", "tests/config"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run(workdir: Path, *args: str, configfile: str | Path = TINY) -> subprocess.CompletedProcess:
    """snakemake ARGS... on `configfile` (last: --configfile takes several values)."""
    command = [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--configfile", str(configfile)]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)


def test_all_builds_every_target_with_finite_numbers(workdir):
    done = run(workdir, "all")
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_csv(workdir / "results/synthetic/benchmark.csv")
    config = yaml.safe_load((workdir / "tests/config/tiny.yaml").read_text())
    assert list(table["variant"]) == [v["name"] for v in config["synthetic"]["variants"]]
    numbers = table.select_dtypes("number").drop(columns=[c for c in table if c.endswith("_reduction_vs_base")])
    assert np.isfinite(numbers.to_numpy()).all()
    assert (table["n_seeds"] == 2).all()
    assert "±" in (workdir / "results/synthetic/benchmark.md").read_text()
    for figure in ("synthetic_benchmark.pdf", "synthetic_benchmark.png"):
        assert (workdir / "paper_figures" / figure).stat().st_size > 10_000
    log = (workdir / "logs/synthetic_benchmark.log").read_text()
    assert "params" in log and "starc_pairs" in log


def test_language_model_chain_outputs(workdir):
    config = yaml.safe_load((workdir / TINY).read_text())["lm"]
    judges = pd.read_csv(workdir / "results/lm/judge_auc.csv")
    assert len(judges) == 2 and judges["test_auc"].between(0.5, 1).all()
    irl = pd.read_csv(workdir / "results/lm/irl_metrics_per_seed.csv")
    assert list(irl["variant"]) == [v["name"] for v in config["irl"]["variants"]]
    assert np.isfinite(irl[["pair_accuracy", "auc", "f1", "starc", "pearson"]].to_numpy()).all()
    toxicity = pd.read_csv(workdir / "results/lm/toxicity.csv")
    assert set(toxicity["policy"]) == {"base", "ground_truth", *config["rerlhf"]}
    assert toxicity["toxic_share"].between(0, 1).all() and (toxicity["n_prompts"] == config["prompts"]["sizes"]["eval"]).all()
    pairs = pd.read_parquet(workdir / "work/pairs.parquet")
    assert len(pairs) == config["prompts"]["sizes"]["pairs"]
    assert (pairs["completion_aligned"] != pairs["completion_base"]).mean() > 0.5  # RLHF moved the policy
    steps = pd.read_csv(workdir / "work/rlhf/ground_truth/final/training_log.csv")
    assert steps["step"].tolist() == list(range(1, config["rlhf"]["steps"] + 1))
    sidecar = json.loads((workdir / "work/pairs.parquet.meta.json").read_text())
    assert sidecar["stage"] == "pairs" and sidecar["seed"] == config["seed"] and "torch" in sidecar["versions"]


def test_second_run_has_nothing_to_do(workdir):
    dry = run(workdir, "all", "--dry-run")
    assert dry.returncode == 0
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_rerun_gives_identical_outputs(workdir):
    outputs = ["results/synthetic/metrics_per_seed.csv", "results/synthetic/benchmark.md",
               "paper_figures/synthetic_benchmark.pdf", "paper_figures/synthetic_benchmark.png",
               "results/lm/irl_metrics_per_seed.csv", "results/lm/toxicity.csv", "work/rlhf/ground_truth/final/training_log.csv"]
    first = {name: (workdir / name).read_bytes() for name in outputs}
    first["work/rlhf/ground_truth/final/training_log.csv"] = _without_wall_time(first["work/rlhf/ground_truth/final/training_log.csv"])
    again = run(workdir, "all", "--forceall")
    assert again.returncode == 0, again.stderr[-3000:]
    second = {name: (workdir / name).read_bytes() for name in outputs}
    second["work/rlhf/ground_truth/final/training_log.csv"] = _without_wall_time(second["work/rlhf/ground_truth/final/training_log.csv"])
    assert [name for name in outputs if second[name] != first[name]] == []


def _without_wall_time(log: bytes) -> bytes:
    frame = pd.read_csv(io.BytesIO(log))
    return frame.drop(columns="wall_seconds").to_csv(index=False).encode()


def test_config_change_reruns_the_benchmark(workdir):
    changed = workdir / "tests/config/tiny_changed.yaml"
    config = yaml.safe_load((workdir / "tests/config/tiny.yaml").read_text())
    config["synthetic"]["variants"][2]["hyperparameters"]["rounds"] = 21
    changed.write_text(yaml.safe_dump(config))
    dry = run(workdir, "all", "--dry-run", configfile=changed)
    assert dry.returncode == 0
    assert "synthetic_benchmark" in dry.stdout and "synthetic_report" in dry.stdout


def test_invalid_config_fails_before_any_job_naming_the_key(workdir):
    bad = workdir / "tests/config/bad.yaml"
    config = yaml.safe_load((workdir / "tests/config/tiny.yaml").read_text())
    config["synthetic"]["generator"]["hard_fraktion"] = 0.3
    bad.write_text(yaml.safe_dump(config))
    done = run(workdir, "all", "--dry-run", configfile=bad)
    assert done.returncode != 0
    assert "hard_fraktion" in done.stdout + done.stderr
