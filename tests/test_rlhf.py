"""RLHF stage (fairl.lm.rlhf) on a tiny random GPT-NeoX: outputs, logging, resume, determinism, bad input."""

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoConfig

from fairl.io import LOCK_NAME, DirectoryBusyError, exclusive_writer
from fairl.lm.policies import build_tiny_policy, load_tokenizer
from fairl.lm.rlhf import RLHFConfig, read_log, train_rlhf

REPO = __import__('pathlib').Path(__file__).resolve().parents[1]

CORPUS = ["the cat sat on the mat", "a dog ran far away", "hello world again",
          "bananas are yellow and tasty", "every evening seven green trees"] * 4
PROMPTS = ["the cat", "a dog", "hello", "bananas"]
# 4 prompts at 2 per step: an epoch is 2 steps, so 4 steps cross an epoch boundary
FAST = RLHFConfig(steps=4, learning_rate=1e-3, checkpoint_every=2, max_new_tokens=12, device="cpu")


def fewer_a(prompts, completions):
    return np.array([-float(c.count("a")) for c in completions])


def share_of_a(completions):
    return np.array([c.count("a") / max(len(c), 1) for c in completions])


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Tiny matrices gain nothing from a second thread, and OpenMP threads stall when cores are shared.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_tiny_policy(tmp_path_factory.mktemp("rlhf") / "base", CORPUS)


def weights(path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path).state_dict()


def same_weights(a, b):
    a, b = weights(a), weights(b)
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def without_time(row):
    return {k: v for k, v in row.items() if k != "wall_seconds"}


def describe(directory):
    (directory / "policy.meta.json").write_text('{"stage": "rlhf"}')


def test_short_run_writes_final_policy_and_log(base, tmp_path):
    final = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "run", FAST, toxicity_fn=share_of_a, describe=describe)

    assert final == tmp_path / "run" / "final"
    assert (final / "policy.meta.json").read_text() == '{"stage": "rlhf"}'  # the sidecar is published with it
    assert not same_weights(base, final)
    assert load_tokenizer(str(final)).pad_token is not None
    assert AutoConfig.from_pretrained(final).use_cache  # training switches it off; generation wants it
    assert not list((tmp_path / "run").glob(".final.*"))
    assert (final / "training_log.csv").read_text() == (tmp_path / "run" / "log.csv").read_text()  # published with it
    rows = read_log(tmp_path / "run")
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    for row in rows:
        assert math.isfinite(row["reward"]) and row["reward"] <= 0
        assert math.isfinite(row["kl"])
        assert 0 <= row["toxicity"] <= 1
        assert row["wall_seconds"] >= 0
    assert rows[0]["kl"] == pytest.approx(0, abs=1e-6)  # policy == reference before the first update
    assert any(row["kl"] != 0 for row in rows[1:])


class Preempted(Exception):
    pass


def test_a_sidecar_that_fails_to_write_publishes_no_final(base, tmp_path):
    def broken(directory):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        train_rlhf(base, PROMPTS, fewer_a, tmp_path / "run", FAST, describe=broken)
    assert not (tmp_path / "run" / "final").exists()
    assert not list((tmp_path / "run").glob(".final.*"))


def interrupt_at_step_3(base, out) -> None:
    """Train FAST into `out` until the job is killed during step 3 (the reward's third call), after checkpoint-2
    was saved: checkpoint-2 of an unfinished run remains."""
    calls = []

    def preempted_at_step_3(prompts, completions):
        calls.append(len(completions))
        if len(calls) == 3:
            raise Preempted
        return fewer_a(prompts, completions)

    with pytest.raises(Preempted):
        train_rlhf(base, PROMPTS, preempted_at_step_3, out, FAST)


def test_second_call_resumes_from_checkpoint_and_a_published_run_keeps_no_checkpoint(base, tmp_path):
    out = tmp_path / "run"
    interrupt_at_step_3(base, out)
    assert (out / "checkpoints" / "checkpoint-2" / "trainer_state.json").is_file()
    assert not (out / "final").exists()
    first_rows = read_log(out)

    calls = []

    def counting(prompts, completions):
        calls.append(len(completions))
        return fewer_a(prompts, completions)

    final = train_rlhf(base, PROMPTS, counting, out, FAST)
    assert len(calls) == 2  # steps 3 and 4 only: steps 1-2 came from the checkpoint
    rows = read_log(out)
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    assert rows[:2] == first_rows[:2]
    assert all(math.isnan(row["toxicity"]) for row in rows)  # no toxicity_fn given
    assert (final / "model.safetensors").is_file()
    # Published: the checkpoints (weights + optimiser state) are gone; the final policy and the logs stay.
    assert not (out / "checkpoints").exists()
    assert sorted(p.name for p in out.iterdir()) == [".writer.lock", "final", "log.csv", "run.json"]


