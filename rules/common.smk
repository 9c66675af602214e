import json
import shlex
from pathlib import Path

from fairl import reproduction as reproduction_check
from fairl.lm.stage_files import GROUND_TRUTH, parse_rlhf_run, reward_label, rlhf_run
from fairl.lm.toxicity import BASE
from fairl.variants import check_variants, reward_file


def as_json(section):
    """A config section as a JSON string: scripts get it through params, so a change re-runs them."""
    return json.dumps(section, sort_keys=True)


LM = config["lm"]
POLICIES = [policy["name"] for policy in LM["policies"]]
POLICY = {policy["name"]: policy for policy in LM["policies"]}
if len(POLICY) != len(POLICIES):
    raise ValueError(f"lm.policies: names must be unique, got {POLICIES}")
IRL_VARIANTS = check_variants(LM["irl"]["variants"], "lm.irl.variants")
check_variants(config["synthetic"]["variants"], "synthetic.variants")
VARIANT_NAMES = {variant["name"]: slug for slug, variant in IRL_VARIANTS.items()}
for name in LM["rerlhf"]:
    if name not in VARIANT_NAMES:
        raise ValueError(f"lm.rerlhf names {name!r}, which is not in lm.irl.variants ({sorted(VARIANT_NAMES)})")
RERLHF = list(LM["rerlhf"])
RERLHF_SLUGS = [VARIANT_NAMES[name] for name in RERLHF]
RLHF_REWARDS = [GROUND_TRUTH, *RERLHF_SLUGS]
"""What each policy is RLHF'd against: r* (ground_truth), then every re-RLHF reward (a variant slug)."""
IRL_SEEDS = LM["irl"]["seeds"]
FIRST_SEED = IRL_SEEDS[0]
IRL_REGIMES = LM["irl"]["regimes"]
REWARD_REGIME = LM["irl"]["reward_regime"]
if REWARD_REGIME not in IRL_REGIMES:
    raise ValueError(f"lm.irl.reward_regime {REWARD_REGIME!r} is not one of lm.irl.regimes {IRL_REGIMES}")
RLHF_REPEATS = LM["rlhf_repeats"]
if RLHF_REPEATS > len(IRL_SEEDS):
    raise ValueError(
        f"lm.rlhf_repeats is {RLHF_REPEATS}, and repeat i re-RLHFs the reward of the i-th IRL seed: "
        f"lm.irl.seeds has only {len(IRL_SEEDS)}; add seeds or lower rlhf_repeats"
    )
RLHF_RUNS = [rlhf_run(reward, repeat) for reward in RLHF_REWARDS for repeat in range(RLHF_REPEATS)]
"""Every RLHF run of a policy (wildcard {reward}), lm.rlhf_repeats per reward: repeat i trains with seed lm.seed + i
against r* or against the reward fitted with the i-th IRL seed; the first run keeps the reward's name."""


RLHF_FINAL = "work/{policy}/rlhf/{reward}/final"
"""The published policy of an RLHF run (its checkpoints and step log sit beside it)."""
REWARDS = "work/{policy}/irl/rewards"
"""Where the irl jobs of a policy save their rewards (file names: fairl.variants.reward_file)."""
VARIANT_REWARDS = f"{REWARDS}/{{variant}}"
"""Prefix of one variant's reward files (rule irl), one per regime and seed."""


OFFLINE = "HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "
"""Prefix of the GPU rules' commands: the hub's offline switches. Those jobs read only what the local rules
materialised under work/, so a compute node without network runs them, and a job that tried to fetch fails."""


def lm_params(*sections, **extra):
    """JSON of the named lm config sections merged with the chain's seed, device and precision."""
    merged = {"seed": LM["seed"], "device": LM["device"], "precision": LM["precision"], **extra}
    for section in sections:
        merged.update(LM[section])
    return as_json(merged)


