"""Devices and dtypes: how ``device``/``dtype`` settings resolve (tested on the CPU with the
accelerators' presence faked), what identities record, the one registry of loaded models, and a
CUDA run where a GPU exists."""

import pytest
import torch

from harness.errors import ConfigError
from harness.models import store
from harness.models.device import device_kind, identity_fields, resolve_device, resolve_dtype
from harness.systems.decoding import Decoding
from harness.systems.language_model import COMPILED_DECODING, CausalLM
from harness.systems.prompt import PromptTemplate

from .helpers.run_if import run_if

PROMPT = PromptTemplate(name="p", template="summarize {title} : {article}")
GREEDY = Decoding(name="greedy", max_new_tokens=8)


@pytest.fixture
def accelerators(monkeypatch):
    """Fake which accelerators are visible: ``accelerators(cuda=2, mps=False, bf16=True)``."""
    def fake(cuda: int = 0, mps: bool = False, bf16: bool = True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    return fake


@pytest.mark.parametrize("cuda, mps, expected", [(0, False, "cpu"), (0, True, "mps"), (1, True, "cuda:0"),
                                                 (2, False, "cuda:0")])
def test_auto_prefers_cuda_then_mps_then_cpu(accelerators, cuda, mps, expected):
    accelerators(cuda=cuda, mps=mps)
    assert resolve_device("auto") == expected
    assert resolve_device(None) == expected


@pytest.mark.parametrize("spec, expected", [("cpu", "cpu"), ("CPU", "cpu"), ("cuda", "cuda:0"), ("cuda:1", "cuda:1"),
                                            ("auto_map", "auto_map")])
def test_explicit_devices(accelerators, spec, expected):
    accelerators(cuda=2)
    assert resolve_device(spec) == expected


@pytest.mark.parametrize("spec, cuda, message", [
    ("cuda", 0, r"system.device=cuda but no CUDA GPU is visible .*use system.device=auto or cpu"),
    ("auto_map", 0, r"system.device=auto_map but no CUDA GPU is visible"),
    ("cuda:2", 2, r"system.device=cuda:2 but only 2 CUDA device\(s\) are visible \(cuda:0..cuda:1\)"),
    ("mps", 0, r"system.device=mps but Apple's MPS backend is not available"),
    ("gpu", 1, r"system.device='gpu': use auto, cpu, mps, cuda, cuda:N or auto_map"),
])
def test_device_errors_name_the_fix(accelerators, spec, cuda, message):
    accelerators(cuda=cuda)
    with pytest.raises(ConfigError, match=message):
        resolve_device(spec)


@pytest.mark.parametrize("device, bf16, expected", [("cpu", True, "bfloat16"), ("cuda:0", True, "bfloat16"),
                                                    ("cuda:0", False, "float16"), ("auto_map", True, "bfloat16"),
                                                    ("mps", True, "float16")])
def test_auto_dtype_per_device(accelerators, device, bf16, expected):
    accelerators(cuda=1, bf16=bf16)
    assert resolve_dtype("auto", device) == expected
    assert resolve_dtype("float32", device) == "float32"


def test_unknown_dtype_is_a_config_error():
    with pytest.raises(ConfigError, match=r"system.dtype='fp8': use auto, float32, bfloat16, float16"):
        resolve_dtype("fp8", "cpu")


def test_identity_records_the_dtype_used_and_the_device_kind_off_the_cpu(accelerators, tiny_causal_dir):
    accelerators(cuda=0)
    on_cpu = CausalLM(model=str(tiny_causal_dir)).identity(PROMPT, GREEDY)
    assert on_cpu["dtype"] == "bfloat16" and "device" not in on_cpu  # CPU keys are what they were
    assert CausalLM(model=str(tiny_causal_dir), dtype="float32").identity(PROMPT, GREEDY)["dtype"] == "float32"
    accelerators(cuda=2, bf16=False)
    on_gpu = CausalLM(model=str(tiny_causal_dir), device="cuda:1").identity(PROMPT, GREEDY)
    assert on_gpu["device"] == "cuda" and on_gpu["dtype"] == "float16"
    assert CausalLM(model=str(tiny_causal_dir), device="cuda:0").identity(PROMPT, GREEDY) == on_gpu
    assert on_gpu["compile"] == COMPILED_DECODING and "compile" not in on_cpu  # compile: auto compiles on CUDA
    assert {k: v for k, v in on_gpu.items() if k not in ("device", "dtype", "compile")} == {
        k: v for k, v in on_cpu.items() if k != "dtype"}
    assert (device_kind("cuda:3"), device_kind("auto_map"), device_kind("mps")) == ("cuda", "cuda", "mps")
    assert identity_fields("cpu") == {} and identity_fields("mps") == {"device": "mps"}


@pytest.fixture
def empty_registry(monkeypatch):
    monkeypatch.setattr(store, "_LOADED", {})


def test_systems_and_metric_models_share_one_registry(empty_registry, accelerators, tiny_causal_dir, tiny_nli_dir):
    from harness.metrics.consistency.llm_judge import LLMJudge
    from harness.models.nli import NLIModel
    from harness.models.sentence_encoder import SentenceEncoder

    accelerators(cuda=0)
    model, _ = CausalLM(model=str(tiny_causal_dir), dtype="float32", device="cpu").load()
    judge = LLMJudge(str(tiny_causal_dir), device="cpu")  # float32 on the CPU: the system's model, reused
    assert judge._model is model and store.loaded_count() == 1
    NLIModel(str(tiny_nli_dir), device="cpu")
    SentenceEncoder(device="cpu")
    assert store.loaded_count() == 3
    NLIModel(str(tiny_nli_dir), device="auto")  # auto is the CPU here: the same entry
    assert SentenceEncoder(device="auto")._model is SentenceEncoder(device="cpu")._model
    CausalLM(model=str(tiny_causal_dir), dtype="bfloat16", device="cpu").load()  # another dtype: another entry
    assert store.loaded_count() == 4
    assert "device" not in judge.describe() and "device" not in SentenceEncoder(device="cpu").describe()


def test_metric_device_errors_name_their_setting(accelerators):
    from harness.models.sentence_encoder import SentenceEncoder

    accelerators(cuda=0)
    with pytest.raises(ConfigError, match=r"metrics.bertscore.device=cuda but no CUDA GPU"):
        SentenceEncoder(setting="metrics.bertscore.model", device="cuda")


@run_if(cuda=True)
def test_cuda_generation_and_identity(tiny_causal_dir, seed_article):
    system = CausalLM(model=str(tiny_causal_dir), device="cuda", dtype="float32")
    assert system.identity(PROMPT, GREEDY)["device"] == "cuda"
    model, _ = system.load()
    assert model.device.type == "cuda"
    on_gpu = system.summarize(seed_article, PROMPT, GREEDY)
    on_cpu = CausalLM(model=str(tiny_causal_dir), device="cpu", dtype="float32").summarize(
        seed_article, PROMPT, GREEDY)
    assert on_gpu.input_tokens == on_cpu.input_tokens and 0 < on_gpu.output_tokens <= 8


def test_an_int8_encoder_is_opt_in_cpu_only_and_keyed_apart(accelerators):
    """quantize=int8 loads its own copy of MiniLM with int8 Linear layers: close to float32 (cosine
    above 0.9 for each sentence) but not equal, in the fingerprint and the store key only when on;
    another value, or a device other than the CPU, is refused naming the setting."""
    import numpy as np

    from harness.metrics.consistency.embedding_support import EmbeddingSupport
    from harness.models.sentence_encoder import SentenceEncoder

    accelerators(cuda=0)
    texts = ["Police arrested two men in Leeds on Monday.", "The club signed a new striker for £5m."]
    plain, int8 = SentenceEncoder(device="cpu"), SentenceEncoder(device="cpu", quantize="int8")
    assert int8._model is not plain._model
    assert type(int8._model[0].auto_model.encoder.layer[0].intermediate.dense).__module__.startswith(
        "torch.ao.nn.quantized.dynamic")
    a, b = plain.encode(texts), int8.encode(texts)
    cosines = (a * b).sum(axis=1)
    assert (cosines > 0.9).all() and not np.array_equal(a, b)
    assert "quantize" not in plain.describe() and int8.describe()["quantize"] == "int8"
    assert int8.store_key != plain.store_key
    assert EmbeddingSupport(threshold=0.5, device="cpu", quantize="int8").describe()["quantize"] == "int8"
    with pytest.raises(ConfigError, match=r"metrics.consistency_embedding.quantize must be none or int8, got 'int4'"):
        EmbeddingSupport(threshold=0.5, device="cpu", quantize="int4")
    accelerators(cuda=1)
    with pytest.raises(ConfigError, match=r"quantize=int8 runs on the CPU only .* set encoder.device=cpu"):
        SentenceEncoder(device="cuda", quantize="int8")
