"""The `slurm` profile end to end: the tiny workflow submitted to a real single-node SLURM cluster.

tools/slurm_up.sh starts slurmctld, slurmd and munged from the distribution's packages (installing
them with apt when missing), so these tests need root. Where that is not available they are skipped
(deselect them with `-m 'not slurm'`), unless FAIRL_REQUIRE_SLURM=1 (set by .ci/run), which turns
the skip into a failure. The profile is used as users use it, `snakemake --profile slurm`, stacked
with the CI overlay tests/slurm/config.yaml (tiny config, squeue polling, partition).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import REPO, TINY, fresh_clone
from tests.conftest import TINY_OUT as OUT

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

PROFILES = ("--profile", "slurm", "--profile", "tests/slurm")
LM_RULES = {"rlhf", "pairs", "features", "irl", "eval_generations", "toxicity"}
MATERIALISING_RULES = {"prompts", "policy", "judge"}
"""Local rules: on the submitting host, where the network is; they fill work/ for the compute nodes."""
GPU_RULES = {"rlhf", "pairs", "features", "eval_generations"}
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+?)\)")
TEN_MINUTES = 600


def _unavailable() -> str | None:
    """Why no SLURM cluster can be started here, or None."""
    if not sys.platform.startswith("linux"):
        return "the single-node SLURM cluster needs Linux"
    if os.geteuid() != 0:
        return "tools/slurm_up.sh needs root (munged, slurmctld, slurmd)"
    if not (shutil.which("slurmctld") and shutil.which("munged")) and not shutil.which("apt-get"):
        return "SLURM is not installed and there is no apt-get to install it"
    return None


@dataclass
class Snakemake:
    returncode: int
    output: str
    seconds: float

    def submitted(self) -> dict[int, tuple[str, int, Path]]:
        """Snakemake job id -> (rule, SLURM job id, SLURM log) for every job sent through sbatch."""
        found = re.findall(r"^(?:local)?rule (\S+):\n(?:    .*\n)*?    jobid: (\d+)", self.output, re.M)
        rules = {int(j): r for r, j in found}
        return {int(j): (rules[int(j)], int(s), Path(log)) for j, s, log in SUBMITTED.findall(self.output)}

    def planned(self) -> dict[int, str]:
        """Snakemake job id -> rule of every non-local job the run started."""
        return {int(j): r for r, j in re.findall(r"^rule (\S+):\n(?:    .*\n)*?    jobid: (\d+)", self.output, re.M)}


def snakemake(workdir: Path, *args: str, env: dict | None = None, timeout: float = TEN_MINUTES) -> Snakemake:
    """Run snakemake in `workdir`; past `timeout`, stop it with SIGINT (SIGTERM makes it wait for its jobs)."""
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        pytest.fail(f"snakemake {' '.join(args)} ran past {timeout:.0f} s; stopped.\n{output[-5000:]}")
    return Snakemake(process.returncode, output, time.monotonic() - start)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running single-node cluster; the environment that reaches it. Stopped afterwards, also on failure."""
    reason = _unavailable()
    if reason:
        if os.environ.get("FAIRL_REQUIRE_SLURM") == "1":
            pytest.fail(f"FAIRL_REQUIRE_SLURM=1 but {reason}")
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "FAIRL_SLURM_DIR": str(state), "SLURM_CONF": str(state / "etc/slurm.conf")}
    try:
        up = subprocess.run(["bash", str(REPO / "tools/slurm_up.sh")], env=env, capture_output=True, text=True, timeout=600)
        assert up.returncode == 0, f"tools/slurm_up.sh failed:\n{up.stdout}\n{up.stderr}"
        yield {"env": env, "state": state}
    finally:
        subprocess.run(["bash", str(REPO / "tools/slurm_down.sh")], env=env, timeout=120)


@pytest.fixture(scope="module")
def cluster_run(cluster, tiny_run, tmp_path_factory):
    workdir = fresh_clone(tmp_path_factory.mktemp("cluster"))
    done = snakemake(workdir, *PROFILES, "all", env=cluster["env"])
    assert done.returncode == 0, done.output[-5000:]
    return workdir, done


def _slurm_jobs(cluster) -> dict[int, str]:
    """SLURM job id -> its line in the job-completion log: every job slurmctld ran to an end."""
    log = (cluster["state"] / "log/jobcomp.log").read_text()
    return {int(m.group(1)): line for line in log.splitlines() if (m := re.search(r"JobId=(\d+) ", line))}


def _squeue(cluster) -> dict[int, str]:
    """SLURM job id -> state, as squeue reports it (finished jobs stay listed for MinJobAge=1800 s)."""
    out = subprocess.run(["squeue", "--states=all", "-h", "-o", "%i %T"], env=cluster["env"],
                         capture_output=True, text=True, check=True).stdout
    return {int(i): s for i, s in (line.split() for line in out.splitlines())}


def _products(workdir: Path) -> list[str]:
    """Every table and figure of a run (provenance sidecars excluded)."""
    root = workdir / OUT
    files = [p for top in ("results", "paper_figures") for p in (root / top).rglob("*") if p.is_file()]
    return sorted(str(p.relative_to(root)) for p in files if not p.name.endswith(".meta.json"))