def test_same_seed_same_weights_and_resume_matches_uninterrupted_run(base, tmp_path, monkeypatch):
    a = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "a", FAST)
    b = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "b", FAST)
    assert same_weights(a, b)
    other_seed = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "c", replace(FAST, seed=1))
    assert not same_weights(a, other_seed)

    # Preempted while saving checkpoint-4, after step 4 was logged: resume from checkpoint-2, crossing
    # an epoch boundary, and end where the uninterrupted run did (weights, log, no duplicate rows).
    real_replace = os.replace

    def killed_before_publishing(source, target):
        if Path(target).name == "final":
            raise Preempted
        real_replace(source, target)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", killed_before_publishing)
        with pytest.raises(Preempted):
            train_rlhf(base, PROMPTS, fewer_a, tmp_path / "d", FAST)
    (tmp_path / "d" / "checkpoints" / "checkpoint-4" / "trainer_state.json").unlink()
    assert [row["step"] for row in read_log(tmp_path / "d")] == [1, 2, 3, 4]
    b = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "d", FAST)
    assert same_weights(a, b)
    assert list(map(without_time, read_log(tmp_path / "d"))) == list(map(without_time, read_log(tmp_path / "a")))


def test_gradient_checkpointing_off_changes_no_weight(base, tmp_path, monkeypatch):
    """RLHF runs without trl's default gradient checkpointing, for speed: the same weights as with it, bit for bit."""
    import trl

    made, original = [], trl.RLOOConfig

    def checkpointing(**kwargs):
        made.append(kwargs["gradient_checkpointing"])
        return original(**{**kwargs, "gradient_checkpointing": True})

    without = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "without", FAST)
    monkeypatch.setattr(trl, "RLOOConfig", checkpointing)
    with_checkpointing = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "with", FAST)
    assert made == [False]  # train_rlhf turns it off; the second run had it forced on
    assert same_weights(without, with_checkpointing)
    assert not same_weights(without, base)  # the runs moved the policy: the equality is not that of two no-ops


def at_one_and_two_threads(compute):
    """compute(), once with torch at one thread and once at two; the module's thread count is restored after."""
    threads = torch.get_num_threads()
    try:
        results = []
        for count in (1, 2):
            torch.set_num_threads(count)
            results.append(compute())
        return results
    finally:
        torch.set_num_threads(threads)


def test_a_smollm2_step_does_not_depend_on_the_thread_count():
    """The workflow runs each re-RLHF job at one thread and r* at two (rules/common.smk, `rlhf_threads`), where they
    all ran at two before: the default study's committed numbers still hold because, at SmolLM2-135M's shapes (2 of
    its 30 layers, its tied 49k vocabulary, its RoPE base, left padding as in a generation batch), torch's forward,
    backward, AdamW step and sampling are bit-identical at one and two threads. (The two real re-RLHF jobs were also
    compared byte for byte; README "Speed".)"""
    from transformers import LlamaConfig, LlamaForCausalLM

    def step():
        torch.manual_seed(0)
        model = LlamaForCausalLM(LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                                             num_hidden_layers=2, num_attention_heads=9, num_key_value_heads=3,
                                             tie_word_embeddings=True, rope_theta=100000.0))
        ids = torch.randint(0, 49152, (8, 40), generator=torch.Generator().manual_seed(1))
        mask = torch.ones_like(ids)
        mask[::2, :5] = 0  # every other row left-padded
        logps = model(ids, attention_mask=mask).logits.log_softmax(-1).gather(-1, ids[..., None])
        (logps.squeeze(-1) * mask).sum().backward()
        grads = [p.grad.clone() for p in model.parameters()]
        torch.optim.AdamW(model.parameters(), lr=1e-3).step()
        sampled = model.generate(ids[:, :8], attention_mask=mask[:, :8], max_new_tokens=6, do_sample=True,
                                 temperature=0.7, pad_token_id=0)
        return [logps.detach(), sampled, *grads, *(p.detach() for p in model.parameters())]

    one, two = at_one_and_two_threads(step)
    assert len(one) == len(two) and all(torch.equal(a, b) for a, b in zip(one, two))


