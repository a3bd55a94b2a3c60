"""``harness review DIR``: a small local server for editors. It serves DIR/report.html on
127.0.0.1 and saves the marks the page sends to DIR/marks.json (written atomically), which
``harness compare DIR --marks DIR/marks.json`` reads.

The page is the same file, served with one change: its Content-Security-Policy allows
``connect-src 'self'`` (the file on disk stays without any network access). The server is bound
to the loopback interface only and answers nothing but ``GET /`` (the page), ``GET /marks.json``
and ``POST /marks.json``. A POST must come from the page itself: ``Content-Type:
application/json`` (which a cross-site form cannot send without a CORS preflight this server
never grants), a ``Host`` of this server (against DNS rebinding) and, when the browser sends
one, an ``Origin`` of this server; the body is at most ``MAX_BODY`` bytes of JSON
``{"editor": NAME, "marks": [...]}`` whose every mark names a summary on the page.

Several editors review at once: each page sends its ``editor`` name (asked once and kept in the
browser, or ``?editor=NAME`` in the address) with every save, and the server *merges* the save
into marks.json, never replaces it: under a lock (a thread lock, and `harness.io.file_lock` on
``.marks.json.lock`` for a second server on the same directory) it reads the file, sets this
editor's mark on each summary the save names (a mark null with an empty note and no sentence
verdicts clears it), and writes the file atomically. One mark per editor and summary: within a
save, and against the file, the later one wins (accept then reject leaves the reject, a repeat
leaves one). Other editors' marks stay as they are. A summary holds at most
``MAX_EDITORS_PER_SUMMARY`` editors' marks.

marks.json (version 3, `harness.results.marks`): ``{"version": 3, "saved_at": …, "marks": [{"editor", "run",
"run_key", "article_id", "article_sha256", "summary_sha256", "mark", "note", "sentences": [{"index",
"text", "verdict"}], "at"}, …]}``. A mark is one editor's mark of one summary: (editor, run_key,
article_id, summary_sha256), so relabelling a run keeps its marks and a changed summary never
inherits them. A save must name an editor (the page asks once and keeps the name), and each of its
marks a summary on the current page (sentence indices within that summary's sentences, verdicts
``supported`` or ``unsupported``); the server stamps ``at``. Marks the page cannot show (their
summary or article changed, their run is not on it) are kept in the file, and ``GET /marks.json``
says how many and why (``unplaced``, ``unplaced_reasons``), and what the editors' sentence verdicts say
of each scorer's flags on this page (``page_rates``: precision and recall by
`harness.reports.compare.flag_rates`, the figures ``harness compare --marks`` prints; every save's answer
carries them too, so the page's legend shows them as they change). Marks of versions 1 and 2 (no hashes;
version 1: no editor either) are read as marks of the summary of their run label and article; an
editor's new mark of that summary replaces their legacy one.

The page served is the current report.html: when ``harness compare --out`` rewrites it (its
modification time, size or inode changes), the next request rereads it and its summaries. The
served page also carries ``<meta name="harness-review-dir">``, the SHA-256 of the resolved
directory, by which the page keeps one folder's marks in the browser apart from another's.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness.errors import FULL, HarnessError, StorageError
from harness.io import file_lock
from harness.reports.compare import flag_rates
from harness.reports.html import REVIEW_META, review_page
from harness.results.marks import (
    EDITOR,
    MARKS,
    MARKS_VERSION,
    MAX_NOTE,
    VERDICTS,
    MarksError,
    Summaries,
    data_summaries,
    empty,
    identity,
    is_legacy,
    latest,
    normalized_marks,
    place_on,
    read_marks_file,
    report_data,
    write_marks,
)
from harness.text.surrogates import without_surrogates

MAX_BODY = 5_000_000  # bytes: far more than marks on 1,000 articles x 10 systems with notes
MAX_EDITORS_PER_SUMMARY = 50  # marks of one summary kept in marks.json (one per editor)
RELOAD = "reload the page (report.html may have been rewritten since it was loaded)"

__all__ = ["MARKS_VERSION", "MAX_NOTE", "ReviewError", "Page", "validate_marks", "read_saved",
           "merge_marks", "marks_answer", "page_rates", "make_server", "serve"]


class ReviewError(HarnessError):
    """The directory cannot be reviewed (no report.html this harness wrote)."""


def directory_id(directory: Path) -> str:
    """The SHA-256 of the resolved directory: the page keeps each folder's marks apart by it."""
    return hashlib.sha256(str(Path(directory).resolve()).encode("utf-8")).hexdigest()


