"""Editors' marks of summaries (marks.json, version 3): what one mark is, the one reader and
writer of a marks file (`read_marks_file`: versions 1 to 3, or report.html's export; `write_marks`),
where it is (`marks_path`: ``DIR/marks.json``), and where a mark lands among the summaries at hand
(a report page's, or the runs' of a comparison: `place_marks`). ``harness review`` writes the file,
``harness compare --marks``, ``harness meta-eval --marks`` and ``harness calibrate --marks`` read
it; all go through here.

A mark belongs to one summary: its identity is (editor, run_key, article_id, summary_sha256),
``run_key`` the run's identity hash (``Run.key[0]``) and ``summary_sha256`` the SHA-256 of the
summary's text (UTF-8), so a relabelled run keeps its marks and a changed summary never inherits
them. A mark also records ``run`` (the label when it was made, for people), ``article_sha256``
(the article's content hash), ``mark`` (accept, reject or null), ``note``, ``sentences`` (the
editor's verdicts on sentences by index: ``supported`` or ``unsupported``; which scorers flagged
a sentence is read from the run's scores, never stored here) and ``at`` (when the server stored it).

Marks of versions 1 and 2 name a summary by run label and article id only (``editor`` ``""`` in
version 1): they land on the summary of that label and article, where there is one (see
`Summaries.place`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.io import write_json_atomic
from harness.results import details
from harness.results.runs import run_summaries

MARKS = "marks.json"  # a review directory's marks file
MARKS_VERSION = 3
CHOICES = ("accept", "reject", None)
VERDICTS = ("unsupported", "supported")
MAX_NOTE = 5_000
EDITOR = re.compile(r"[A-Za-z0-9_.@+-]{1,64}")
# Why a mark cannot be placed (GET /marks.json "unplaced_reasons", compare's warning).
SUMMARY_CHANGED, ARTICLE_CHANGED, RUN_ABSENT = "summary changed", "article changed", "run not on this page"
ARTICLE_ABSENT = "article not on this page"
REASONS = (SUMMARY_CHANGED, ARTICLE_CHANGED, RUN_ABSENT)  # always reported (with 0); ARTICLE_ABSENT where it occurs
CHANGED = (SUMMARY_CHANGED, ARTICLE_CHANGED)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_legacy(mark: dict) -> bool:
    """A version 1 or 2 mark: it names its summary by run label and article id only."""
    return not (mark.get("run_key") and mark.get("summary_sha256"))


def identity(mark: dict) -> tuple:
    """What one mark is the mark of: (editor, run_key, article_id, summary_sha256); a legacy mark's
    run label stands in for the two hashes."""
    if is_legacy(mark):
        return mark["editor"], None, mark["article_id"], None, mark.get("run")
    return mark["editor"], mark["run_key"], mark["article_id"], mark["summary_sha256"], None


def empty(mark: dict) -> bool:
    """A mark that says nothing (null, no note, no verdict): saving it removes the editor's mark."""
    return mark.get("mark") is None and not (mark.get("note") or "").strip() and not mark.get("sentences")


def _text_or_none(value) -> str | None:
    return value if isinstance(value, str) and value else None