TIMING_COLUMNS = {"wall_seconds", "seconds", "elapsed_seconds"}


def _same(a: Path, b: Path) -> bool:
    if a.suffix == ".csv":
        left, right = pd.read_csv(a), pd.read_csv(b)
        left, right = (f.drop(columns=[c for c in f if c in TIMING_COLUMNS]) for f in (left, right))
        try:
            pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-9, atol=1e-12)
        except AssertionError:
            return False
        return True
    return a.read_bytes() == b.read_bytes()


def test_tiny_workflow_through_the_slurm_profile_matches_a_local_run(cluster, tiny_run, cluster_run):
    """The reference is the session's tiny run with the local executor (conftest.tiny_run)."""
    local = tiny_run.workdir
    workdir, done = cluster_run
    print(f"\ntiny workflow: SLURM {done.seconds:.0f} s, local {tiny_run.seconds:.0f} s")

    # Every job of the run went through sbatch, and SLURM ran each to completion.
    planned, submitted = done.planned(), done.submitted()
    assert planned and set(submitted) == set(planned), (planned, submitted)
    assert LM_RULES | {"synthetic_benchmark", "synthetic_report"} <= {rule for rule, _, _ in submitted.values()}
    assert MATERIALISING_RULES.isdisjoint(rule for rule, _, _ in submitted.values())
    assert MATERIALISING_RULES <= set(re.findall(r"^localrule (\S+):", done.output, re.M))
    completed, queue = _slurm_jobs(cluster), _squeue(cluster)
    for rule, slurm_id, _ in submitted.values():
        assert "JobState=COMPLETED" in completed[slurm_id], (rule, completed.get(slurm_id))
        assert queue[slurm_id] == "COMPLETED", (rule, queue.get(slurm_id))
    # The profile's GPU and time requests reached SLURM (the CI node has one fake GPU).
    for rule, slurm_id, _ in submitted.values():
        job = subprocess.run(["scontrol", "show", "job", str(slurm_id)], env=cluster["env"],
                             capture_output=True, text=True, check=True).stdout
        gpu = "gres:gpu:1" in job or "gres/gpu=1" in job
        assert gpu == (rule in GPU_RULES), (rule, job)
        assert "Partition=ci" in job
    rlhf = next(s for r, s, _ in submitted.values() if r == "rlhf")
    assert "TimeLimit=01:00:00" in subprocess.run(["scontrol", "show", "job", str(rlhf)], env=cluster["env"],
                                                  capture_output=True, text=True).stdout

    # Every table and figure exists and matches the local run of the same config.
    products = _products(local)
    assert products == _products(workdir)
    assert {"results/synthetic/benchmark.md", "paper_figures/synthetic_benchmark.pdf"} <= set(products)
    assert any(name.endswith("toxicity.csv") for name in products) and any(name.endswith(".png") for name in products)
    assert [name for name in products if not _same(local / OUT / name, workdir / OUT / name)] == []

    assert done.seconds < TEN_MINUTES


