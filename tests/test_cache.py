"""The generation cache: keys change with what changes a summary; corrupt entries are regenerated."""


from harness.data import Article
from harness.systems.generation_cache import GenerationCache, cache_key

ARTICLE = Article(id="a", title="T", paragraphs=("Body.",), bullets=("b",))


def test_key_changes_with_identity_and_article_content_not_id():
    ident = {"kind": "causal_lm", "prompt": "x {article}", "decoding": {"max_new_tokens": 8}}
    assert cache_key(ident, ARTICLE) == cache_key(dict(ident), ARTICLE)
    assert cache_key(ident, ARTICLE) != cache_key({**ident, "prompt": "y {article}"}, ARTICLE)
    assert cache_key(ident, ARTICLE) != cache_key(ident, Article("a", "T", ("Body!",), ("b",)))
    assert cache_key(ident, ARTICLE) == cache_key(ident, Article("renamed", "T", ("Body.",), ("b",)))


def test_roundtrip_and_corrupt_entry_is_moved_aside(tmp_path):
    cache = GenerationCache(tmp_path)
    key = cache_key({"k": 1}, ARTICLE)
    assert cache.get(key) is None
    cache.put(key, {"text": "summary"}, {"k": 1}, "a")
    # an entry without the token counts (an older version's) reads with their defaults, never a KeyError later
    assert cache.get(key) == {"text": "summary", "input_tokens": None, "output_tokens": None, "article_tokens": None,
                              "article_tokens_cut": 0, "seconds": 0.0}
    path = next((tmp_path / "generations").rglob(f"{key}.json"))
    path.write_text('{"key": "truncated', encoding="utf-8")
    assert cache.get(key) is None
    assert path.with_suffix(".corrupt").exists() and not path.exists()
