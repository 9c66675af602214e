import json


def as_json(section):
    """A config section as a JSON string: scripts get it through params, so a change re-runs them."""
    return json.dumps(section, sort_keys=True)


def all_targets():
    return [
        "results/synthetic/benchmark.csv",
        "results/synthetic/benchmark.md",
        "paper_figures/synthetic_benchmark.pdf",
        "paper_figures/synthetic_benchmark.png",
        "results/lm/judge_auc.csv",
        "results/lm/irl_metrics_per_seed.csv",
        "results/lm/toxicity.csv",
    ]
