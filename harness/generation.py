"""Generating a run's summaries: batches, the generation cache, and progress.

Batches are formed from the whole evaluation set, never from what is missing: articles sorted
by rendered prompt length (longest first, so the first batch shows the memory peak), then by id,
cut into chunks of ``system.batch_size``. The same set and batch size always give the same
batches, so an interrupted run, resumed, regenerates each batch that lacks a summary whole, and
every summary comes out as an uninterrupted run's would.

Rows that leave when they finish: a system that `refills` under the decoding (a transformers
causal model, eager greedy decoding) gets groups instead of batches: the same order cut into
near-equal contiguous groups of at most `REFILL_BATCHES` x ``batch_size`` articles, each decoded
with at most ``batch_size`` rows at once, a finished row replaced by the group's next article
(`harness.systems.refill`). A group is to refilling what a batch is to fixed batches: the unit
that is generated, cached and, when one of its summaries is missing, regenerated whole. Eight
articles at batch size 8 are one group: rows still leave as they finish, so the last rows decode
alone instead of beside finished ones.

Cache keys: a system whose summaries depend on their batch mates (``batch_changes_output``: a
transformers model, where padding changes the float results) keys each summary by its whole
batch (the batch's article hashes join the identity); a group also records its ``rows`` and
the refilling schedule's version (`harness.systems.refill.SCHEDULE`), so refilled summaries
never share keys with fixed-batch ones. A batch or group of one keeps the plain key, so
``batch_size: 1`` and the remainder of a batched run share entries. The reason, measured:
docs/performance.md, "Batched generation".

``batch_size: auto`` is resolved once per evaluation set: the first (longest) batch or group is
tried at the system's `auto_batch_start` and halved on out-of-memory; what fits is remembered under
``<cache_dir>/batch_sizes/`` (keyed by identity, set and device), so a resumed run forms the same batches.

Workers sharing the cache take every key's lock of a batch (in sorted order, so two workers never
wait on each other), look again once they hold them, and generate only when a summary is still
missing: one worker generates each batch, the others wait and read it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from contextlib import ExitStack

from tqdm import tqdm

from harness.errors import ConfigError
from harness.io import write_json_atomic
from harness.models.device import free_accelerator_memory, is_out_of_memory
from harness.systems.base import token_progress
from harness.systems.generation_cache import GenerationCache, cache_key
from harness.systems.refill import SCHEDULE

log = logging.getLogger(__name__)
# A refilling system's group holds at most this many batches: the longer a group, the less of its
# time goes to its last rows draining alone, and the more a resumed run regenerates when one of
# its summaries is missing.
REFILL_BATCHES = 8
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total_fmt} [{elapsed}<{remaining}{postfix}]"


def generate(system, identity: dict, articles, prompt, decoding, cache: GenerationCache, *, progress: bool = True):
    """One summary per article (rows in the articles' order), from the cache when its key is there;
    counts generated, cached, truncations, tokens and the batch size used."""
    order = batch_order(articles, prompt)
    progress_bar = _Progress(system.name, len(articles), decoding.max_new_tokens, disable=not progress)
    size, first = resolve_batch_size(system, identity, articles, order, prompt, decoding, cache, progress_bar)
    rows = refill_rows(system, decoding, size)
    batches = plan_batches(order, size, rows)
    keys = {i: key for batch in batches
            for i, key in zip(batch, batch_keys(system, identity, articles, batch, rows), strict=True)}
    todo = {n for n, b in enumerate(batches) if not (n == 0 and first) and any(cache.get(keys[i]) is None for i in b)}
    progress_bar.begin(cached=sum(len(b) for n, b in enumerate(batches) if n not in todo and not (n == 0 and first)))
    results: dict[int, tuple[dict, bool]] = {}
    try:
        for n, batch in enumerate(batches):
            if n == 0 and first is not None:
                results.update(zip(batch, first, strict=True))
                continue
            if n in todo:
                progress_bar.batch(len(batch))
            try:
                found = cached_or_generated(cache, [keys[i] for i in batch],
                                            maker(system, articles, batch, prompt, decoding, rows),
                                            batch_identity(system, identity, articles, batch, rows),
                                            [articles[i].id for i in batch], whole_batch=system.batch_changes_output,
                                            on_tokens=progress_bar.tokens)
            except Exception as e:
                if not is_out_of_memory(e):
                    raise
                raise ConfigError(f"{system.name}: out of memory generating a batch of {len(batch)} (batch_size "
                                  f"{system.batch_size}); set system.batch_size lower, or to auto") from e
            if n in todo:
                progress_bar.done()
            results.update(zip(batch, found, strict=True))
    finally:
        progress_bar.close()

    rows, counts = [], {"generated": 0, "cached": 0, "truncated": 0, "article_tokens_cut": 0,
                        "empty": 0, "output_tokens": 0, "seconds": 0.0, "batch_size": size}
    for i, article in enumerate(articles):
        generation, cached = results[i]
        if cached:
            counts["cached"] += 1
        else:
            counts["generated"] += 1
            counts["output_tokens"] += generation["output_tokens"] or 0
            counts["seconds"] += generation["seconds"]
        if generation["article_tokens_cut"]:
            counts["truncated"] += 1
            counts["article_tokens_cut"] += generation["article_tokens_cut"]
            log.warning("article %s: %d of %d tokens cut from the end to fit the model's input", article.id,
                        generation["article_tokens_cut"], generation["article_tokens"])
        if not generation["text"].strip():
            counts["empty"] += 1
            log.warning("article %s: %s produced an empty summary", article.id, system.name)
        rows.append({"article_id": article.id, "system": system.name,
                     "prompt": prompt.name if system.uses_prompt else None,
                     "decoding": decoding.name if system.uses_prompt else None,
                     "cached": cached, "cache_key": keys[i], **generation})
    counts["seconds"] = round(counts["seconds"], 3)
    counts["tokens_per_s"] = round(counts["output_tokens"] / counts["seconds"], 2) if counts["seconds"] else None
    return rows, counts


def batch_order(articles, prompt) -> list[int]:
    """Article indices, longest rendered prompt first, then by id and content: the batching order."""
    def length(article) -> int:
        return len(prompt.render(title=article.title, article=article.body))

    return sorted(range(len(articles)), key=lambda i: (-length(articles[i]), articles[i].id,
                                                       articles[i].content_hash))


def refill_rows(system, decoding, size: int) -> int | None:
    """The rows a refilling group decodes at once (``size``), or None: fixed batches."""
    return size if size > 1 and system.refills(decoding) else None


def plan_batches(order: list[int], size: int, rows: int | None) -> list[list[int]]:
    """``order`` cut into fixed batches of ``size``, or (``rows``: refilling) into the fewest
    near-equal contiguous groups of at most `REFILL_BATCHES` x ``rows`` articles (the first
    groups one longer where they cannot be equal)."""
    if rows is None:
        return [order[i:i + size] for i in range(0, len(order), size)]
    count = -(-len(order) // (REFILL_BATCHES * rows))
    base, extra = divmod(len(order), count) if count else (0, 0)
    groups, start = [], 0
    for n in range(count):
        end = start + base + (n < extra)
        groups.append(order[start:end])
        start = end
    return groups


def batch_identity(system, identity: dict, articles, batch: list[int], rows: int | None = None) -> dict:
    """The identity the batch's summaries are keyed by: with the batch's articles when they change
    each other's output, and for a refilled group its rows and the schedule's version."""
    if system.batch_changes_output and len(batch) > 1:
        ident = {**identity, "batch": [articles[i].content_hash for i in batch]}
        return {**ident, "rows": rows, "schedule": SCHEDULE} if rows is not None else ident
    return identity


def batch_keys(system, identity: dict, articles, batch: list[int], rows: int | None = None) -> list[str]:
    ident = batch_identity(system, identity, articles, batch, rows)
    return [cache_key(ident, articles[i]) for i in batch]


def maker(system, articles, batch: list[int], prompt, decoding, rows: int | None = None):
    """``make(positions)`` for `cached_or_generated`: the generations of those members of ``batch``
    (a group of several, with ``rows``: refilled)."""
    def make(positions: list[int]) -> list[dict]:
        chosen = [articles[batch[p]] for p in positions]
        if rows is not None and len(chosen) > 1:
            made = system.summarize_group(chosen, prompt, decoding, rows)
        else:
            made = system.summarize_batch(chosen, prompt, decoding)
        return [g.to_dict() for g in made]
    return make


def cached_or_generated(cache: GenerationCache, keys: list[str], make, identity: dict, article_ids: list[str], *,
                        whole_batch: bool = True, on_tokens=None) -> list[tuple[dict, bool]]:
    """(generation, whether it came from the cache) per key of one batch. ``make(positions)``
    generates those members of the batch; it runs holding every key's lock, after looking again,
    and only when a summary is still missing, so workers sharing the cache never make the same
    summary twice. With ``whole_batch`` (a system whose summaries depend on their batch mates) the
    whole batch is regenerated and its members that were cached are kept (if one came out
    different, the model is not deterministic here and a warning says so); without it only the
    missing members are generated (a served model: no request is paid twice)."""
    found = [cache.get(key) for key in keys]
    if all(g is not None for g in found):
        return [(g, True) for g in found]
    with ExitStack() as locks:
        for key in sorted(set(keys)):
            locks.enter_context(cache.lock(key))
        found = [cache.get(key) for key in keys]
        if all(g is not None for g in found):
            return [(g, True) for g in found]
        positions = list(range(len(keys))) if whole_batch else [p for p, g in enumerate(found) if g is None]
        reset = token_progress(on_tokens)
        try:
            made = dict(zip(positions, make(positions), strict=True))
        finally:
            reset.var.reset(reset)
        out = []
        for p, (key, article_id, old) in enumerate(zip(keys, article_ids, found, strict=True)):
            new = made.get(p)
            if old is None:
                cache.put(key, new, identity, article_id)
                out.append((new, False))
            else:
                if new is not None and old["text"] != new["text"]:
                    log.warning("article %s: regenerating its batch gave a different summary than the cached "
                                "one (the model is not deterministic on this device); keeping the cached one",
                                article_id)
                out.append((old, True))
        return out


def resolve_batch_size(system, identity, articles, order, prompt, decoding, cache: GenerationCache, progress_bar):
    """(batch size, the first batch's results when resolving ``auto`` generated them, else None)."""
    size = system.batch_size
    if not order:
        return 1, None
    if size != "auto":
        return max(1, min(size, len(order) or 1)), None
    record = cache.root.parent / "batch_sizes" / f"{_set_key(system, identity, articles)}.json"
    if record.exists():
        try:
            return int(json.loads(record.read_text(encoding="utf-8"))["batch_size"]), None
        except (ValueError, KeyError, OSError):
            log.warning("unreadable batch size record %s: resolving batch_size=auto again", record)
    size = max(1, min(system.auto_batch_start(), len(order)))
    while True:
        rows = refill_rows(system, decoding, size)
        batch = plan_batches(order, size, rows)[0]
        progress_bar.batch(len(batch))
        try:
            first = cached_or_generated(
                cache, batch_keys(system, identity, articles, batch, rows),
                maker(system, articles, batch, prompt, decoding, rows),
                batch_identity(system, identity, articles, batch, rows), [articles[i].id for i in batch],
                whole_batch=system.batch_changes_output, on_tokens=progress_bar.tokens)
            progress_bar.done()
            break
        except Exception as e:
            if not is_out_of_memory(e):
                raise
            if size == 1:
                raise ConfigError(f"{system.name}: out of memory generating one summary; use a smaller model, "
                                  "a lower decoding.max_new_tokens or system.max_input_tokens") from e
            free_accelerator_memory()
            log.info("batch_size=auto: %d does not fit, trying %d", size, size // 2)
            progress_bar.retry()
            size //= 2
    log.info("batch_size=auto: %d", size)
    write_json_atomic(record, {"batch_size": size, "system": system.name})
    return size, first


def _set_key(system, identity: dict, articles) -> str:
    import torch

    device = getattr(system, "device", "cpu")
    card = torch.cuda.get_device_name(int(device[5:] or 0)) if device.startswith("cuda:") else device
    payload = {"identity": identity, "articles": sorted(a.content_hash for a in articles), "device": device,
               "card": card}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class _Progress:
    """One bar per job over its summaries, moving inside a batch with the batch's tokens (tokens
    made / (rows x max_new_tokens) of the batch's share), with tokens/s and tqdm's ETA. Summaries
    found in the cache are counted at the start, apart from the rate."""

    def __init__(self, name: str, total: int, max_new_tokens: int, *, disable: bool):
        self.name, self.total, self.max_new_tokens, self.disable = name, total, max_new_tokens, disable
        self.bar = None
        self.rows = self.batch_tokens = self.tokens_made = 0
        self.credited = 0.0
        self.started = self.shown = None

    def _open(self, initial: int = 0) -> None:
        if self.bar is None:
            self.bar = tqdm(total=self.total, initial=initial, desc=f"generate {self.name}", unit="summary",
                            bar_format=BAR_FORMAT, disable=self.disable)
            if initial:
                self.bar.set_postfix_str(f"{initial} cached", refresh=False)
        elif initial:
            self.bar.update(initial)

    def begin(self, cached: int) -> None:
        """The plan is made: ``cached`` summaries need no generation."""
        self._open(cached)

    def batch(self, rows: int) -> None:
        self._open()
        self.rows, self.batch_tokens, self.credited = rows, 0, 0.0

    def tokens(self, n: int) -> None:
        now = time.perf_counter()
        if self.started is None:  # the model has loaded: its load time is not the generation rate
            self.started = now
            self.bar.unpause()
        self.tokens_made += n
        self.batch_tokens += n
        share = min(self.batch_tokens / max(1, self.rows * self.max_new_tokens), 0.99) * self.rows
        if share > self.credited:
            self.bar.update(share - self.credited)
            self.credited = share
        if self.shown is None or now - self.shown > 0.5:
            self.shown = now
            if now > self.started:
                self.bar.set_postfix_str(f"{self.tokens_made / (now - self.started):.1f} tok/s", refresh=False)

    def retry(self) -> None:
        """The batch ran out of memory: take back what it showed."""
        self.bar.update(-self.credited)
        self.credited = 0.0

    def done(self) -> None:
        self.bar.update(self.rows - self.credited)
        self.credited = 0.0

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
