"""Strong checkers as consistency scorers (harness/metrics/consistency/checker_support.py,
harness/models/checker.py): chunking and max-over-chunks evidence with a fake probability
function, and each model shape end to end on tiny random models saved to a temp dir and loaded
back through the same from_pretrained code users hit: a 2-label RoBERTa (MiniCheck-RoBERTa's
shape, labels LABEL_0/LABEL_1), a 3-label NLI BERT (tests/conftest.py), and a T5 answering "1"/"0"
(MiniCheck-Flan-T5's shape)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from harness.data.article import Article
from harness.errors import ConfigError, ModelLoadError
from harness.metrics.consistency.checker_support import CheckerSupport, chunk_sentences
from harness.models.checker import Checker, supported_indices

WORDS = ("the a of to in and on was were over russia kazakhstan protests fuel prices police officers eight "
         "killed mayor office fire troops summary article sent force last night city predict : . 1 0").split()
# No title: these tests check chunking of the body (a title is article text too: tests/test_flags.py).
ARTICLE = Article("x", "", ("Fuel prices rose in the city. Police officers were killed last night.",
                             "Troops were sent to the city. The mayor office was on fire."), ())


def _tokenizer(words=WORDS):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<pad>", "<s>", "</s>", "<unk>", *words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>", unk_token="<unk>")
    return tokenizer, len(vocab)


@pytest.fixture(scope="module")
def tiny_roberta_dir(tmp_path_factory):
    """A 1-layer random RoBERTa classifier with 2 unnamed labels (LABEL_0, LABEL_1), like MiniCheck-RoBERTa."""
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    directory = tmp_path_factory.mktemp("tiny-roberta")
    tokenizer, vocab_size = _tokenizer()
    torch.manual_seed(0)
    config = RobertaConfig(vocab_size=vocab_size, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                           num_attention_heads=2, max_position_embeddings=80, pad_token_id=0, bos_token_id=1,
                           eos_token_id=2, num_labels=2)
    RobertaForSequenceClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def _t5(directory, words):
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tokenizer, vocab_size = _tokenizer(words)
    torch.manual_seed(0)
    config = T5Config(vocab_size=vocab_size, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_decoder_layers=1,
                      num_heads=2, pad_token_id=0, eos_token_id=2, decoder_start_token_id=0)
    T5ForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_t5_dir(tmp_path_factory):
    """A 1+1-layer random T5 whose vocabulary has the answer tokens "1" and "0", like MiniCheck-Flan-T5."""
    return _t5(tmp_path_factory.mktemp("tiny-t5"), WORDS)


def _overlap(documents, claims, return_cut=False):
    """A deterministic fake checker: the share of the claim's words found in the document."""
    def words(text):
        return re.findall(r"\w+", text.lower())

    probs = np.array([len(set(words(c)) & set(words(d))) / len(words(c))
                      for d, c in zip(documents, claims, strict=True)])
    return (probs, np.zeros(len(probs), dtype=bool)) if return_cut else probs


# --- Chunking and aggregation (no model arithmetic).

def test_chunks_pack_whole_sentences_up_to_the_size():
    sentences = ["one two three", "four five", "six seven eight nine", "ten"]
    assert chunk_sentences(sentences, 5) == ["one two three four five", "six seven eight nine ten"]
    assert chunk_sentences(sentences, 3) == ["one two three", "four five", "six seven eight nine", "ten"]
    assert chunk_sentences(sentences, None) == [" ".join(sentences)]
    assert chunk_sentences(sentences, 100) == [" ".join(sentences)]
    assert chunk_sentences([], 5) == []
    # A sentence longer than the size is a chunk of its own; no empty chunk before it.
    assert chunk_sentences(["a b c d e f", "g"], 2) == ["a b c d e f", "g"]


