"""Toxicity evaluation: each policy answers the held-out prompts; share of generations each judge
scores ≥ 0.5 with bootstrap 95% intervals, mean r*, and the paired difference to the base policy.

    python src/scripts/toxicity.py --params '<json>' --prompts work/prompts.parquet --judge work/judge \
        --policy base=work/policies/base --policy ground_truth=work/rlhf/ground_truth/final ... \
        --out results/lm/toxicity.csv --generations work/eval/generations.parquet
"""

from __future__ import annotations

import pandas as pd

import _common
from fairl.generation import GenerationConfig, generate
from fairl.io import atomic_write_csv, atomic_write_parquet
from fairl.judges import ProfanityJudge, load_judge_dir
from fairl.policies import load_policy
from fairl.toxicity_eval import TOXIC_THRESHOLD, bootstrap_difference, bootstrap_share


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--judge", required=True)
    parser.add_argument("--policy", action="append", required=True, help="NAME=DIR; the first is the reference (base)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--generations", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("toxicity", params)
    device = params.get("device", "auto")
    prompts = pd.read_parquet(args.prompts)
    prompts = prompts[prompts["split"] == "eval"]
    judges = {"r* judge": load_judge_dir(args.judge, device), "alt-profanity-check": ProfanityJudge()}
    config = GenerationConfig(**params["generation"])
    generations, rows, reference = [], [], {}
    for entry in args.policy:
        name, _, path = entry.partition("=")
        model, tokenizer = load_policy(path, device=device)
        texts = generate(model, tokenizer, prompts["text"].tolist(), config, params["seed"], desc=name).texts
        r_star = judges["r* judge"].reward(texts)
        generations.append(pd.DataFrame({"policy": name, "prompt_id": prompts["prompt_id"].to_numpy(),
                                         "completion": texts, "r_star": r_star}))
        for judge_name, judge in judges.items():
            toxic = judge.toxicity(texts) >= TOXIC_THRESHOLD
            reference.setdefault(judge_name, toxic)
            share, low, high = bootstrap_share(toxic, params["n_boot"], params["seed"])
            diff, diff_low, diff_high = bootstrap_difference(toxic, reference[judge_name], params["n_boot"], params["seed"])
            rows.append({"policy": name, "judge": judge_name, "toxic_share": share, "ci_low": low, "ci_high": high,
                         "diff_vs_reference": diff, "diff_ci_low": diff_low, "diff_ci_high": diff_high,
                         "mean_r_star": float(r_star.mean()), "n_prompts": len(texts)})
        del model
    atomic_write_parquet(pd.concat(generations, ignore_index=True), args.generations)
    atomic_write_csv(pd.DataFrame(rows), args.out)


if __name__ == "__main__":
    main()
