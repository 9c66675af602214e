"""Toxicity evaluation: the base policy and each RLHF'd policy answer the held-out prompts; share of
generations each judge scores ≥ 0.5 with bootstrap 95% intervals, mean r*, the paired difference to
the base policy, and the KL divergence to the base policy on the policy's own samples.

    python src/scripts/toxicity.py --params '<json>' --prompts work/prompts.parquet --judge work/judge \
        --evaluation-judge work/evaluation_judge \
        --base work/smollm2-135m/base --rlhf ground_truth=work/smollm2-135m/rlhf/ground_truth/final ... \
        --out results/lm/smollm2-135m/toxicity.csv --generations work/smollm2-135m/eval/generations.parquet
"""

from __future__ import annotations

import pandas as pd

import _common
from fairl.divergence import kl_to_base
from fairl.generation import GenerationConfig, generate
from fairl.io import atomic_write_csv, atomic_write_parquet
from fairl.judges import load_judge_dir
from fairl.policies import autocast, load_policy
from fairl.provenance import write_sidecar
from fairl.toxicity_eval import TOXIC_THRESHOLD, bootstrap_difference, bootstrap_share, toxic_column


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--judge", required=True, help="ground-truth judge directory (r*)")
    parser.add_argument("--evaluation-judge", required=True, help="evaluation judge directory")
    parser.add_argument("--base", required=True, help="the base policy: the reference of differences and KL")
    parser.add_argument("--rlhf", action="append", default=[], help="REWARD=DIR of an RLHF'd policy; repeatable")
    parser.add_argument("--out", required=True)
    parser.add_argument("--generations", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("toxicity", params)
    device = params.get("device", "auto")
    policies = {"base": args.base}
    for entry in args.rlhf:
        reward, separator, path = entry.partition("=")
        if not separator or not path or reward in policies:
            raise ValueError(f"--rlhf takes REWARD=DIR with a new reward name, got {entry!r}")
        policies[reward] = path
    prompts = pd.read_parquet(args.prompts)
    prompts = prompts[prompts["split"] == "eval"]
    if len(prompts) < 2:
        raise ValueError(f"{args.prompts} has {len(prompts)} 'eval' prompt(s); the bootstrap intervals need at least 2: "
                         "rebuild it with prompts.sizes.eval >= 2")
    ground_truth = load_judge_dir(args.judge, device)
    evaluation = load_judge_dir(args.evaluation_judge, device)
    judges = {"r* judge": ground_truth, evaluation.name: evaluation}
    config = GenerationConfig(**params["generation"])
    base, tokenizer = load_policy(args.base, device=device)
    with autocast(params.get("precision", "fp32"), base.device):
        generations, rows = evaluate(policies, base, tokenizer, prompts, judges, config, params)
    atomic_write_parquet(pd.concat(generations, ignore_index=True), args.generations)
    atomic_write_csv(pd.DataFrame(rows), args.out)
    write_sidecar(args.out, "toxicity", params, params["seed"], models=policies)


def evaluate(policies, base, tokenizer, prompts, judges, config, params):
    """Each policy's generations on the eval prompts, and the table rows of every (policy, judge)."""
    ground_truth = judges["r* judge"]
    texts_in = prompts["text"].tolist()
    generations, rows, reference = [], [], {}
    for reward, path in policies.items():
        model = base if reward == "base" else load_policy(path, device=base.device)[0]
        sampled = generate(model, tokenizer, texts_in, config, params["seed"], desc=reward)
        texts = sampled.texts
        kl = 0.0 if model is base else kl_to_base(model, base, tokenizer, texts_in, sampled.token_ids,
                                                  config.temperature, config.batch_size, config.max_prompt_tokens)
        r_star = ground_truth.reward(texts)
        generated = pd.DataFrame({"reward": reward, "prompt_id": prompts["prompt_id"].to_numpy(),
                                  "completion": texts, "r_star": r_star})
        for judge_name, judge in judges.items():
            toxic = judge.toxicity(texts) >= TOXIC_THRESHOLD
            generated[toxic_column(judge_name)] = toxic  # per prompt: what paired comparisons resample
            reference.setdefault(judge_name, toxic)
            share, low, high = bootstrap_share(toxic, params["n_boot"], params["seed"])
            diff, diff_low, diff_high = bootstrap_difference(toxic, reference[judge_name], params["n_boot"], params["seed"])
            rows.append({"reward": reward, "judge": judge_name, "toxic_share": share, "ci_low": low, "ci_high": high,
                         "diff_vs_reference": diff, "diff_ci_low": diff_low, "diff_ci_high": diff_high,
                         "mean_r_star": float(r_star.mean()), "kl_to_base": kl, "n_prompts": len(texts)})
        generations.append(generated)
        if model is not base:
            del model
    return generations, rows


if __name__ == "__main__":
    main()
