"""Reference loading: every supported format, and bad records named by file, record and field."""

import json
import os
import re
import subprocess
import sys

import pytest

from harness.data import load_articles
from harness.data.formats import parse_text
from harness.errors import DataError

from .helpers.run_if import SHARED_DIR, run_if

SEED_TEXT = """Vladimir Putin deploys troops

  • Russia sent a peacekeeping force
  • Eight police officers were killed

Russia has sent a peacekeeping force.

Protesters stormed the mayor's office.
"""


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_seed_reference_keeps_five_separate_bullets(seed_article):
    assert seed_article.id == "000_b456ec66e27cc290"
    assert len(seed_article.bullets) == 5
    assert seed_article.bullets[3] == (
        "Kazakh officials claim eight police officers were shot to death during the unrest")
    assert seed_article.paragraphs[0].startswith("Russia has sent a peacekeeping force in Kazakhstan")
    assert seed_article.title.startswith("Vladimir Putin deploys troops to Kazakhstan")


def test_raw_text_format(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text(SEED_TEXT, encoding="utf-8")
    (article,) = load_articles(str(path))
    assert article.id == "story"
    assert article.title == "Vladimir Putin deploys troops"
    assert article.bullets == ("Russia sent a peacekeeping force", "Eight police officers were killed")
    assert article.paragraphs == ("Russia has sent a peacekeeping force.", "Protesters stormed the mayor's office.")


@run_if(shared_data=True)
def test_seed_file_in_shared_parses_to_the_committed_record(seed_article):
    shared = SHARED_DIR / "seeds" / "000_b456ec66e27cc290.txt"
    parsed = parse_text(shared.read_text(encoding="utf-8"), file=str(shared), article_id=seed_article.id)
    assert parsed == seed_article


def test_cnn_dailymail_jsonl_splits_highlights_into_bullets(tmp_path):
    path = write_jsonl(tmp_path / "cnn.jsonl", [
        {"id": "a1", "article": "First sentence. Second one.", "highlights": "Bullet one .\nBullet two ."}])
    (article,) = load_articles(path)
    assert article.bullets == ("Bullet one .", "Bullet two .")
    assert article.source["format"] == "cnn_dailymail"


def test_xsum_jsonl_has_one_bullet(tmp_path):
    path = write_jsonl(tmp_path / "xsum.jsonl", [{"id": "x", "document": "Body.", "summary": "One line."}])
    (article,) = load_articles(path)
    assert article.bullets == ("One line.",)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_csv_and_parquet_through_datasets(tmp_path, suffix):
    import datasets

    rows = {"id": ["a", "b"], "article": ["Body a.", "Body b."], "highlights": ["x\ny", "z"]}
    path = tmp_path / f"cnn.{suffix}"
    getattr(datasets.Dataset.from_dict(rows), f"to_{suffix}")(str(path))
    articles = load_articles(str(path))
    assert [a.id for a in articles] == ["a", "b"]
    assert articles[0].bullets == ("x", "y")


def test_directory_and_limit(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "body": "A.", "bullets": ["a"]}])
    write_jsonl(tmp_path / "b.jsonl", [{"id": "b", "body": "B.", "bullets": ["b"]}])
    assert [a.id for a in load_articles(str(tmp_path))] == ["a", "b"]
    assert [a.id for a in load_articles(str(tmp_path), limit=1)] == ["a"]


@pytest.mark.parametrize("row, field, message", [
    ({"id": "r1", "paragraphs": ["  "], "bullets": ["b"]}, "paragraphs", "body is empty"),
    ({"id": "r1", "body": "", "bullets": ["b"]}, "body", "missing or empty"),
    ({"id": "r1", "body": "Text.", "bullets": []}, "bullets", "no reference bullets"),
    ({"id": "r1", "body": "Text.", "bullets": ["  "]}, "bullets", "no reference bullets"),
    ({"id": "r1", "body": "Text.", "bullets": "one string"}, "bullets", "must be a list"),
    ({"id": "r1", "article": "Text.", "highlights": "\n"}, "highlights", "missing or empty"),
    ({"id": "r1", "article": "   ", "highlights": "b"}, "article", "missing or empty"),
])
def test_bad_records_name_file_record_and_field(tmp_path, row, field, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [row])
    with pytest.raises(DataError, match=message) as info:
        load_articles(path)
    assert (info.value.file, info.value.record, info.value.field) == (path, "r1", field)


def test_unknown_columns(tmp_path):
    path = write_jsonl(tmp_path / "odd.jsonl", [{"id": "1", "text": "x", "label": 1}])
    with pytest.raises(DataError, match=r"unknown columns \['id', 'label', 'text'\]") as info:
        load_articles(path)
    assert info.value.field == "columns"


def test_duplicate_ids(tmp_path):
    path = write_jsonl(tmp_path / "dup.jsonl", [{"id": "same", "body": "A.", "bullets": ["a"]}] * 2)
    with pytest.raises(DataError, match="duplicate article id") as info:
        load_articles(path)
    assert info.value.record == "same"


