"""ROUGE against hand-worked values and against rouge-score called directly; its tokenizer on
English (rouge-score's tokens) and on other scripts (issue 23)."""

import logging
import random

import pytest
from rouge_score import rouge_scorer, tokenizers

from harness.data import Article
from harness.errors import ConfigError
from harness.metrics.rouge import Rouge
from harness.metrics.rouge_tokenizer import UnicodeTokenizer
from harness.metrics.score_cache import code_modules, import_closure, metric_fingerprint
from harness.text.sentences import split_sentences


def article(*bullets):
    return Article(id="t", title="", paragraphs=("Body.",), bullets=bullets)


def test_hand_worked_unigrams_and_bigrams():
    # reference "the cat sat" vs summary "the cat": R1 P=2/2, R=2/3, F=0.8; R2 P=1/1, R=1/2, F=2/3.
    s = Rouge().score("the cat", article("the cat sat"))
    assert (s["rouge1_p"], s["rouge1_r"]) == (1.0, pytest.approx(2 / 3))
    assert s["rouge1_f"] == pytest.approx(0.8)
    assert (s["rouge2_p"], s["rouge2_r"], s["rouge2_f"]) == (1.0, 0.5, pytest.approx(2 / 3))


def test_stemming_is_on():
    # "killed" and "kill" share the Porter stem.
    assert Rouge().score("officers killed", article("officer kills"))["rouge1_f"] == 1.0


def test_lsum_matches_rouge_score_with_bullets_and_sentences_on_lines():
    bullets = ("Russia sent a peacekeeping force to Kazakhstan", "Eight police officers were killed")
    summary = "Eight officers were killed in the unrest. Russia sent troops to Kazakhstan last night."
    ours = Rouge().score(summary, article(*bullets))
    direct = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True).score(
        "\n".join(bullets),
        "Eight officers were killed in the unrest.\nRussia sent troops to Kazakhstan last night.")
    for kind, value in direct.items():
        assert ours[f"{kind}_f"] == pytest.approx(value.fmeasure)
        assert ours[f"{kind}_p"] == pytest.approx(value.precision)
        assert ours[f"{kind}_r"] == pytest.approx(value.recall)
    # The summary's sentences are in the reverse order of the bullets: summary-level LCS is
    # higher than plain LCS over the flattened text.
    assert ours["rougeLsum_f"] > ours["rougeL_f"]


def test_empty_summary_scores_zero():
    assert all(v == 0.0 for v in Rouge().score("   ", article("something")).values())


def test_bullets_as_summary_score_one(seed_article):
    scores = Rouge().score("\n".join(seed_article.bullets), seed_article)
    assert scores["rougeLsum_f"] == pytest.approx(1.0)


# --- the tokenizer: rouge-score's on English, words of every script kept (issue 23) ------------------------

ENGLISH = ("Eight police officers were killed in the unrest, officials said on Thursday.",
           "Russia's President sent 2,500 troops -- a 'peacekeeping' force -- to Kazakhstan.",
           "RUNNING runners ran; the runner's run-off (re-run) happened at 10:30am_today!",
           "U.S. fuel prices doubled in 2022; protesters' demands weren't met.")
TOLERANCE = 1e-12  # the same tokens give the same floats; only summation order could differ


def _english_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = " ".join(ENGLISH).split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(n)]


@pytest.mark.parametrize("stemmer", [True, False])
def test_the_tokenizer_gives_rouge_scores_tokens_on_english(stemmer):
    ours, theirs = UnicodeTokenizer(stemmer), tokenizers.DefaultTokenizer(use_stemmer=stemmer)
    for text in [*ENGLISH, *_english_texts(300), "", "   ", "a", "A1 b2 C3"]:
        assert ours.tokenize(text) == theirs.tokenize(text), text


@pytest.mark.parametrize("text", [
    "Police said \u201ceight\u201d officers \u2014 not nine \u2014 were killed\u2026",  # curly quotes, dashes
    "The officers\u2019 union said it\u2019s running checks \u00b7 2,500 troops",
    "non\u00a0breaking\u2009spaces and a tab\tand a\u200bzero-width space",
])
def test_ascii_words_in_text_with_other_characters_are_rouge_scores_tokens(text):
    assert UnicodeTokenizer(True).tokenize(text) == tokenizers.DefaultTokenizer(use_stemmer=True).tokenize(text)


@pytest.mark.parametrize("stemmer", [True, False])
def test_rouge_equals_rouge_score_on_english_inputs(stemmer):
    """Every ROUGE value equals rouge-score's with its default tokenizer (stemming on and off)."""
    direct = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=stemmer)
    metric = Rouge(use_stemmer=stemmer)
    texts = _english_texts(80, seed=1)
    for reference, summary in zip(texts[::2], texts[1::2], strict=True):
        ours = metric.score(summary, article(reference))
        theirs = direct.score(reference, "\n".join(split_sentences(summary)))
        for kind, value in theirs.items():
            for part, field in (("p", "precision"), ("r", "recall"), ("f", "fmeasure")):
                assert ours[f"{kind}_{part}"] == pytest.approx(getattr(value, field), abs=TOLERANCE), (kind, part)


