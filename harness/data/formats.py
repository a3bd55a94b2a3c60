"""Row formats for reference data, each turned into an `Article`.

- ``records``: our own records: ``id``, ``title`` (optional), ``paragraphs`` (list) or ``body``
  (text, paragraphs split on blank lines), ``bullets`` (list, one item per bullet).
- ``cnn_dailymail``: ``article`` and ``highlights`` (one bullet per line), ``id`` optional.
- ``xsum``: ``document`` and ``summary`` (a single one-sentence bullet), ``id`` optional.
- ``text``: a raw file: the title line, then the bullets (lines starting with •, * or -),
  then the body, paragraphs separated by blank lines.

Values are checked, never coerced: an id is a string or an integer (``0`` is the id ``"0"``; a
boolean, a float, null, a list or an object is an error), kept exactly as given; a title is a
string, null or absent; text fields are strings. Every error names the file, the record (its id,
or where it is: ``line 3``, ``item 2``, ``row 5``) and the field.
"""

from __future__ import annotations

import re

from harness.data.article import Article
from harness.errors import DataError
from harness.text.visible import blank, visible

FORMAT_COLUMNS = {
    "records": ("bullets",),
    "cnn_dailymail": ("article", "highlights"),
    "xsum": ("document", "summary"),
}
MAX_ID_CHARS = 1000  # an id is a key shown in every report; a longer one is a column mix-up
_BULLET_MARK = re.compile(r"^\s*[•*\-]\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def detect_format(columns, *, file: str) -> str:
    """The row format whose required columns are all present."""
    for name, required in FORMAT_COLUMNS.items():
        if all(c in columns for c in required):
            return name
    expected = "; ".join(f"{name}: {', '.join(cols)}" for name, cols in FORMAT_COLUMNS.items())
    raise DataError(
        f"unknown columns {sorted(columns)}: expected the columns of one format ({expected}), "
        "or set data.fmt", file=file, field="columns")


def split_paragraphs(text: str) -> tuple[str, ...]:
    """Paragraphs separated by blank lines, whitespace-trimmed, empty ones dropped."""
    return tuple(p.strip() for p in re.split(r"\n\s*\n", text) if not blank(p))


def type_name(value) -> str:
    """The JSON name of ``value``'s type, with the value where it is short: for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, float):
        return f"a float ({value!r})"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def article_id(row: dict, fmt: str, *, file: str, where: str, fallback: str) -> str:
    """The record's id, exactly as given (an integer as its decimal digits). Required in our
    records; in CNN/DailyMail and XSum rows an absent or null id becomes ``fallback``."""
    value = row.get("id")
    if value is None:
        if fmt != "records":
            return fallback
        raise DataError("record has no 'id'" if "id" not in row else "'id' is null: give each record an id",
                        file=file, record=where, field="id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(f"'id' must be a string or an integer, got {type_name(value)}", file=file, record=where,
                        field="id")
    text = str(value)
    if blank(text):
        said = ("'id' is empty" if not text else "'id' is only whitespace" if not text.strip()
                else f"'id' is only whitespace or invisible characters ({visible(text)[:40]})")
        raise DataError(said, file=file, record=where, field="id")
    if len(text) > MAX_ID_CHARS:
        raise DataError(f"'id' is {len(text):,} characters long (at most {MAX_ID_CHARS:,}): is a text in the "
                        "id column?", file=file, record=where, field="id")
    return text


def row_to_article(row: dict, fmt: str, *, file: str, index: int, where: str | None = None,
                   fallback_id: str | None = None) -> Article:
    """One row of ``fmt`` as an Article; errors name the file, the record and the field. ``where``
    says where the row is (``line 3``); ``fallback_id`` is the id of a row that may have none."""
    where = where or f"#{index}"
    record = article_id(row, fmt, file=file, where=where, fallback=fallback_id or f"#{index}")

    def fail(message, name):
        raise DataError(message, file=file, record=record, field=name)

    def need_text(name):
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            fail(f"{name!r} must be a string, got {type_name(value)}", name)
        if not value or blank(value):
            fail(f"{name!r} is missing or empty (or only whitespace and invisible characters)", name)
        return value

    def string_list(name):
        value = row.get(name)
        if not isinstance(value, list):
            fail(f"{name!r} must be a list of strings, got {type_name(value)}", name)
        for i, item in enumerate(value, 1):
            if not isinstance(item, str):
                fail(f"{name!r} must be a list of strings: item {i} is {type_name(item)}", name)
        return value

    if fmt == "records":
        if "paragraphs" in row and "body" in row:
            fail("both 'paragraphs' and 'body' are given: keep one (the other would be ignored)", "body")
        if "paragraphs" in row:
            paragraphs = tuple(p.strip() for p in string_list("paragraphs") if not blank(p))
            body_field = "paragraphs"
        else:
            paragraphs = split_paragraphs(need_text("body"))
            body_field = "body"
        bullets = string_list("bullets")
    elif fmt == "cnn_dailymail":
        paragraphs = split_paragraphs(need_text("article"))
        body_field = "article"
        bullets = need_text("highlights").split("\n")
    elif fmt == "xsum":
        paragraphs = split_paragraphs(need_text("document"))
        body_field = "document"
        bullets = [need_text("summary")]
    else:
        raise DataError(f"unknown data format {fmt!r}: set data.fmt to auto or one of "
                        f"{sorted(FORMAT_COLUMNS) + ['text']}", file=file, field="fmt")
    title = row.get("title")
    if title is not None and not isinstance(title, str):
        fail(f"'title' must be a string or null, got {type_name(title)}", "title")

    bullets = tuple(b for b in (_BULLET_MARK.sub("", b).strip() for b in bullets) if not blank(b))
    bullet_field = {"records": "bullets", "cnn_dailymail": "highlights", "xsum": "summary"}[fmt]
    if not paragraphs:
        fail("article body is empty", body_field)
    if not bullets:
        fail("no reference bullets", bullet_field)
    article = Article(id=record, title=(title or "").strip(), paragraphs=paragraphs, bullets=bullets,
                      source={"file": file, "format": fmt, "index": index})
    check_unicode(article, file=file, fields={"id": "id", "title": "title", "paragraphs": body_field,
                                              "bullets": bullet_field})
    return article


def check_unicode(article: Article, *, file: str, fields: dict[str, str]) -> None:
    """Refuse a lone surrogate (``"\\ud800"`` in JSON): it is not a character, and no UTF-8 file
    (summaries, reports) could hold it."""
    for attribute, name in fields.items():
        value = getattr(article, attribute)
        for text in (value,) if isinstance(value, str) else value:
            found = _SURROGATE.search(text)
            if found:
                raise DataError(f"{name!r} holds a lone surrogate \\u{ord(found.group()):04x}, which is not a "
                                "character: fix the escape in the file", file=file, record=article.id, field=name)


def parse_text(text: str, *, file: str, article_id: str) -> Article:
    """A raw "title / • bullets / body" text as an Article (lines end in LF, CRLF or CR)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        raise DataError("file is empty", file=file, record=article_id, field="title")
    title = lines[i].strip()
    i += 1
    bullets = []
    while i < len(lines) and (not lines[i].strip() or _BULLET_MARK.match(lines[i])):
        if not blank(_BULLET_MARK.sub("", lines[i])):
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
