# Helpers of rules/report.smk (kept apart so `snakemake --lint` finds no functions among rules).
# Needs from common.smk: LM, POLICIES, FIRST_SEED, REWARD_REGIME, RLHF_RUNS, RLHF_FINAL, REWARDS,
# VARIANT_REWARDS, reward_file, as_json; from lm.smk: the rules whose outputs the report reads.
# Optional config section `report:` (defaults in src/scripts/_common.py REPORT_DEFAULTS):
#   top_k (failure pairs per reward), max_chars (text per cell), smoothing (RLHF log rolling window).
import shlex

from fairl.report.outputs import LM_REPORT, PAPER_VS_REPRODUCED, report_files

REPORT = config.get("report", {})
LM_CATEGORY = "Language-model chain"


def report_params(output):
    """JSON params of a report rule: the IRL variants, the regime of the rewards it reads, and only the
    report keys (and split, n_boot) it uses."""
    params = {
        "variants": LM["irl"]["variants"],
        "report": {k: REPORT[k] for k in output.report_keys if k in REPORT},
        "regime": REWARD_REGIME,
    }
    if output.split:
        params.update(test_fraction=LM["irl"]["test_fraction"], seed=FIRST_SEED)
    if output.n_boot:
        params.update(n_boot=LM["n_boot"])
    if {"pairs", "features", "rewards"} & set(output.inputs):  # what they were made with (checked by their sidecars)
        params.update(made_with={k: LM[k] for k in ("seed", "generation", "features", "precision")})
    return as_json(params)


def policy_args(option, pattern):
    """`--option P=PATH` for every policy, shell-quoted."""
    return " ".join(f"{option} {shlex.quote(f'{p}={pattern.format(policy=p)}')}" for p in POLICIES)


def per_policy_pattern(kind):
    """The file of each per-policy input kind (fairl.report.outputs.INPUT_KINDS), as its rule declares it."""
    return {
        "metrics": rules.irl_collect.output.metrics,
        "toxicity": rules.toxicity.output.table,
        "generations": rules.toxicity.output.generations,
        "rounds": rules.irl_collect.output.rounds,
        "pairs": rules.pairs.output[0],
        "features": rules.features.output[0],
    }[kind]


def report_input(kind):
    """(declared files, script arguments) of one input kind, over every policy."""
    if kind == "rewards":  # every variant's reward of the first seed in lm.irl.reward_regime
        files = [
            reward_file(VARIANT_REWARDS.format(policy=p, variant=slug), REWARD_REGIME, FIRST_SEED)
            for p in POLICIES
            for slug in IRL_VARIANTS
        ]
        return files, policy_args("--rewards", REWARDS)
    if kind == "rerlhf_toxicity":  # a table of this layer, over every policy
        path = table_file("rerlhf_toxicity")
        return [path], f"--rerlhf-toxicity {shlex.quote(path)}"
    if kind == "runs":  # the per-step log each RLHF run copies into its final/ (the declared output)
        runs = [(p, r, RLHF_FINAL.format(policy=p, reward=r)) for p in POLICIES for r in RLHF_RUNS]
        logs = " ".join(f"--log {shlex.quote(f'{p}:{r}={run}/training_log.csv')}" for p, r, run in runs)
        return [run for _, _, run in runs], logs
    pattern = per_policy_pattern(kind)
    return [pattern.format(policy=p) for p in POLICIES], policy_args(f"--{kind}", pattern)


def report_inputs(output):
    return {kind: report_input(kind)[0] for kind in output.inputs}


def report_arguments(output):
    return " ".join(report_input(kind)[1] for kind in output.inputs)


def report_outputs(output):
    subcategory = "Tables" if output.kind == "table" else "Figures"
    caption = f"../report/{output.caption}.rst"
    return {
        key: report(path, caption=caption, category=LM_CATEGORY, subcategory=subcategory) for key, path in output.files.items()
    }


def table_file(name):
    return next(o for o in LM_REPORT if o.kind == "table" and o.name == name).files["csv"]