def test_a_gpt_neox_step_does_depend_on_the_thread_count(base):
    """Why the workflow fixes each job's thread count instead of following the machine's cores: LayerNorm's backward
    (GPT-NeoX, the paper's Pythia) sums its weight gradient in a thread-count-dependent order, so the same step at one
    and at two threads gives other bits."""
    from transformers import AutoModelForCausalLM

    def layer_norm_grads():
        model = AutoModelForCausalLM.from_pretrained(base)
        ids = torch.randint(0, model.config.vocab_size, (8, 14), generator=torch.Generator().manual_seed(1))
        model(ids).logits.log_softmax(-1).gather(-1, ids[..., None]).sum().backward()
        return [p.grad.clone() for name, p in model.named_parameters() if "layernorm" in name]

    one, two = at_one_and_two_threads(layer_norm_grads)
    assert one and not all(torch.equal(a, b) for a, b in zip(one, two))
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(one, two))  # last bits only


def test_bad_input_raises_naming_the_problem(base, tmp_path):
    with pytest.raises(ValueError, match="non-empty prompt list"):
        train_rlhf(base, [], fewer_a, tmp_path / "empty", FAST)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        train_rlhf(base, PROMPTS, fewer_a, tmp_path / "steps", RLHFConfig(steps=0))
    with pytest.raises(ValueError, match="num_generations >= 2"):
        train_rlhf(base, PROMPTS, fewer_a, tmp_path / "k", RLHFConfig(num_generations=1))
    with pytest.raises(ValueError, match="prompts_per_step=8"):
        train_rlhf(base, PROMPTS, fewer_a, tmp_path / "few", RLHFConfig(prompts_per_step=8))
    with pytest.raises(ValueError, match="reward_fn returned 3 values for 8 completions"):
        train_rlhf(base, PROMPTS, lambda p, c: np.zeros(3), tmp_path / "short", FAST)
    with pytest.raises(ValueError, match=r"reward_fn returned non-finite values \(NaN/inf\) at positions \[1\]"):
        train_rlhf(base, PROMPTS, lambda p, c: np.array([0.0, np.nan] + [0.0] * (len(c) - 2)), tmp_path / "nan", FAST)
    assert not (tmp_path / "nan" / "final").exists()


def test_a_moved_work_directory_still_resumes_its_checkpoints(base, tmp_path):
    """run.json names the policy relative to the run: moving the checkout (policy and run together) keeps the
    checkpoints, where an absolute path would make the resumed run look like another run's."""
    shutil.copytree(base, tmp_path / "checkout" / "work" / "base")
    interrupt_at_step_3(tmp_path / "checkout" / "work" / "base", tmp_path / "checkout" / "work" / "run")
    (tmp_path / "checkout").rename(tmp_path / "moved")
    calls = []

    def counting(prompts, completions):
        calls.append(len(completions))
        return fewer_a(prompts, completions)

    train_rlhf(tmp_path / "moved" / "work" / "base", PROMPTS, counting, tmp_path / "moved" / "work" / "run", FAST)
    assert len(calls) == 2  # steps 3 and 4: steps 1-2 came from the moved checkpoint
    # Negative control: another policy at the same place relative to the run is another run.
    with pytest.raises(ValueError, match="other settings"):
        interrupt_at_step_3(tmp_path / "moved" / "work" / "base", tmp_path / "moved" / "work" / "run2")
        shutil.copytree(base, tmp_path / "moved" / "other_base")
        train_rlhf(tmp_path / "moved" / "other_base", PROMPTS, fewer_a, tmp_path / "moved" / "work" / "run2", FAST)


def test_resuming_with_other_settings_is_refused(base, tmp_path):
    interrupt_at_step_3(base, tmp_path / "run")  # leaves checkpoint-2 of an unfinished run
    with pytest.raises(ValueError, match="other settings"):
        train_rlhf(base, PROMPTS, fewer_a, tmp_path / "run", replace(FAST, beta=0.5))
    with pytest.raises(ValueError, match="past steps=1"):
        train_rlhf(base, PROMPTS, fewer_a, tmp_path / "run", replace(FAST, steps=1))


def test_reward_for_letter_e_raises_its_probability(base, tmp_path):
    from transformers import AutoModelForCausalLM

    def more_e(prompts, completions):
        return np.array([float(c.count("e")) for c in completions])

    config = replace(FAST, steps=8, learning_rate=1e-2, checkpoint_every=100)
    final = train_rlhf(base, PROMPTS, more_e, tmp_path / "run", config)

    tokenizer = load_tokenizer(str(base))
    with_e = [i for i in range(len(tokenizer)) if "e" in tokenizer.decode([i])]
    inputs = tokenizer(PROMPTS, return_tensors="pt", padding=True)

    def mass_on_e(path):
        with torch.no_grad():
            logits = AutoModelForCausalLM.from_pretrained(path)(**inputs).logits[:, -1]
        return logits.softmax(-1)[:, with_e].sum(-1).mean().item()

    assert mass_on_e(final) > 1.1 * mass_on_e(base)


