"""Rows that leave when they finish: greedy decoding of a group of prompts through a causal LM with
at most ``rows`` of them in the batch at once.

`refill_decode` keeps one batch of running rows. A row that ends (an end-of-sequence token, or
``max_new_tokens``) leaves the batch at once (its key/value rows are dropped, so the next step
costs only the rows still running), and the next prompt of the group is prefilled and merged into
the batch's key/value cache (left-padded to the batch's width; columns no row uses any more are cut
off the front). Each layer's keys and values live in buffers with room for the tokens still to
come (`roomy_layer_class`): a step writes its token into the room, where `DynamicCache` allocates
the whole cache anew by concatenation (on a CPU, mapping and zeroing those allocations took most
of a batch-8 step: docs/performance.md, "Rows that leave when they finish"); the buffers are made
anew only when rows join or leave, or the room runs out. On a CPU each joining prompt is
prefilled alone: prefill is compute-bound there (the same prompt tokens/s at any batch size,
docs/performance.md), so padding prompts to a common length would only add work; on an
accelerator the prompts that join at one step are prefilled in one left-padded call (the first
``rows`` of a group at once). Positions come from each row's own tokens and an attention mask
hides the padding, so every row computes what it would alone, up to floating-point rounding
(which depends on the batch's shape: see docs/performance.md, "Batched generation").

Which rows run together at each step follows only from the group's prompts, their order and
``rows``, and from the tokens the rows produce: the same group and ``rows`` always give the
same summaries. `harness.generation` keys them by that (`SCHEDULE`).

Scope: greedy decoding (``num_beams: 1``, ``do_sample: false``) whose logits processing is at
most a repetition penalty (applied per row over that row's own prompt and new tokens, as
``generate`` does for a row alone), on a model whose key/value cache is the plain
`DynamicCache` (full attention in every layer). Anything else raises `RefillUnsupported` before
any token is made; the caller then generates the group in fixed batches.
"""

from __future__ import annotations

import functools
from collections import deque

# In the cache key of every summary made here: change it whenever the schedule (who joins when) or
# the arithmetic of a step changes, so no cached summary is read as this code's output.
SCHEDULE = "refill-1"


class RefillUnsupported(Exception):
    """The model or the decoding settings are outside what `refill_decode` reproduces exactly."""


def check_supported(model, generation_config, device=None) -> float:
    """The repetition penalty to apply (1.0: none); RefillUnsupported naming what is not supported.
    ``generation_config``: as ``generate`` prepares it (`prepared_config`)."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer
    from transformers.generation.logits_process import RepetitionPenaltyLogitsProcessor

    if model.config.is_encoder_decoder:
        raise RefillUnsupported("an encoder-decoder model")
    if generation_config.do_sample or (generation_config.num_beams or 1) != 1:
        raise RefillUnsupported("sampling or beam search")
    if getattr(generation_config, "stop_strings", None) or getattr(generation_config, "max_time", None):
        raise RefillUnsupported("stop strings or a time limit")
    layers = DynamicCache(config=model.config).layers
    if not layers or any(type(layer) is not DynamicLayer for layer in layers):
        raise RefillUnsupported(f"{type(model).__name__}'s cache is not plain full attention")
    device = device if device is not None else model.device
    model._prepare_special_tokens(generation_config, True, device=device)  # as generate() does, before its processors
    processors = model._get_logits_processor(generation_config=generation_config, input_ids_seq_length=1,
                                             device=device)
    penalty = 1.0
    for processor in processors:
        if type(processor) is RepetitionPenaltyLogitsProcessor and processor.prompt_ignore_length is None:
            penalty = processor.penalty
        else:
            raise RefillUnsupported(f"logits processor {type(processor).__name__}")
    return penalty


def prepared_config(model, decoding_kwargs: dict, pad: int):
    """The generation config ``generate`` would use: the model's, updated with ``decoding_kwargs``."""
    config, _ = model._prepare_generation_config(None, **decoding_kwargs, pad_token_id=pad)
    return config


def eos_ids(generation_config) -> set[int]:
    """The tokens that end a summary (after `check_supported` prepared the config)."""
    eos = getattr(generation_config, "_eos_token_tensor", None)
    if eos is None:
        eos = generation_config.eos_token_id
        if eos is None:
            return set()
        return {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos])}
    return {int(e) for e in eos.reshape(-1).tolist()}


