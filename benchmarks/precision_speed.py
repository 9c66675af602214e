"""Does `lm.precision: bf16` pay on this machine? One linear layer of the policy's shape, fp32 against bf16 autocast.

The chain's model computations run under `fairl.devices.autocast` (bf16 autocast, weights fp32). On a CPU with
native bfloat16 instructions (AVX512-BF16, AMX) that is faster than fp32 (the performance issue's profile measured an
RLHF step at ×0.47 on one); without them the products are emulated and slower. This times one of the matrix
products of SmolLM2-135M (the default policy), its MLP's 576 → 1536 projection over a batch of tokens, forward and
backward, in one process.

    python benchmarks/precision_speed.py                                  # results/precision_speed.md
    python benchmarks/precision_speed.py --tokens 32 --repeats 2 --out /tmp/precision.md   # smoke run
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd
import torch
from markdown_report import command_line, write_markdown

from fairl.devices import autocast, native_cpu_bf16


def step_seconds(precision: str, layer: torch.nn.Linear, x: torch.Tensor, repeats: int) -> float:
    """Median wall time of forward + backward of `layer` on `x` under `precision`'s autocast (after one warm-up)."""
    times = []
    for _ in range(repeats + 1):
        layer.zero_grad(set_to_none=True)
        start = time.perf_counter()
        with autocast(precision, "cpu"):
            out = layer(x)
        out.float().square().mean().backward()
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=1024, help="rows of the batch (sequences × tokens)")
    parser.add_argument("--d-in", type=int, default=576, help="SmolLM2-135M's hidden size")
    parser.add_argument("--d-out", type=int, default=1536, help="SmolLM2-135M's MLP size")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", default="results/precision_speed.md")
    args = parser.parse_args()

    torch.manual_seed(0)
    layer = torch.nn.Linear(args.d_in, args.d_out)
    x = torch.randn(args.tokens, args.d_in)
    seconds = {precision: step_seconds(precision, layer, x, args.repeats) for precision in ("fp32", "bf16")}
    table = pd.DataFrame([{"precision": p, "milliseconds": 1e3 * s, "ratio_to_fp32": s / seconds["fp32"]}
                          for p, s in seconds.items()])
    header = (f"# fp32 against bf16 autocast: one {args.d_in} → {args.d_out} linear layer, {args.tokens} rows, "
              f"forward + backward\n\n{platform.processor() or platform.machine()}, CPU capability "
              f"{torch.backends.cpu.get_cpu_capability()}, bfloat16 instructions (AVX512-BF16/AMX): {native_cpu_bf16()}; torch "
              f"{torch.__version__} with {torch.get_num_threads()} threads; median of {args.repeats} after one warm-up; "
              f"command: `{command_line()}`\n\n")
    write_markdown(args.out, header, table)


if __name__ == "__main__":
    main()
