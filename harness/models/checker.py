"""Fact-checkers: P(supported) of (document, claim) pairs from a transformers model, batched, loaded
once per process (`harness.models.store.load_model`).

Two kinds (``kind``; ``auto`` reads ``is_encoder_decoder`` from the model's config):
- ``classifier``: a sequence-classification head (MiniCheck-RoBERTa/DeBERTa, any NLI cross-encoder).
  P(supported) is the softmax probability of the supported label: the index ``supported_label``
  names (an index or a label name), else the label its ``config.id2label`` names (an NLI
  "entailment" label, or "supported"/"consistent"/"factual"/"true"/"yes"). Binary checkers saved
  with the generic names LABEL_0/LABEL_1 must set ``supported_label`` (MiniCheck: 1); without it
  loading fails with that fix. A single-logit head (regression) gives sigmoid(logit).
- ``seq2seq``: an encoder-decoder answering with a label word (MiniCheck-Flan-T5 answers "1"
  supported, "0" not). P(supported) = softmax over the two label tokens' logits at the first
  decoder step (decoder input: the model's decoder start token). Each label word's token is the
  first token the tokenizer makes of it ("1" -> "▁1", id 209, and "0" -> "▁", id 3, for T5's
  vocabulary: the ids MiniCheck's own code reads); ``label_token_ids`` sets them by id instead.
  A tokenizer that has no token for a label word (unknown token), or the same token for both,
  fails at load.

Input (``template``): ``None`` encodes (document, claim) as a text pair (an NLI cross-encoder's
input); a string with ``{document}``, ``{claim}`` and optionally ``{eos}`` (the tokenizer's end
token) is rendered and encoded as one text, as MiniCheck does: ``{document}{eos}{claim}`` for its
classifiers, ``predict: {document}{eos}{claim}`` for Flan-T5. An input over ``max_length`` tokens
is cut from the document's end, never the claim's; ``truncated_pairs`` counts the pairs cut.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from harness.errors import ConfigError, ModelLoadError
from harness.models.device import identity_fields, input_device
from harness.models.model_source import ModelSource, resolve_model
from harness.models.nli import ENTAILMENT, label_columns
from harness.models.store import load_model

KINDS = ("auto", "classifier", "seq2seq")
SUPPORTED_NAMES = frozenset({"supported", "support", "consistent", "factual", "faithful", "correct", "true", "yes"})
GENERIC_LABEL = re.compile(r"^label_\d+$")


def supported_indices(id2label: dict, supported_label=None, setting: str = "checker") -> list[int]:
    """The output indices whose probabilities sum to P(supported).

    ``supported_label``: an index (int, or digits) or a label name, given by the config; else the
    label names are read: NLI entailment labels, or a supported-like name (SUPPORTED_NAMES)."""
    labels = {int(i): str(name) for i, name in id2label.items()}
    if supported_label is not None:
        if isinstance(supported_label, bool):
            raise ConfigError(f"{setting}.supported_label must be a label index or name, got {supported_label!r}")
        if isinstance(supported_label, int) or str(supported_label).isdigit():
            index = int(supported_label)
            if index not in labels:
                raise ConfigError(f"{setting}.supported_label={index}: the model has labels {labels} "
                                  f"(indices {sorted(labels)})")
            return [index]
        found = [i for i, name in labels.items() if name.lower() == str(supported_label).lower()]
        if not found:
            raise ConfigError(f"{setting}.supported_label={supported_label!r} is not one of the model's labels "
                              f"{labels}; give a label name from it or an index")
        return found
    if len(labels) == 1:
        return [next(iter(labels))]  # one logit: sigmoid, see Checker
    names = {i: name.lower().replace("-", "_").replace(" ", "_") for i, name in labels.items()}
    if any("entail" in n for n in names.values()):  # an NLI head: its entailment label(s), as NLIModel reads them
        try:
            return [i for i, column in label_columns(names).items() if column == ENTAILMENT]
        except ModelLoadError:
            pass  # only "not_entailment"-like labels: fall through
    supported = [i for i, n in names.items() if n in SUPPORTED_NAMES]
    if supported:
        return supported
    generic = all(GENERIC_LABEL.match(n) for n in names.values())
    why = "its labels have no names (LABEL_0, LABEL_1, ...)" if generic else "no label names entailment or support"
    raise ConfigError(f"cannot tell which output of the checker means 'supported': {why}; id2label is {labels}. "
                      f"Fix: set {setting}.supported_label to the index (or name) of the supported label "
                      "(MiniCheck-RoBERTa/DeBERTa: 1)")


def label_token_id(tokenizer, word: str, setting: str) -> int:
    """The first token the tokenizer makes of label ``word``; an error when it has none for it."""
    ids = tokenizer.encode(word, add_special_tokens=False)
    unknown = tokenizer.unk_token_id
    if not ids or (unknown is not None and unknown in ids):
        raise ConfigError(f"the checker's tokenizer has no token for the label word {word!r} (it encodes to "
                          f"{ids}, unknown token {unknown}); a seq2seq checker must answer with words its vocabulary "
                          f"has: set {setting}.label_words to them, or {setting}.label_token_ids")
    return int(ids[0])


def model_kind(source: ModelSource, trust_remote_code: bool, setting: str) -> str:
    """``seq2seq`` when the model's config says ``is_encoder_decoder``, else ``classifier``."""
    if source.is_local:
        try:
            config = json.loads((Path(source.location) / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ModelLoadError(f"checker {source.spec!r}: cannot read its config.json: {e}") from e
        return "seq2seq" if config.get("is_encoder_decoder") else "classifier"
    from transformers import AutoConfig

    from harness.hub import hub_reachable, offline_message

    local_only = not hub_reachable()
    try:
        config = AutoConfig.from_pretrained(source.location, revision=source.revision, local_files_only=local_only,
                                            trust_remote_code=trust_remote_code)
    except (OSError, ValueError, KeyError) as e:
        if local_only:
            raise ModelLoadError(f"{offline_message(source.spec, setting + '.model')} ({type(e).__name__}: {e})") from e
        raise ModelLoadError(f"could not read the config of checker {source.spec!r}: {type(e).__name__}: {e}") from e
    return "seq2seq" if getattr(config, "is_encoder_decoder", False) else "classifier"


class Checker:
    """Batched P(supported) of (document, claim) pairs; ``setting`` is the metric's config key
    (``metrics.consistency_minicheck``), named in error messages."""

    def __init__(self, model: str, *, kind: str = "auto", template: str | None = None,
                 supported_label: int | str | None = None, label_words: tuple[str, str] = ("1", "0"),
                 label_token_ids: tuple[int, int] | None = None, max_length: int = 512, batch_size: int = 16,
                 revision: str | None = None, trust_remote_code: bool = False, device: str = "auto",
                 setting: str = "metrics.consistency_checker"):
        from transformers import AutoModelForSeq2SeqLM, AutoModelForSequenceClassification

        if kind not in KINDS:
            raise ConfigError(f"{setting}.kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if template is not None and ("{document}" not in template or "{claim}" not in template):
            raise ConfigError(f"{setting}.template must contain {{document}} and {{claim}} (or be null for a "
                              f"text pair), got {template!r}")
        if not isinstance(max_length, int) or max_length < 8:
            raise ConfigError(f"{setting}.max_length must be an integer >= 8, got {max_length!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{setting}.batch_size must be an integer >= 1, got {batch_size!r}")
        self.spec, self.template, self.max_length, self.batch_size = model, template, max_length, batch_size
        self.source = resolve_model(model, revision=revision)
        self.kind = model_kind(self.source, trust_remote_code, setting) if kind == "auto" else kind
        if self.kind == "seq2seq" and template is None:
            self.template = template = "predict: {document}{eos}{claim}"  # MiniCheck-Flan-T5's input
        auto_class = AutoModelForSeq2SeqLM if self.kind == "seq2seq" else AutoModelForSequenceClassification
        self._model, self._tokenizer = load_model(auto_class, self.source, device=device,
                                                  trust_remote_code=trust_remote_code, setting=f"{setting}.model")
        self.device = input_device(self._model)
        self.truncated_pairs = 0
        config = self._model.config
        if self.kind == "seq2seq":
            if label_token_ids is not None:
                ids = [int(i) for i in label_token_ids]
                if len(ids) != 2 or not all(0 <= i < config.vocab_size for i in ids):
                    raise ConfigError(f"{setting}.label_token_ids must be [supported id, unsupported id] within the "
                                      f"vocabulary (size {config.vocab_size}), got {label_token_ids!r}")
            else:
                if len(label_words) != 2:
                    raise ConfigError(f"{setting}.label_words must be [supported word, unsupported word], "
                                      f"got {label_words!r}")
                ids = [label_token_id(self._tokenizer, str(w), setting) for w in label_words]
            if ids[0] == ids[1]:
                raise ConfigError(f"the checker's label words {list(label_words)} start with the same token {ids[0]}: "
                                  f"P(supported) needs two different tokens; set {setting}.label_token_ids")
            self.supported_token, self.unsupported_token = ids
            start = config.decoder_start_token_id
            self.decoder_start = int(start if start is not None else config.pad_token_id or 0)
            self.supported = []
        else:
            self.supported = supported_indices(config.id2label, supported_label, setting)

    def describe(self) -> dict:
        out = {"model": self.spec, **self.source.fingerprint(), "kind": self.kind, "template": self.template,
               "max_length": self.max_length, **identity_fields(self.device)}
        if self.kind == "seq2seq":
            out["label_token_ids"] = {"supported": self.supported_token, "unsupported": self.unsupported_token}
        else:
            out["labels"] = dict(self._model.config.id2label)
            out["supported_indices"] = self.supported
        return out

    def _text(self, document: str, claim: str) -> str:
        return self.template.format(document=document, claim=claim, eos=self._tokenizer.eos_token or "")

    def _fit(self, document: str, claim: str) -> tuple[str, bool]:
        """The rendered input, its document cut from the end to fit ``max_length``; whether it was cut."""
        text = self._text(document, claim)
        excess = len(self._tokenizer(text)["input_ids"]) - self.max_length
        if excess <= 0:
            return text, False
        ids = self._tokenizer(document, add_special_tokens=False)["input_ids"]
        for margin in (0, 8, 32):  # decoding and re-encoding a cut can shift a token or two
            kept = self._tokenizer.decode(ids[:max(0, len(ids) - excess - margin)], skip_special_tokens=True)
            text = self._text(kept, claim)
            if len(self._tokenizer(text)["input_ids"]) <= self.max_length:
                break
        return text, True

    def _encode(self, documents: list[str], claims: list[str]):
        """(tokenized batch, whether each pair's document was cut to fit ``max_length``)."""
        if self.template is None:
            batch = self._tokenizer(documents, claims, padding=True, truncation="only_first",
                                    max_length=self.max_length, return_tensors="pt")
            # A pair that fills max_length exactly was (almost surely) cut.
            return batch, (batch["attention_mask"].sum(dim=1) >= self.max_length).tolist()
        fitted = [self._fit(d, c) for d, c in zip(documents, claims, strict=True)]
        return self._tokenizer([t for t, _ in fitted], padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt"), [cut for _, cut in fitted]

    def _support(self, batch):
        import torch

        batch = batch.to(self.device)
        if self.kind == "seq2seq":
            start = torch.full((batch["input_ids"].shape[0], 1), self.decoder_start, dtype=torch.long,
                               device=self.device)
            logits = self._model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                 decoder_input_ids=start).logits[:, 0, :].float()
            pair = logits[:, [self.unsupported_token, self.supported_token]]
            return torch.softmax(pair, dim=-1)[:, 1]
        logits = self._model(**batch).logits.float()
        if logits.shape[-1] == 1:
            return torch.sigmoid(logits[:, 0])
        return torch.softmax(logits, dim=-1)[:, self.supported].sum(dim=-1)

    def probabilities(self, documents: list[str], claims: list[str], return_cut: bool = False):
        """P(supported) of each (document, claim) pair, in order: an array of n values in [0, 1]; with
        ``return_cut``, also a boolean array: whether each pair's document was cut to ``max_length``
        (``truncated_pairs`` counts them over the checker's life)."""
        import torch

        if len(documents) != len(claims):
            raise ValueError(f"{len(documents)} documents but {len(claims)} claims")
        out, cut = np.zeros(len(documents), dtype=np.float64), np.zeros(len(documents), dtype=bool)
        # Longest first, so each batch pads little and the first batch shows the memory peak.
        order = sorted(range(len(documents)), key=lambda i: -len(documents[i]) - len(claims[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            batch, was_cut = self._encode([documents[i] for i in idx], [claims[i] for i in idx])
            cut[idx] = was_cut
            with torch.no_grad():
                out[idx] = self._support(batch).cpu().numpy()
        self.truncated_pairs += int(cut.sum())
        return (out, cut) if return_cut else out
