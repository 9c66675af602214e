"""Figures of the language-model chain (PDF + PNG), aggregated over policies.

    python src/scripts/lm_figures.py classification --params '{"variants": [...]}' \
        --metrics smollm2-135m=results/lm/smollm2-135m/irl_metrics_per_seed.csv \
        --out paper_figures/lm_classification.pdf paper_figures/lm_classification.png
    # likewise: starc, lambda_sweep (--metrics); failure_curriculum (--rounds P=FILE);
    # rerlhf_training (--log P:REWARD=FILE); reward_distributions (--pairs, --features, --rewards P=...)

--params: {"variants": lm.irl.variants, "test_fraction": ..., "seed": first IRL seed, "report": {...}}.
"""

from __future__ import annotations

import pandas as pd

import _common
from fairl.lm.stage_files import LOG_COLUMNS, parse_rlhf_run, read_scored_pairs, read_table
from fairl.provenance import write_sidecar
from fairl.report import lm_figures as lf
from fairl.report import lm_tables as lt
from fairl.variants import slug, variant_design

FIGURES = ("classification", "starc", "lambda_sweep", "failure_curriculum", "rerlhf_training", "reward_distributions")
ROUND_COLUMNS = ["variant", "regime", "seed", "round", "gamma", "lambda", "sampling_rate", "n_failures"]


def per_seed_with_design(args, design: pd.DataFrame, regime: str) -> pd.DataFrame:
    """The per-seed IRL metrics of one optimisation regime (the tables show both)."""
    per_seed = lt.read_per_policy(_common.named_paths(args.metrics, "--metrics"), lt.PER_SEED_COLUMNS)
    return lt.with_design(per_seed[per_seed["regime"] == regime], design)


def rlhf_logs(entries: list[str], design: pd.DataFrame) -> pd.DataFrame:
    """--log POLICY:RUN=FILE entries as one table, with a readable label per reward (the repeats of a reward share
    it; `run` tells them apart)."""
    labels = {"ground_truth": "ground-truth reward r*"}
    labels.update({slug(v): f"{'FA-IRL' if r != 'irl' else 'IRL'}: {v}" for v, r in zip(design["variant"], design["role"])})
    frames = []
    for key, path in _common.named_paths(entries, "--log").items():
        policy, _, run = key.rpartition(":")
        if not policy:
            raise SystemExit(f"--log takes POLICY:RUN=FILE, got {key}={path}")
        reward = parse_rlhf_run(run)[0]
        log = read_table(path, LOG_COLUMNS)
        frames.append(log.assign(policy=policy, run=run, label=labels.get(reward, reward)))
    logs = pd.concat(frames, ignore_index=True)
    for column in ("reward", "kl", "toxicity"):
        logs[column] = pd.to_numeric(logs[column], errors="coerce")
    return logs


def reward_scores(args, params: dict, design: pd.DataFrame) -> pd.DataFrame:
    pairs_paths, features_paths = _common.named_paths(args.pairs, "--pairs"), _common.named_paths(args.features, "--features")
    reward_dirs = _common.named_paths(args.rewards, "--rewards")
    main = design.loc[design["role"] != "ablation", "variant"].tolist()
    frames = []
    for policy, pairs_path in pairs_paths.items():
        pairs, h_pos, h_neg, rewards = read_scored_pairs(pairs_path, features_paths[policy], reward_dirs[policy],
                                                         main, params["regime"], params["seed"], params["made_with"])
        scored = lf.scored_outputs(pairs, h_pos, h_neg, rewards, params["test_fraction"], params["seed"])
        frames.append(scored.assign(policy=policy))
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("figure", choices=FIGURES)
    for name in ("--metrics", "--rounds", "--log", "--pairs", "--features", "--rewards"):
        parser.add_argument(name, action="append", help="POLICY=PATH (--log: POLICY:REWARD=PATH), repeated")
    parser.add_argument("--out", nargs="+", required=True, help="figure files (.pdf, .png)")
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run(f"lm_figures {args.figure}", params)
    report = {**_common.REPORT_DEFAULTS, **params.get("report", {})}
    design = variant_design(params["variants"])
    regime = params["regime"]
    if args.figure == "classification":
        lf.plot_classification(per_seed_with_design(args, design, regime), args.out)
    elif args.figure == "starc":
        lf.plot_starc(per_seed_with_design(args, design, regime), args.out)
    elif args.figure == "lambda_sweep":
        lf.plot_lambda_sweep(per_seed_with_design(args, design, regime), args.out)
    elif args.figure == "failure_curriculum":
        paths = _common.named_paths(args.rounds, "--rounds")
        frames = [read_table(path, ROUND_COLUMNS).assign(policy=policy) for policy, path in paths.items()]
        rounds = pd.concat(frames, ignore_index=True)
        lf.plot_failure_curriculum(rounds[rounds["regime"] == regime], args.out)
    elif args.figure == "rerlhf_training":
        lf.plot_rerlhf_training(rlhf_logs(args.log, design), int(report["smoothing"]), args.out)
    else:
        lf.plot_reward_distributions(reward_scores(args, params, design), args.out)
    write_sidecar(args.out[0], f"lm_figures {args.figure}", params)


if __name__ == "__main__":
    main()
