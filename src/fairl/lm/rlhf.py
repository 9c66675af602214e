"""RLHF stage: align a causal-LM policy to a reward (e.g. the recovered toxicity reward).

Objective, for prompts x and completions y ~ π_θ(·|x):

    max_θ  E[ r(x, y) − β · KL(π_θ(·|x) ‖ π_ref(·|x)) ]

with π_ref the base policy, optimised by RLOO (REINFORCE with a leave-one-out baseline over the k
completions of each prompt; trl applies the KL as a sequence-level penalty on the reward, using the
summed per-token log-ratio). Deviation: the paper uses PPO; trl 1.x no longer maintains PPO, so we
use trl's RLOOTrainer, which optimises the same KL-regularised objective without a value network.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from fairl.devices import check_precision, resolve_device
from fairl.io import atomic_write_dir, exclusive_writer
from fairl.lm.policies import load_tokenizer
from fairl.lm.stage_files import LOG_COLUMNS

RewardFn = Callable[[list[str], list[str]], np.ndarray]
"""(prompts, completions) -> one float per completion; completions exclude the prompt."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RLHFConfig:
    steps: int = 100
    """Optimiser steps (trl's max_steps)."""
    learning_rate: float = 1e-5
    """AdamW learning rate."""
    beta: float = 0.05
    """KL coefficient to the reference (base) policy."""
    num_generations: int = 4
    """Completions per prompt (RLOO's k); at least 2 for the leave-one-out baseline."""
    prompts_per_step: int = 2
    """Prompts per optimiser step; completions per step = prompts_per_step * num_generations."""
    max_new_tokens: int = 20
    """Maximum completion length in tokens."""
    temperature: float = 0.7
    """Sampling temperature of the completions (and of the log-probs RLOO scores them with)."""
    checkpoint_every: int = 25
    """Save a resumable checkpoint every N optimiser steps."""
    seed: int = 0
    """Seed of sampling, data order and initialisation of anything random."""
    device: str = "auto"
    """'auto' (cuda if available else cpu), 'cpu' or 'cuda'."""
    precision: str = "fp32"
    """'fp32', or 'bf16' (trl's bf16 autocast; fp32 master weights): chosen here, never by the hardware."""


def _validate(prompts: list[str], config: RLHFConfig) -> None:
    if not prompts:
        raise ValueError("train_rlhf needs a non-empty prompt list")
    if config.num_generations < 2:
        raise ValueError(f"RLOO needs num_generations >= 2 (leave-one-out baseline), got {config.num_generations}")
    for name in ("steps", "prompts_per_step", "max_new_tokens", "checkpoint_every"):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(config, name)}")
    if len(prompts) < config.prompts_per_step:
        # trl's sampler drops incomplete prompt groups: fewer prompts than one step needs would mean no batch at all
        raise ValueError(f"{len(prompts)} prompts cannot fill one step of prompts_per_step={config.prompts_per_step}")
    if not (config.beta >= 0 and config.temperature > 0 and config.learning_rate > 0):
        raise ValueError("beta must be >= 0, temperature and learning_rate > 0")


def _checked(values, n: int, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.shape[0] != n:
        raise ValueError(f"{what} returned {array.shape[0]} values for {n} completions; it must return one each")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f"{what} returned non-finite values (NaN/inf) at positions {bad[:10].tolist()}")
    return array


def _trl_reward(reward_fn: RewardFn, toxicity_fn: Callable[[list[str]], np.ndarray] | None):
    """Adapt reward_fn to trl's keyword calling convention, refuse bad rewards (trl would turn None into
    NaN and silently drop that completion from the update), and log the batch's mean toxicity."""

    def reward(prompts, completions, log_metric=None, **_):
        rewards = _checked(reward_fn(list(prompts), list(completions)), len(completions), "reward_fn")
        if toxicity_fn is not None and log_metric is not None:
            toxicity = _checked(toxicity_fn(list(completions)), len(completions), "toxicity_fn")
            log_metric("toxicity", float(toxicity.mean()))
        return rewards.tolist()

    reward.__name__ = getattr(reward_fn, "__name__", "reward")
    return reward


def _write_log(path: Path, rows: list[dict]) -> None:
    # Rewritten whole through a temporary file: a kill mid-write leaves the previous complete log.
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_log(path: Path, up_to_step: int) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if int(row["step"]) <= up_to_step]


def _latest_complete_checkpoint(checkpoints: Path) -> tuple[Path | None, int]:
    # transformers writes trainer_state.json last, so a checkpoint without it was cut off mid-save.
    found = []
    for path in checkpoints.glob("checkpoint-*"):
        try:
            found.append((json.loads((path / "trainer_state.json").read_text())["global_step"], path))
        except (OSError, ValueError, KeyError):
            continue
    if not found:
        return None, 0
    step, path = max(found)
    return path, step


