"""Where a model runs and in which float type: the ``device`` and ``dtype`` settings of systems
and metric models, resolved once, the same way everywhere.

``device``:
- ``auto`` (the default): the first CUDA GPU, else Apple's MPS, else the CPU;
- ``cpu``, ``mps``, ``cuda`` (= ``cuda:0``), ``cuda:N``;
- ``auto_map``: the model's layers spread over every visible GPU (transformers'
  ``device_map="auto"``, through accelerate), for models larger than one card.

``dtype``: ``float32``, ``bfloat16``, ``float16``, or ``auto``: what the device runs fastest:
bfloat16 on CUDA where the card supports it (float16 on older cards), float16 on MPS, and
bfloat16 on the CPU (measured faster than float32 for prefill and decode: docs/performance.md).

Outputs depend on the device kind (CPU, CUDA and MPS kernels round differently), not on which
card of a kind: `device_kind` is what identities record, and only when it is not the CPU, so
CPU results keep the keys they had before devices were configurable.
"""

from __future__ import annotations

import re

from harness.errors import ConfigError

DTYPES = ("float32", "bfloat16", "float16")
AUTO_MAP = "auto_map"


def resolve_device(spec: str | None = "auto", setting: str = "system.device") -> str:
    """``cpu``, ``mps``, ``cuda:N`` or ``auto_map`` for a device setting; ConfigError naming the fix."""
    import torch

    spec = "auto" if spec is None else str(spec).strip().lower()
    if spec == "auto":
        if torch.cuda.is_available():
            return "cuda:0"
        if _mps_available():
            return "mps"
        return "cpu"
    if spec == "cpu":
        return "cpu"
    if spec == "mps":
        if not _mps_available():
            raise ConfigError(f"{setting}=mps but Apple's MPS backend is not available here; use {setting}=auto "
                              "or cpu")
        return "mps"
    match = re.fullmatch(r"cuda(?::(\d+))?", spec)
    if match or spec == AUTO_MAP:
        if not torch.cuda.is_available():
            raise ConfigError(f"{setting}={spec} but no CUDA GPU is visible (torch {torch.__version__}, CUDA build: "
                              f"{torch.version.cuda or 'no'}); use {setting}=auto or cpu, or install a CUDA build "
                              "of torch")
        if spec == AUTO_MAP:
            return AUTO_MAP
        index, count = int(match.group(1) or 0), torch.cuda.device_count()
        if index >= count:
            raise ConfigError(f"{setting}={spec} but only {count} CUDA device(s) are visible (cuda:0.."
                              f"cuda:{count - 1}); pick one of them or use {setting}=auto_map for all")
        return f"cuda:{index}"
    raise ConfigError(f"{setting}={spec!r}: use auto, cpu, mps, cuda, cuda:N or auto_map")


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def device_kind(device: str) -> str:
    """``cpu``, ``mps`` or ``cuda`` (for ``cuda:N`` and ``auto_map``)."""
    return "cuda" if device.startswith("cuda") or device == AUTO_MAP else device


def resolve_dtype(spec: str | None, device: str, setting: str = "system.dtype") -> str:
    """The float type to load weights in on ``device`` (a resolved device)."""
    import torch

    spec = "auto" if spec is None else str(spec).strip().lower()
    if spec == "auto":
        kind = device_kind(device)
        if kind == "cuda":
            return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        if kind == "mps":
            return "float16"
        return "bfloat16"
    if spec not in DTYPES:
        raise ConfigError(f"{setting}={spec!r}: use auto, {', '.join(DTYPES)}")
    return spec


def identity_fields(device: str) -> dict:
    """What an identity records about the device: its kind, and only when it is not the CPU."""
    kind = device_kind(device)
    return {} if kind == "cpu" else {"device": kind}


def input_device(model) -> str:
    """Where a loaded model wants its inputs (the first layer's device under ``auto_map``)."""
    return str(model.device)


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an accelerator (or CPU allocator) out-of-memory error."""
    import torch

    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def free_accelerator_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if _mps_available() and hasattr(torch, "mps"):
        torch.mps.empty_cache()
