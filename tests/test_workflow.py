"""The Snakemake workflow end to end on the tiny config, in a copy of the repository."""

import io
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import REPO, TINY, copy_of_run, run
from tests.conftest import TINY_OUT as OUT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tiny_run):
    return tiny_run.workdir


def test_all_builds_every_target_with_finite_numbers(tiny_run):
    workdir, done, before, after = tiny_run.workdir, tiny_run.done, tiny_run.before, tiny_run.after
    # A run of another configuration in a checkout leaves every committed file as it was (the default
    # results and figures included) and writes only under its output root (and git-ignored caches).
    assert [name for name in before if after.get(name) != before[name]] == []
    written = [name for name in after if name not in before]
    assert written and [n for n in written if not n.startswith((f"{OUT}/", ".snakemake/")) and "__pycache__" not in n] == []
    # It ends with the reproduction check: no reference for the tiny config, said in one line at the end.
    assert "reproduction: no committed reference for this configuration" in done.stdout + done.stderr
    assert (workdir / OUT / "results/reproduction.md").is_file()
    table = pd.read_csv(workdir / OUT / "results/synthetic/benchmark.csv")
    synthetic = yaml.safe_load((workdir / "tests/config/tiny.yaml").read_text())["synthetic"]
    for (generator, regime), group in table.groupby(["generator", "regime"], sort=False):
        assert list(group["variant"]) == [v["name"] for v in synthetic["variants"]], (generator, regime)
    assert set(table["generator"]) == {g["name"] for g in synthetic["generators"]}
    assert set(table["regime"]) == set(synthetic["regimes"])
    numbers = table.drop(columns=[c for c in table if "_diff" in c or c.endswith("_n_paired")]).select_dtypes("number")
    assert np.isfinite(numbers.to_numpy()).all()
    assert (table["n_seeds"] == 2).all()
    fa = table[table["method"].str.startswith("fa_")]  # each FA variant paired with its standard IRL, with a verdict
    assert fa["starc_iid_verdict"].isin(["holds", "contradicted", "inconclusive"]).all()
    assert np.isfinite(fa[["starc_iid_diff", "starc_iid_diff_low", "starc_iid_diff_high"]].to_numpy()).all()
    assert "±" in (workdir / OUT / "results/synthetic/benchmark.md").read_text()
    for figure in ("synthetic_benchmark.pdf", "synthetic_benchmark.png"):
        assert (workdir / OUT / "paper_figures" / figure).stat().st_size > 10_000
    log = (workdir / OUT / "logs/synthetic_benchmark.log").read_text()
    assert "params" in log and "starc_pairs" in log


def test_language_model_chain_outputs(workdir):
    config = yaml.safe_load((workdir / TINY).read_text())["lm"]
    judges = pd.read_csv(workdir / OUT / "results/lm/judge_auc.csv")
    assert len(judges) == 2 and judges["test_auc"].between(0.5, 1).all()
    policy = config["policies"][0]["name"]
    irl = pd.read_csv(workdir / OUT / f"results/lm/{policy}/irl_metrics_per_seed.csv")
    assert list(dict.fromkeys(irl["variant"])) == [v["name"] for v in config["irl"]["variants"]]
    assert len(irl) == len(config["irl"]["variants"]) * len(config["irl"]["regimes"]) * len(config["irl"]["seeds"])
    assert set(irl["regime"]) == set(config["irl"]["regimes"])
    assert irl["gradient_evaluations"].gt(0).all() and irl["converged"].dtype == bool
    assert np.isfinite(irl[["pair_accuracy", "auc", "f1", "starc", "pearson"]].to_numpy()).all()
    toxicity = pd.read_csv(workdir / OUT / f"results/lm/{policy}/toxicity.csv")
    assert set(toxicity["reward"]) == {"base", "ground_truth", *config["rerlhf"]}
    assert toxicity["toxic_share"].between(0, 1).all() and (toxicity["n_prompts"] == config["prompts"]["sizes"]["eval"]).all()
    kl = toxicity.groupby("reward")["kl_to_base"].first()
    assert kl["base"] == 0 and np.isfinite(kl.to_numpy()).all() and (kl.drop("base") > 0).all()
    pairs = pd.read_parquet(workdir / OUT / f"work/{policy}/pairs.parquet")
    assert len(pairs) == config["prompts"]["sizes"]["pairs"]
    assert (pairs["completion_aligned"] != pairs["completion_base"]).mean() > 0.5  # RLHF moved the policy
    steps = pd.read_csv(workdir / OUT / f"work/{policy}/rlhf/ground_truth/final/training_log.csv")
    assert steps["step"].tolist() == list(range(1, config["rlhf"]["steps"] + 1))
    sidecar = json.loads((workdir / OUT / f"work/{policy}/pairs.parquet.meta.json").read_text())
    assert sidecar["stage"] == "pairs" and sidecar["seed"] == config["seed"] and "torch" in sidecar["versions"]