def _step_logger(path: Path, rows: list[dict]):
    from transformers import TrainerCallback

    class StepLogger(TrainerCallback):
        """One row per optimiser step (trl logs every step with logging_steps=1)."""

        def on_train_begin(self, args, state, control, **kwargs):
            self.mark = time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "reward" not in logs:  # e.g. the end-of-training summary
                return
            now = time.perf_counter()
            rows.append({
                "step": state.global_step,
                "reward": logs["reward"],
                "kl": logs.get("kl", ""),  # trl only computes it when beta > 0
                "toxicity": logs.get("toxicity", ""),  # logged by the reward wrapper when toxicity_fn is given
                "wall_seconds": round(now - self.mark, 3),
            })
            self.mark = now
            _write_log(path, rows)

    return StepLogger()


def _resumable(trainer_class):
    class ResumableRLOOTrainer(trainer_class):
        def _get_train_sampler(self, dataset=None):
            sampler = super()._get_train_sampler(dataset)
            # trl's RepeatSampler seeds its generator once and draws a new permutation per epoch, so a run
            # resumed after an epoch boundary would replay epoch 0's order instead of the uninterrupted
            # run's. transformers calls set_epoch on resume and every epoch: seed each epoch's order.
            if sampler.shuffle:
                sampler.set_epoch = lambda epoch: sampler.generator.manual_seed(self.args.seed + epoch)
            return sampler

        def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
            # transformers 5 loads the checkpoint's safetensors keys raw with strict=False, but
            # save_pretrained writes some under legacy names (GPT-NeoX's lm_head as embed_out), so the
            # resumed policy silently kept the base model's output head (transformers#43701).
            # from_pretrained applies the key mapping; strict load_state_dict then checks every tensor.
            from transformers import AutoModelForCausalLM

            model = self.model if model is None else model
            loaded = AutoModelForCausalLM.from_pretrained(resume_from_checkpoint, dtype=model.dtype)
            model.load_state_dict(loaded.state_dict())

    return ResumableRLOOTrainer


def train_rlhf(policy_dir: str | Path, prompts: list[str], reward_fn: RewardFn, out_dir: str | Path,
               config: RLHFConfig, toxicity_fn: Callable[[list[str]], np.ndarray] | None = None,
               restart_if_changed: bool = False, describe: Callable[[Path], None] | None = None) -> Path:
    """Align the policy saved in `policy_dir` to `reward_fn` on `prompts`; returns `out_dir/final`.

    Checkpoints go to `out_dir/checkpoints/` (the latest kept); called again with the same out_dir after an
    interruption, training resumes from the latest complete checkpoint. Once `final/` is published the
    checkpoints are deleted, so a finished run asked for more steps starts over. `out_dir/log.csv` has one
    row per optimiser step. Checkpoints of a run with other settings raise, or with `restart_if_changed` are
    discarded (logged) and training starts over: what a workflow re-running the stage after a config change
    wants. While it runs, out_dir is locked (`fairl.io.exclusive_writer`): a second process on the same out_dir
    stops with an error naming this one. The step log is also published as `final/training_log.csv`, and
    `describe`, when given, writes into the directory before it is published (the stage's sidecar), so a
    published final/ is always complete."""
    with exclusive_writer(out_dir, "RLHF"):
        return _train_rlhf(policy_dir, prompts, reward_fn, out_dir, config, toxicity_fn, restart_if_changed, describe)