def test_invalid_json_line_is_named(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": "a", "body": "A.", "bullets": ["a"]}\n{not json\n', encoding="utf-8")
    with pytest.raises(DataError, match="invalid JSON") as info:
        load_articles(str(path))
    assert info.value.record == "line 2"


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"Titre\n\n* Caf\xe9\n\nCorps du texte.")
    with pytest.raises(DataError, match="not UTF-8"):
        load_articles(str(path))


def test_text_without_bullets(tmp_path):
    path = tmp_path / "nobullets.txt"
    path.write_text("Title\n\nJust a body.\n", encoding="utf-8")
    with pytest.raises(DataError, match="no bullet lines") as info:
        load_articles(str(path))
    assert info.value.field == "bullets"


def test_missing_local_file():
    with pytest.raises(DataError, match="no such file or directory"):
        load_articles("./does/not/exist.jsonl")


def test_hub_id_offline_names_the_fix(monkeypatch, tmp_path):
    import datasets

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(DataError, match=re.escape(
            "is not in the local datasets cache") + ".*" + re.escape(
            "load_dataset('someone/cnn_dailymail_nonexistent', split='test')"
            ".to_parquet('someone_cnn_dailymail_nonexistent_test.parquet')") + ".*" + re.escape(
            "pass data.path=someone_cnn_dailymail_nonexistent_test.parquet")) as info:
        load_articles("someone/cnn_dailymail_nonexistent")
    assert info.value.file == "someone/cnn_dailymail_nonexistent"


