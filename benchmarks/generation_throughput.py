"""Generation throughput of the pairs stage: batched (left-padded, KV cache) vs one prompt at a time.

    python benchmarks/generation_throughput.py --policy out/default/work/smollm2-135m/base --n-prompts 48

Both loops sample the same prompts with the same settings in one process; tokens/s counts
generated (non-padding) tokens.
"""

from __future__ import annotations

import argparse
import platform

import pandas as pd
import torch

from fairl.io import atomic_write_text
from fairl.lm.generation import GenerationConfig, generate, generate_naive
from fairl.lm.policies import load_policy
from fairl.lm.prompts import insult_prompts, load_insults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", default="out/default/work/smollm2-135m/base", help="a saved HF model directory")
    parser.add_argument("--n-prompts", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--out", default="results/generation_throughput.md")
    args = parser.parse_args()
    model, tokenizer = load_policy(args.policy, device="auto")
    prompts = insult_prompts(load_insults("train.csv"), 8)["text"].tolist()[: args.n_prompts]
    config = GenerationConfig(max_new_tokens=30, temperature=0.7, batch_size=args.batch_size)
    generate(model, tokenizer, prompts[:2], config, seed=0)  # warm-up
    batched = generate(model, tokenizer, prompts, config, seed=0)
    naive = generate_naive(model, tokenizer, prompts, config, seed=0)
    table = pd.DataFrame([
        {"loop": f"batched ({args.batch_size} prompts per call)", "new_tokens": batched.new_tokens,
         "seconds": batched.seconds, "tokens_per_second": batched.tokens_per_second},
        {"loop": "one prompt at a time", "new_tokens": naive.new_tokens, "seconds": naive.seconds,
         "tokens_per_second": naive.tokens_per_second},
    ])
    speedup = batched.tokens_per_second / naive.tokens_per_second
    text = (f"# Generation throughput: {len(prompts)} prompts, 30 new tokens, T = 0.7\n\n"
            f"{args.policy} on {model.device}, {platform.machine()}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads); command: `python benchmarks/generation_throughput.py "
            f"--policy {args.policy} --n-prompts {args.n_prompts}`\n\n"
            f"{table.to_markdown(index=False, floatfmt='.1f')}\n\nbatched / naive: {speedup:.1f}x\n")
    print(text)
    atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
