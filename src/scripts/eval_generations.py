"""One policy's generations on the held-out prompts, scored: each completion's r*, its log-ratio to the base
policy (the KL's terms) and, under each judge, whether it is toxic. The toxicity stage reads every policy's.

    python src/scripts/eval_generations.py --params '<json>' --prompts work/prompts.parquet --judge work/judge \
        --evaluation-judge work/evaluation_judge --base work/smollm2-135m/base \
        --name max_margin --policy work/smollm2-135m/rlhf/max_margin/final \
        --out work/smollm2-135m/eval/max_margin.parquet

`--name base` evaluates the base policy itself (then --policy is the --base directory).
"""

from __future__ import annotations

import _common
from fairl.devices import autocast
from fairl.io import atomic_write_parquet
from fairl.lm.generation import GenerationConfig
from fairl.lm.judges import load_judge_dir
from fairl.lm.policies import load_policy
from fairl.lm.stage_files import check_rlhf_policy, read_prompts
from fairl.lm.toxicity import BASE, GROUND_TRUTH_JUDGE, evaluate_policy
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--judge", required=True, help="ground-truth judge directory (r*)")
    parser.add_argument("--evaluation-judge", required=True, help="evaluation judge directory")
    parser.add_argument("--base", required=True, help="the base policy: the reference of the log-ratios")
    parser.add_argument("--name", required=True, help=f"'{BASE}', or the RLHF run the policy is (its reward's name, "
                                                       "-N for a repeat)")
    parser.add_argument("--policy", required=True, help="the policy to evaluate (for --name base, the --base directory)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("eval_generations", params)
    device = params.get("device", "auto")
    if args.name == BASE:
        if args.policy != args.base:
            raise ValueError(f"--name {BASE} evaluates the base policy: --policy must be the --base directory "
                             f"({args.base!r}), got {args.policy!r}")
    elif args.name not in params["rewards"]:
        raise ValueError(f"--name {args.name!r}: the config has no RLHF run named so (it has {sorted(params['rewards'])})")
    else:
        check_rlhf_policy(args.policy, params["rlhf"], params["rlhf_seeds"][args.name], params["precision"],
                          params["rewards"][args.name])
    prompts = read_prompts(args.prompts, "eval")
    if len(prompts) < 2:
        raise ValueError(f"{args.prompts} has {len(prompts)} 'eval' prompt(s); the bootstrap intervals need at least 2: "
                         "rebuild it with prompts.sizes.eval >= 2")
    ground_truth = load_judge_dir(args.judge, device)
    evaluation = load_judge_dir(args.evaluation_judge, device)
    judges = {GROUND_TRUTH_JUDGE: ground_truth, evaluation.name: evaluation}
    base, tokenizer = load_policy(args.base, device=device)
    model = base if args.name == BASE else load_policy(args.policy, device=base.device)[0]
    with autocast(params.get("precision", "fp32"), base.device):
        generated = evaluate_policy(args.name, model, base, tokenizer, prompts, judges,
                                    GenerationConfig(**params["generation"]), params["seed"])
    atomic_write_parquet(generated, args.out)
    write_sidecar(args.out, "eval_generations", params, params["seed"], models={"base": args.base, "policy": args.policy})


if __name__ == "__main__":
    main()