def rerlhf_reward(policy, run):
    """The reward file an RLHF run optimises: for repeat i, the i-th IRL seed's in lm.irl.reward_regime (None
    for r*)."""
    reward, repeat = parse_rlhf_run(run)
    if reward == GROUND_TRUTH:
        return None
    return reward_file(VARIANT_REWARDS.format(policy=policy, variant=reward), REWARD_REGIME, IRL_SEEDS[repeat])


def rlhf_seed(run):
    """The seed of an RLHF run: lm.seed plus its repeat number."""
    return LM["seed"] + parse_rlhf_run(run)[1]


def rlhf_threads(wildcards):
    """Threads of an RLHF job: two for r*'s first run, which the rest of the chain waits for; one for each other run.
    The re-RLHF runs are independent of each other, so on two cores Snakemake runs two side by side instead of one
    after another at two threads: 0.63-0.72x the wall time of the default study's two, for about twice the peak
    memory (README "Speed"). The count is the rule's, never the machine's: torch's CPU kernels do not all reduce in
    the same order at every thread count (LayerNorm's backward, in GPT-NeoX/Pythia, does not), so a run on more cores
    must use the same threads as one on two to compute the same numbers (tests/test_rlhf.py)."""
    return 2 if wildcards.reward == GROUND_TRUTH else 1


EVALUATED_POLICIES = [BASE, *RLHF_RUNS]
"""The versions of a policy the toxicity stage evaluates: the base (the reference of its paired differences) first, then each RLHF run's, named by the run (RLHF_RUNS)."""
EVALUATED = "work/{policy}/eval/{evaluated}.parquet"
"""One evaluated policy's scored generations (rule eval_generations)."""
EVAL_THREADS = 1
"""Threads of an eval_generations job: one, whatever the cores, as for re-RLHF (rlhf_threads): the jobs are
independent, so on two cores two run side by side, and the count, being the rule's, gives the same numbers on
any machine."""


def evaluated_policy(wildcards):
    """The policy directory an eval_generations job evaluates: the base policy, or an RLHF run's final/."""
    if wildcards.evaluated == BASE:
        return rules.policy.output[0].format(policy=wildcards.policy)
    return RLHF_FINAL.format(policy=wildcards.policy, reward=wildcards.evaluated)


def extracted_reward(wildcards):
    """Input of a re-RLHF job: its reward file (none for r*)."""
    path = rerlhf_reward(wildcards.policy, wildcards.reward)
    return [] if path is None else [path]


def rlhf_reward_labels(policy):
    """What each RLHF run of a policy names as its reward in its sidecar (fairl.lm.stage_files.reward_label)."""
    return {run: reward_label(rerlhf_reward(policy, run)) for run in RLHF_RUNS}


def lm_targets():
    targets = ["results/lm/judge_auc.csv"]
    for policy in POLICIES:
        targets += [f"results/lm/{policy}/irl_metrics_per_seed.csv", f"results/lm/{policy}/toxicity.csv"]
    return targets


def all_targets():
    return [
        *report_files(),
        "results/synthetic/metrics_per_seed.csv",
        "results/synthetic/benchmark.csv",
        "results/synthetic/benchmark.md",
        "paper_figures/synthetic_benchmark.pdf",
        "paper_figures/synthetic_benchmark.png",
        *lm_targets(),
    ]


def final_targets():
    """What `all` builds: every output, then the reproduction check of their tables."""
    return [*all_targets(), reproduction_check.REPORT_CSV, reproduction_check.REPORT_MARKDOWN]


REFERENCE = config.get("reference")


def reproduced_tables():
    """Every CSV table under results/ that the run writes (the reproduction report itself excluded)."""
    return [path for path in all_targets() if path.startswith("results/") and path.endswith(".csv")]


def print_reproduction_summary():
    """onsuccess: the reproduction check's one-line summary, when the run made or holds one."""
    line = reproduction_check.summary_of(Path(OUTPUT_ROOT))
    if line:
        print(f"{line}  (details: {os.path.join(config['output_root'], reproduction_check.REPORT_MARKDOWN)})")
