"""Peak memory of judge scoring against its batch size: detoxify 'original' at bert-base-uncased's exact size.

    python benchmarks/judge_memory.py --tokens 128 --runs 64:8 256:8 256:32 256:256

The weights are random (the real checkpoint cannot be downloaded here), which does not change memory: a
detoxify-format checkpoint with BertConfig()'s architecture (bert-base-uncased: 12 layers, 768 hidden,
30,522 tokens, 6 classes) is materialised by `fairl.lm.judges.materialise_judge`, then each batch size scores
texts of exactly `--tokens` tokens in a fresh process, for each N_TEXTS:BATCH_SIZE of `--runs`. Peak memory is the resident set's
highest value during scoring above its value just before (sampled every 2 ms), after a one-text warm-up
pass (the weights are memory-mapped and become resident in the first pass), so the weights do not count.
On a GPU the same bound holds for activations (the weights are fixed); this measures host memory on CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

from fairl.io import atomic_write_text

PAGE = 4096


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE


def score(judge_dir: str, n_texts: int, tokens: int, batch_size: int) -> dict:
    """Run in a fresh process: peak resident memory while scoring, above the memory before scoring."""
    from fairl.lm.judges import load_judge_dir

    judge = load_judge_dir(judge_dir, device="cpu")
    judge.batch_size = batch_size
    words = ["idiot", "day", "friend", "stupid", "thanks", "nice"]
    text = " ".join(words[i % len(words)] for i in range(tokens - 2))  # + [CLS] and [SEP]
    texts = [text] * n_texts
    assert len(judge.tokenizer(text)["input_ids"]) == tokens
    judge.toxicity(texts[:1])  # warm-up: the weights are memory-mapped, and become resident in the first pass
    before, peak, done = rss_bytes(), [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    judge.toxicity(texts)
    done.set()
    sampler.join()
    return {"batch_size": batch_size, "n_texts": n_texts, "tokens_per_text": tokens,
            "peak_mb_above_loaded": round((max(peak[0], rss_bytes()) - before) / 2**20, 1)}


def materialise(directory: Path) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from fairl.lm.judges import materialise_judge

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.standins import DETOXIFY_ORIGINAL_CLASSES, detoxify_checkpoint

    _, config_dir = detoxify_checkpoint(directory / "standin")  # its WordPiece tokenizer files
    config = BertConfig(num_labels=6)  # bert-base-uncased's architecture
    config.save_pretrained(config_dir)
    torch.manual_seed(0)
    checkpoint = directory / "bert-base-detoxify.ckpt"
    torch.save({"config": {"arch": {"args": {"model_type": "bert-base-uncased", "model_name": "BertForSequenceClassification",
                                            "tokenizer_name": "BertTokenizer", "num_classes": 6}},
                           "dataset": {"args": {"classes": DETOXIFY_ORIGINAL_CLASSES}}},
                "state_dict": BertForSequenceClassification(config).state_dict()}, checkpoint)
    materialise_judge({"kind": "detoxify", "checkpoint": str(checkpoint), "huggingface_config_path": str(config_dir)},
                      directory / "judge")
    return directory / "judge"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", nargs="+", default=["64:8", "256:8", "256:32", "256:256"],
                        help="N_TEXTS:BATCH_SIZE pairs, each scored in a fresh process")
    parser.add_argument("--out", default="results/judge_memory.md")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # internal: JUDGE_DIR N_TEXTS BATCH_SIZE
    args = parser.parse_args()
    if args.one:
        print(json.dumps(score(args.one[0], int(args.one[1]), args.tokens, int(args.one[2]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        judge = materialise(Path(tmp))
        rows = []
        for run in args.runs:
            n_texts, _, batch_size = run.partition(":")
            done = subprocess.run([sys.executable, __file__, "--tokens", str(args.tokens), "--one", str(judge), n_texts,
                                   batch_size], capture_output=True, text=True, check=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    command = " ".join(["python benchmarks/judge_memory.py", "--tokens", str(args.tokens), "--runs", *args.runs])
    atomic_write_text(args.out, "# Judge memory against batch size (detoxify 'original', bert-base size, CPU)\n\n"
                      f"`{command}`; peak resident memory while scoring, above the loaded model's.\n\n"
                      + table.to_markdown(index=False) + "\n")


if __name__ == "__main__":
    main()