Flags = dict[tuple, dict[str, list]]  # summary key -> scorer -> per sentence: flagged (None: no verdict)


def page_flags(data: dict) -> Flags:
    """Which sentences each scorer flags on the page (its report data, as the page shows them), by
    summary (run_key, article id, summary SHA-256)."""
    run_keys = data.get("run_keys") or {}
    out: Flags = {}
    for article in data.get("articles") or []:
        for s in article.get("summaries") or []:
            key = (s.get("run_key") or run_keys.get(s.get("run")), article.get("id"), s.get("sha256"))
            scorers: dict[str, list] = {}
            sentences = [x for x in s.get("sentences") or [] if isinstance(x, dict)]
            for i, sentence in enumerate(sentences):
                for v in sentence.get("verdicts") or []:
                    if isinstance(v, dict) and isinstance(v.get("scorer"), str):
                        scorers.setdefault(v["scorer"], [None] * len(sentences))[i] = bool(v.get("flagged"))
            out[key] = scorers
    return out


def page_rates(saved: list[dict], summaries: Summaries, flags: Flags) -> dict:
    """The page measures itself: each scorer's precision and recall against the editors' sentence
    verdicts on this page (`harness.reports.compare.flag_rates`, the figures ``harness compare
    --marks`` prints for the same marks and runs), how many sentences were judged, by how many editors."""
    placed, _ = place_on(summaries, normalized_marks(saved))
    judged = {(ref.key, s["index"]) for ref, mark in placed for s in mark["sentences"]}
    editors = {mark["editor"] for ref, mark in placed if mark["sentences"]}
    return {"flags": flag_rates(placed, lambda ref: flags.get(ref.key, {})), "judged": len(judged),
            "editors": len(editors)}