SCRIPTS = {
    "chinese": "俄罗斯向哈萨克斯坦派遣维和部队，八名警察遇难。",
    "japanese": "東京で大きな地震が発生し、八人が死亡した。",
    "korean": "러시아가 카자흐스탄에 평화유지군을 보냈다.",
    "arabic": "أرسلت روسيا قوات حفظ السلام إلى كازاخستان.",
    "russian": "Россия направила миротворцев в Казахстан.",
    "hindi": "रूस ने कज़ाख़स्तान में शांति सेना भेजी।",
    "greek": "Η Ρωσία έστειλε ειρηνευτική δύναμη στο Καζακστάν.",
    "hebrew": "רוסיה שלחה כוח שמירת שלום לקזחסטן.",
    "emoji": "🔥🚓🚓 💔",
    "accented": "Les policiers ont été tués à Almaty, a déclaré la mairie.",
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_summary_identical_to_its_reference_scores_one_in_every_script(script):
    text = SCRIPTS[script]
    scores = Rouge().score(text, article(text))
    for kind in ("rouge1", "rougeL", "rougeLsum"):
        assert scores[f"{kind}_f"] == pytest.approx(1.0, abs=1e-12), kind
    if len(UnicodeTokenizer().tokenize(text)) > 1:
        assert scores["rouge2_f"] == pytest.approx(1.0, abs=1e-12)
    if script != "accented":  # rouge-score's own tokenizer sees nothing there: the case this fixes
        assert rouge_scorer.RougeScorer(["rouge1"]).score(text, text)["rouge1"].fmeasure == 0.0


def test_cjk_is_one_token_per_character_and_other_scripts_one_per_word():
    tokenize = UnicodeTokenizer().tokenize
    assert tokenize("东京地震") == ["东", "京", "地", "震"]
    assert tokenize("東京tower 2024年") == ["東", "京", "tower", "2024", "年"]
    assert tokenize("カタカナ ひらがな") == ["カ", "タ", "カ", "ナ", "ひ", "ら", "が", "な"]
    assert tokenize("Москва, МОСКВА!") == ["москва", "москва"]  # lower-cased, punctuation dropped
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # vowel signs and virama stay in the word
    assert tokenize("café naïve running") == ["café", "naïve", "run"]  # ASCII words stemmed, others kept whole
    assert tokenize("cafe\u0301") == tokenize("caf\u00e9") == ["café"]  # NFC: one word either way
    assert tokenize("😀👍🏽 ©") == ["😀", "👍", "©"]  # So symbols; the skin tone (Sk) is not a token
    assert tokenize("… — «» ¿¡ •") == []


def test_cjk_partial_overlap_is_counted_per_character():
    # reference 八名警察遇难 (6 characters) vs summary 警察遇难 (4): R1 P=1, R=4/6; R2 P=3/3, R=3/5.
    scores = Rouge().score("警察遇难", article("八名警察遇难"))
    assert (scores["rouge1_p"], scores["rouge1_r"]) == (1.0, pytest.approx(4 / 6))
    assert (scores["rouge2_p"], scores["rouge2_r"]) == (1.0, pytest.approx(3 / 5))


def test_a_text_with_no_token_is_warned_once_per_run_naming_the_article(caplog):
    metric = Rouge()
    with caplog.at_level(logging.WARNING, logger="harness.metrics.rouge"):
        metric.score("", article("Eight killed."))  # empty: nothing to warn about
        assert not caplog.records
        first = metric.score("... — !!!", Article(id="a7", title="", paragraphs=("B.",), bullets=("Eight killed.",)))
        metric.score("?!", Article(id="a8", title="", paragraphs=("B.",), bullets=("Eight killed.",)))
        metric.score("Eight killed.", Article(id="a9", title="", paragraphs=("B.",), bullets=("—",)))
    assert all(v == 0.0 for v in first.values())
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings
    assert "article 'a7'" in warnings[0] and "the summary '... — !!!' has no token" in warnings[0]
    assert "later texts like it are not reported in this run" in warnings[0]


def test_a_reference_with_no_token_is_warned_too(caplog):
    with caplog.at_level(logging.WARNING, logger="harness.metrics.rouge"):
        Rouge().score("Eight killed.", Article(id="r1", title="", paragraphs=("B.",), bullets=("— …",)))
    assert ["article 'r1'" in r.getMessage() and "reference bullets" in r.getMessage() for r in caplog.records] == [
        True]


def test_the_fingerprint_changes_with_the_stemmer_and_the_tokenizer_and_holds_its_code():
    stemmed, plain = Rouge(use_stemmer=True), Rouge(use_stemmer=False)
    assert stemmed.describe() == {"use_stemmer": True, "tokenizer": "unicode-v1"}
    assert metric_fingerprint("rouge", stemmed) != metric_fingerprint("rouge", plain)  # were the same before
    assert metric_fingerprint("rouge", stemmed) == metric_fingerprint("rouge", Rouge(use_stemmer=True))
    assert "harness.metrics.rouge_tokenizer" in import_closure(code_modules(stemmed))  # an edit there misses


@pytest.mark.parametrize("value", ["maybe", "yes", 1, None, "true"])
def test_use_stemmer_must_be_a_boolean(value):
    with pytest.raises(ConfigError, match=r"metrics.rouge.use_stemmer must be true or false, got "):
        Rouge(use_stemmer=value)
