"""Frozen features h(o): the base policy's last hidden state, mean-pooled over prompt + completion [precursor].

Computed once per (encoder, texts) and cached in an .npz that records its key, so every
IRL variant reuses the same array and a stale cache is detected rather than reused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm


def feature_key(encoder: str, texts: list[str], max_tokens: int) -> str:
    """sha256 over the encoder id, the token limit and every text."""
    digest = hashlib.sha256(json.dumps([encoder, max_tokens]).encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def feature_texts(prompts, completions) -> list[str]:
    """The text h(o) is computed on: prompt + completion, as the features stage and re-RLHF's R(o) both build it."""
    return [p + c for p, c in zip(prompts, completions, strict=True)]


@torch.inference_mode()
def mean_pooled_features(model, tokenizer, texts: list[str], batch_size: int = 16, max_tokens: int = 128) -> np.ndarray:
    """(n, d) float32: mean over non-padding tokens of the final hidden layer."""
    rows = []
    for start in tqdm(range(0, len(texts), batch_size), desc="features", unit="batch", leave=False):
        batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True, truncation=True,
                          max_length=max_tokens).to(model.device)
        # The bare decoder: its last hidden state is the causal LM's hidden_states[-1], without the LM head (a 49k-vocabulary
        # projection per token for SmolLM2, a quarter of the stage's time) that the features never use.
        hidden = model.base_model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        rows.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().cpu().numpy())
    features = np.concatenate(rows) if rows else np.zeros((0, model.config.hidden_size), np.float32)
    if not np.isfinite(features).all():
        raise ValueError("the encoder produced NaN or inf features; check the model's dtype and inputs")
    return features


def cached_features(path: str | Path, encoder: str, texts: list[str], compute, max_tokens: int) -> np.ndarray:
    """Load features from `path` when its key matches (encoder, texts); otherwise compute and save them."""
    from fairl.io import atomic_save_npz

    path, key = Path(path), feature_key(encoder, texts, max_tokens)
    if path.is_file():
        with np.load(path) as cached:
            if str(cached["key"]) == key:
                return cached["features"]
    features = compute()
    atomic_save_npz(path, features=features, key=np.array(key))
    return features