def test_hub_id_with_unreachable_hub_fails_at_once(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    with pytest.raises(DataError, match="cannot be reached"):
        load_articles("someone/cnn_dailymail_nonexistent")


def test_line_separators_inside_json_strings_survive_a_run(tmp_path, cache_dir, seed_article):
    """U+2028, U+2029 and U+0085 are characters inside a JSON string, not line ends: a run over such
    a record completes, and every file it writes reads back with them intact."""
    import json

    from harness.io import read_jsonl
    from harness.run import run

    from .helpers.configs import config

    odd = "Astana\u2028police\u0085shooting\u2029report"
    data = tmp_path / "odd.jsonl"
    data.write_text(json.dumps({"id": "x\u2028y", "title": odd, "paragraphs": list(seed_article.paragraphs),
                                "bullets": [odd, *seed_article.bullets[1:]]}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    results = run(config("system=bullets", f"data.path={data}", "metrics=[rouge]"), tmp_path / "run")
    assert results["status"] == "completed" and results["run"]["n_articles"] == 1
    (ref,) = read_jsonl(tmp_path / "run" / "references.jsonl")
    assert ref["id"] == "x\u2028y" and ref["title"] == odd and ref["bullets"][0] == odd
    (row,) = read_jsonl(tmp_path / "run" / "scores.jsonl")
    assert row["article_id"] == "x\u2028y"


@pytest.mark.parametrize("overrides, message", [
    (("data.limit=true",), "data.limit must be an integer (or null), got True"),  # (config_check, a ConfigError)
    (("data.num_shards=4", "data.shard=2"), "data.shard=2 of data.num_shards=4 holds no articles: the set has 1; "
                                            "use at most 1 shards"),
])
def test_runs_over_no_articles_are_refused(tmp_path, cache_dir, overrides, message):
    from harness.errors import HarnessError
    from harness.run import run

    from .helpers.configs import config

    with pytest.raises(HarnessError, match=re.escape(message)):
        run(config("system=lead3", *overrides), tmp_path / "run")
    assert not (tmp_path / "run" / "results.json").exists()


def test_a_run_with_no_metrics_is_refused(tmp_path, cache_dir):
    from harness.errors import ConfigError
    from harness.run import run

    from .helpers.configs import config

    with pytest.raises(ConfigError, match=re.escape("no metrics to score with (metrics is empty)")):
        run(config("system=lead3", "metrics=[]"), tmp_path / "run")


# Data on disk the way `datasets` writes it: save_to_disk directories, Arrow files, its hub cache.

CNN_ROWS = {"id": ["a", "b"], "article": ["The mayor spoke on Monday. Police fled the scene.",
                                         "Fuel prices rose in May. Protesters gathered in the square."],
            "highlights": ["x\ny", "z"]}


def _dataset(rows=CNN_ROWS):
    import datasets

    return datasets.Dataset.from_dict(rows)


def test_a_save_to_disk_dataset_directory_and_its_arrow_file(tmp_path):
    _dataset().save_to_disk(str(tmp_path / "saved"))
    articles = load_articles(str(tmp_path / "saved"))
    assert [a.id for a in articles] == ["a", "b"] and articles[0].bullets == ("x", "y")
    assert articles[0].source["format"] == "cnn_dailymail"
    (arrow,) = (tmp_path / "saved").glob("*.arrow")  # datasets' Arrow stream file: Dataset.from_file
    assert [(a.id, a.bullets) for a in load_articles(str(arrow))] == [(a.id, a.bullets) for a in articles]


def test_a_save_to_disk_dataset_dict_reads_data_split_and_names_the_splits(tmp_path):
    import datasets

    other = {k: [f"{v}-val" for v in vs] for k, vs in CNN_ROWS.items()}
    datasets.DatasetDict({"test": _dataset(), "validation": _dataset(other)}).save_to_disk(str(tmp_path / "dd"))
    assert [a.id for a in load_articles(str(tmp_path / "dd"))] == ["a", "b"]  # data.split's default: test
    assert [a.id for a in load_articles(str(tmp_path / "dd"), split="validation")] == ["a-val", "b-val"]
    with pytest.raises(DataError, match=re.escape("the DatasetDict has no split 'train': set data.split to one "
                                                  "of test, validation")) as info:
        load_articles(str(tmp_path / "dd"), split="train")
    assert info.value.field == "split"


def test_a_file_named_arrow_that_is_not_an_arrow_stream_is_named(tmp_path):
    (tmp_path / "x.arrow").write_text("not arrow")
    with pytest.raises(DataError, match="could not read the Arrow file") as info:
        load_articles(str(tmp_path / "x.arrow"))
    assert info.value.file == str(tmp_path / "x.arrow")


def test_a_dataset_dict_directory_runs_end_to_end(tmp_path, cache_dir):
    import datasets

    from harness.run import run

    from .helpers.configs import config

    datasets.DatasetDict({"test": _dataset(), "train": _dataset({k: v[:1] for k, v in CNN_ROWS.items()})}
                         ).save_to_disk(str(tmp_path / "dd"))
    results = run(config("system=lead3", "system.k=1", f"data.path={tmp_path / 'dd'}", "data.split=test",
                         "metrics=[rouge]"), tmp_path / "run")
    assert results["status"] == "completed" and results["run"]["n_articles"] == 2
    from harness.io import read_jsonl

    assert [row["text"] for row in read_jsonl(tmp_path / "run" / "summaries.jsonl")] == ["The mayor spoke on Monday.",
                                                                                       "Fuel prices rose in May."]


def _cache_as_a_hub_load_writes_it(cache, repo_id: str, split: str, parquet) -> None:
    """What ``load_dataset(repo_id)`` leaves in the datasets cache: the Parquet builder's Arrow files
    under ``<namespace>___<name>/default/<version>/<hash>/`` (the Hub's default config)."""
    from datasets.data_files import DataFilesDict
    from datasets.packaged_modules.parquet.parquet import Parquet, ParquetConfig

    namespace, name = repo_id.split("/")

    class HubParquet(Parquet):
        BUILDER_CONFIGS = [ParquetConfig(name="default",
                                         data_files=DataFilesDict.from_patterns({split: [str(parquet)]}))]

    HubParquet(cache_dir=str(cache), dataset_name=name, config_name="default", hash="0123abcd").download_and_prepare()
    (cache / name).rename(cache / f"{namespace}___{name}")


@pytest.mark.parametrize("offline", ["HF_HUB_OFFLINE=1", "unreachable endpoint"])
def test_a_hub_id_in_the_local_cache_loads_offline_and_the_fix_in_the_error_works(tmp_path, monkeypatch, offline):
    import datasets

    cache = tmp_path / "hf" / "datasets"
    _dataset().to_parquet(str(tmp_path / "news.parquet"))
    _cache_as_a_hub_load_writes_it(cache, "someone/news", "test", tmp_path / "news.parquet")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(cache))  # read once, at import
    if offline == "HF_HUB_OFFLINE=1":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
        monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    articles = load_articles("someone/news")
    assert [(a.id, a.bullets) for a in articles] == [("a", ("x", "y")), ("b", ("z",))]
    assert datasets.config.HF_HUB_OFFLINE is (offline == "HF_HUB_OFFLINE=1")  # put back after the load
    # Not cached: the error's command, run where the dataset can be had (here: this cache), makes a
    # file that data.path then reads.
    with pytest.raises(DataError, match="is not in the local datasets cache") as info:
        load_articles("someone/news", split="validation")
    (command,) = re.findall(r"`python -c \"(.*?)\"`", str(info.value))
    done = subprocess.run([sys.executable, "-c", command], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert 'Unknown split "validation"' in done.stderr  # the cache holds test only: the command for split test
    done = subprocess.run([sys.executable, "-c", command.replace("'validation'", "'test'")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    path = re.findall(r"pass data.path=(\S+) ", str(info.value))[0]
    fixed = load_articles(str(tmp_path / path))
    assert [(a.id, a.bullets) for a in fixed] == [(a.id, a.bullets) for a in articles]
