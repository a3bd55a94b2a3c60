"""Read reference articles from a file, a directory of files, or a dataset hub id.

Local ``.txt`` files are the raw "title / • bullets / body" format; ``.jsonl``/``.json`` and
``.csv`` are read here, line by line where the format allows, so that errors name the line;
``.parquet`` files, ``.arrow`` files (datasets' Arrow stream files: ``Dataset.from_file``),
directories written by ``save_to_disk`` (a ``Dataset``, or a ``DatasetDict`` whose split
``split`` is read) and hub ids go through `datasets`. A hub id is looked up in the local
`datasets` cache first when the Hub cannot be reached. Suffixes match in any case (``.JSONL``).
The row format (ours, CNN/DailyMail, XSum) is detected from the columns unless ``fmt`` names it.

Text files are UTF-8 (a UTF-8 byte-order mark is dropped); UTF-16 or UTF-32, NUL bytes and
undecodable bytes are errors naming the line. A directory is read one level deep: every regular
file with a reference suffix, in name order. Hidden entries (``.name``) and files with other
suffixes (``notes.md``, ``data.jsonl~``) are skipped and named in a warning; a sub-directory, a
pipe or a broken or looping symbolic link that bears a reference suffix is an error naming it.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import logging
import stat
from contextlib import contextmanager
from pathlib import Path

from harness.data.article import Article
from harness.data.formats import detect_format, parse_text, row_to_article, type_name
from harness.errors import DataError
from harness.hub import hub_reachable

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".jsonl", ".json", ".csv", ".parquet", ".arrow")
_WIDE_BOMS = {codecs.BOM_UTF32_LE: "UTF-32", codecs.BOM_UTF32_BE: "UTF-32", codecs.BOM_UTF16_LE: "UTF-16",
              codecs.BOM_UTF16_BE: "UTF-16"}  # UTF-32 LE first: it starts with the UTF-16 LE mark


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
    kind = _kind(local)
    if kind == "directory" and _saved_by_datasets(local):
        located = _load_saved(local, fmt, split)
    elif kind == "directory":
        located = [found for f in _data_files(local, str(path)) for found in _load_file(f, fmt, in_directory=True)]
    elif kind == "file":
        located = _load_file(local, fmt)
    elif kind is not None:
        raise DataError(f"not a file or directory but {kind}", file=str(path))
    elif _looks_like_hub_id(path):
        located = _load_hub(path, fmt, split, hub_config)
    else:
        raise DataError("no such file or directory", file=str(path))
    if not located:
        raise DataError("no articles found", file=str(path))
    seen: dict[str, tuple[str, str]] = {}
    for article, where in located:
        file = article.source.get("file", path)
        if article.id in seen:
            first_file, first_where = seen[article.id]
            also = first_where if first_file == file else " of ".join(filter(None, (first_where, first_file)))
            raise DataError(f"duplicate article id{f' at {where}' if where else ''} (first at {also})", file=file,
                            record=article.id, field="id")
        seen[article.id] = (file, where)
    articles = [article for article, _ in located]
    articles = articles[:limit] if limit else articles
    if sample and sample >= len(articles):
        log.warning("data.sample=%d is not smaller than the set, which has %d article%s%s: all of them are used, "
                    "in file order (lower data.sample to draw a subset)", sample, len(articles),
                    "" if len(articles) == 1 else "s", f" (after data.limit={limit})" if limit else "")
    if sample and sample < len(articles):
        import random

        keep = set(random.Random(sample_seed).sample(range(len(articles)), sample))
        articles = [a for i, a in enumerate(articles) if i in keep]
    if shard >= len(articles):
        raise DataError(f"data.shard={shard} of data.num_shards={num_shards} holds no articles: the set has "
                        f"{len(articles)}; use at most {len(articles)} shards", file=str(path), field="shard")
    return articles[shard::num_shards]


def _looks_like_hub_id(path: str) -> bool:
    return (not path.startswith((".", "/", "~")) and path.count("/") <= 1
            and not path.lower().endswith(SUFFIXES))


def _kind(path: Path) -> str | None:
    """What is at ``path``: "file", "directory", another kind in words, or None when nothing is."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a symbolic link loop"
        if path.is_symlink():
            return "a broken symbolic link"
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise DataError(f"cannot read it: {e.strerror}", file=str(path)) from e
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def _data_files(directory: Path, shown: str) -> list[Path]:
    """The reference files directly in ``directory``, in name order (rules: the module docstring)."""
    try:
        entries = sorted(directory.iterdir())
    except OSError as e:
        raise DataError(f"cannot list the directory: {e.strerror}", file=shown) from e
    files, skipped = [], []
    for entry in entries:
        if entry.name.startswith(".") or entry.suffix.lower() not in SUFFIXES:
            skipped.append(entry.name)
            continue
        kind = _kind(entry)
        if kind == "directory":
            raise DataError("a sub-directory named like a reference file: directories are read one level deep; "
                            "move its files up, or pass it as data.path", file=str(entry))
        if kind != "file":
            raise DataError(f"not a reference file but {kind or 'gone'}", file=str(entry))
        files.append(entry)
    if skipped:
        log.warning("data directory %s: skipped %d entries that are hidden or not reference files (%s): %s",
                    shown, len(skipped), ", ".join(SUFFIXES), ", ".join(skipped))
    if not files:
        raise DataError(f"directory holds no reference files ({', '.join(SUFFIXES)})"
                        + (f"; skipped: {', '.join(skipped)}" if skipped else ""), file=shown)
    return files