def refill_decode(model, prompts: list[list[int]], *, rows: int, max_new_tokens: int, eos: set[int], pad: int,
                  penalty: float = 1.0, device=None, prefill_together: bool = True,
                  on_step=None) -> list[list[int]]:
    """The new tokens of each prompt (its end-of-sequence token included), greedy, with at most
    ``rows`` prompts decoding at once, joining in the order given (``prefill_together``: the
    prompts joining at one step in one padded call; else one by one). ``on_step(n)`` is told the
    tokens each forward pass made."""
    import torch

    batch = _Batch(model, pad, penalty, device if device is not None else model.device, room=max_new_tokens)
    queue = deque(range(len(prompts)))
    out: list[list[int]] = [[] for _ in prompts]
    with torch.inference_mode():
        while queue or batch.size:
            while batch.size < rows and queue:
                count = min(rows - batch.size, len(queue)) if prefill_together else 1
                joining = [queue.popleft() for _ in range(count)]
                first = batch.join([prompts[i] for i in joining], joining)
                batch.take(first, out, max_new_tokens, eos, first_of=len(joining))
                if on_step is not None:
                    on_step(len(joining))
            if not batch.size:
                break
            n = batch.size
            batch.take(batch.step(), out, max_new_tokens, eos)
            if on_step is not None:
                on_step(n)
    return out