def test_changed_settings_restart_when_asked(base, tmp_path):
    config = RLHFConfig(steps=2, checkpoint_every=2, prompts_per_step=2, num_generations=2, max_new_tokens=4)
    changed = replace(config, learning_rate=1e-3)
    train_rlhf(base, PROMPTS, fewer_a, tmp_path / "run", config)
    final = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "run", changed, restart_if_changed=True)
    fresh = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "fresh", changed)
    assert same_weights(final, fresh)  # the old run's checkpoint was not resumed
    assert [r["step"] for r in read_log(tmp_path / "run")] == [1, 2]
    shorter = replace(changed, steps=1)
    train_rlhf(base, PROMPTS, fewer_a, tmp_path / "run", shorter, restart_if_changed=True)
    assert [r["step"] for r in read_log(tmp_path / "run")] == [1]


def test_rerun_of_a_finished_run_mid_epoch_takes_no_extra_step(base, tmp_path):
    # 8 prompts at 2 per step: step 2 ends mid-epoch, where trainer.train() would take a third step
    prompts = [f"prompt {i}" for i in range(8)]
    config = RLHFConfig(steps=2, checkpoint_every=1, prompts_per_step=2, num_generations=2, max_new_tokens=4,
                        learning_rate=1e-2)
    final = train_rlhf(base, prompts, fewer_a, tmp_path / "run", config)
    first_log = read_log(tmp_path / "run")
    shutil.copytree(final, tmp_path / "first")
    shutil.rmtree(final)  # what Snakemake does to a declared output before re-running its job
    train_rlhf(base, prompts, fewer_a, tmp_path / "run", config)
    assert [r["step"] for r in read_log(tmp_path / "run")] == [1, 2]
    assert [without_time(r) for r in read_log(tmp_path / "run")] == [without_time(r) for r in first_log]
    assert same_weights(tmp_path / "first", final)


HOLD = """
import sys, time
from fairl.io import exclusive_writer
with exclusive_writer(sys.argv[1], "RLHF"):
    print("held", flush=True)
    time.sleep(120)
"""


def holder(directory):
    """A second live process holding the directory's writer lock (like an orphaned RLHF job)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(directory)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_writer_of_a_live_run_is_refused_with_its_pid(base, tmp_path):
    process = holder(tmp_path / "run")
    try:
        with pytest.raises(DirectoryBusyError, match=rf"another live process \(pid {process.pid} on .*kill {process.pid}"):
            train_rlhf(base, PROMPTS, fewer_a, tmp_path / "run", FAST)
        assert not (tmp_path / "run" / "checkpoints").exists()  # refused before touching anything
    finally:
        process.kill()
        process.wait()


def test_a_killed_writers_lock_is_stale_and_taken_over(base, tmp_path, caplog):
    process = holder(tmp_path / "run")
    os.kill(process.pid, signal.SIGKILL)  # no chance to release: the file still names it
    process.wait()
    assert str(process.pid) in (tmp_path / "run" / LOCK_NAME).read_text()
    with caplog.at_level("WARNING", logger="fairl.io"):
        final = train_rlhf(base, PROMPTS, fewer_a, tmp_path / "run", FAST)
    assert final.is_dir() and "stale lock" in caplog.text and str(process.pid) in caplog.text
    assert (tmp_path / "run" / LOCK_NAME).read_text() == ""  # released cleanly


def test_writer_lock_is_released_on_error(tmp_path):
    with pytest.raises(KeyError):
        with exclusive_writer(tmp_path, "test"):
            raise KeyError("boom")
    with exclusive_writer(tmp_path, "test") as lock:
        assert str(os.getpid()) in lock.read_text()


def test_rlhf_script_refuses_a_directory_in_use_and_names_the_process(tmp_path):
    """The rule's entry point, as Snakemake runs it: a clear error naming the live process, exit code 1."""
    process = holder(tmp_path / "run")
    try:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "src/scripts/rlhf.py", "--params", "{}", "--policy", "missing",
                               "--prompts", "missing.parquet", "--judge", "missing", "--out", str(tmp_path / "run")],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode != 0 and f"pid {process.pid}" in done.stderr and "DirectoryBusyError" in done.stderr, done.stderr
        assert time.monotonic() - started < 300
    finally:
        process.kill()
        process.wait()