def _load_file(file: Path, fmt: str, in_directory: bool = False) -> list[tuple[Article, str]]:
    """The file's articles, each with where it is in the file (``line 3``)."""
    name, suffix = str(file), file.suffix.lower()
    if suffix == ".txt":
        if fmt not in ("auto", "text"):
            raise DataError(f".txt files are read as format 'text', not {fmt!r}: set data.fmt=auto (or text)",
                            file=name, field="fmt")
        return [(parse_text(_read_text(file), file=name, article_id=file.stem), "")]
    if suffix in (".jsonl", ".json"):
        rows = _read_json_rows(file)
    elif suffix == ".csv":
        rows = _read_csv_rows(file)
    elif suffix == ".parquet":
        rows = [(f"row {i + 1}", row) for i, row in enumerate(_dataset_rows("parquet", name))]
    elif suffix == ".arrow":
        rows = [(f"row {i + 1}", row) for i, row in enumerate(_arrow_rows(name))]
    else:
        raise DataError(f"unsupported file type {file.suffix!r}: use one of {', '.join(SUFFIXES)}", file=name)
    return _rows_to_articles(rows, fmt, name, id_prefix=file.name if in_directory else "")


def _rows_to_articles(rows: list[tuple[str, dict]], fmt: str, file: str,
                      id_prefix: str = "") -> list[tuple[Article, str]]:
    if not rows:
        raise DataError("file holds no records", file=file)
    if fmt == "auto":
        fmt = detect_format(rows[0][1].keys(), file=file)
    return [(row_to_article(row, fmt, file=file, index=i, where=where, fallback_id=f"{id_prefix}#{i}"), where)
            for i, (where, row) in enumerate(rows)]


def _read_text(file: Path) -> str:
    """The file as text: UTF-8, a leading byte-order mark dropped; anything else an error naming the line."""
    try:
        data = file.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read it: {e.strerror}", file=str(file)) from e
    for bom, encoding in _WIDE_BOMS.items():
        if data.startswith(bom):
            raise DataError(f"the file is {encoding} text (it starts with a {encoding} byte-order mark): "
                            "re-encode it as UTF-8", file=str(file))
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataError(f"NUL byte at line {line} (byte {nul}): not a UTF-8 text file "
                        "(UTF-16 without a byte-order mark, or binary?); re-encode it as UTF-8", file=str(file))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
        line = data.count(b"\n", 0, e.start + bom) + 1
        raise DataError(f"not UTF-8 text (byte {e.start + bom}) at line {line}: re-encode the file as UTF-8 "
                        "(it may be Latin-1 or Windows-1252)", file=str(file)) from e


