"""Load a model and its tokenizer once per process; every job of a sweep in the process reuses them.

GGUF weights are dequantized by transformers on every load (about 15 s for SmolLM2-135M). With
``dequantized_cache`` set, the first load saves the dequantized model as safetensors under
``<dequantized_cache>/<GGUF SHA-256>-<dtype>-transformers<version>/`` (written to a temporary
directory, then renamed), and later loads read that copy: the same tensors, in a fraction of the time.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from harness.errors import ModelLoadError
from harness.hub import hub_reachable, offline_message
from harness.systems.model_source import ModelSource, resolve_model

log = logging.getLogger(__name__)
_LOADED: dict[tuple, tuple] = {}


def load_model(auto_class, source: ModelSource, *, dtype: str = "float32", trust_remote_code: bool = False,
               setting: str = "system.model", dequantized_cache: str | None = None):
    """(model, tokenizer) for ``source``, loaded with ``auto_class`` on first use, then reused.

    ``setting`` names the config key of the model in error messages."""
    key = (auto_class.__name__, source.location, source.gguf_file, source.revision, dtype, trust_remote_code)
    if key not in _LOADED:
        copy = _dequantized_path(source, dtype, dequantized_cache)
        if copy is not None and (copy / "config.json").is_file():
            log.info("loading %s from its dequantized copy %s", source.spec, copy)
            _LOADED[key] = _load(auto_class, resolve_model(str(copy)), dtype, trust_remote_code, setting)
        else:
            _LOADED[key] = _load(auto_class, source, dtype, trust_remote_code, setting)
            if copy is not None:
                _save_copy(*_LOADED[key], copy)
    return _LOADED[key]


def _dequantized_path(source: ModelSource, dtype: str, root: str | None) -> Path | None:
    if not (root and source.gguf_file and source.is_local):
        return None
    import transformers

    digest = source.fingerprint()["weights_sha256"][source.gguf_file]
    return Path(root) / f"{digest}-{dtype}-transformers{transformers.__version__}"


def _save_copy(model, tokenizer, target: Path) -> None:
    """Save the dequantized model atomically: a reader sees the whole copy or none."""
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    # transformers marks a GGUF-loaded model as quantized (and refuses to save it) although its
    # tensors are plain dequantized ones: save them as a plain model.
    quantizer, config = getattr(model, "hf_quantizer", None), model.config
    quantization = config.__dict__.pop("quantization_config", None)
    try:
        model.hf_quantizer = None
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)
        log.info("saved the dequantized model to %s", target)
    except OSError as e:  # another process saved it first, or no space: loading from GGUF still works
        log.warning("could not save the dequantized copy to %s: %s", target, e)
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        model.hf_quantizer = quantizer
        if quantization is not None:
            config.quantization_config = quantization


def loaded_count() -> int:
    return len(_LOADED)


def _load(auto_class, source: ModelSource, dtype: str, trust_remote_code: bool, setting: str):
    import torch
    from transformers import AutoTokenizer

    kwargs = {"revision": source.revision, "trust_remote_code": trust_remote_code}
    if source.gguf_file:
        kwargs["gguf_file"] = source.gguf_file
    if not source.is_local:
        kwargs["local_files_only"] = not hub_reachable()
    try:
        torch_dtype = getattr(torch, dtype)
    except AttributeError as e:
        raise ModelLoadError(f"unknown dtype {dtype!r}: use float32, bfloat16 or float16") from e
    log.info("loading %s %s", auto_class.__name__, source.spec)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.location, **kwargs)
        model_kwargs = dict(kwargs, dtype=torch_dtype)
        if not source.gguf_file:
            model_kwargs["use_safetensors"] = True
        model = auto_class.from_pretrained(source.location, **model_kwargs)
    except (OSError, ValueError, KeyError) as e:
        if not source.is_local and kwargs.get("local_files_only"):
            raise ModelLoadError(f"{offline_message(source.spec, setting)} ({type(e).__name__}: {e})") from e
        raise ModelLoadError(f"could not load model {source.spec!r} with {auto_class.__name__}: "
                             f"{type(e).__name__}: {e}") from e
    model.eval()
    return model, tokenizer