def test_max_over_chunks_picks_the_chunk_with_the_evidence(tiny_roberta_dir, monkeypatch):
    scorer = CheckerSupport(str(tiny_roberta_dir), supported_label=1, chunk_size=10, key="t")
    monkeypatch.setattr(scorer.checker, "probabilities", _overlap)
    chunks = scorer.chunks(ARTICLE.body)
    assert chunks == ["Fuel prices rose in the city.", "Police officers were killed last night.",
                      "Troops were sent to the city.", "The mayor office was on fire."]
    row = scorer.score("Troops were sent. Police officers were killed.", ARTICLE)
    troops, police = row["sentences@t"]
    assert troops["evidence"] == chunks[2] and troops["chunk"] == 2 and troops["chunks"] == 4
    assert troops["score"] == pytest.approx(1.0) and troops["supported"]
    assert police["evidence"] == chunks[1] and police["score"] == pytest.approx(1.0)
    assert row["score@t"] == pytest.approx(1.0) and row["unsupported@t"] == 0
    # A claim a third found anywhere: its best chunk's share, below the threshold.
    row = scorer.score("Troops zebras giraffes.", ARTICLE)
    (only,) = row["sentences@t"]
    assert only["score"] == pytest.approx(1 / 3, abs=1e-4) and not only["supported"] and row["unsupported@t"] == 1


def test_summary_level_checks_the_whole_summary_as_one_claim(tiny_roberta_dir, monkeypatch):
    sentence = CheckerSupport(str(tiny_roberta_dir), supported_label=1, chunk_size=None, key="s")
    summary = CheckerSupport(str(tiny_roberta_dir), supported_label=1, chunk_size=None, key="w",
                             granularity="summary")
    seen = []

    def spy(documents, claims, return_cut=False):
        seen.append(list(claims))
        return _overlap(documents, claims, return_cut)

    for scorer in (sentence, summary):
        monkeypatch.setattr(scorer.checker, "probabilities", spy)
    text = "Troops were sent. Zebras zebras zebras."
    by_sentence, whole = sentence.score(text, ARTICLE), summary.score(text, ARTICLE)
    assert seen == [["Troops were sent.", "Zebras zebras zebras."], ["Troops were sent. Zebras zebras zebras."]]
    assert [s["score"] for s in by_sentence["sentences@s"]] == pytest.approx([1.0, 0.0])
    assert by_sentence["score@s"] == pytest.approx(0.5) and by_sentence["min@s"] == pytest.approx(0.0)
    (claim,) = whole["sentences@w"]
    assert claim["sentence"] == "Troops were sent. Zebras zebras zebras." and claim["evidence"] == ARTICLE.body.replace(
        "\n\n", " ")
    assert whole["score@w"] == whole["min@w"] == pytest.approx(3 / 6)
    assert summary.score("", ARTICLE)["sentences@w"] == [] and summary.score("", ARTICLE)["score@w"] == 0.0


def test_the_key_names_the_columns_so_two_checkers_sit_side_by_side(tiny_roberta_dir, tiny_nli_dir):
    from harness.metrics.base import declared_columns

    a = CheckerSupport(str(tiny_roberta_dir), supported_label=1, key="minicheck")
    b = CheckerSupport(str(tiny_nli_dir), key="crossencoder")
    columns = declared_columns({"consistency_minicheck": a, "consistency_crossencoder": b})
    assert {"consistency/score@minicheck", "consistency/score@crossencoder"} <= set(columns)
    score = columns["consistency/score@minicheck"]
    assert score["headline"] and score["range"] == [0, 1] and score["higher_is_better"]
    with pytest.raises(ConfigError, match="both write the column"):
        declared_columns({"one": a, "two": CheckerSupport(str(tiny_nli_dir), key="minicheck")})
    # Every scalar the scorer returns is declared.
    row = a.score("Troops were sent.", ARTICLE)
    assert {k for k, v in row.items() if isinstance(v, (int, float))} == set(a.columns())


# --- Labels.

def test_supported_label_from_names_or_config():
    assert supported_indices({0: "CONTRADICTION", 1: "ENTAILMENT", 2: "NEUTRAL"}) == [1]
    assert supported_indices({0: "entailment", 1: "not_entailment"}) == [0]
    assert supported_indices({0: "Non-Entailment", 1: "Entailment"}) == [1]
    assert supported_indices({0: "unsupported", 1: "supported"}) == [1]
    assert supported_indices({0: "LABEL_0", 1: "LABEL_1"}, supported_label=1) == [1]
    assert supported_indices({0: "LABEL_0", 1: "LABEL_1"}, supported_label="LABEL_0") == [0]
    assert supported_indices({0: "LABEL_0"}) == [0]  # one logit: a sigmoid
    with pytest.raises(ConfigError, match=r"metrics\.x\.supported_label to the index") as e:
        supported_indices({0: "LABEL_0", 1: "LABEL_1"}, setting="metrics.x")
    assert "no names" in str(e.value)
    with pytest.raises(ConfigError, match="supported_label=2"):
        supported_indices({0: "LABEL_0", 1: "LABEL_1"}, supported_label=2, setting="metrics.x")
    with pytest.raises(ConfigError, match="not one of the model's labels"):
        supported_indices({0: "LABEL_0", 1: "LABEL_1"}, supported_label="yes", setting="metrics.x")


