"""RLHF stage: detoxify the base policy against a reward (RLOO with a KL penalty; see fairl.lm.rlhf).

    python src/scripts/rlhf.py --params '<json>' --policy work/P/base --prompts work/prompts.parquet \
        --judge work/judge [--extracted-reward work/P/irl/rewards/fa_max_margin_seed0.npz] --out work/P/rlhf/ground_truth

Without --extracted-reward the reward is r* (the judge's non-toxic logit); with it, re-RLHF.
Resumes from the last checkpoint under --out when restarted; refuses to start while another live process
writes --out (the error names it).
"""

from __future__ import annotations

import _common
from fairl.io import exclusive_writer
from fairl.lm.judges import load_judge_dir
from fairl.lm.rewards import ExtractedReward, GroundTruthReward
from fairl.lm.rlhf import RLHFConfig, train_rlhf
from fairl.lm.stage_files import policy_sidecar, read_prompts, read_reward, reward_label
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--policy", required=True)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--judge", required=True, help="ground-truth judge: r*, and the per-step toxicity log")
    parser.add_argument("--extracted-reward", help="a LinearReward .npz: re-RLHF with it instead of r*")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    # Before anything is loaded: a restarted job stops at once while an orphan of a killed run still writes --out.
    with exclusive_writer(args.out, "RLHF"):
        run(args)


def run(args) -> None:
    params = args.params
    _common.log_run("rlhf", params)
    prompts = read_prompts(args.prompts, "rlhf")["text"].tolist()
    judge = load_judge_dir(args.judge, device=params.get("device", "auto"))
    features = params["features"]  # the features stage's contract: R(o) is scored on the features IRL fitted
    if args.extracted_reward:
        # The reward was fitted on features made under a feature contract; R(o) must be scored under the same.
        reward = read_reward(args.extracted_reward, made_with=params)
        reward_fn = ExtractedReward(reward, args.policy, params.get("device", "auto"), features["batch_size"],
                                    features["max_tokens"], params.get("precision", "fp32"))
    else:
        reward_fn = GroundTruthReward(judge)
    config = RLHFConfig(**{key: value for key, value in params.items() if key != "features"})
    # restart_if_changed: Snakemake re-runs this stage after a config change, and the checkpoints
    # it leaves (undeclared, so that a preempted run can resume) belong to the old config.
    models = {"base": args.policy, "reward": reward_label(args.extracted_reward)}
    train_rlhf(args.policy, prompts, reward_fn, args.out, config, toxicity_fn=judge.toxicity, restart_if_changed=True,
               describe=lambda final: write_sidecar(policy_sidecar(final), "rlhf", params, config.seed, models=models))


if __name__ == "__main__":
    main()
