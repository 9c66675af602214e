"""Dress rehearsal of the paper configuration: config/paper.yaml's whole DAG (three Pythia-shaped policies,
RealToxicityPrompts, the RoBERTa r* judge, detoxify, every IRL variant and re-RLHF reward) on local stand-ins
of its assets (tests/standins.py), at tiny sizes, in a fresh clone, with the network switched off for every
process: any attempt to open a network connection is recorded and refused.

The local rules (prompts, policy, judge) materialise the stand-ins into work/ from local paths, as they would
from the hub; the GPU rules run with the hub's offline switches set and read only work/."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests import standins
from tests.conftest import REPO, TINY, fresh_clone

pytestmark = pytest.mark.slow

PAPER = "config/paper.yaml"
OUT = yaml.safe_load((REPO / PAPER).read_text())["output_root"]
GPU_SCRIPTS = ("rlhf", "pairs", "features", "eval_generations")
CPU_SCRIPTS = ("irl", "toxicity")  # read only what the GPU rules wrote
MATERIALISING_SCRIPTS = ("prompts", "policy", "judge")

# Put first on PYTHONPATH, this runs in every Python process (Snakemake and each job): it records and refuses
# any connection to a network address and any name lookup.
NETWORK_GUARD = '''
import os
import socket


def _refuse(what):
    with open(os.environ["FAIRL_NETWORK_LOG"], "a") as log:
        log.write(f"{os.getpid()} {what}\\n")
    raise OSError(f"network access during the paper dress rehearsal: {what}")


_connect = socket.socket.connect


def _connect_locally(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(f"connect {address!r}")
    return _connect(self, address)


socket.socket.connect = _connect_locally
socket.getaddrinfo = lambda host, *args, **kwargs: _refuse(f"getaddrinfo {host!r}")
'''


def rehearsal_config(assets: Path) -> dict:
    """The paper configuration's asset locations pointed at the stand-ins, and its sizes made tiny; its DAG
    (policies, variants, re-RLHF rewards, judges' kinds) untouched."""
    policies = standins.pythia_policies(assets / "pythia")
    checkpoint, config_dir = standins.detoxify_checkpoint(assets / "detoxify")
    paper = yaml.safe_load((REPO / PAPER).read_text())["lm"]
    return {
        "synthetic": yaml.safe_load((REPO / TINY).read_text())["synthetic"],  # the synthetic study is not on trial
        "lm": {
            "device": "cpu",
            "prompts": {"dataset": str(standins.real_toxicity_prompts(assets / "real-toxicity-prompts")),
                        "sizes": {"rlhf": 8, "pairs": 60, "eval": 16}},
            "policies": [{**entry, "model": str(policies[entry["name"]])} for entry in paper["policies"]],
            "ground_truth": {"model": str(standins.roberta_toxicity_classifier(assets / "roberta"))},
            "evaluation_judge": {"checkpoint": str(checkpoint), "huggingface_config_path": str(config_dir),
                                 "batch_size": 4},
            "generation": {"max_new_tokens": 12, "batch_size": 8},
            # Large steps on a tiny random model, so that aligned completions differ from base ones: a pair set
            # of mostly ties leaves some variants a reward that ranks nothing, where STARC is undefined.
            "rlhf": {"steps": 4, "learning_rate": 3.0e-2, "num_generations": 2, "prompts_per_step": 2,
                     "max_new_tokens": 8, "checkpoint_every": 2},
            "features": {"batch_size": 8, "max_tokens": 32},
            "irl": {"seeds": [42]},
            "n_boot": 200,
        },
    }


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    root = fresh_clone(tmp_path_factory.mktemp("repo"))
    assets = tmp_path_factory.mktemp("assets")
    override = root / "tests/config/paper_rehearsal.yaml"
    override.write_text(yaml.safe_dump(rehearsal_config(assets), sort_keys=False))
    guard = tmp_path_factory.mktemp("guard")
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD)
    caches = tmp_path_factory.mktemp("empty_caches")  # no warm hub or torch-hub cache to fall back on
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(guard), os.environ.get("PYTHONPATH", "")]),
           "FAIRL_NETWORK_LOG": str(guard / "attempts.log"), "HF_HOME": str(caches / "hf"),
           "TORCH_HOME": str(caches / "torch"), "XDG_CACHE_HOME": str(caches)}
    for switch in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        env.pop(switch, None)  # only the rules' own switches count
    command = [sys.executable, "-m", "snakemake", "all", "--cores", "2", "--printshellcmds",
               "--configfile", PAPER, str(override.relative_to(root))]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=2700)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    attempts = guard / "attempts.log"
    return {"root": root, "out": root / OUT, "output": done.stdout + done.stderr, "env": env,
            "attempts": attempts.read_text() if attempts.exists() else "", "command": command}