class Page:
    """DIR/report.html as served, reread (with its summaries) whenever the file changes."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.path = self.directory / "report.html"
        self._lock = threading.Lock()
        self._stamp = None
        self._current: tuple[bytes, Summaries, Flags] | None = None
        self.current()  # a directory that cannot be reviewed fails here, before serving

    def current(self) -> tuple[bytes, Summaries, Flags]:
        """(the page as served, its summaries, its flags); ReviewError when report.html is gone or not one this
        harness wrote."""
        try:
            st = os.stat(self.path)
        except OSError:
            raise ReviewError(f"no report.html in {self.directory}: write one with `harness compare {self.directory} "
                              f"--out {self.directory}` (or review a run or sweep directory)") from None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            if stamp != self._stamp or self._current is None:
                try:
                    written = self.path.read_text(encoding="utf-8")
                    served = review_page(written).replace(
                        REVIEW_META, f'{REVIEW_META}\n<meta name="harness-review-dir" '
                                     f'content="{directory_id(self.directory)}">', 1)
                    data = report_data(written)
                    self._current = served.encode("utf-8"), data_summaries(data), page_flags(data)
                except (OSError, ValueError) as e:
                    self._stamp, self._current = None, None
                    raise ReviewError(f"{self.path}: {e}; rewrite it with `harness compare {self.directory} "
                                      f"--out {self.directory}`") from None
                self._stamp = stamp
            return self._current


def validate_marks(body: bytes, summaries: Summaries) -> tuple[str, list[dict]]:
    """(editor, marks) of a POST body, each mark completed from the page (its run label, article
    hash and sentence texts), or ValueError saying what is wrong with it. The marks hold one per
    summary: a later mark of a summary replaces an earlier one (it keeps its first place)."""
    try:
        data = without_surrogates(json.loads(body.decode("utf-8")))  # a lone "\ud800" no file can hold: U+FFFD
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ValueError(f"not JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("marks"), list):
        raise ValueError('expected {"editor": NAME, "marks": [...]}')
    editor = data.get("editor")
    if not isinstance(editor, str) or not EDITOR.fullmatch(editor):
        raise ValueError("every save names its editor: enter your name when the page asks (or open the page as "
                         f"/?editor=NAME); 1 to 64 letters, digits or _.@+- (got {editor!r})"[:300])
    marks: dict[tuple, dict] = {}
    for i, mark in enumerate(data["marks"], 1):
        if not isinstance(mark, dict):
            raise ValueError(f"mark {i} is not an object")
        run_key, article, summary = mark.get("run_key"), mark.get("article_id"), mark.get("summary_sha256")
        ref = summaries.exact.get((run_key, article, summary)) if all(
            isinstance(x, str) for x in (run_key, article, summary)) else None
        if ref is None:
            raise ValueError(f"mark {i} names no summary on this page (run_key {run_key!r}, article {article!r}, "
                             f"summary_sha256 {summary!r}): {RELOAD}"[:400])
        if mark.get("article_sha256") not in (None, ref.article_sha256):
            raise ValueError(f"mark {i}: article {article!r} changed since the page was loaded: {RELOAD}"[:400])
        choice, note = mark.get("mark"), mark.get("note") or ""
        if choice not in ("accept", "reject", None):
            raise ValueError(f"mark {i}: mark must be 'accept', 'reject' or null, got {choice!r}"[:300])
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise ValueError(f"mark {i}: note must be text of at most {MAX_NOTE} characters")
        sentences = mark.get("sentences") or []
        if not isinstance(sentences, list):
            raise ValueError(f"mark {i}: sentences must be a list of {{index, text, verdict}}")
        verdicts: dict[int, dict] = {}
        for j, s in enumerate(sentences, 1):
            index = s.get("index") if isinstance(s, dict) else None
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(ref.sentences):
                raise ValueError(f"mark {i}, sentence {j}: index must be 0 to {len(ref.sentences) - 1} (the summary "
                                 f"has {len(ref.sentences)} sentences), got {index!r}"[:300])
            if s.get("verdict") not in VERDICTS:
                raise ValueError(f"mark {i}, sentence {j}: verdict must be 'unsupported' or 'supported', got "
                                 f"{s.get('verdict')!r}"[:300])
            verdicts[index] = {"index": index, "text": ref.sentences[index], "verdict": s["verdict"]}
        marks[ref.key] = {"editor": editor, "run": ref.run, "run_key": ref.run_key, "article_id": ref.article_id,
                          "article_sha256": ref.article_sha256, "summary_sha256": ref.summary_sha256,
                          "mark": choice, "note": note, "sentences": [verdicts[k] for k in sorted(verdicts)],
                          "at": None}
    return editor, list(marks.values())


def read_saved(path: Path) -> tuple[list[dict], str | None]:
    """(the marks, when they were saved) of the marks.json this server writes (`read_marks_file`:
    version 1, 2 or 3; missing: none); MarksError when the file is not one (it is then left as it
    is, and no save goes over it)."""
    try:
        saved = read_marks_file(path, missing_ok=True)
    except MarksError as e:
        raise MarksError(f"{e}; it is left as it is: move it away to start a new one") from None
    return saved.marks, saved.saved_at


def merge_marks(saved: list[dict], editor: str, marks: list[dict], summaries: Summaries | None = None,
                at: str | None = None) -> list[dict]:
    """``saved`` with ``editor``'s mark of each summary in ``marks`` set, stamped ``at`` (one per
    editor and summary: the new one replaces theirs, in its place; an empty one removes it). The
    editor's legacy mark that lands on the same summary of the page (``summaries``) goes too.
    ValueError when a summary would hold more than ``MAX_EDITORS_PER_SUMMARY`` editors' marks."""
    at = at or datetime.now(timezone.utc).isoformat()
    merged = {identity(m): m for m in latest(saved)}
    before = set(merged)
    for mark in marks:
        key = identity(mark)
        if summaries is not None:  # this editor's version 1/2 mark of the same summary: replaced by this one
            for old in [k for k, m in merged.items() if m["editor"] == editor and is_legacy(m)]:
                ref, _ = summaries.place(merged[old])
                if ref is not None and ref.key == (mark["run_key"], mark["article_id"], mark["summary_sha256"]):
                    del merged[old]
        if empty(mark):
            merged.pop(key, None)
        else:
            merged[key] = {**mark, "at": at}
    editors: dict[tuple, int] = {}
    for key in merged:
        editors[key[1:]] = editors.get(key[1:], 0) + 1
    for mark in marks:  # a new editor on a summary that holds the most: refused (an editor's own mark may change)
        key = identity(mark)
        if key in merged and key not in before and editors[key[1:]] > MAX_EDITORS_PER_SUMMARY:
            raise ValueError(f"the summary of run {mark['run']!r} for article {mark['article_id']!r} holds marks of "
                             f"{MAX_EDITORS_PER_SUMMARY} editors already (at most {MAX_EDITORS_PER_SUMMARY})")
    return list(merged.values())


