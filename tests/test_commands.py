"""Every `snakemake` command the README and the configuration files show runs as written (as a dry run),
in a fresh clone; the main command there plans every stage of the study; each configuration writes under
its own output root; the re-plot profile forces exactly the report layer."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from fairl.report.outputs import LM_REPORT
from tests.conftest import REPO, fresh_clone
from tests.test_workflow import job_counts

# Commands a dry run cannot stand for, by what marks them, and the test that runs them for real instead.
NOT_DRY = {"--report": "builds the HTML report from a finished run: run for real on the tiny run by "
                       "tests/test_workflow.py::test_report_html_is_self_contained_and_its_captions_render"}
COMMENTED = ["config/*.yaml", "profiles/*/config.yaml", "tests/slurm/config.yaml"]
SNAKEMAKE = re.compile(r"^(?:\.venv/bin/)?snakemake(?=\s|$)")


def _commands_in(line: str) -> list[str]:
    """The snakemake commands of one shell line: `a && b`, a trailing `# comment`, backticks stripped."""
    line = re.sub(r"\s+#\s.*$", "", line.strip().strip("`"))
    return [part.strip() for part in line.split("&&") if SNAKEMAKE.match(part.strip())]


def readme_commands(text: str) -> list[str]:
    """Commands of fenced code blocks (lines joined at a trailing backslash) and of inline code spans."""
    commands, in_block, pending = [], False, ""
    for line in text.splitlines():
        if line.startswith("```"):
            in_block, pending = not in_block, ""
            continue
        if not in_block:
            for span in re.findall(r"`([^`]+)`", line):
                commands += _commands_in(span)
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        commands += _commands_in(pending)
        pending = ""
    return commands


def comment_commands(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        comment = line.partition("#")[2] if line.lstrip().startswith("#") else ""
        for span in re.findall(r"`([^`]+)`", comment) or [comment]:
            start = span.find("snakemake ")
            if start >= 0 and not span[:start].rstrip().endswith(("-", "_")):
                found.extend(_commands_in(span[start:]))
    return found


def shown_commands() -> dict[str, str]:
    """{command: where it is shown}, in order of appearance."""
    shown = {}
    for command in readme_commands((REPO / "README.md").read_text()):
        shown.setdefault(command, "README.md")
    for pattern in COMMENTED:
        for path in sorted(REPO.glob(pattern)):
            for command in comment_commands(path.read_text()):
                shown.setdefault(command, path.relative_to(REPO).as_posix())
    for path in ("config/README.md", "results/README.md"):
        for command in readme_commands((REPO / path).read_text()):
            shown.setdefault(command, path)
    return shown


SHOWN = shown_commands()


def test_the_commands_were_found():
    """The extraction itself: the README's main command, the paper and SLURM commands, the config comments'."""
    assert ".venv/bin/snakemake --cores 2 all" in SHOWN
    assert any("--configfile config/paper.yaml" in c for c in SHOWN)
    assert any(c.startswith("snakemake --profile slurm") for c in SHOWN)
    assert any(where.startswith("config/") and where.endswith(".yaml") for where in SHOWN.values())
    assert len(SHOWN) >= 15


def test_paper_commands_on_one_machine_run_one_gpu_job_at_a_time():
    """Without --resources gpu=1, Snakemake would start several GPU jobs (rlhf, pairs, features, eval_generations)
    side by side on the one GPU; the SLURM profile gives each its own GPU instead."""
    local = {c: where for c, where in SHOWN.items() if "config/paper.yaml" in c and "--profile" not in c
             and not {"-n", "--dry-run", "--dryrun"} & set(shlex.split(c))}
    assert local and all("--resources gpu=1" in c for c in local), local


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    return fresh_clone(tmp_path_factory.mktemp("clone"))


def dry_run(clone: Path, command: str) -> subprocess.CompletedProcess:
    args = shlex.split(SNAKEMAKE.sub("", command, count=1))
    if not {"-n", "--dry-run", "--dryrun"} & set(args):
        args.insert(0, "-n")
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=clone, capture_output=True, text=True,
                          timeout=300)


def skipped(command: str) -> str | None:
    return next((reason for mark, reason in NOT_DRY.items() if mark in shlex.split(command)), None)


@pytest.fixture(scope="module")
def dry_runs(clone):
    """Every shown command's dry run, two at a time (each is a Snakemake start and a DAG build)."""
    commands = [command for command in SHOWN if not skipped(command)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(commands, pool.map(lambda command: dry_run(clone, command), commands)))


@pytest.mark.parametrize("command", list(SHOWN), ids=list(SHOWN))
def test_shown_command_runs_as_written(dry_runs, command):
    if skipped(command):
        pytest.skip(skipped(command))
    done = dry_runs[command]
    assert done.returncode == 0, f"{command} (shown in {SHOWN[command]}):\n{done.stderr[-3000:]}"


def rules_of_the_workflow() -> set[str]:
    """Every rule but `all`: those written out in rules/ and those rules/report.smk generates."""
    written = {name for path in (REPO / "rules").glob("*.smk") for name in re.findall(r"^rule (\w+):", path.read_text(), re.M)}
    return written | {output.rule for output in LM_REPORT}


def test_main_command_plans_every_stage_on_a_fresh_clone(dry_runs):
    """Committed results do not short-circuit the study: a fresh clone plans every rule of the workflow."""
    done = dry_runs[".venv/bin/snakemake --cores 2 all"]
    assert done.returncode == 0, done.stderr[-3000:]
    counts = job_counts(done.stdout)
    assert set(counts) - {"all"} == rules_of_the_workflow()
    assert counts["rlhf"] == 3 and counts["irl"] == 28 and counts["eval_generations"] == 4


