"""The one registry of loaded models, shared by systems and metrics: each model is loaded once per
process (per weights, device and dtype) and reused by every job of a sweep and every metric.

`get_or_load` is the registry; `load_model` (transformers ``Auto*`` classes: the language-model
systems, the NLI models, the LLM judge) and `load_sentence_transformer` (the sentence encoder) are
its two loaders. Devices and dtypes are resolved by `harness.models.device`.

GGUF weights are dequantized by transformers on every load (about 15 s for SmolLM2-135M). With
``dequantized_cache`` set, the first load saves the dequantized model as safetensors under
``<dequantized_cache>/<GGUF SHA-256>-<dtype>-transformers<version>/`` (written to a temporary
directory, then renamed), and later loads read that copy: the same tensors, in a fraction of the time.
The copy holds ``harness-sha256.json`` (every file's SHA-256, written inside the temporary
directory before the rename); each load checks it first. A copy whose files do not match (bytes
zeroed, cut short), or that has no checksum file (copies made before it existed), is removed with
one warning and rebuilt from the GGUF file, so a damaged copy never changes the summaries.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

from harness.errors import ConfigError, ModelLoadError
from harness.hub import hub_reachable, offline_message
from harness.models.device import AUTO_MAP, resolve_device, resolve_dtype
from harness.models.model_source import ModelSource, resolve_model

log = logging.getLogger(__name__)
CHECKSUMS = "harness-sha256.json"
_LOADED: dict[tuple, object] = {}


def get_or_load(key: tuple, load: Callable[[], object]):
    """The object registered under ``key``, made by ``load()`` on first use."""
    if key not in _LOADED:
        _LOADED[key] = load()
    return _LOADED[key]


def loaded_count() -> int:
    return len(_LOADED)


def load_model(auto_class, source: ModelSource, *, dtype: str = "float32", device: str = "auto",
               trust_remote_code: bool = False, setting: str = "system.model", dequantized_cache: str | None = None):
    """(model, tokenizer) for ``source``, loaded with ``auto_class`` on first use, then reused.

    ``device`` and ``dtype`` take the settings' values (``auto`` included); ``setting`` names the
    config key of the model in error messages."""
    prefix = setting.rsplit(".", 1)[0]
    device = resolve_device(device, f"{prefix}.device")
    dtype = resolve_dtype(dtype, device, f"{prefix}.dtype")
    key = ("transformers", auto_class.__name__, source.location, source.gguf_file, source.revision, dtype, device,
           trust_remote_code)
    return get_or_load(key, lambda: _load_with_copy(auto_class, source, dtype, device, trust_remote_code, setting,
                                                    dequantized_cache))


def _load_with_copy(auto_class, source, dtype, device, trust_remote_code, setting, dequantized_cache):
    copy = _dequantized_path(source, dtype, dequantized_cache)
    if copy is not None and copy.exists():
        problem = copy_problem(copy)
        if problem is None:
            log.info("loading %s from its dequantized copy %s", source.spec, copy)
            try:
                return _load(auto_class, resolve_model(str(copy)), dtype, device, trust_remote_code, setting)
            except ModelLoadError as e:
                problem = f"it does not load ({e})"
        log.warning("dequantized copy %s of %s: %s; removing it and rebuilding it from the GGUF file", copy,
                    source.spec, problem)
        shutil.rmtree(copy, ignore_errors=True)
    # A GGUF model is dequantized on the CPU and saved from there before it moves to its device.
    model, tokenizer = _load(auto_class, source, dtype, "cpu" if copy is not None else device, trust_remote_code,
                             setting)
    if copy is not None:
        _save_copy(model, tokenizer, copy)
        model = _place(model, device)
    return model, tokenizer


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
        (tmp / CHECKSUMS).write_text(json.dumps(_checksums(tmp), indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, target)
        log.info("saved the dequantized model to %s", target)
    except OSError as e:  # another process saved it first, or no space: loading from GGUF still works
        log.warning("could not save the dequantized copy to %s: %s", target, e)
        shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:  # Ctrl-C while saving: no half-written copy is left
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        model.hf_quantizer = quantizer
        if quantization is not None:
            config.quantization_config = quantization


def _checksums(directory: Path) -> dict[str, str]:
    from harness.models.model_source import _file_sha256_uncached  # never a cached digest of a changed file

    return {p.name: _file_sha256_uncached(str(p)) for p in sorted(directory.iterdir())
            if p.is_file() and p.name != CHECKSUMS}


def copy_problem(copy: Path) -> str | None:
    """What is wrong with a dequantized copy (None: every file matches the checksums saved with it)."""
    try:
        expected = json.loads((copy / CHECKSUMS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"it has no {CHECKSUMS} (made before copies were checked)"
    except (OSError, ValueError) as e:
        return f"its {CHECKSUMS} is unreadable ({e})"
    if not isinstance(expected, dict) or not expected:
        return f"its {CHECKSUMS} lists no files"
    try:
        found = _checksums(copy)
    except OSError as e:
        return f"its files cannot be read ({e})"
    bad = sorted(name for name in expected.keys() | found.keys() if expected.get(name) != found.get(name))
    return f"{', '.join(bad)} do not match the checksums saved with it" if bad else None


def _place(model, device: str):
    return model if device in ("cpu", AUTO_MAP) else model.to(device)


def _load(auto_class, source: ModelSource, dtype: str, device: str, trust_remote_code: bool, setting: str):
    import torch
    from transformers import AutoTokenizer

    kwargs = {"revision": source.revision, "trust_remote_code": trust_remote_code}
    if source.gguf_file:
        kwargs["gguf_file"] = source.gguf_file
    if not source.is_local:
        kwargs["local_files_only"] = not hub_reachable()
    log.info("loading %s %s (%s, %s)", auto_class.__name__, source.spec, device, dtype)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.location, **kwargs)
        model_kwargs = dict(kwargs, dtype=getattr(torch, dtype))
        if not source.gguf_file:
            model_kwargs["use_safetensors"] = True
        if device == AUTO_MAP:
            model_kwargs["device_map"] = "auto"
        model = auto_class.from_pretrained(source.location, **model_kwargs)
    except (OSError, ValueError, KeyError) as e:
        if not source.is_local and kwargs.get("local_files_only"):
            raise ModelLoadError(f"{offline_message(source.spec, setting)} ({type(e).__name__}: {e})") from e
        raise ModelLoadError(f"could not load model {source.spec!r} with {auto_class.__name__}: "
                             f"{type(e).__name__}: {e}") from e
    model = _place(model, device)
    model.eval()
    return model, tokenizer


def load_sentence_transformer(source: ModelSource, *, device: str = "auto", setting: str = "encoder.model",
                              make_extra: Callable[[], object] = dict, quantize: str = "none"):
    """(SentenceTransformer, extra) for ``source`` on ``device``, loaded once; ``extra`` (from
    ``make_extra()``) lives as long as the model: the encoder keeps its embedding cache there.
    ``quantize="int8"``: every Linear layer with torch's dynamic int8 quantization (CPU only)."""
    group = setting.rsplit('.', 1)[0]
    device = resolve_device(device, f"{group}.device")
    if device == AUTO_MAP:
        device = "cuda:0"  # a sentence encoder fits one card
    if quantize not in ("none", "int8"):
        raise ConfigError(f"{group}.quantize must be none or int8, got {quantize!r}")
    if quantize == "int8" and device != "cpu":
        raise ConfigError(f"{group}.quantize=int8 runs on the CPU only (torch's dynamic quantization), but the "
                          f"encoder's device is {device}: set {group}.device=cpu, or {group}.quantize=none")

    def load():
        from sentence_transformers import SentenceTransformer

        local_only = source.is_local or not hub_reachable()
        log.info("loading sentence encoder %s (%s)", source.spec, device)
        try:
            model = SentenceTransformer(source.location, device=device, revision=source.revision,
                                        local_files_only=local_only, trust_remote_code=False)
        except (OSError, ValueError) as e:
            if not source.is_local and local_only:
                raise ModelLoadError(f"{offline_message(source.spec, setting)} ({type(e).__name__}: {e})") from e
            raise ModelLoadError(f"could not load sentence encoder {source.spec!r}: {type(e).__name__}: {e}") from e
        model.eval()
        if quantize == "int8":
            import torch

            with warnings.catch_warnings():  # torch 2.13 deprecates eager quantization (docs/performance.md)
                warnings.simplefilter("ignore")
                torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        return model, make_extra()

    return get_or_load(("sentence-transformers", source.location, source.revision, device, quantize), load)
