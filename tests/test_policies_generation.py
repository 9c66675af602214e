from pathlib import Path

import numpy as np
import pytest
import torch

from fairl.lm.features import cached_features, mean_pooled_features
from fairl.lm.generation import GenerationConfig, generate, generate_naive
from fairl.lm.policies import load_policy, load_tokenizer

CONFIG = GenerationConfig(max_new_tokens=6, temperature=0.7, batch_size=4)
PROMPTS = ["you are an", "have a nice", "what a stupid thing", "thanks for", "shut up"]


def test_tiny_policy_loads_with_left_padding_and_a_pad_token(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None
    assert model.config.model_type == "gpt_neox" and not model.training


def test_missing_local_directory_says_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; build it with its rule"):
        load_policy(str(tmp_path / "nowhere"))


def test_unknown_hub_id_offline_names_the_local_alternative(hub_offline):
    with pytest.raises(OSError, match="pass a local directory"):
        load_tokenizer("no-such-org/no-such-model")


def test_generation_strips_the_prompt_by_tokens_and_is_seeded(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    a = generate(model, tokenizer, PROMPTS, CONFIG, seed=0)
    b = generate(model, tokenizer, PROMPTS, CONFIG, seed=0)
    c = generate(model, tokenizer, PROMPTS, CONFIG, seed=1)
    assert len(a.texts) == len(PROMPTS) and a.texts == b.texts and a.texts != c.texts
    assert 0 < a.new_tokens <= len(PROMPTS) * CONFIG.max_new_tokens and a.tokens_per_second > 0
    # the completion's tokens follow the prompt's: re-tokenising prompt + completion starts with the prompt
    for prompt, completion in zip(PROMPTS, a.texts):
        assert not completion.startswith(prompt)
    naive = generate_naive(model, tokenizer, PROMPTS[:2], CONFIG, seed=0)
    assert len(naive.texts) == 2


def test_generation_refuses_right_padding(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    tokenizer.padding_side = "right"
    with pytest.raises(ValueError, match="left-padding"):
        generate(model, tokenizer, PROMPTS, CONFIG, seed=0)


def test_features_are_mean_pooled_and_independent_of_padding(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    texts = ["you are an idiot and a fool", "hi"]
    batched = mean_pooled_features(model, tokenizer, texts, batch_size=2)
    alone = np.concatenate([mean_pooled_features(model, tokenizer, [t], batch_size=1) for t in texts])
    assert batched.shape == (2, model.config.hidden_size)
    assert np.allclose(batched, alone, atol=1e-5)
    with torch.inference_mode():
        ids = tokenizer(texts[:1], return_tensors="pt")
        manual = model(**ids, output_hidden_states=True).hidden_states[-1][0].mean(0).numpy()
    assert np.allclose(batched[0], manual, atol=1e-5)


@pytest.mark.parametrize("architecture", ["gpt_neox", "llama"])  # Pythia's, and SmolLM2's in the default config
def test_features_of_the_bare_decoder_are_the_causal_lms_last_hidden_state_bit_for_bit(tiny_policy, architecture):
    """The features stage skips the LM head (model.base_model): the numbers must be exactly those of the causal LM's
    hidden_states[-1], so that skipping it changes the time and nothing else."""
    from transformers import LlamaConfig, LlamaForCausalLM

    model, tokenizer = load_policy(tiny_policy, device="cpu")
    if architecture == "llama":
        torch.manual_seed(0)
        model = LlamaForCausalLM(LlamaConfig(vocab_size=model.config.vocab_size, hidden_size=32, intermediate_size=64,
                                             num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                             pad_token_id=tokenizer.pad_token_id)).eval()
    texts = ["you are an idiot and a fool", "hi", "thanks for the kind words"]
    features = mean_pooled_features(model, tokenizer, texts, batch_size=3)
    with torch.inference_mode():
        batch = tokenizer(texts, return_tensors="pt", padding=True)
        hidden = model(**batch, output_hidden_states=True).hidden_states[-1]
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        full = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).numpy()
        # Negative control: the layer before the last is not what the features hold.
        earlier = model(**batch, output_hidden_states=True).hidden_states[-2]
        earlier = ((earlier * mask).sum(1) / mask.sum(1).clamp(min=1)).numpy()
    assert np.array_equal(features, full)
    assert not np.allclose(features, earlier, atol=1e-3)


def test_feature_cache_is_reused_and_invalidated(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return np.ones((2, 3), np.float32) * len(calls)

    path = tmp_path / "cache.npz"
    first = cached_features(path, "enc", ["a", "b"], compute, 32)
    again = cached_features(path, "enc", ["a", "b"], compute, 32)
    assert np.array_equal(first, again) and len(calls) == 1
    other = cached_features(path, "enc", ["a", "c"], compute, 32)
    assert len(calls) == 2 and other[0, 0] == 2


def test_sampled_tokens_stop_at_the_first_eos_whatever_the_pad_token():
    from fairl.lm.generation import sampled_tokens

    assert sampled_tokens([96, 0, 1, 1], eos_token_id=0, pad_token_id=1) == [96, 0]  # Pythia: pad ≠ eos
    assert sampled_tokens([96, 7, 7], eos_token_id=7, pad_token_id=7) == [96, 7]  # pad = eos
    assert sampled_tokens([96, 5, 3], eos_token_id=0, pad_token_id=1) == [96, 5, 3]  # never ended: kept whole


@pytest.fixture(scope="module")
def pythia_like(tmp_path_factory):
    """A tiny GPT-NeoX with Pythia's special tokens under transformers 5: eos id 0, pad `<|padding|>` id 1."""
    from fairl.lm.policies import build_tiny_policy
    from tests.conftest import CORPUS

    return str(build_tiny_policy(tmp_path_factory.mktemp("pythia") / "policy", CORPUS, seed=0,
                                 pythia_special_tokens=True))


def test_completions_and_kl_ignore_every_token_after_eos_when_pad_is_not_eos(pythia_like):
    from fairl.metrics.kl import completion_log_probs

    model, tokenizer = load_policy(pythia_like, device="cpu")
    assert (tokenizer.eos_token_id, tokenizer.pad_token_id) == (0, 1)
    prompts = [f"{p} {i}" for i in range(40) for p in PROMPTS[:2]]
    config = GenerationConfig(max_new_tokens=30, temperature=1.0, batch_size=16)
    sampled = generate(model, tokenizer, prompts, config, seed=0)
    ended = [ids for ids in sampled.token_ids if 0 in ids]
    assert ended, "no completion stopped early: the test would not exercise the padding after eos"
    for ids in sampled.token_ids:
        assert tokenizer.pad_token_id not in ids  # the pads generate() appends after eos are not the policy's
        assert 0 not in ids or ids.index(0) == len(ids) - 1  # nothing after the eos
    assert sampled.new_tokens == sum(len(ids) for ids in sampled.token_ids) - len(ended)
    # Scoring the padded row would add the pad tokens' log-probabilities: the stored ids give the sum without them.
    index = sampled.token_ids.index(ended[0])
    padded = ended[0] + [1] * (30 - len(ended[0]))
    clean, with_pads = completion_log_probs(model, tokenizer, [prompts[index]] * 2, [ended[0], padded])
    assert with_pads < clean - 1.0


def test_extracted_reward_scores_the_features_the_features_stage_stored(tiny_policy):
    """The feature contract h(o): re-RLHF's R(o) on (prompt, completion) equals R on the features stage's row
    for prompt + completion, given the stage's batch size and token limit; with another limit it does not."""
    from fairl.irl import LinearReward
    from fairl.lm.rewards import ExtractedReward

    model, tokenizer = load_policy(tiny_policy, device="cpu")
    prompts = ["you are an idiot and a fool", "have a nice day my friend"]
    completions = [" what a stupid thing to say" * 6, " thanks for the kind words"]
    texts = [p + c for p, c in zip(prompts, completions)]
    assert len(tokenizer(texts[0])["input_ids"]) > 32  # long enough for the token limit to matter
    stored = mean_pooled_features(model, tokenizer, texts, batch_size=8, max_tokens=32)
    rng = np.random.default_rng(0)
    reward = LinearReward("max_margin", rng.standard_normal(stored.shape[1]), 0.1, np.zeros(stored.shape[1]), 0.0)
    same = ExtractedReward(reward, tiny_policy, device="cpu", batch_size=8, max_tokens=32)(prompts, completions)
    assert np.allclose(same, reward.score(stored), atol=1e-6)
    other = ExtractedReward(reward, tiny_policy, device="cpu", batch_size=8, max_tokens=128)(prompts, completions)
    assert abs(other[0] - same[0]) > 1e-4  # the old default limit scored a different text


def test_precision_is_the_configs_choice_and_refused_where_unsupported(monkeypatch):
    from fairl.devices import autocast, check_precision

    cpu = torch.device("cpu")
    with autocast("fp32", cpu):
        assert not torch.is_autocast_enabled("cpu")
    with autocast("bf16", cpu):
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        check_precision("fp16", cpu)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: "Tesla V100-SXM2-16GB")
    with pytest.raises(ValueError, match="Tesla V100.*does not support bfloat16; set lm.precision: fp32"):
        check_precision("bf16", torch.device("cuda"))
    check_precision("fp32", torch.device("cuda"))  # fp32 runs anywhere


def test_bf16_on_a_cpu_without_native_bf16_warns_that_it_is_slower(monkeypatch):
    import warnings

    from fairl import devices

    cpu = torch.device("cpu")
    if Path("/proc/cpuinfo").exists():  # the probe agrees with the CPU's flags
        flags = set(Path("/proc/cpuinfo").read_text().split())
        assert devices.native_cpu_bf16() == bool({"avx512_bf16", "amx_bf16"} & flags)
    monkeypatch.setattr(devices, "native_cpu_bf16", lambda: False)
    with pytest.warns(RuntimeWarning, match="without native bfloat16.*set lm.precision: fp32"):
        devices.check_precision("bf16", cpu)
    monkeypatch.setattr(devices, "native_cpu_bf16", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        devices.check_precision("bf16", cpu)  # native bf16: no warning
        monkeypatch.setattr(devices, "native_cpu_bf16", lambda: False)
        devices.check_precision("fp32", cpu)  # fp32: never