class _Batch:
    """The running rows: their prompt indices, key/value cache, attention mask (``[rows, width]``,
    left-padded), next positions, the tokens they feed next, and the tokens each has seen (for the
    repetition penalty)."""

    def __init__(self, model, pad: int, penalty: float, device, room: int = 0):
        import inspect

        self.model, self.pad, self.penalty, self.device, self.room = model, pad, penalty, device, room
        # only the last position's logits, as generate() asks for them
        self.last_only = {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(model.forward).parameters \
            else {}
        self.members: list[int] = []
        self.cache = self.mask = self.positions = self.last = self.seen = None
        self.vocab: int | None = None

    @property
    def size(self) -> int:
        return len(self.members)

    def _forward(self, input_ids, mask, positions, cache):
        import torch

        output = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, cache=cache,
                            use_cache=True, **self.last_only)
        return output.logits[:, -1].to(copy=True, dtype=torch.float32)

    def join(self, prompts: list[list[int]], members: list[int]):
        """Prefill ``prompts`` together (left-padded) and merge them into the batch; the scores of
        their first new token (rows ``-len(prompts):`` of the batch)."""
        import torch
        from transformers import DynamicCache

        device = self.device
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[self.pad] * (width - len(p)) + p for p in prompts], device=device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)
        cache = DynamicCache(config=self.model.config)
        logits = self._forward(ids, mask, positions, cache)
        self.vocab = logits.shape[-1]
        seen = None
        if self.penalty != 1.0:
            seen = torch.zeros((len(prompts), self.vocab + 1), dtype=torch.bool, device=device)
            seen.scatter_(1, ids.clamp(max=self.vocab).masked_fill(mask == 0, self.vocab), True)
        self._merge(cache, mask, mask.sum(-1), seen, members)
        self.last = torch.cat([self.last, torch.zeros(len(prompts), dtype=torch.long, device=device)]) \
            if self.last is not None else torch.zeros(len(prompts), dtype=torch.long, device=device)
        return logits

    def _merge(self, cache, mask, positions, seen, members: list[int]) -> None:
        import torch
        import torch.nn.functional as F

        if not self.members:
            self.cache, self.mask, self.positions, self.seen = cache, mask, positions, seen
            self.members = list(members)
            self._reroom(lambda layer: (layer.keys, layer.values))
            return
        old, new = self.mask.shape[1], mask.shape[1]
        width = max(old, new)
        def left(tensor, by: int):  # ``by`` empty (masked) positions in front of the sequence axis
            return F.pad(tensor, (0, 0, by, 0)) if by else tensor

        for mine, theirs in zip(self.cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat([left(mine.keys, width - old), left(theirs.keys, width - new)])
            mine.values = torch.cat([left(mine.values, width - old), left(theirs.values, width - new)])
        self._reroom(lambda layer: (layer.keys, layer.values))
        self.mask = torch.cat([F.pad(self.mask, (width - old, 0)), F.pad(mask, (width - new, 0))])
        self.positions = torch.cat([self.positions, positions])
        if self.seen is not None:
            self.seen = torch.cat([self.seen, seen])
        self.members += members

    def step(self):
        """One decoding step of every running row: the scores of its next token."""
        import torch

        self.mask = torch.cat([self.mask, torch.ones((self.size, 1), dtype=self.mask.dtype, device=self.mask.device)],
                              dim=1)
        logits = self._forward(self.last[:, None], self.mask, self.positions[:, None], self.cache)
        self.positions = self.positions + 1
        return logits

    def take(self, logits, out: list[list[int]], max_new_tokens: int, eos: set[int], first_of: int | None = None):
        """Choose the next token of the rows ``logits`` belong to (all rows, or the last
        ``first_of`` that just joined), record it, and drop the rows that ended."""
        import torch

        start = self.size - first_of if first_of is not None else 0
        scores = logits
        if self.seen is not None:
            seen = self.seen[start:, :self.vocab]
            scores = torch.where(seen, torch.where(logits < 0, logits * self.penalty, logits / self.penalty), logits)
        tokens = torch.argmax(scores, dim=-1)
        self.last[start:] = tokens
        if self.seen is not None:
            self.seen[torch.arange(start, self.size, device=tokens.device), tokens] = True
        keep = list(range(start))
        for row, token in enumerate(tokens.tolist(), start):
            member = self.members[row]
            out[member].append(token)
            if token not in eos and len(out[member]) < max_new_tokens:
                keep.append(row)
        if len(keep) < self.size:
            self._keep(keep)

    def _keep(self, keep: list[int]) -> None:
        import torch

        if not keep:
            self.members, self.cache = [], None
            self.mask = self.positions = self.last = self.seen = None
            return
        index = torch.tensor(keep, device=self.mask.device)
        self.members = [self.members[i] for i in keep]
        self.mask, self.positions, self.last = self.mask[index], self.positions[index], self.last[index]
        if self.seen is not None:
            self.seen = self.seen[index]
        used = int(torch.nonzero(self.mask.sum(0))[0])  # the first column a running row still attends to
        self.mask = self.mask[:, used:]
        self._reroom(lambda layer: (layer.keys[index, :, used:], layer.values[index, :, used:]))

    def _reroom(self, contents) -> None:
        """Every layer of the cache anew: a `_RoomyLayer` holding ``contents(layer)`` (its keys and
        values) with room for ``self.room`` more positions."""
        roomy = roomy_layer_class()
        layers = self.cache.layers
        for i, layer in enumerate(layers):
            keys, values = contents(layer)
            layers[i] = roomy(keys, values, self.room)


@functools.cache
def roomy_layer_class():
    """The cache layer the running rows keep, made on first use: a subclass of transformers'
    `DynamicLayer`, which this module does not import at load time (torch and transformers load
    only when a model runs)."""
    from transformers.cache_utils import DynamicLayer

    class RoomyLayer(DynamicLayer):
        """A full-attention cache layer whose keys and values (``[rows, heads, length, dim]``) are
        views of the first ``length`` positions of buffers with room for more: `update` writes
        the new positions into the room (the same values `DynamicLayer`'s concatenation makes),
        and makes the buffers anew, with the same room again, only when the room runs out."""

        def __init__(self, keys, values, room: int):
            super().__init__()
            self.is_initialized, self.device, self.room = True, keys.device, max(int(room), 1)
            self._hold(keys, values)

        def _hold(self, keys, values) -> None:
            rows, heads, length, dim = keys.shape
            self._keys = keys.new_empty((rows, heads, length + self.room, dim))
            self._values = values.new_empty((rows, heads, length + self.room, values.shape[-1]))
            self._keys[:, :, :length] = keys
            self._values[:, :, :length] = values
            self.length = length
            self.keys, self.values = self._keys[:, :, :length], self._values[:, :, :length]

        def update(self, key_states, value_states, *args, **kwargs):
            new = key_states.shape[-2]
            if self.length + new > self._keys.shape[-2]:
                self._hold(self.keys, self.values)
            end = self.length + new
            self._keys[:, :, self.length:end] = key_states
            self._values[:, :, self.length:end] = value_states
            self.length = end
            self.keys, self.values = self._keys[:, :, :end], self._values[:, :, :end]
            return self.keys, self.values

    return RoomyLayer