def _failing_config(workdir: Path, broken: bool) -> Path:
    """The tiny config with a rerun switch for toxicity (n_boot) and, if `broken`, a synthetic test split too small
    to hold two pairs: valid by the schema, refused by the benchmark job (a bad hyperparameter would now stop the
    DAG before any job, fairl.variants.check_variants)."""
    config = yaml.safe_load((workdir / TINY).read_text())
    config["lm"]["n_boot"] += 1  # toxicity re-runs, and finishes, while the broken job fails
    if broken:
        config["synthetic"]["test_fraction"] = 0.001  # rejected in the job: the test split would hold 0 pairs
    path = workdir / "tests/config" / ("broken.yaml" if broken else "fixed.yaml")
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_a_failing_cluster_job_fails_the_run_and_a_rerun_completes_only_what_is_missing(cluster, cluster_run):
    workdir, _ = cluster_run
    outputs = ("results/synthetic/metrics_per_seed.csv", "work/synthetic/failure_rounds.csv")
    before = _mtimes(workdir)
    tables_before = {rule: _table_csv(workdir, rule) for rule in AFTER_TOXICITY}

    failed = snakemake(workdir, *PROFILES, "all", "--configfile", str(_failing_config(workdir, broken=True)), env=cluster["env"])
    assert failed.returncode != 0, failed.output[-5000:]
    jobs = failed.submitted()
    # The jobs after toxicity start in the failed run only when toxicity finishes before the third
    # failed attempt of synthetic_benchmark (a race): then they complete there, else in the fixed run.
    ran = {rule for rule, _, _ in jobs.values()}
    assert {"synthetic_benchmark", "toxicity"} <= ran <= {"synthetic_benchmark", "toxicity", *AFTER_TOXICITY}, jobs
    late = sorted(set(AFTER_TOXICITY) - ran)
    # Each attempt (the profile retries twice) names the failing rule and its SLURM log, which exists
    # (kept for failed jobs) and shows the job step; the rule's own log has the reason.
    errors = re.findall(r"^Error in rule (\S+):\n((?:    .*\n)+)", failed.output, re.M)
    assert errors and {rule for rule, _ in errors} == {"synthetic_benchmark"}, failed.output[-5000:]
    for _, block in errors:
        slurm_log = Path(re.search(r"(\S+/slurm_logs/rule_synthetic_benchmark/\d+\.log)", block).group(1))
        assert slurm_log.is_relative_to(workdir) and slurm_log.exists()
        assert "rule synthetic_benchmark:" in slurm_log.read_text()
    assert len(errors) == 3 and len({m for m in re.findall(r"external_jobid: (\d+)", failed.output)}) == 3
    assert "leaves fewer than 2 on one side" in (workdir / OUT / "logs/synthetic_benchmark.log").read_text()
    assert [name for name in outputs if (workdir / OUT / name).exists()] == []
    after_failure = _mtimes(workdir)
    rerun_in_failed_run = {name for name in before
                           if after_failure.get(name) != before[name] and not _downstream_of_synthetic(name)}
    assert rerun_in_failed_run and all("toxicity" in name or "/eval/" in name or _after_toxicity(name, ran)
                                       for name in rerun_in_failed_run)

    fixed = snakemake(workdir, *PROFILES, "all", "--configfile", str(_failing_config(workdir, broken=False)), env=cluster["env"])
    assert fixed.returncode == 0, fixed.output[-5000:]
    # A job left after toxicity runs now, unless the job before it in the chain rewrote its input with the same bytes
    # in the failed run: Snakemake keeps the checksums of small inputs and does not re-run a job for an input that is
    # newer but unchanged (n_boot + 1 can leave a tiny table's bootstrap percentiles as they were).
    chain = list(AFTER_TOXICITY)
    unchanged = {rule for rule in chain if _table_csv(workdir, rule) == tables_before[rule]}
    skippable = {rule for i, rule in enumerate(chain) if i > 0 and chain[i - 1] in unchanged}
    submitted = sorted(rule for rule, _, _ in fixed.submitted().values())
    assert len(submitted) == len(set(submitted)), submitted
    assert set(submitted) - set(late) == {"synthetic_benchmark", "synthetic_report", "reproduction"}, submitted
    assert set(late) - set(submitted) <= skippable, (submitted, late, unchanged)
    assert "Nothing to be done" in snakemake(workdir, *PROFILES, "all", "-n", "--configfile",
                                             str(_failing_config(workdir, broken=False)), env=cluster["env"]).output
    assert all((workdir / OUT / name).exists() for name in outputs)
    # Nothing of the language-model chain ran again: not what finished before, nor what finished
    # during the failed run (toxicity).
    after_fix = _mtimes(workdir)
    assert {name for name in after_fix if after_fix[name] != after_failure.get(name)
            and not _downstream_of_synthetic(name) and not _after_toxicity(name, late)} == set()


AFTER_TOXICITY = {"lm_rerlhf_toxicity_table": "results/lm/rerlhf_toxicity.",
                  "lm_rerlhf_repeats_table": "results/lm/rerlhf_repeats.",
                  "paper_vs_reproduced": "results/paper_vs_reproduced."}
"""The rules downstream of toxicity, and the prefix of their outputs."""


def _table_csv(workdir: Path, rule: str) -> bytes:
    """The CSV table a rule of AFTER_TOXICITY writes (what the next rule of the chain reads), as bytes."""
    return (workdir / OUT / f"{AFTER_TOXICITY[rule]}csv").read_bytes()


def _after_toxicity(name: str, rules) -> bool:
    """Whether `name` is an output of one of `rules` (a subset of AFTER_TOXICITY)."""
    return any(name.startswith(AFTER_TOXICITY[rule]) for rule in rules if rule in AFTER_TOXICITY)


def _downstream_of_synthetic(name: str) -> bool:
    """An output of the synthetic benchmark, its report, or the reproduction check that reads every table."""
    return name.startswith(("results/synthetic/", "work/synthetic/", "paper_figures/synthetic_", "results/reproduction."))


def _mtimes(workdir: Path) -> dict[str, int]:
    """Modification time of every output file of the workflow (logs and Snakemake's own files excluded)."""
    root = workdir / OUT
    files = [p for top in ("results", "paper_figures", "work") for p in (root / top).rglob("*") if p.is_file()]
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in files}


def test_ci_overlay_changes_only_config_polling_and_partition():
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    overlay = yaml.safe_load((REPO / "tests/slurm/config.yaml").read_text())
    assert set(overlay) == {"configfile", "slurm-status-command", "slurm-init-seconds-before-status-checks",
                            "seconds-between-status-checks", "default-resources"}
    assert overlay["default-resources"] == {**profile["default-resources"], "slurm_partition": "ci"}
    assert profile["executor"] == "slurm" and profile["configfile"] == "config/paper.yaml"
    for rule in GPU_RULES:
        assert profile["set-resources"][rule]["gpu"] == 1
    assert os.path.realpath(REPO / "slurm") == str(REPO / "profiles/slurm")
    assert os.path.realpath(REPO / "local") == str(REPO / "profiles/local")
    assert not (REPO / "profiles/default").exists()
