"""KL to the base policy: zero for the base itself, positive for a moved policy, batch-invariant."""

import numpy as np
import pytest
import torch

from fairl.lm.generation import GenerationConfig, generate
from fairl.lm.policies import load_policy
from fairl.metrics.kl import completion_log_probs, kl_to_base, log_ratio_to_base

PROMPTS = ["you are an idiot", "have a nice day", "what a stupid", "thanks for the", "shut up you"]


@pytest.fixture(scope="module")
def samples(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    texts = generate(model, tokenizer, PROMPTS, GenerationConfig(max_new_tokens=6, batch_size=5), seed=0).token_ids
    return model, tokenizer, texts


def test_log_probs_do_not_depend_on_padding_or_batching(samples):
    model, tokenizer, texts = samples
    batched = completion_log_probs(model, tokenizer, PROMPTS, texts, temperature=0.7, batch_size=5)
    single = completion_log_probs(model, tokenizer, PROMPTS, texts, temperature=0.7, batch_size=1)
    assert np.all(np.isfinite(batched)) and np.all(batched <= 0)
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_kl_is_zero_to_itself_and_positive_for_a_moved_policy(tiny_policy, samples):
    base, tokenizer, _ = samples
    moved, _ = load_policy(tiny_policy, device="cpu")
    with torch.no_grad():
        for parameter in moved.parameters():
            parameter.add_(0.2 * torch.randn_like(parameter, generator=torch.Generator().manual_seed(1)))
    own = generate(moved, tokenizer, PROMPTS * 4, GenerationConfig(max_new_tokens=6, batch_size=10), seed=0).token_ids
    to_itself = log_ratio_to_base(base, base, tokenizer, PROMPTS * 4, own, temperature=0.7)
    moved_ratios = log_ratio_to_base(moved, base, tokenizer, PROMPTS * 4, own, temperature=0.7)
    assert to_itself.shape == moved_ratios.shape == (len(PROMPTS) * 4,)
    assert kl_to_base(to_itself) == pytest.approx(0.0, abs=1e-9)
    assert kl_to_base(moved_ratios) > 0.1 and kl_to_base(moved_ratios) == pytest.approx(moved_ratios.mean(), rel=1e-12)


def test_mismatched_lengths_are_rejected(samples):
    model, tokenizer, texts = samples
    with pytest.raises(ValueError, match="prompts but"):
        completion_log_probs(model, tokenizer, PROMPTS, texts[:-1])
