"""KL divergence of a policy to the base policy, estimated on its own samples.

The re-RLHF table reports how far each aligned policy moved from the base: with completions y
sampled from π at temperature T (as the evaluation samples them),

    KL(π_T ‖ π_base,T) ≈ mean over prompts of Σ_t [log π_T(y_t | x, y_<t) − log π_base,T(y_t | x, y_<t)],

an unbiased Monte-Carlo estimate because the samples come from π_T itself. Completions are
scored on the token ids that were sampled (`Completions.token_ids`), not re-tokenised from
their text: decoding does not always round-trip, and re-tokenised samples are no longer
samples from π_T (the estimate can then turn negative).
"""

from __future__ import annotations

import numpy as np


def completion_log_probs(model, tokenizer, prompts: list[str], completions: list[list[int]], temperature: float = 1.0,
                         batch_size: int = 16, max_prompt_tokens: int = 64) -> np.ndarray:
    """(n,) float64: Σ_t log p_T(completion token t | prompt, earlier completion tokens) under `model`.
    `completions` are token id lists; prompts are tokenised as generation tokenises them."""
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    import torch  # here: the toxicity table imports kl_to_base and never runs a model

    with torch.inference_mode():
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        totals = []
        for start in range(0, len(prompts), batch_size):
            rows = []
            for prompt, completion in zip(prompts[start:start + batch_size], completions[start:start + batch_size]):
                prompt_ids = tokenizer(prompt, truncation=True, max_length=max_prompt_tokens)["input_ids"]
                rows.append((list(prompt_ids), [int(token) for token in completion]))
            width = max(len(p) + len(c) for p, c in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            scored = torch.zeros((len(rows), width), dtype=torch.bool)
            for i, (prompt_ids, completion_ids) in enumerate(rows):
                sequence = prompt_ids + completion_ids
                offset = width - len(sequence)  # left padding, as in generation
                ids[i, offset:] = torch.tensor(sequence, dtype=torch.long)
                mask[i, offset:] = 1
                scored[i, offset + len(prompt_ids):] = True
            positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
            ids, mask, positions = ids.to(model.device), mask.to(model.device), positions.to(model.device)
            logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.float() / temperature
            log_probs = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            totals.append((log_probs * scored[:, 1:].to(log_probs.device)).sum(dim=1).double().cpu().numpy())
    return np.concatenate(totals) if totals else np.zeros(0)


def log_ratio_to_base(policy, base, tokenizer, prompts: list[str], completions: list[list[int]],
                      temperature: float = 1.0, batch_size: int = 16, max_prompt_tokens: int = 64) -> np.ndarray:
    """(n,) float64: log π_T(y) − log π_base,T(y) of each completion y sampled from `policy`; their mean is the
    Monte-Carlo KL(π_T ‖ π_base,T) in nats per completion (`kl_to_base`)."""
    if not completions:
        raise ValueError("no completions to estimate the KL divergence on")
    kwargs = dict(temperature=temperature, batch_size=batch_size, max_prompt_tokens=max_prompt_tokens)
    own = completion_log_probs(policy, tokenizer, prompts, completions, **kwargs)
    reference = completion_log_probs(base, tokenizer, prompts, completions, **kwargs)
    return own - reference


def kl_to_base(log_ratios: np.ndarray) -> float:
    """Monte-Carlo KL(π_T ‖ π_base,T) in nats per completion: the mean of `log_ratio_to_base` over completions
    sampled from π_T."""
    return float(np.mean(log_ratios))