def test_every_report_table_and_figure_has_rows_and_finite_numbers(workdir):
    config = yaml.safe_load((workdir / TINY).read_text())["lm"]
    tables = {name: pd.read_csv(workdir / OUT / f"results/lm/{name}.csv")
              for name in ("classification", "starc", "rerlhf_toxicity", "rerlhf_repeats", "ablations", "failure_pairs")}
    for name, table in tables.items():
        assert len(table) > 0, name
        markdown = (workdir / OUT / f"results/lm/{name}.md").read_text()
        if name in ("classification", "starc", "ablations"):  # mean ± sd over seeds
            assert "±" in markdown, name
    methods = {v["method"] for v in config["irl"]["variants"] if not v.get("hyperparameters", {}).keys() - {"steps", "rounds"}}
    assert methods <= set(tables["classification"]["method"]) | set(tables["classification"].get("variant", []))
    for name in ("classification", "starc"):
        means = tables[name][[c for c in tables[name] if c.endswith("_mean")]]
        assert means.shape[1] >= 1 and np.isfinite(means.to_numpy()).all(), name  # sd is NaN with one seed
        assert (tables[name]["n_seeds"] == len(config["irl"]["seeds"])).all(), name
    toxicity = tables["rerlhf_toxicity"]
    assert {"base", "ground_truth"} <= set(toxicity["reward"])
    numbers = toxicity.drop(columns=[c for c in toxicity if c.startswith("toxic_share_")]).select_dtypes("number")
    assert np.isfinite(numbers.to_numpy()).all()
    fa = toxicity[toxicity["role"] == "fa_irl"]  # FA-IRL − IRL over the same prompts, with a verdict
    assert len(fa) > 0 and fa["toxic_share_verdict"].isin(["holds", "contradicted", "inconclusive"]).all()
    repeats = tables["rerlhf_repeats"]  # one run per reward: each row is its run's
    assert len(repeats) == len(toxicity) and (repeats["n_runs"] == 1).all()
    assert repeats["toxic_share"].tolist() == toxicity["toxic_share"].tolist()
    comparison = (workdir / OUT / "results/paper_vs_reproduced.md").read_text()
    assert "0.802" in comparison and "0.922" in comparison  # the paper's F1 and AUC beside ours
    figures = ["synthetic_benchmark", "lm_classification", "lm_starc", "lm_rerlhf_training", "lm_lambda_sweep",
               "lm_failure_curriculum", "lm_reward_distributions"]
    for figure in figures:
        for ext in ("pdf", "png"):
            assert (workdir / OUT / f"paper_figures/{figure}.{ext}").stat().st_size > 5_000, f"{figure}.{ext}"