def _object(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are unique (the json module keeps the last of a repeated key)."""
    row = {}
    for key, value in pairs:
        if key in row:
            raise _DuplicateKey(key)
        row[key] = value
    return row


class _DuplicateKey(ValueError):
    pass


def _parse_json(text: str, file: Path, record: str | None):
    """``text`` parsed; every failure, the pathological ones included, a DataError naming ``record``
    (a line), or, for a whole document, the line of the error."""
    try:
        return json.loads(text, object_pairs_hook=_object)
    except json.JSONDecodeError as e:
        where = record or f"line {e.lineno}"
        raise DataError(f"invalid JSON: {e.msg} (column {e.colno})", file=str(file), record=where) from e
    except _DuplicateKey as e:
        raise DataError(f"invalid record: the key {e.args[0]!r} is repeated (which value counts?)", file=str(file),
                        record=record) from e
    except RecursionError as e:
        raise DataError("invalid record: JSON nested too deeply to read", file=str(file), record=record) from e
    except ValueError as e:  # an integer of more than 4300 digits (sys.set_int_max_str_digits)
        raise DataError(f"invalid record: {e}", file=str(file), record=record) from e


def _read_json_rows(file: Path) -> list[tuple[str, dict]]:
    """(where, row) for each record: a JSON array's items (``.json``), else one object per line."""
    text = _read_text(file)
    if file.suffix.lower() == ".json" and text.lstrip().startswith("["):
        rows = _parse_json(text, file, None)
        numbered = [(f"item {i}", row) for i, row in enumerate(rows, 1)]
    else:
        numbered = []
        for lineno, line in enumerate(text.split("\n"), 1):  # not splitlines: U+2028 is text in JSON
            if not line.strip():
                continue
            try:
                numbered.append((f"line {lineno}", _parse_json(line, file, f"line {lineno}")))
            except DataError:
                if lineno == 1:
                    _explain_json_document(text, file)
                raise
    for where, row in numbered:
        if not isinstance(row, dict):
            raise DataError(f"each record must be a JSON object, got {type_name(row)}", file=str(file),
                            record=where)
    return numbered


def _explain_json_document(text: str, file: Path) -> None:
    """A file whose first line is not a record: if it is one JSON document spread over lines, say
    so (an array belongs in a ``.json`` file; an object is neither records nor JSON Lines)."""
    if "\n" not in text.strip():
        return
    try:
        document = json.loads(text)
    except (RecursionError, ValueError):
        return
    if isinstance(document, list):
        raise DataError("the file is one JSON array spread over lines, not JSON Lines (one record per line): "
                        "name it .json", file=str(file))
    raise DataError(f"the file is one JSON document holding {type_name(document)}: expected an array of records "
                    "([{...}, ...]) or one record per line (JSON Lines)", file=str(file))


def _read_csv_rows(file: Path) -> list[tuple[str, dict]]:
    """(where, row) for each CSV record, every value the exact text of its cell ("01" stays "01");
    a record that spans lines is named by its first line."""
    text = _read_text(file)
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # a whole article is one cell
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        rows, header, start = [], None, 1
        for cells in reader:
            where = f"line {start}"
            start = reader.line_num + 1
            if not cells:
                continue
            if header is None:
                header = cells
                repeated = sorted({c for c in cells if cells.count(c) > 1})
                if repeated:
                    raise DataError(f"the header repeats the column(s) {', '.join(map(repr, repeated))}",
                                    file=str(file), record=where, field="columns")
                continue
            if len(cells) != len(header):
                raise DataError(f"{len(cells)} fields, but the header has {len(header)}", file=str(file),
                                record=where)
            rows.append((where, dict(zip(header, cells, strict=True))))
    except csv.Error as e:
        raise DataError(f"invalid CSV: {e}", file=str(file), record=f"line {reader.line_num}") from e
    finally:
        csv.field_size_limit(limit)
    return rows


def _dataset_rows(builder: str, file: str) -> list[dict]:
    import datasets

    try:
        dataset = datasets.load_dataset(builder, data_files=file, split="train")
    except Exception as e:  # datasets raises many types for unreadable files
        raise DataError(f"could not read {builder} file: {e}", file=file) from e
    return list(dataset)


def _arrow_rows(file: str) -> list[dict]:
    import datasets

    try:
        dataset = datasets.Dataset.from_file(file)
    except Exception as e:  # pyarrow raises its own types for a file that is not an Arrow stream
        raise DataError(f"could not read the Arrow file (the Arrow stream format that datasets writes: "
                        f"save_to_disk, its cache): {type(e).__name__}: {e}", file=file) from e
    return list(dataset)


def _saved_by_datasets(directory: Path) -> bool:
    """Whether ``directory`` was written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    return ((directory / "dataset_dict.json").is_file()
            or ((directory / "state.json").is_file() and (directory / "dataset_info.json").is_file()))


def _load_saved(directory: Path, fmt: str, split: str) -> list[tuple[Article, str]]:
    """The rows of a ``save_to_disk`` directory: a Dataset's, or split ``split`` of a DatasetDict's."""
    import datasets

    name = str(directory)
    try:
        dataset = datasets.load_from_disk(name)
    except Exception as e:  # datasets raises many types for a damaged directory
        raise DataError(f"could not read the directory written by save_to_disk: {type(e).__name__}: {e}",
                        file=name) from e
    if isinstance(dataset, datasets.DatasetDict):
        if split not in dataset:
            raise DataError(f"the DatasetDict has no split {split!r}: set data.split to one of "
                            f"{', '.join(dataset)}", file=name, field="split")
        dataset = dataset[split]
    return _rows_to_articles([(f"row {i + 1}", row) for i, row in enumerate(dataset)], fmt, name)


@contextmanager
def _offline(offline: bool):
    """`datasets` in offline mode for the block when ``offline``: it reads HF_HUB_OFFLINE once, at
    import, so the setting is patched where it reads it; offline, a hub id resolves from its cache."""
    import datasets

    if not offline:
        yield
        return
    was = datasets.config.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE = was


def _load_hub(hub_id: str, fmt: str, split: str, hub_config: str | None) -> list[tuple[Article, str]]:
    import datasets

    online = hub_reachable()
    try:
        with _offline(not online):
            dataset = datasets.load_dataset(hub_id, hub_config, split=split)
    except Exception as e:
        if online:
            raise DataError(f"could not load dataset {hub_id!r} (split {split!r}) from the Hugging Face Hub: "
                            f"{type(e).__name__}: {e}. Check data.path (a hub id, a file or a directory), "
                            "data.hub_config and data.split", file=hub_id) from e
        config = f", {hub_config!r}" if hub_config else ""
        local = f"{hub_id.replace('/', '_')}_{split}.parquet"
        raise DataError(
            f"could not load dataset {hub_id!r} (split {split!r}): it is not in the local datasets cache "
            f"({datasets.config.HF_DATASETS_CACHE}) and the Hugging Face Hub cannot be reached (offline): "
            f"{type(e).__name__}: {e}. Fix: where the Hub can be reached, run `python -c \"from datasets import "
            f"load_dataset; load_dataset({hub_id!r}{config}, split={split!r}).to_parquet({local!r})\"`, copy "
            f"{local} here and pass data.path={local} (or save_to_disk the dataset to a directory, copy that, "
            "and pass data.path=DIR data.split=SPLIT)", file=hub_id) from e
    return _rows_to_articles([(f"row {i + 1}", row) for i, row in enumerate(dataset)], fmt, hub_id)