def normalize(mark, where: str = "mark") -> dict:
    """One mark of a marks file (any version) in version 3's shape: every field there (``None``
    where a legacy mark has none), or ValueError naming ``where`` and what is wrong."""
    if not isinstance(mark, dict):
        raise ValueError(f"{where} must be an object with run, article_id and mark, got {type(mark).__name__}")
    if mark.get("mark") not in CHOICES:
        raise ValueError(f"{where} has mark {mark.get('mark')!r}: expected 'accept' or 'reject'")
    editor = mark.get("editor")
    if not isinstance(editor, (str, type(None))):
        raise ValueError(f"{where} has editor {editor!r}: expected the editor's name (text)")
    if not isinstance(mark.get("article_id"), str):
        raise ValueError(f"{where} has no article_id (text)")
    note = mark.get("note") or ""
    if not isinstance(note, str):
        raise ValueError(f"{where} has note {note!r}: expected text")
    sentences = mark.get("sentences") or []
    if not isinstance(sentences, list):
        raise ValueError(f"{where}: sentences must be a list of {{index, text, verdict}}")
    verdicts = []
    for j, s in enumerate(sentences, 1):
        if not isinstance(s, dict) or isinstance(s.get("index"), bool) or not isinstance(s.get("index"), int) \
                or s["index"] < 0 or s.get("verdict") not in VERDICTS:
            raise ValueError(f"{where}, sentence {j}: expected {{\"index\": N >= 0, \"verdict\": \"unsupported\" or "
                             f"\"supported\"}}, got {s!r}"[:300])
        verdicts.append({"index": s["index"], "text": s.get("text") if isinstance(s.get("text"), str) else "",
                         "verdict": s["verdict"]})
    return {"editor": editor or "", "run": mark.get("run") if isinstance(mark.get("run"), str) else None,
            "run_key": _text_or_none(mark.get("run_key")), "article_id": mark["article_id"],
            "article_sha256": _text_or_none(mark.get("article_sha256")),
            "summary_sha256": _text_or_none(mark.get("summary_sha256")),
            "mark": mark.get("mark"), "note": note, "sentences": verdicts,
            "at": mark.get("at") if isinstance(mark.get("at"), str) else None}


def parse_marks(data) -> list[dict]:
    """The marks of a marks file's JSON: ``{"marks": [...]}`` (harness review's marks.json, any
    version, or the page's export) or the bare list; normalized (`normalize`); ValueError names the
    problem and, for a bad mark, its position."""
    if isinstance(data, dict) and "marks" in data:
        version = data.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > MARKS_VERSION:
            raise ValueError(f"it is marks version {version}, newer than this harness's {MARKS_VERSION}: read by a "
                             "newer harness only (what it holds would be lost if rewritten)")
        data = data["marks"]
    elif isinstance(data, dict) or not isinstance(data, list):
        raise ValueError('expected {"marks": [...]} as report.html exports it')
    if not isinstance(data, list):
        raise ValueError(f'"marks" must be a list, got {type(data).__name__}')
    return [normalize(m, f"mark {i}") for i, m in enumerate(data, 1)]


def latest(marks: list[dict]) -> list[dict]:
    """One mark per identity: the later one, in its later place (an export with repeats, a
    hand-edited file)."""
    out: dict[tuple, dict] = {}
    for mark in marks:
        key = identity(mark)
        out.pop(key, None)
        out[key] = mark
    return list(out.values())


@dataclass(frozen=True)
class SummaryRef:
    """One summary marks can land on."""
    run: str  # the run's label here
    run_key: str
    article_id: str
    summary_sha256: str | None  # None where the summary's text is not known (a baseline without summaries)
    article_sha256: str | None
    sentences: tuple[str, ...] = ()  # the sentences verdicts can name, by index

    @property
    def key(self) -> tuple[str, str, str | None]:
        return self.run_key, self.article_id, self.summary_sha256


