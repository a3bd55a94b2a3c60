"""Row formats for reference data, each turned into an `Article`.

- ``records``: our own records: ``id``, ``title`` (optional), ``paragraphs`` (list) or ``body``
  (text, paragraphs split on blank lines), ``bullets`` (list, one item per bullet).
- ``cnn_dailymail``: ``article`` and ``highlights`` (one bullet per line), ``id`` optional.
- ``xsum``: ``document`` and ``summary`` (a single one-sentence bullet), ``id`` optional.
- ``text``: a raw file: the title line, then the bullets (lines starting with •, * or -),
  then the body, paragraphs separated by blank lines.
"""

from __future__ import annotations

import re

from harness.data.article import Article
from harness.errors import DataError

FORMAT_COLUMNS = {
    "records": ("bullets",),
    "cnn_dailymail": ("article", "highlights"),
    "xsum": ("document", "summary"),
}
_BULLET_MARK = re.compile(r"^\s*[•*\-]\s+")


def detect_format(columns, *, file: str) -> str:
    """The row format whose required columns are all present."""
    for name, required in FORMAT_COLUMNS.items():
        if all(c in columns for c in required):
            return name
    expected = "; ".join(f"{name}: {', '.join(cols)}" for name, cols in FORMAT_COLUMNS.items())
    raise DataError(
        f"unknown columns {sorted(columns)}: expected the columns of one format ({expected}), "
        "or set data.format", file=file, field="columns")


def split_paragraphs(text: str) -> tuple[str, ...]:
    """Paragraphs separated by blank lines, whitespace-trimmed, empty ones dropped."""
    return tuple(p.strip() for p in re.split(r"\n\s*\n", text) if p.strip())


def row_to_article(row: dict, fmt: str, *, file: str, index: int) -> Article:
    """One row of ``fmt`` as an Article; errors name the file, the record and the field."""
    record = str(row.get("id") or f"#{index}")

    def need_text(name):
        value = row.get(name)
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"{name!r} is missing or empty", file=file, record=record, field=name)
        return value

    if fmt == "records":
        if "id" not in row:
            raise DataError("record has no 'id'", file=file, record=record, field="id")
        if "paragraphs" in row:
            paragraphs = row["paragraphs"]
            if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
                raise DataError("'paragraphs' must be a list of strings", file=file, record=record,
                                field="paragraphs")
            paragraphs = tuple(p.strip() for p in paragraphs if p.strip())
            body_field = "paragraphs"
        else:
            paragraphs = split_paragraphs(need_text("body"))
            body_field = "body"
        bullets = row.get("bullets")
        if not isinstance(bullets, list) or not all(isinstance(b, str) for b in bullets):
            raise DataError("'bullets' must be a list of strings", file=file, record=record, field="bullets")
        title = row.get("title") or ""
    elif fmt == "cnn_dailymail":
        paragraphs = split_paragraphs(need_text("article"))
        body_field = "article"
        bullets = need_text("highlights").splitlines()
        title = row.get("title") or ""
    elif fmt == "xsum":
        paragraphs = split_paragraphs(need_text("document"))
        body_field = "document"
        bullets = [need_text("summary")]
        title = row.get("title") or ""
    else:
        raise DataError(f"unknown data format {fmt!r}: use one of {sorted(FORMAT_COLUMNS) + ['text']}",
                        file=file, field="format")

    bullets = tuple(_BULLET_MARK.sub("", b).strip() for b in bullets if b.strip())
    bullet_field = {"records": "bullets", "cnn_dailymail": "highlights", "xsum": "summary"}[fmt]
    if not paragraphs:
        raise DataError("article body is empty", file=file, record=record, field=body_field)
    if not bullets:
        raise DataError("no reference bullets", file=file, record=record, field=bullet_field)
    return Article(id=record, title=str(title).strip(), paragraphs=paragraphs, bullets=bullets,
                   source={"file": file, "format": fmt, "index": index})


def parse_text(text: str, *, file: str, article_id: str) -> Article:
    """A raw "title / • bullets / body" text as an Article."""
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        raise DataError("file is empty", file=file, record=article_id, field="title")
    title = lines[i].strip()
    i += 1
    bullets = []
    while i < len(lines) and (not lines[i].strip() or _BULLET_MARK.match(lines[i])):
        if lines[i].strip():
            bullets.append(_BULLET_MARK.sub("", lines[i]).strip())
        i += 1
    if not bullets:
        raise DataError("no bullet lines (starting with •, * or -) after the title", file=file,
                        record=article_id, field="bullets")
    paragraphs = split_paragraphs("\n".join(lines[i:]))
    if not paragraphs:
        raise DataError("article body is empty", file=file, record=article_id, field="body")
    return Article(id=article_id, title=title, paragraphs=paragraphs, bullets=tuple(bullets),
                   source={"file": file, "format": "text"})
