"""Low-rank adapters (LoRA, Hu et al. 2022) for a frozen transformers encoder: what is trained, and
the small file that ships it.

The registry's base stays frozen. Each targeted ``nn.Linear`` (attention query/key/value/output and
the two feed-forward layers of every BERT layer) gains a delta ``scale * B @ A`` of rank ``rank``
(``A``: rank x in, small random; ``B``: out x rank, zeros, so training starts from the base); a
few small tensors are trained whole (`FULL_PREFIXES`: the pooler, the classifier head, the
LayerNorms and the token-type embeddings). Only those are saved, in fp16 safetensors, with the
base's SHA-256 in the file's metadata; `merge_adapter` adds them to a base model's weights
(float64 arithmetic, stored float32), giving an ordinary model that any loader reads.
"""

from __future__ import annotations

import re

import torch
from torch import nn

TARGETS = re.compile(r"encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense|"
                     r"intermediate\.dense|output\.dense)$")
FULL_PREFIXES = ("bert.pooler.", "classifier.", "bert.embeddings.token_type_embeddings.")
FULL_PATTERN = re.compile(r"LayerNorm\.(weight|bias)$")
FORMAT = "harness-lora-1"


class LoRALinear(nn.Module):
    """``base(x) + scale * x A^T B^T``; ``base`` frozen."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float = 0.0, generator=None):
        super().__init__()
        self.base, self.rank, self.scale = base, rank, alpha / rank
        for p in self.base.parameters():
            p.requires_grad_(False)
        a = torch.empty(rank, base.in_features)
        nn.init.normal_(a, std=1.0 / base.in_features ** 0.5, generator=generator)
        self.lora_A = nn.Parameter(a)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()

    def forward(self, x):
        return self.base(x) + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scale


def is_full(name: str) -> bool:
    """Whether parameter ``name`` is trained whole (not through a low-rank delta)."""
    return name.startswith(FULL_PREFIXES) or bool(FULL_PATTERN.search(name))


def add_adapters(model: nn.Module, rank: int, alpha: float, dropout: float = 0.0, seed: int = 0) -> list[str]:
    """Freeze ``model``, wrap its targeted Linear layers in LoRALinear (in place) and unfreeze the
    `is_full` parameters. Returns the wrapped modules' names, in order.

    Args:
        model: a BertForSequenceClassification (parameter names ``bert.encoder.layer.N...``).
        rank, alpha: the deltas' rank and scale numerator (scale = alpha / rank).
        dropout: dropout on the adapters' input.
        seed: seeds the A matrices' initialisation.
    Returns:
        The names of the wrapped modules."""
    generator = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.requires_grad_(False)
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear) and TARGETS.search(n)]
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), rank, alpha, dropout, generator))
    for name, p in model.named_parameters():
        if is_full(name) and ".base." not in name:
            p.requires_grad_(True)
    return names


def adapter_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """What ships: ``lora.<module>.A``/``.B`` for each adapter and ``full.<param>`` for each whole
    trained tensor, as contiguous fp16 CPU tensors."""
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, LoRALinear):
            out[f"lora.{name}.A"] = module.lora_A.detach().to("cpu", torch.float16).contiguous()
            out[f"lora.{name}.B"] = module.lora_B.detach().to("cpu", torch.float16).contiguous()
    for name, p in model.named_parameters():
        if p.requires_grad and is_full(name):
            out[f"full.{name}"] = p.detach().to("cpu", torch.float16).contiguous()
    return out


def merge_adapter(state: dict[str, torch.Tensor], tensors: dict[str, torch.Tensor], scale: float) -> None:
    """Add an adapter (`adapter_state`'s keys) into a plain model's ``state`` dict, in place:
    ``W += scale * B @ A`` (float64 arithmetic) and whole tensors replaced (or added, float32: the
    classifier head, which a plain encoder's weights lack).

    Args:
        state: the plain model's state dict (``bert.encoder.layer.0.attention.self.query.weight``...).
        tensors: the adapter's tensors.
        scale: alpha / rank, from the adapter's metadata.
    Returns:
        None; a key the model lacks, or a shape that differs, raises ValueError."""
    for key, value in tensors.items():
        kind, _, rest = key.partition(".")
        if kind == "lora" and rest.endswith(".A"):
            module = rest[:-2]
            target = f"{module}.weight"
            if target not in state or f"lora.{module}.B" not in tensors:
                raise ValueError(f"adapter tensor {key!r} has no matching weight or B in the model")
            delta = tensors[f"lora.{module}.B"].double() @ value.double() * scale
            if delta.shape != state[target].shape:
                raise ValueError(f"adapter {module}: delta {tuple(delta.shape)} vs weight {tuple(state[target].shape)}")
            state[target] = (state[target].double() + delta).to(state[target].dtype)
        elif kind == "full":  # replaced, or added (the classifier head a plain encoder lacks)
            if rest in state and state[rest].shape != value.shape:
                raise ValueError(f"adapter tensor {key!r} does not match the model's {rest!r}")
            state[rest] = value.to(state[rest].dtype if rest in state else torch.float32)
        elif kind != "lora":
            raise ValueError(f"unknown adapter tensor {key!r}")
