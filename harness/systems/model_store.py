"""Load a model and its tokenizer once per process; every job of a sweep in the process reuses them."""

from __future__ import annotations

import logging

from harness.errors import ModelLoadError
from harness.hub import hub_reachable, offline_message
from harness.systems.model_source import ModelSource

log = logging.getLogger(__name__)
_LOADED: dict[tuple, tuple] = {}


def load_model(auto_class, source: ModelSource, *, dtype: str = "float32", trust_remote_code: bool = False,
               setting: str = "system.model"):
    """(model, tokenizer) for ``source``, loaded with ``auto_class`` on first use, then reused.

    ``setting`` names the config key of the model in error messages."""
    key = (auto_class.__name__, source.location, source.gguf_file, source.revision, dtype, trust_remote_code)
    if key not in _LOADED:
        _LOADED[key] = _load(auto_class, source, dtype, trust_remote_code, setting)
    return _LOADED[key]


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