def test_the_whole_paper_dag_runs_without_network(rehearsal):
    assert rehearsal["attempts"] == ""  # not one connection or name lookup, refused or not
    dry = subprocess.run([*rehearsal["command"], "--dry-run"], cwd=rehearsal["root"], env=rehearsal["env"],
                         capture_output=True, text=True)
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr  # every target exists


def test_gpu_rules_run_with_the_hub_offline_and_only_local_rules_fetch(rehearsal):
    commands = [line.strip().removeprefix("Shell command:").strip() for line in rehearsal["output"].splitlines()
                if "$FAIRL_SCRIPTS/" in line]
    for script in (*GPU_SCRIPTS, *MATERIALISING_SCRIPTS, *CPU_SCRIPTS):
        ran = [line for line in commands if f'$FAIRL_SCRIPTS/{script}.py"' in line]
        assert ran, f"no {script} job ran"
        offline = script in GPU_SCRIPTS
        assert all(line.startswith("HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ") == offline
                   for line in ran), (script, ran[0])
    assert set(re.findall(r"^localrule (\S+):", rehearsal["output"], re.M)) >= set(MATERIALISING_SCRIPTS)


def test_every_table_of_the_paper_dag_has_rows_and_finite_numbers(rehearsal):
    out = rehearsal["out"]
    config = yaml.safe_load((REPO / PAPER).read_text())["lm"]
    tables = sorted((out / "results").rglob("*.csv"))
    assert {f"results/lm/{p['name']}/toxicity.csv" for p in config["policies"]} <= {
        t.relative_to(out).as_posix() for t in tables}
    for table in tables:
        frame = pd.read_csv(table)
        assert len(frame) > 0, table
        numbers = frame.select_dtypes("number")
        assert np.isfinite(numbers.drop(columns=[c for c in numbers if frame[c].isna().all()]).fillna(0)).all().all(), table
    for policy in config["policies"]:
        toxicity = pd.read_csv(out / f"results/lm/{policy['name']}/toxicity.csv")
        assert set(toxicity["judge"]) == {"r* judge", "detoxify-original"}
        assert len(set(toxicity["reward"])) == 2 + len(config["rerlhf"])  # base, r*, each extracted reward
        assert (toxicity.loc[toxicity["reward"] != "base", "kl_to_base"].abs() > 0).all()


def test_judges_are_materialised_and_sidecars_say_where_numbers_were_computed(rehearsal):
    out = rehearsal["out"]
    r_star = json.loads((out / "work/judge/judge.json").read_text())
    assert r_star["kind"] == "hf_classifier" and r_star["model"] == "model" and (out / "work/judge/model").is_dir()
    detoxify = json.loads((out / "work/evaluation_judge/judge.json").read_text())
    assert detoxify["kind"] == "detoxify" and detoxify["batch_size"] == 4
    pairs = json.loads((out / "work/pythia-70m/pairs.parquet.meta.json").read_text())
    assert pairs["computed_on"]["precision"] == "fp32"
    assert pairs["computed_on"]["device"].startswith("cpu")
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?|unknown", pairs["computed_on"]["git_commit"])


def test_a_finished_run_keeps_no_rlhf_checkpoint(rehearsal):
    work = rehearsal["out"] / "work"
    runs = sorted(work.glob("*/rlhf/*"))
    assert len(runs) == 3 * 5  # three policies: r* and four extracted rewards each
    assert [p for p in work.rglob("checkpoint*") if p.is_dir()] == []
    assert all((run / "final" / "model.safetensors").is_file() for run in runs)
