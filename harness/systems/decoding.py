"""Decoding presets: how a language model picks its tokens."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.errors import ConfigError


@dataclass(frozen=True)
class Decoding:
    """Greedy, beam search or sampling; ``seed`` is set before each article's generation
    (``seed: null`` leaves sampling unseeded: not reproducible, and the gate warns)."""

    name: str
    max_new_tokens: int = 128
    do_sample: bool = False
    num_beams: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    seed: int | None = 0

    def __post_init__(self):
        types = {"max_new_tokens": int, "num_beams": int, "no_repeat_ngram_size": int, "do_sample": bool,
                 "temperature": (int, float), "top_p": (int, float), "repetition_penalty": (int, float)}
        for field, kind in types.items():
            value = getattr(self, field)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                expected = {int: "an integer", bool: "true or false"}.get(kind, "a number")
                raise ConfigError(f"decoding {self.name!r}: {field} must be {expected}, got {value!r}")
        checks = [
            (self.max_new_tokens > 0, "max_new_tokens must be > 0"),
            (self.num_beams >= 1, "num_beams must be >= 1"),
            (self.temperature > 0, "temperature must be > 0"),
            (0 < self.top_p <= 1, "top_p must be in (0, 1]"),
            (self.repetition_penalty > 0, "repetition_penalty must be > 0"),
            (self.no_repeat_ngram_size >= 0, "no_repeat_ngram_size must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"decoding {self.name!r}: {message} ({self})")

    def generate_kwargs(self) -> dict:
        """Arguments for ``model.generate``; sampling parameters only when sampling."""
        kwargs = {"max_new_tokens": self.max_new_tokens, "do_sample": self.do_sample,
                  "num_beams": self.num_beams, "repetition_penalty": self.repetition_penalty}
        if self.no_repeat_ngram_size:
            kwargs["no_repeat_ngram_size"] = self.no_repeat_ngram_size
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        return kwargs

    def identity(self) -> dict:
        """What changes the output: the parameters, not the preset's name; the seed only when sampling."""
        ident = {k: v for k, v in asdict(self).items() if k != "name"}
        if not self.do_sample:
            ident.pop("seed")
            ident.pop("temperature")
            ident.pop("top_p")
        return ident