def marks_answer(saved: list[dict], summaries: Summaries, saved_at: str | None = None,
                 flags: Flags | None = None) -> dict:
    """``GET /marks.json``: every editor's marks, how many of them this page cannot show, by reason,
    and (``page_rates``) what the editors' sentence verdicts say of each scorer's flags on this page."""
    reasons = summaries.unplaced(saved)
    return {"version": MARKS_VERSION, "saved_at": saved_at, "marks": saved, "unplaced": sum(reasons.values()),
            "unplaced_reasons": reasons, "page_rates": page_rates(saved, summaries, flags or {})}


def make_server(directory: Path, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The server for ``directory`` (not yet serving); ``port=0`` picks a free port."""
    directory = Path(directory)
    report = Page(directory)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "harness-review"
        sys_version = ""

        def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str) -> None:
            self._send(status, message.encode("utf-8"), "text/plain; charset=utf-8")

        def _json(self, data: dict) -> None:
            self._send(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json")

        def _own_host(self) -> bool:
            port = self.server.server_address[1]
            return self.headers.get("Host", "") in (f"127.0.0.1:{port}", f"localhost:{port}")

        def _answering(self, method) -> None:
            """``method``, and any failure it meets answered as an HTTP error with its reason (the page
            shows it), never an empty reply: a full disk 507, another unwritable file 500."""
            try:
                method()
            except (OSError, StorageError) as e:
                cause = e.__cause__ if isinstance(e, StorageError) else e
                status = 507 if getattr(cause, "errno", None) in FULL else 500
                said = str(e) if isinstance(e, StorageError) else (
                    f"cannot use {e.filename or 'the directory'}: {e.strerror or e} (errno {e.errno})")
                self._reply_error(status, f"the review server {said}; the marks were not saved: free space or make "
                                          "the directory writable, then save again")
            except Exception as e:  # noqa: BLE001 - answered, not dropped; the server goes on
                self._reply_error(500, f"the review server failed: {type(e).__name__}: {e}"[:500])

        def _reply_error(self, status: int, message: str) -> None:
            try:
                self._error(status, message)
            except OSError:  # the page went away: no one to answer
                pass

        def do_GET(self):  # noqa: N802 - the stdlib's name
            self._answering(self._get)

        def do_POST(self):  # noqa: N802 - the stdlib's name
            self._answering(self._post)

        def _get(self):
            if not self._own_host():
                return self._error(403, "wrong Host")
            path = self.path.split("?", 1)[0]
            if path not in ("/", "/report.html", "/" + MARKS):
                return self._error(404, "not found")
            try:
                page, summaries, flags = report.current()
            except ReviewError as e:
                return self._error(503, str(e))
            if path != "/" + MARKS:
                return self._send(200, page, "text/html; charset=utf-8")
            with lock:
                try:
                    saved, saved_at = read_saved(directory / MARKS)
                except MarksError as e:
                    return self._error(409, str(e))
            self._json(marks_answer(saved, summaries, saved_at, flags))

        def _post(self):
            port = self.server.server_address[1]
            origin = self.headers.get("Origin")
            if not self._own_host() or (origin is not None and origin not in (f"http://127.0.0.1:{port}",
                                                                               f"http://localhost:{port}")):
                return self._error(403, "marks are accepted from this server's own page only")
            if self.path != "/" + MARKS:
                return self._error(404, "not found")
            if self.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
                return self._error(415, "Content-Type must be application/json")
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return self._error(411, "Content-Length required")
            if length < 0 or length > MAX_BODY:
                return self._error(413, f"at most {MAX_BODY} bytes")
            body = self.rfile.read(length)
            try:
                _, summaries, flags = report.current()
            except ReviewError as e:
                return self._error(503, str(e))
            try:
                editor, marks = validate_marks(body, summaries)
            except ValueError as e:
                return self._error(400, str(e))
            path = directory / MARKS
            at = datetime.now(timezone.utc).isoformat()
            with lock, file_lock(directory / f".{MARKS}.lock"):  # read, merge, write: no save lost
                try:
                    merged = merge_marks(read_saved(path)[0], editor, marks, summaries, at)
                except MarksError as e:
                    return self._error(409, str(e))
                except ValueError as e:
                    return self._error(400, str(e))
                write_marks(path, merged, at)
            own = sum(m["editor"] == editor for m in merged)
            self._json({"marks": own, "total": len(merged), "editor": editor, "at": at, "path": str(path),
                        "page_rates": page_rates(merged, summaries, flags)})

        def _refuse(self):
            self._error(405, "GET or POST only")

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse  # noqa: N815 - the stdlib's names

    return ThreadingHTTPServer((host, port), Handler)


def check_port(port) -> None:
    """ReviewError unless ``port`` is 0 (any free one) to 65535, naming ``--port``."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ReviewError(f"--port must be a port number from 1 to 65535 (or 0: any free one), got {port!r}")


def open_server(directory: Path, port: int) -> ThreadingHTTPServer:
    """`make_server` on ``port`` (checked), a port in use or not allowed named as ``--port``."""
    import errno

    check_port(port)
    try:
        return make_server(directory, port)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise ReviewError(f"--port {port} is in use (another harness review, or another server): stop it, or "
                              "give another port (--port 0: any free one)") from None
        if e.errno in (errno.EACCES, errno.EPERM):
            raise ReviewError(f"--port {port} is not allowed here ({e.strerror}; ports below 1024 need privileges): "
                              "give one from 1024 to 65535 (--port 0: any free one)") from None
        raise ReviewError(f"--port {port}: cannot listen on 127.0.0.1 ({e.strerror or e})") from None


def serve(directory: Path, port: int = 8765) -> None:
    server = open_server(directory, port)
    host, port = server.server_address[:2]
    print(f"reviewing {directory}: open http://{host}:{port}/ (the page asks each editor's name once; or "
          f"http://{host}:{port}/?editor=NAME); every editor's marks are merged into {Path(directory) / MARKS}; "
          "a rewritten report.html is served on the next load; Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