def test_a_classifier_with_unnamed_labels_and_no_supported_label_fails_naming_the_fix(tiny_roberta_dir):
    with pytest.raises(ConfigError, match=r"set metrics\.consistency_minicheck\.supported_label"):
        CheckerSupport(str(tiny_roberta_dir), config_name="consistency_minicheck")


# --- Each model shape, end to end, against a manual forward pass.

def test_the_classifier_reads_its_supported_label_probability(tiny_roberta_dir):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    checker = Checker(str(tiny_roberta_dir), kind="auto", supported_label=1, template="{document}{eos}{claim}",
                      max_length=64)
    assert checker.kind == "classifier" and checker.supported == [1]
    docs, claims = ["the police were killed", "fuel prices rose in the city"], ["police killed", "troops sent"]
    got = checker.probabilities(docs, claims)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_roberta_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_roberta_dir)
    for d, c, p in zip(docs, claims, got, strict=True):
        with torch.no_grad():
            logits = model(**tokenizer(f"{d}</s>{c}", return_tensors="pt")).logits
        assert p == pytest.approx(float(torch.softmax(logits, -1)[0, 1]), abs=1e-5)


def test_an_nli_cross_encoder_gives_p_entailment_of_the_pair(tiny_nli_dir):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    checker = Checker(str(tiny_nli_dir))  # id2label CONTRADICTION, ENTAILMENT, NEUTRAL: entailment is 1
    assert checker.kind == "classifier" and checker.supported == [1] and checker.template is None
    got = checker.probabilities(["the police were killed"], ["police killed"])
    model = AutoModelForSequenceClassification.from_pretrained(tiny_nli_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_nli_dir)
    with torch.no_grad():
        logits = model(**tokenizer("the police were killed", "police killed", return_tensors="pt")).logits
    assert got[0] == pytest.approx(float(torch.softmax(logits, -1)[0, 1]), abs=1e-5)


def test_the_seq2seq_checker_reads_the_label_tokens_at_the_first_decoder_step(tiny_t5_dir):
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    checker = Checker(str(tiny_t5_dir), max_length=64)
    tokenizer = AutoTokenizer.from_pretrained(tiny_t5_dir)
    one, zero = tokenizer.convert_tokens_to_ids(["1", "0"])
    assert checker.kind == "seq2seq" and checker.template == "predict: {document}{eos}{claim}"
    assert (checker.supported_token, checker.unsupported_token) == (one, zero)
    docs, claims = ["the police were killed last night", "fuel prices rose"], ["police killed", "troops sent"]
    got = checker.probabilities(docs, claims)
    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_t5_dir).eval()
    for d, c, p in zip(docs, claims, got, strict=True):
        batch = tokenizer(f"predict: {d}</s>{c}", return_tensors="pt")
        with torch.no_grad():
            logits = model(**batch, decoder_input_ids=torch.zeros((1, 1), dtype=torch.long)).logits[0, 0]
        expected = torch.softmax(logits[[zero, one]], -1)[1]
        assert p == pytest.approx(float(expected), abs=1e-5) and 0 < p < 1
    # label_token_ids overrides the words by id (here: swapped, so P(supported) is the complement).
    swapped = Checker(str(tiny_t5_dir), max_length=64, label_token_ids=[zero, one]).probabilities(docs, claims)
    assert swapped == pytest.approx(1 - got, abs=1e-6)


def test_the_seq2seq_scorer_end_to_end(tiny_t5_dir):
    scorer = CheckerSupport(str(tiny_t5_dir), kind="seq2seq", chunk_size=8, max_length=64, key="t5")
    row = scorer.score("Troops were sent. Police officers were killed.", ARTICLE)
    assert len(row["sentences@t5"]) == 2
    assert all(0 <= s["score"] <= 1 and s["evidence"] in scorer.chunks(ARTICLE.body) and s["chunks"] == 4
               for s in row["sentences@t5"])
    assert scorer.describe()["label_token_ids"]["supported"] == scorer.checker.supported_token