class Summaries:
    """The summaries at hand (a page's or a comparison's), to place marks on."""

    def __init__(self, refs):
        self.refs = list(refs)
        self.exact = {r.key: r for r in self.refs}
        self.by_run_article: dict[tuple[str, str], list[SummaryRef]] = {}
        self.by_label: dict[tuple[str, str], SummaryRef] = {}
        for r in self.refs:
            self.by_run_article.setdefault((r.run_key, r.article_id), []).append(r)
            self.by_label.setdefault((r.run, r.article_id), r)
        self.run_keys = {r.run_key for r in self.refs}

    def place(self, mark: dict) -> tuple[SummaryRef | None, str | None]:
        """(the summary ``mark`` is of, None) or (None, why it cannot be placed: one of REASONS or
        ARTICLE_ABSENT). A legacy mark lands on the summary of its run label and article."""
        if is_legacy(mark):
            ref = self.by_label.get((mark.get("run"), mark["article_id"]))
            return (ref, None) if ref else (None, RUN_ABSENT)
        ref = self.exact.get((mark["run_key"], mark["article_id"], mark["summary_sha256"]))
        candidates = self.by_run_article.get((mark["run_key"], mark["article_id"]), [])
        if ref is None:
            ref = next((c for c in candidates if c.summary_sha256 is None), None)  # text unknown: by run and article
        if ref is not None:
            changed = mark.get("article_sha256") and ref.article_sha256 and mark["article_sha256"] != ref.article_sha256
            return (None, ARTICLE_CHANGED) if changed else (ref, None)
        if candidates:
            article = mark.get("article_sha256")
            if article and all(c.article_sha256 and c.article_sha256 != article for c in candidates):
                return None, ARTICLE_CHANGED
            return None, SUMMARY_CHANGED
        return None, ARTICLE_ABSENT if mark["run_key"] in self.run_keys else RUN_ABSENT

    def unplaced(self, marks: list[dict]) -> dict[str, int]:
        """Why each mark that cannot be placed cannot: reason -> count (every one of REASONS, 0 too)."""
        reasons = dict.fromkeys(REASONS, 0)
        for mark in marks:
            _, reason = self.place(mark)
            if reason:
                reasons[reason] = reasons.get(reason, 0) + 1
        return reasons


REPORT_DATA = '<script id="report-data" type="application/json">'


