# Helpers of rules/report.smk (kept apart so `snakemake --lint` finds no functions among rules).
# Needs from common.smk: LM, POLICIES, RERLHF, FIRST_SEED, REWARD_REGIME, variant_slug, reward_file, as_json.
# Optional config section `report:` (defaults in src/scripts/_common.py REPORT_DEFAULTS):
#   top_k (failure pairs per reward), max_chars (text per cell), smoothing (RLHF log rolling window).
import shlex

REPORT = config.get("report", {})
LM_CATEGORY = "Language-model chain"


def report_params(*report_keys, split=False, **extra):
    """JSON params of a report rule: the IRL variants, the regime of the rewards it reads, and only the
    report keys (and split) it uses."""
    params = {"variants": LM["irl"]["variants"], "report": {k: REPORT[k] for k in report_keys if k in REPORT},
              "regime": REWARD_REGIME, **extra}
    if split:
        params.update(test_fraction=LM["irl"]["test_fraction"], seed=FIRST_SEED)
    return as_json(params)


def per_policy(pattern):
    return [pattern.format(policy=p) for p in POLICIES]


def policy_args(option, pattern):
    """`--option P=PATH` for every policy, shell-quoted."""
    return " ".join(f"{option} {shlex.quote(f'{p}={pattern.format(policy=p)}')}" for p in POLICIES)


def rlhf_rewards():
    return ["ground_truth", *(variant_slug(v) for v in RERLHF)]


def rlhf_log_args():
    """The per-step log each RLHF run copies into its final/ (the declared output)."""
    logs = [f"{p}:{r}=work/{p}/rlhf/{r}/final/training_log.csv" for p in POLICIES for r in rlhf_rewards()]
    return " ".join(f"--log {shlex.quote(log)}" for log in logs)


def lm_report(path, caption, subcategory):
    return report(path, caption=f"../report/{caption}.rst", category=LM_CATEGORY, subcategory=subcategory)


def first_seed_rewards():
    """Every IRL variant's reward of the first seed in lm.irl.reward_regime, per policy (what the report scripts read)."""
    return [reward_file(f"work/{p}/irl/rewards/{slug}", REWARD_REGIME, FIRST_SEED) for p in POLICIES for slug in IRL_VARIANTS]


def pairs_args():
    return " ".join([policy_args("--pairs", "work/{policy}/pairs.parquet"),
                     policy_args("--features", "work/{policy}/features.npz"),
                     policy_args("--rewards", "work/{policy}/irl/rewards")])


def report_targets():
    """Every output of the report layer (the `all` target adds these)."""
    tables = ["classification", "starc", "rerlhf_toxicity", "ablations", "failure_pairs"]
    figures = ["classification", "starc", "rerlhf_training", "lambda_sweep", "failure_curriculum",
               "reward_distributions"]
    return [
        *(f"results/lm/{t}.{ext}" for t in tables for ext in ("csv", "md")),
        "results/paper_vs_reproduced.csv",
        "results/paper_vs_reproduced.md",
        *(f"paper_figures/lm_{f}.{ext}" for f in figures for ext in ("pdf", "png")),
    ]
