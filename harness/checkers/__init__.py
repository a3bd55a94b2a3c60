"""Checkers the project trains itself, shipped as small adapters over a registry's base model.

``checker:NAME`` (a model spec, `harness.models.model_source.resolve_model`) names either a
directory under this package (``checker:minilm_factcheck``: the shipped one) or any directory
holding an ``adapter.safetensors`` (``checker:runs/checker/fold-xsumfaith``). The adapter (LoRA
deltas and a few whole tensors, fp16; `harness.training.lora`) names its base and the base's
SHA-256 in its metadata. `materialize` checks that hash against the installed base, adds the
adapter to the base's weights and writes the result once, as an ordinary transformers model
directory, under ``$HARNESS_CACHE_DIR/checkers/<adapter SHA-256>`` (default cache dir:
``runs/.cache``; written to a temporary directory, then renamed). Every loader of the harness
(`Checker`, `NLIModel`) then reads that directory, and its fingerprint is the merged weights' hash.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from harness.errors import ModelLoadError

PACKAGE_DIR = Path(__file__).parent
ADAPTER = "adapter.safetensors"
STAMP = "harness-checker.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def adapter_dir(name: str) -> Path:
    """The directory of checker ``name``: a shipped one (a plain name) or a path."""
    if name and "/" not in name and "\\" not in name and not name.startswith("."):
        path = PACKAGE_DIR / name
    else:
        path = Path(name).expanduser()
    if not (path / ADAPTER).is_file():
        shipped = sorted(p.name for p in PACKAGE_DIR.iterdir() if (p / ADAPTER).is_file())
        raise ModelLoadError(f"checker {name!r}: no {ADAPTER} in {path}; shipped checkers: {shipped or 'none'} "
                             "(or give a directory a training run wrote: python -m harness.training train)")
    return path


def cache_root() -> Path:
    return Path(os.environ.get("HARNESS_CACHE_DIR") or "runs/.cache") / "checkers"


def merged_state(adapter: Path) -> tuple[dict, dict, Path]:
    """(merged state dict, the adapter's metadata, the base's directory); ModelLoadError when the
    installed base's SHA-256 is not the one the adapter was trained on."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    from harness.models.model_source import file_sha256, resolve_model
    from harness.training.lora import FORMAT, merge_adapter

    with safe_open(str(adapter), "pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != FORMAT:
        raise ModelLoadError(f"{adapter}: not a harness adapter (format {meta.get('format')!r}, expected {FORMAT!r})")
    base = resolve_model(meta["base"])
    base_file = Path(base.location) / "model.safetensors"
    found = file_sha256(str(base_file))
    if found != meta["base_sha256"]:
        raise ModelLoadError(f"{adapter} was trained on {meta['base']} with SHA-256 {meta['base_sha256'][:16]}..., "
                             f"but the installed {base_file} has {found[:16]}...: install the base it names "
                             "(make install) or retrain the checker")
    state = {f"bert.{k}": v for k, v in load_file(str(base_file)).items()}
    merge_adapter(state, load_file(str(adapter)), float(meta["alpha"]) / int(meta["rank"]))
    missing = [k for k in ("classifier.weight", "classifier.bias") if k not in state]
    if missing:
        raise ModelLoadError(f"{adapter}: no trained classifier head ({missing})")
    return state, meta, Path(base.location)


def materialize(name: str) -> Path:
    """The merged model directory of checker ``name`` (made on first use; see the module)."""
    from harness.models.model_source import file_sha256

    adapter = adapter_dir(name) / ADAPTER
    digest = file_sha256(str(adapter))
    target = cache_root() / digest[:32]
    if (target / STAMP).is_file():
        return target
    from safetensors.torch import save_file
    from transformers import BertConfig

    state, meta, base_dir = merged_state(adapter)
    labels = {int(k): v for k, v in json.loads(meta["labels"]).items()}
    config = BertConfig.from_pretrained(str(base_dir), num_labels=len(labels), id2label=labels,
                                        label2id={v: k for k, v in labels.items()},
                                        architectures=["BertForSequenceClassification"])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest[:16]}-", dir=target.parent))
    try:
        config.save_pretrained(str(tmp))
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp / "model.safetensors"),
                  metadata={"format": "pt"})
        for file in TOKENIZER_FILES:
            if (base_dir / file).is_file():
                shutil.copyfile(base_dir / file, tmp / file)
        (tmp / STAMP).write_text(json.dumps({"adapter": str(adapter), "adapter_sha256": digest, "base": meta["base"],
                                             "base_sha256": meta["base_sha256"]}, indent=1), encoding="utf-8")
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / STAMP).is_file():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
