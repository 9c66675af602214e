"""Where and in what numerics model computations run: the device ('auto' or a torch device), the precision
(fp32 or bf16 autocast, chosen in the config), and the device's description for sidecars."""

from __future__ import annotations

import warnings

import torch


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else CPU; anything else is passed to torch.device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


PRECISIONS = ("fp32", "bf16")
"""Numerics of every model computation, chosen in the config (lm.precision), never by the hardware: fp32, or
bf16 autocast (weights stay fp32) for RLHF training, generation, features, KL and the extracted reward."""


def check_precision(precision: str, device: torch.device) -> None:
    """Refuse a precision the device cannot run, naming the fix."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"precision bf16 was asked for, but {torch.cuda.get_device_name(device)} does not support "
                         "bfloat16; set lm.precision: fp32")
    if precision == "bf16" and device.type == "cpu" and not native_cpu_bf16():
        # runs, so not refused, but slower than fp32 instead of faster (results/precision_speed.md)
        warnings.warn(f"precision bf16 on a CPU without native bfloat16 instructions "
                      f"({torch.backends.cpu.get_cpu_capability()}): its matrix products are emulated and run several "
                      "times slower than fp32 (python benchmarks/precision_speed.py measures it here); set "
                      "lm.precision: fp32 unless the bf16 numbers themselves are wanted", RuntimeWarning, stacklevel=2)


def native_cpu_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions (AVX512-BF16 or AMX), which make bf16 autocast pay. (oneDNN's own
    `_is_mkldnn_bf16_supported` says yes for any AVX-512 CPU, bfloat16 instructions or not.)"""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def autocast(precision: str, device: torch.device | str):
    """The context the chain's model computations run in: bf16 autocast when asked, else nothing."""
    import contextlib

    device = torch.device(device) if isinstance(device, str) else device
    check_precision(precision, device)
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def describe_device(device: str | torch.device = "auto") -> str:
    """The resolved device and its hardware name, for sidecars: 'cuda:0 (NVIDIA H100 80GB HBM3)' or 'cpu (x86_64)'."""
    import platform

    resolved = resolve_device(device) if isinstance(device, str) else device
    if resolved.type == "cuda":
        index = resolved.index if resolved.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"{resolved} ({platform.machine() or 'unknown'})"