def job_threads(stdout: str, rule: str) -> dict[str, int]:
    """{wildcards: threads} of the `rule` jobs a dry run lists (Snakemake prints `threads:` only above one)."""
    threads = {}
    for block in re.findall(rf"^rule {rule}:\n((?:[ \t].*\n?)*)", stdout, re.M):  # the job's indented lines
        job = re.search(r"wildcards: (.*)", block).group(1).strip()
        assert job not in threads, f"{job} listed twice"
        threads[job] = int(re.search(r"threads: (\d+)", block).group(1)) if "threads:" in block else 1
    return threads


def test_re_rlhf_and_eval_jobs_take_one_thread_whatever_the_cores(dry_runs, clone):
    """r* RLHF, which the rest of the chain waits for, gets two threads, and each re-RLHF run and each policy's eval
    generations one, so that two run side by side on two cores (rules/common.smk, rlhf_threads, EVAL_THREADS). The
    count does not follow the machine: more cores give the same threads, and so the same numbers."""
    two_cores = dry_runs[".venv/bin/snakemake --cores 2 all"].stdout
    assert job_threads(two_cores, "rlhf") == {"policy=smollm2-135m, reward=ground_truth": 2,
                                              "policy=smollm2-135m, reward=max_margin": 1,
                                              "policy=smollm2-135m, reward=fa_max_margin": 1}
    assert job_threads(two_cores, "eval_generations") == {
        f"policy=smollm2-135m, evaluated={name}": 1 for name in ("base", "ground_truth", "max_margin", "fa_max_margin")}
    eight = dry_run(clone, "snakemake --cores 8 all")
    assert eight.returncode == 0, eight.stderr[-3000:]
    for rule in ("rlhf", "eval_generations"):
        assert job_threads(eight.stdout, rule) == job_threads(two_cores, rule)
    paper = dry_run(clone, "snakemake --cores 8 all --configfile config/paper.yaml")  # 3 policies, 4 rewards each
    assert paper.returncode == 0, paper.stderr[-3000:]
    rlhf = job_threads(paper.stdout, "rlhf")
    assert len(rlhf) == 15 and all(n == (2 if job.endswith("reward=ground_truth") else 1) for job, n in rlhf.items())
    evaluated = job_threads(paper.stdout, "eval_generations")
    assert len(evaluated) == 18 and set(evaluated.values()) == {1}


def test_rlhf_repeats_plan_each_reward_once_per_seed(clone):
    """lm.rlhf_repeats: 3 RLHF runs per reward, repeat i with seed lm.seed + i against the i-th IRL seed's reward;
    only r*'s first run, which the pairs wait for, takes two threads; every run is evaluated."""
    (clone / "repeats.yaml").write_text("output_root: out/repeats\nreference: null\nlm: {rlhf_repeats: 3}\n")
    done = dry_run(clone, "snakemake -p --cores 2 all --configfile repeats.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    runs = [f"{reward}{suffix}" for reward in ("ground_truth", "max_margin", "fa_max_margin") for suffix in ("", "-1", "-2")]
    assert job_threads(done.stdout, "rlhf") == {f"policy=smollm2-135m, reward={run}": 2 if run == "ground_truth" else 1
                                                for run in runs}
    assert set(job_threads(done.stdout, "eval_generations")) == {f"policy=smollm2-135m, evaluated={name}"
                                                                 for name in ["base", *runs]}
    commands = [line for line in done.stdout.splitlines() if "rlhf.py" in line]
    fa_2 = next(line for line in commands if "--out work/smollm2-135m/rlhf/fa_max_margin-2" in line)
    assert "--extracted-reward work/smollm2-135m/irl/rewards/fa_max_margin_equal_budget_seed2.npz" in fa_2
    assert '"seed": 2' in fa_2
    r_star_1 = next(line for line in commands if "--out work/smollm2-135m/rlhf/ground_truth-1 " in line)
    assert '"seed": 1' in r_star_1 and "--extracted-reward" not in r_star_1
    (clone / "repeats.yaml").write_text("output_root: out/repeats\nreference: null\nlm: {rlhf_repeats: 6}\n")
    too_many = dry_run(clone, "snakemake --cores 2 all --configfile repeats.yaml")
    assert too_many.returncode != 0 and "lm.irl.seeds has only 5" in too_many.stdout + too_many.stderr


def output_root(*configs: str) -> str:
    merged = {}
    for config in configs:
        merged.update(yaml.safe_load((REPO / config).read_text()))
    return merged["output_root"]


def test_every_configuration_has_its_own_output_root():
    roots = [output_root("config/config.yaml"), output_root("config/config.yaml", "config/paper.yaml"),
             output_root("config/config.yaml", "tests/config/tiny.yaml"),
             output_root("config/config.yaml", "config/web_text.yaml")]
    assert len(set(roots)) == 4 and all(root.startswith("out/") for root in roots)
    assert "/out/" in (REPO / ".gitignore").read_text().split()  # none of them is committed


@pytest.mark.parametrize("root", [".", "results", "paper_figures"])
def test_an_output_root_over_committed_files_is_refused(clone, root):
    done = dry_run(clone, f"snakemake all --config output_root={root}")
    assert done.returncode != 0 and "output_root" in done.stdout + done.stderr


def test_replot_profile_forces_exactly_the_report_layer():
    forced = yaml.safe_load((REPO / "profiles/replot/config.yaml").read_text())["forcerun"]
    generated = [output.rule for output in LM_REPORT]  # rules/report.smk makes one rule per entry
    report = generated + re.findall(r"^rule (\w+):", (REPO / "rules/report.smk").read_text(), re.M)
    assert sorted(forced) == sorted([*report, "synthetic_report", "reproduction"])
    assert len(forced) == len(set(forced))