def test_report_html_is_self_contained_and_its_captions_render(workdir):
    """The README's report command, run for real on the tiny run; it lands in the output root."""
    done = subprocess.run([sys.executable, "-m", "snakemake", "--report", "report.html", "--configfile", TINY],
                          cwd=workdir, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    html = (workdir / OUT / "report.html").read_text(errors="replace")
    assert len(html) > 100_000 and "lm_classification" in html and "paper_vs_reproduced" in html and "reproduction" in html
    for problem in ("System Message", "Undefined substitution", "ERROR/", "WARNING/"):  # docutils' error boxes
        assert problem not in html, problem


def test_second_run_has_nothing_to_do(workdir):
    dry = run(workdir, "all", "--dry-run")
    assert dry.returncode == 0
    assert "Nothing to be done" in dry.stdout + dry.stderr


def job_counts(output: str) -> dict[str, int]:
    """{rule: jobs} from the 'Job stats' table of a (dry) run."""
    counts, lines = {}, output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Job stats"))
    for line in lines[start + 3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit() or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def _without_wall_time(log: bytes) -> bytes:
    frame = pd.read_csv(io.BytesIO(log))
    return frame.drop(columns="wall_seconds").to_csv(index=False).encode()


def comparable_outputs(root: Path) -> dict[str, bytes]:
    """Every table and figure, and the RLHF step logs without their wall-clock column."""
    files = {}
    root = root / OUT
    for folder in ("results", "paper_figures"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and not path.name.endswith(".meta.json"):
                files[str(path.relative_to(root))] = path.read_bytes()
    for path in sorted((root / "work").glob("*/rlhf/*/final/training_log.csv")):
        files[str(path.relative_to(root))] = _without_wall_time(path.read_bytes())
    return files


SIGINT_AT_DEFAULT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                     "os.execv(sys.executable, [sys.executable, '-m', 'snakemake', *sys.argv[1:]])")
"""Starts Snakemake with SIGINT at its default, as in a terminal: a shell starting pytest in the background
(`cmd &`) makes it ignore SIGINT, children inherit that, and Python then never installs its Ctrl-C handler.
(A launcher that execs, not Popen's preexec_fn, which is unsafe in a process with threads, as xdist's workers are.)"""


def start(root: Path) -> subprocess.Popen:
    command = [sys.executable, "-c", SIGINT_AT_DEFAULT, "all", "--cores", "2", "--configfile", TINY]
    return subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(process: subprocess.Popen, ready) -> None:
    deadline = time.monotonic() + 600
    while process.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, "the run finished before it could be interrupted"


def assert_same_outputs(first: Path, second: Path) -> None:
    first, second = comparable_outputs(first), comparable_outputs(second)
    assert sorted(second) == sorted(first)
    assert [name for name in first if second[name] != first[name]] == []


def rewind(root: Path, target: str, expected_jobs: dict[str, int]) -> None:
    """Put the copy of a finished run (conftest.copy_of_run) back to where a first run stands when it reaches
    `target`: every output of `target`'s job and of the jobs after it is deleted (a dry run with --forcerun lists
    them), with its sidecar, and an RLHF job's whole working directory (its output is final/ inside it).
    `expected_jobs` ({rule: jobs}, 0 for none) checks that the copy re-runs only from `target` on."""
    dry = run(root, "all", "--forcerun", target, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    counts = job_counts(dry.stdout)
    assert {rule: counts.get(rule, 0) for rule in expected_jobs} == expected_jobs, dry.stdout[-3000:]
    outputs = [name for line in re.findall(r"^    output: (.+)$", dry.stdout, re.M) for name in line.split(", ")]
    assert target in outputs, dry.stdout[-3000:]
    for name in outputs:
        path = root / OUT / (str(Path(name).parent) if name.endswith("/final") else name)
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        Path(f"{path}.meta.json").unlink(missing_ok=True)


def test_interrupted_run_resumes_to_identical_outputs(tiny_run, tmp_path_factory):
    """Ctrl-C (SIGINT) once the pairs exist, then the README's restart (--rerun-incomplete): same outputs.

    The run starts from a copy of the session's finished run, rewound to where a first run stands before the
    pairs: the policy, judge and r* RLHF do not run a third time in the suite."""
    other = copy_of_run(tiny_run, tmp_path_factory.mktemp("interrupted"))
    rewind(other, "work/tiny/pairs.parquet",
           {"prompts": 0, "policy": 0, "judge": 0, "synthetic_benchmark": 0, "pairs": 1, "rlhf": 2})
    process = start(other)
    wait_for(process, (other / OUT / "work/tiny/pairs.parquet").exists)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) != 0
    assert not (other / OUT / "results/lm/tiny/toxicity.csv").exists()
    resumed = run(other, "all", "--rerun-incomplete")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_outputs(tiny_run.workdir, other)


def test_killed_run_recovers_with_the_readme_sequence(tiny_run, tmp_path_factory):
    """SIGKILL of Snakemake while RLHF runs: its job lives on as an orphan and the lock stays. The README's
    sequence (stop the orphans, --unlock, restart with --rerun-incomplete) ends with the same outputs.

    Like the Ctrl-C test, from a copy of the finished run rewound, here to before a re-RLHF job."""
    other = copy_of_run(tiny_run, tmp_path_factory.mktemp("killed"))
    rlhf = "work/tiny/rlhf/max_margin"
    rewind(other, f"{rlhf}/final",
           {"policy": 0, "judge": 0, "pairs": 0, "features": 0, "irl": 0, "rlhf": 1, "eval_generations": 1, "toxicity": 1})
    process = start(other)
    lock = other / OUT / rlhf / ".writer.lock"
    wait_for(process, lambda: lock.is_file() and lock.stat().st_size > 0)
    process.kill()
    process.wait()
    locked = run(other, "all")  # refused at once: the killed run still holds the lock
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    sequence = ['pkill -f "$PWD/src/scripts/"',
                f"{sys.executable} -m snakemake --unlock all --configfile {TINY}"]
    for command in sequence:
        done = subprocess.run(["bash", "-c", command], cwd=other, capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 1) if command.startswith("pkill") else done.returncode == 0, done.stderr[-3000:]
    resumed = run(other, "all", "--rerun-incomplete")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_outputs(tiny_run.workdir, other)


def test_config_change_reruns_the_benchmark(workdir):
    changed = workdir / "tests/config/tiny_changed.yaml"
    config = yaml.safe_load((workdir / "tests/config/tiny.yaml").read_text())
    config["synthetic"]["variants"][2]["hyperparameters"]["rounds"] = 21
    changed.write_text(yaml.safe_dump(config))
    dry = run(workdir, "all", "--dry-run", configfile=changed)
    assert dry.returncode == 0
    assert "synthetic_benchmark" in dry.stdout and "synthetic_report" in dry.stdout


def test_fa_irl_hyperparameter_change_reruns_only_what_depends_on_it(workdir):
    changed = workdir / "tests/config/tiny_fa_changed.yaml"
    config = yaml.safe_load((workdir / TINY).read_text())
    config["lm"]["irl"]["variants"][1]["hyperparameters"]["rounds"] = 11  # fa_max_margin
    changed.write_text(yaml.safe_dump(config, allow_unicode=True))
    dry = run(workdir, "all", "--dry-run", configfile=changed)
    assert dry.returncode == 0, dry.stderr[-3000:]
    counts = job_counts(dry.stdout)
    lm_rules = {"prompts", "policy", "judge", "pairs", "features", "irl", "irl_collect", "rlhf", "eval_generations",
                "toxicity"}
    assert {rule: n for rule, n in counts.items() if rule in lm_rules} == {
        "irl": 1, "irl_collect": 1, "rlhf": 1, "eval_generations": 1, "toxicity": 1}  # only fa_max_margin's re-RLHF
    assert "synthetic_benchmark" not in counts


def test_paper_config_plans_the_whole_study_offline(workdir):
    shutil.copy(REPO / "config/paper.yaml", workdir / "config/paper.yaml")
    dry = run(workdir, "all", "--dry-run", configfile="config/paper.yaml")
    assert dry.returncode == 0, dry.stderr[-3000:]
    paper = yaml.safe_load((REPO / "config/paper.yaml").read_text())["lm"]
    counts = job_counts(dry.stdout)
    policies = len(paper["policies"])
    assert policies == 3 and paper["irl"]["seeds"] == [42, 100, 200, 300, 400]
    assert counts["policy"] == counts["pairs"] == counts["features"] == counts["toxicity"] == policies
    variants = yaml.safe_load((REPO / "config/config.yaml").read_text())["lm"]["irl"]["variants"]  # inherited
    assert counts["irl"] == policies * len(variants) and len(variants) >= 18
    assert counts["rlhf"] == policies * (1 + len(paper["rerlhf"]))
    assert counts["eval_generations"] == policies * (2 + len(paper["rerlhf"]))  # base, r*'s, each re-RLHF's


def test_lint_reports_nothing(workdir):
    lint = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "--configfile", TINY], cwd=workdir,
                          capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "Congratulations" in lint.stdout + lint.stderr


def test_invalid_config_fails_before_any_job_naming_the_key(workdir):
    bad = workdir / "tests/config/bad.yaml"
    config = yaml.safe_load((workdir / "tests/config/tiny.yaml").read_text())
    config["synthetic"]["generators"][0]["hard_fraktion"] = 0.3
    bad.write_text(yaml.safe_dump(config))
    done = run(workdir, "all", "--dry-run", configfile=bad)
    assert done.returncode != 0
    assert "hard_fraktion" in done.stdout + done.stderr