def _train_rlhf(policy_dir, prompts, reward_fn, out_dir, config, toxicity_fn, restart_if_changed, describe) -> Path:
    import torch
    from datasets import Dataset
    from transformers import AutoConfig
    from trl import RLOOConfig, RLOOTrainer

    _validate(prompts, config)
    policy_dir, out_dir = Path(policy_dir), Path(out_dir)
    if not policy_dir.is_dir():
        raise FileNotFoundError(f"policy directory {policy_dir} does not exist")
    checkpoints = out_dir / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    for leftover in out_dir.glob(".final.*"):  # fairl.io.atomic_write_dir's temporary, left by a killed run
        shutil.rmtree(leftover, ignore_errors=True)
    resume_from, resumed_step = _latest_complete_checkpoint(checkpoints)
    # Resuming under other hyperparameters would silently mix two runs; only steps may grow.
    # The policy relative to out_dir: a checkout (or work/) moved elsewhere still resumes its checkpoints.
    run = {**asdict(config), "policy_dir": os.path.relpath(policy_dir.resolve(), out_dir.resolve()), "steps": None,
           "device": None}
    run_path = out_dir / "run.json"
    problem = None
    if resumed_step > config.steps:
        problem = f"{out_dir} holds a checkpoint at step {resumed_step}, past steps={config.steps}"
    elif resume_from and run_path.is_file() and json.loads(run_path.read_text()) != run:
        problem = f"{out_dir} holds checkpoints of a run with other settings ({run_path})"
    if problem and not restart_if_changed:
        raise ValueError(f"{problem}; use a fresh out_dir or the same config")
    if problem:
        log.warning("%s: discarding them and training from the base policy", problem)
        shutil.rmtree(checkpoints)
        checkpoints.mkdir()
        resume_from, resumed_step = None, 0
    run_path.write_text(json.dumps(run, indent=1))

    log_path = out_dir / "log.csv"
    # Steps after the checkpoint are redone on resume, so their rows are dropped rather than duplicated.
    rows = _read_log(log_path, resumed_step) if resume_from else []
    _write_log(log_path, rows)

    device = resolve_device(config.device)
    check_precision(config.precision, device)
    # The workflow fixes each RLHF job's threads (rules/common.smk); GPT-NeoX's last bits depend on the count: logged.
    log.info("RLHF on %s with %d torch threads", device, torch.get_num_threads())
    args = RLOOConfig(
        output_dir=str(checkpoints),
        max_steps=config.steps,
        learning_rate=config.learning_rate,
        beta=config.beta,
        num_generations=config.num_generations,
        per_device_train_batch_size=config.prompts_per_step * config.num_generations,
        gradient_accumulation_steps=1,  # one generation batch per optimiser step
        # trl turns gradient checkpointing on by default: it recomputes the forward in the backward pass, half of
        # the backward's time, to save activation memory that a 135M-410M policy at these batch sizes does not need.
        # Off, the weights are bit-identical (tests/test_rlhf.py; 4 steps of SmolLM2 too) and a step is ~12% faster.
        gradient_checkpointing=False,
        max_completion_length=config.max_new_tokens,
        temperature=config.temperature,
        seed=config.seed,
        data_seed=config.seed,
        logging_steps=1,
        save_strategy="steps",
        save_steps=config.checkpoint_every,
        save_total_limit=1,  # resuming needs only the latest (transformers deletes the older one after saving)
        use_cpu=device.type == "cpu",
        # trl defaults bf16=True (bf16 autocast): it changes every downstream number, so only the config turns it on.
        bf16=config.precision == "bf16",
        report_to="none",
        push_to_hub=False,
    )
    trainer = _resumable(RLOOTrainer)(
        model=str(policy_dir),  # a path, not a model: trl loads the KL reference from the same path
        reward_funcs=_trl_reward(reward_fn, toxicity_fn),
        args=args,
        train_dataset=Dataset.from_dict({"prompt": list(prompts)}),
        processing_class=load_tokenizer(str(policy_dir)),
        callbacks=[_step_logger(log_path, rows)],
    )
    if resume_from is not None and resumed_step == config.steps:
        # The checkpoint already holds the whole run. trainer.train() would still take one more step
        # when max_steps falls mid-epoch, so publish the checkpoint itself; from_pretrained maps
        # GPT-NeoX's saved embed_out to lm_head (see _resumable).
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(resume_from, dtype=torch.float32)
    else:
        trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        model = trainer.model
    # Training turns use_cache off (it conflicts with gradient checkpointing); the saved policy is
    # for generation, so give it back the base model's setting.
    model.config.use_cache = AutoConfig.from_pretrained(policy_dir).use_cache

    final = out_dir / "final"

    def publish(tmp: Path) -> None:
        model.save_pretrained(tmp)
        trainer.processing_class.save_pretrained(tmp)
        shutil.copy(log_path, tmp / "training_log.csv")
        if describe is not None:
            describe(tmp)

    atomic_write_dir(final, publish)
    # Published: the checkpoints (weights and optimiser state, about 12 bytes per parameter) are no longer
    # needed to resume, and would keep tens of GB per paper-sized run.
    shutil.rmtree(checkpoints, ignore_errors=True)
    return final


def read_log(out_dir: str | Path) -> list[dict]:
    """log.csv of a run as dicts of floats (toxicity NaN when not logged), step as int."""
    rows = _read_log(Path(out_dir) / "log.csv", up_to_step=math.inf)
    return [{k: int(v) if k == "step" else (float(v) if v != "" else math.nan) for k, v in row.items()} for row in rows]