def test_a_seq2seq_tokenizer_without_the_label_tokens_fails(tmp_path):
    directory = _t5(tmp_path / "no-digits", [w for w in WORDS if w not in ("1", "0")])
    with pytest.raises(ConfigError, match=r"no token for the label word '1'.*metrics\.consistency_minicheck_t5\."):
        CheckerSupport(str(directory), kind="seq2seq", config_name="consistency_minicheck_t5")
    # Words it has work.
    assert CheckerSupport(str(directory), kind="seq2seq", label_words=["police", "fire"]).checker.kind == "seq2seq"


# --- Truncation: the document is cut, never the claim, and each cut is counted.

def test_long_inputs_are_cut_from_the_document_and_counted(tiny_t5_dir, tiny_nli_dir):
    long_doc = " ".join(["the police were killed"] * 40)  # 160 words
    # A template (the T5: the document is cut before encoding) and a text pair (the NLI: only_first).
    for directory in (tiny_t5_dir, tiny_nli_dir):
        checker = Checker(str(directory), max_length=32)
        probs, cut = checker.probabilities([long_doc, "fuel prices rose"], ["troops sent", "troops sent"],
                                           return_cut=True)
        assert cut.tolist() == [True, False] and checker.truncated_pairs == 1 and probs.shape == (2,)
    checker = Checker(str(tiny_t5_dir), max_length=32)
    text, was_cut = checker._fit(long_doc, "troops were sent to the city")
    ids = checker._tokenizer(text)["input_ids"]
    assert was_cut and len(ids) <= 32 and text.endswith("</s>troops were sent to the city")
    # The scorer reports whether the best chunk's input was cut.
    scorer = CheckerSupport(str(tiny_t5_dir), chunk_size=None, max_length=16, key="cut")
    (sentence,) = scorer.score("Troops were sent.", ARTICLE)["sentences@cut"]
    assert sentence["cut"] is True


# --- Hub ids offline, and the configs.

@pytest.mark.parametrize("kind", ["auto", "classifier", "seq2seq"])
def test_a_hub_id_offline_gets_the_projects_error(kind, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match=r"not in the local Hugging Face cache.*metrics\.consistency_minicheck"
                                             r"\.model=/path/to/dir"):
        CheckerSupport("lytang/MiniCheck-RoBERTa-Large", kind=kind, supported_label=1,
                       config_name="consistency_minicheck")


def test_bad_settings_are_config_errors(tiny_roberta_dir):
    for kwargs, match in [({"granularity": "paragraph"}, "granularity must be"),
                          ({"chunk_unit": "pages"}, "chunk_unit"), ({"chunk_size": 0}, "chunk_size"),
                          ({"key": "a/b"}, "key must"), ({"kind": "decoder"}, "kind must"),
                          ({"template": "{document}"}, "template must")]:
        with pytest.raises(ConfigError, match=match):
            CheckerSupport(str(tiny_roberta_dir), supported_label=1, **kwargs)


def test_meta_eval_runs_a_checker_config(tiny_roberta_dir, tmp_path, monkeypatch, capsys):
    """`harness meta-eval --metrics consistency_minicheck` with the config's model pointed at a tiny one."""
    from harness import cli, config

    from .helpers.configs import conf_copy

    conf = conf_copy(tmp_path, "consistency_minicheck", model=str(tiny_roberta_dir), max_length=64)
    monkeypatch.setattr(config, "CONF_DIR", conf)
    rows = [{"document": "Troops were sent to the city. Police officers were killed.", "claim": claim,
             "label": label, "cut": cut}
            for claim, label, cut in [("Troops were sent.", 1, "val"), ("Fuel prices rose.", 0, "val"),
                                      ("Police officers were killed.", 1, "test"), ("The mayor fled.", 0, "test")]]
    data = tmp_path / "facts.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert cli.main(["meta-eval", "--data", str(data), "--metrics", "consistency_minicheck", "--split", "given",
                          "--n-resamples", "20", "--out", str(tmp_path / "out")]) == 0
    assert "| consistency_minicheck | given |" in capsys.readouterr().out
    saved = json.loads((tmp_path / "out" / "meta_eval.json").read_text())
    assert saved["results"][0]["scorer"] == "consistency_minicheck" and saved["results"][0]["n_test"] == 2
