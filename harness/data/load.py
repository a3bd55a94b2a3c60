"""Read reference articles from a file, a directory of files, or a dataset hub id.

Local ``.txt`` files are the raw "title / • bullets / body" format; ``.jsonl``/``.json`` are read
line by line (so errors can name the line); ``.csv``/``.parquet`` files and hub ids go through
`datasets`. The row format (ours, CNN/DailyMail, XSum) is detected from the columns unless
``fmt`` names it.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.data.article import Article
from harness.data.formats import detect_format, parse_text, row_to_article
from harness.errors import DataError
from harness.hub import hub_reachable

SUFFIXES = (".txt", ".jsonl", ".json", ".csv", ".parquet")


def load_articles(path: str, fmt: str = "auto", split: str = "test", hub_config: str | None = None,
                  limit: int | None = None, sample: int | None = None, sample_seed: int = 0,
                  shard: int = 0, num_shards: int = 1) -> list[Article]:
    """The articles at ``path`` (file, directory or hub id), checked, ids unique; then the first
    ``limit``; then a random ``sample`` of them (seeded by ``sample_seed``, kept in file order);
    then shard ``shard`` of ``num_shards`` (every ``num_shards``-th article from the ``shard``-th),
    so that N workers split one evaluation set between them."""
    for name, value in (("limit", limit), ("sample", sample)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise DataError(f"data.{name} must be a positive integer, got {value}", field=name)
    if (not isinstance(num_shards, int) or isinstance(num_shards, bool) or num_shards < 1
            or not isinstance(shard, int) or isinstance(shard, bool) or not 0 <= shard < num_shards):
        raise DataError(f"data.shard must be in 0..data.num_shards-1, got shard={shard}, num_shards={num_shards}",
                        field="shard")
    local = Path(path).expanduser()
    if local.is_dir():
        files = sorted(p for p in local.iterdir() if p.suffix in SUFFIXES)
        if not files:
            raise DataError(f"directory holds no reference files ({', '.join(SUFFIXES)})", file=str(path))
        articles = [a for f in files for a in _load_file(f, fmt)]
    elif local.is_file():
        articles = _load_file(local, fmt)
    elif _looks_like_hub_id(path):
        articles = _load_hub(path, fmt, split, hub_config)
    else:
        raise DataError("no such file or directory", file=str(path))
    if not articles:
        raise DataError("no articles found", file=str(path))
    seen: dict[str, str] = {}
    for article in articles:
        where = article.source.get("file", path)
        if article.id in seen:
            raise DataError(f"duplicate article id (also in {seen[article.id]})", file=where,
                            record=article.id, field="id")
        seen[article.id] = where
    articles = articles[:limit] if limit else articles
    if sample and sample < len(articles):
        import random

        keep = set(random.Random(sample_seed).sample(range(len(articles)), sample))
        articles = [a for i, a in enumerate(articles) if i in keep]
    if shard >= len(articles):
        raise DataError(f"data.shard={shard} of data.num_shards={num_shards} holds no articles: the set has "
                        f"{len(articles)}; use at most {len(articles)} shards", file=str(path), field="shard")
    return articles[shard::num_shards]


def _looks_like_hub_id(path: str) -> bool:
    return not path.startswith((".", "/", "~")) and path.count("/") <= 1 and not path.endswith(SUFFIXES)


def _load_file(file: Path, fmt: str) -> list[Article]:
    name = str(file)
    if file.suffix == ".txt":
        if fmt not in ("auto", "text"):
            raise DataError(f".txt files are read as format 'text', not {fmt!r}", file=name, field="format")
        return [parse_text(_read_text(file), file=name, article_id=file.stem)]
    if file.suffix in (".jsonl", ".json"):
        rows = _read_json_rows(file)
    elif file.suffix in (".csv", ".parquet"):
        rows = _dataset_rows(file.suffix.lstrip("."), name)
    else:
        raise DataError(f"unsupported file type {file.suffix!r}: use one of {', '.join(SUFFIXES)}", file=name)
    return _rows_to_articles(rows, fmt, name)


def _rows_to_articles(rows: list[dict], fmt: str, file: str) -> list[Article]:
    if not rows:
        raise DataError("file holds no records", file=file)
    if fmt == "auto":
        fmt = detect_format(rows[0].keys(), file=file)
    return [row_to_article(row, fmt, file=file, index=i) for i, row in enumerate(rows)]


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"not UTF-8 text (byte {e.start}): re-encode the file as UTF-8", file=str(file)) from e


def _read_json_rows(file: Path) -> list[dict]:
    text = _read_text(file)
    if file.suffix == ".json" and text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"invalid JSON at line {e.lineno}: {e.msg}", file=str(file)) from e
        numbered = list(enumerate(rows, 1))
    else:
        numbered = []
        for lineno, line in enumerate(text.split("\n"), 1):  # not splitlines: U+2028 is text in JSON
            if not line.strip():
                continue
            try:
                numbered.append((lineno, json.loads(line)))
            except json.JSONDecodeError as e:
                raise DataError(f"invalid JSON: {e.msg}", file=str(file), record=f"line {lineno}") from e
    for lineno, row in numbered:
        if not isinstance(row, dict):
            raise DataError("each record must be a JSON object", file=str(file), record=f"line {lineno}")
    return [row for _, row in numbered]


def _dataset_rows(builder: str, file: str) -> list[dict]:
    import datasets

    try:
        dataset = datasets.load_dataset(builder, data_files=file, split="train")
    except Exception as e:  # datasets raises many types for unreadable files
        raise DataError(f"could not read {builder} file: {e}", file=file) from e
    return list(dataset)


def _load_hub(hub_id: str, fmt: str, split: str, hub_config: str | None) -> list[Article]:
    import datasets

    try:
        if not hub_reachable():
            raise ConnectionError("the Hugging Face Hub cannot be reached (offline)")
        dataset = datasets.load_dataset(hub_id, hub_config, split=split)
    except Exception as e:
        raise DataError(
            f"could not load dataset {hub_id!r} (split {split!r}) from the Hugging Face Hub: "
            f"{type(e).__name__}: {e}. If this machine is offline, download it where you are online "
            f"(datasets.load_dataset({hub_id!r}).save_to_disk or to_parquet) and pass the local file "
            "as data.path=FILE", file=hub_id) from e
    return _rows_to_articles(list(dataset), fmt, hub_id)