def report_data(page: str) -> dict:
    """The report-data JSON of a report.html (ValueError when there is none)."""
    start = page.find(REPORT_DATA)
    end = page.find("</script>", start)
    if start < 0 or end < 0:
        raise ValueError("no report data in it (not a report.html this harness wrote)")
    try:
        data = json.loads(page[start + len(REPORT_DATA):end])
    except (ValueError, RecursionError) as e:
        raise ValueError(f"its report data is not JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        raise ValueError("its report data has no articles")
    return data


def page_summaries(page: str) -> Summaries:
    """Every summary on a report.html, from its report data (run_key, article and summary hashes,
    sentences). ValueError for a page written before summaries were hashed."""
    return data_summaries(report_data(page))


def data_summaries(data: dict) -> Summaries:
    """`page_summaries` of a page's report data already read (`report_data`)."""
    run_keys = data.get("run_keys") or {}
    refs = []
    for article in data["articles"]:
        for s in article.get("summaries") or []:
            run_key = s.get("run_key") or run_keys.get(s.get("run"))
            if not isinstance(s.get("sha256"), str) or not isinstance(run_key, str):
                raise ValueError("its summaries carry no run_key and sha256 (written by an older harness): marks "
                                 "could not be kept on the summary they were made on")
            refs.append(SummaryRef(run=s["run"], run_key=run_key, article_id=article["id"],
                                   summary_sha256=s["sha256"], article_sha256=article.get("sha256") or None,
                                   sentences=tuple(x.get("text", "") if isinstance(x, dict) else ""
                                                   for x in s.get("sentences") or [])))
    return Summaries(refs)


# --- the marks file ----------------------------------------------------------------------------------

class MarksError(HarnessError):
    """A marks file that cannot be read or is not one; names the file (or the option that gave it)."""


@dataclass(frozen=True)
class MarksFile:
    marks: list[dict]  # each in version 3's shape (`normalize`)
    saved_at: str | None  # when harness review last wrote it (None: an export, or never saved)


def marks_path(path) -> Path:
    """The marks file of ``path``: a review directory's ``marks.json``, or the file itself."""
    path = Path(path)
    return path / MARKS if path.is_dir() else path


def read_marks_file(path, *, where: str | None = None, missing_ok: bool = False) -> MarksFile:
    """The marks in ``path``: ``harness review``'s marks.json (version 3, or 1 and 2) or
    report.html's export (``{"marks": [...]}``, or the bare list), each in version 3's shape
    (`normalize`). Every problem is one MarksError naming ``where`` (default: the path) and, for a
    bad mark, its position; ``missing_ok``: no file is no marks."""
    where = where or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as e:
        if missing_ok:
            return MarksFile([], None)
        raise MarksError(f"{where}: cannot read it ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise MarksError(f"{where}: not UTF-8 text (byte {e.start}): a marks file is JSON exported from "
                         "report.html") from None
    except OSError as e:
        raise MarksError(f"{where}: cannot read it ({e.strerror or e})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise MarksError(f"{where}: not a marks file exported from report.html (invalid JSON: {e})") from None
    except (RecursionError, ValueError) as e:  # nesting too deep, an integer too long to read
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise MarksError(f"{where}: not a marks file exported from report.html (unreadable JSON: {reason})") from None
    try:
        marks = parse_marks(data)
    except ValueError as e:
        raise MarksError(f"{where}: {e}") from None
    saved_at = data.get("saved_at") if isinstance(data, dict) else None
    return MarksFile(marks, saved_at if isinstance(saved_at, str) else None)


def read_marks(path, *, where: str | None = None) -> list[dict]:
    """`read_marks_file`'s marks (the file must be there)."""
    return read_marks_file(path, where=where).marks


def write_marks(path, marks: list[dict], saved_at: str) -> None:
    """Write a marks file (version 3) atomically; the caller holds its lock (harness review)."""
    write_json_atomic(Path(path), {"version": MARKS_VERSION, "saved_at": saved_at, "marks": marks})


# --- placing marks on runs ---------------------------------------------------------------------------

def comparison_summaries(runs) -> Summaries:
    """Every summary of these runs (`harness.results.runs.Run`), to place marks on: run identity,
    article, the SHA-256 of the summary's text (None where the run keeps no text: a baseline written
    before baselines kept summaries) and of the article, and the sentences the scorers judged (as
    the page numbers them)."""
    refs = []
    for run in runs:
        try:
            texts = run_summaries(run) or {}
        except HarnessError:  # a directory without its summaries.jsonl: marks land by run and article
            texts = {}
        for article_id, scores in run.scores.items():
            text = texts.get(article_id)
            first = next(iter(details.sentences(scores).values()), [])
            refs.append(SummaryRef(run.label, str(run.key[0]), article_id,
                                   text_sha256(text) if isinstance(text, str) else None,
                                   run.articles.get(article_id) or None,
                                   tuple(str(v.get("sentence", "")) for v in first if isinstance(v, dict))))
    return Summaries(refs)


def place_marks(runs, marks: list) -> tuple[list[tuple[SummaryRef, dict]], dict[str, int]]:
    """(summary, mark) of every mark that lands on a summary of these runs, one per editor and
    summary (their last; a version 3 mark over a legacy one), and why the others do not (reason ->
    count; see `Summaries.place`). Marks that are not marks are skipped."""
    return place_on(comparison_summaries(runs), normalized_marks(marks))


def normalized_marks(marks: list) -> list[dict]:
    """Each of ``marks`` that is a mark, normalized (`normalize`); the others are skipped."""
    normalized = []
    for mark in marks:
        try:
            normalized.append(normalize(mark))
        except ValueError:
            continue
    return normalized


def place_on(summaries: Summaries, marks: list[dict]) -> tuple[list[tuple[SummaryRef, dict]], dict[str, int]]:
    """`place_marks` on the summaries at hand (a comparison's, or a page's: ``harness review``), of
    marks already normalized."""
    normalized = sorted(latest(marks), key=lambda m: not is_legacy(m))  # legacy first: a v3 one wins
    placed: dict[tuple, tuple[SummaryRef, dict]] = {}
    reasons: dict[str, int] = {}
    for mark in normalized:
        ref, reason = summaries.place(mark)
        if ref is None:
            reasons[reason] = reasons.get(reason, 0) + 1
            continue
        placed.pop((mark["editor"], ref.key), None)
        placed[(mark["editor"], ref.key)] = (ref, mark)
    return list(placed.values()), reasons
