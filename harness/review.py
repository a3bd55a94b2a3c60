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
``{"editor": ID, "marks": [...]}`` whose every mark names a summary on the page.

Several editors review at once: each page sends its ``editor`` id (kept in the browser, or
``?editor=NAME`` in the address) with every save, and the server *merges* the save into
marks.json, never replaces it: under a lock (a thread lock, and ``fcntl.flock`` on
``.marks.json.lock`` for a second server on the same directory) it reads the file, sets this
editor's mark on each summary the save names (a mark null with an empty note clears it), and
writes the file atomically. One mark per editor and summary: within a save, and against the file,
the later one wins (accept then reject leaves the reject, a repeat leaves one). Other editors'
marks stay as they are. A summary holds at most ``MAX_EDITORS_PER_SUMMARY`` editors' marks.

marks.json (``MARKS_VERSION`` 2): ``{"version": 2, "saved_at": …, "marks": [{"editor", "run",
"article_id", "mark", "note"}, …]}``; a version-1 file (no ``version``, marks without ``editor``)
is read as the marks of the unnamed editor ``""``, which pages without an id save as.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness.errors import HarnessError
from harness.io import file_lock, write_json_atomic
from harness.reports.html import review_page

MAX_BODY = 5_000_000  # bytes: far more than marks on 1,000 articles x 10 systems with notes
MAX_NOTE = 5_000
MARKS = "marks.json"
MARKS_VERSION = 2
MAX_EDITORS_PER_SUMMARY = 50  # marks of one summary kept in marks.json (one per editor)
EDITOR = re.compile(r"[A-Za-z0-9_.@+-]{1,64}")


class ReviewError(HarnessError):
    """The directory cannot be reviewed (no report.html this harness wrote)."""


class DamagedMarks(ValueError):
    """marks.json is there but is not a marks file: it is kept, and no save goes over it."""


def page_summaries(page: str) -> set[tuple[str, str]]:
    """(run, article id) of every summary on the page, from its report-data element."""
    start = page.index('<script id="report-data" type="application/json">') + len(
        '<script id="report-data" type="application/json">')
    data = json.loads(page[start:page.index("</script>", start)])
    return {(s["run"], a["id"]) for a in data["articles"] for s in a["summaries"]}


def validate_marks(body: bytes, summaries: set[tuple[str, str]]) -> tuple[str, list[dict]]:
    """(editor, marks) of a POST body, or ValueError saying what is wrong with it. The marks hold one
    per summary: a later mark of a summary replaces an earlier one (it keeps its first place)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ValueError(f"not JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("marks"), list):
        raise ValueError('expected {"editor": ID, "marks": [...]}')
    editor = data.get("editor")
    editor = "" if editor is None else editor
    if not isinstance(editor, str) or (editor and not EDITOR.fullmatch(editor)):
        raise ValueError("editor must be 1 to 64 letters, digits or _.@+- (or absent)")
    marks: dict[tuple[str, str], dict] = {}
    for i, mark in enumerate(data["marks"], 1):
        if not isinstance(mark, dict):
            raise ValueError(f"mark {i} is not an object")
        run, article, choice, note = mark.get("run"), mark.get("article_id"), mark.get("mark"), mark.get("note", "")
        if not isinstance(run, str) or not isinstance(article, str) or (run, article) not in summaries:
            raise ValueError(f"mark {i} names no summary on this page (run {run!r}, article {article!r})")
        if choice not in ("accept", "reject", None):
            raise ValueError(f"mark {i}: mark must be 'accept', 'reject' or null, got {choice!r}")
        if note is None:
            note = ""
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise ValueError(f"mark {i}: note must be text of at most {MAX_NOTE} characters")
        marks[(run, article)] = {"editor": editor, "run": run, "article_id": article, "mark": choice, "note": note}
    return editor, list(marks.values())


def read_saved(path: Path) -> list[dict]:
    """The marks in a marks.json this server wrote (version 1 or 2; missing: none), each with its
    ``editor`` (``""`` for version 1); ValueError when the file is not one (it is then left as it is)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise DamagedMarks(f"{path} cannot be read ({e}); it is left as it is: move it away to start a new "
                           "one") from None
    marks = data.get("marks") if isinstance(data, dict) else data
    if not isinstance(marks, list) or not all(isinstance(m, dict) for m in marks):
        raise DamagedMarks(f"{path} is not a marks file; it is left as it is: move it away to start a new one")
    return [{"editor": m.get("editor") if isinstance(m.get("editor"), str) else "", **{
        k: m.get(k) for k in ("run", "article_id", "mark")}, "note": m.get("note") or ""} for m in marks]


def merge_marks(saved: list[dict], editor: str, marks: list[dict]) -> list[dict]:
    """``saved`` with ``editor``'s mark of each summary in ``marks`` set (one per editor and summary:
    the new one replaces theirs, in its place; a null mark with an empty note removes it). ValueError
    when a summary would hold more than ``MAX_EDITORS_PER_SUMMARY`` editors' marks."""
    merged: dict[tuple, dict] = {}
    for mark in saved:  # a file with repeats (written by hand, or by an older server): the last one counts
        merged[(mark["editor"], mark["run"], mark["article_id"])] = mark
    before = set(merged)
    for mark in marks:
        key = (editor, mark["run"], mark["article_id"])
        if mark["mark"] is None and not mark["note"].strip():
            merged.pop(key, None)
        else:
            merged[key] = mark
    editors: dict[tuple[str, str], int] = {}
    for _, run, article in merged:
        editors[(run, article)] = editors.get((run, article), 0) + 1
    for mark in marks:  # a new editor on a summary that holds the most: refused (an editor's own mark may change)
        key = (editor, mark["run"], mark["article_id"])
        if key in merged and key not in before and editors[(mark["run"], mark["article_id"])] > MAX_EDITORS_PER_SUMMARY:
            raise ValueError(f"the summary of run {mark['run']!r} for article {mark['article_id']!r} holds marks of "
                             f"{MAX_EDITORS_PER_SUMMARY} editors already (at most {MAX_EDITORS_PER_SUMMARY})")
    return list(merged.values())


def make_server(directory: Path, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The server for ``directory`` (not yet serving); ``port=0`` picks a free port."""
    directory = Path(directory)
    report = directory / "report.html"
    if not report.is_file():
        raise ReviewError(f"no report.html in {directory}: write one with `harness compare {directory} --out "
                          f"{directory}` (or review a run or sweep directory)")
    try:
        written = report.read_text(encoding="utf-8")
        page = review_page(written).encode("utf-8")
        summaries = page_summaries(written)
    except ValueError as e:
        raise ReviewError(f"{report}: {e}") from None
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

        def _own_host(self) -> bool:
            port = self.server.server_address[1]
            return self.headers.get("Host", "") in (f"127.0.0.1:{port}", f"localhost:{port}")

        def do_GET(self):  # noqa: N802 - the stdlib's name
            if not self._own_host():
                return self._error(403, "wrong Host")
            path = self.path.split("?", 1)[0]
            if path in ("/", "/report.html"):
                return self._send(200, page, "text/html; charset=utf-8")
            if path == "/" + MARKS:
                with lock:
                    saved = directory / MARKS
                    body = saved.read_bytes() if saved.is_file() else b'{"version": 2, "marks": []}'
                return self._send(200, body, "application/json")
            self._error(404, "not found")

        def do_POST(self):  # noqa: N802 - the stdlib's name
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
            try:
                editor, marks = validate_marks(self.rfile.read(length), summaries)
            except ValueError as e:
                return self._error(400, str(e))
            path = directory / MARKS
            with lock, file_lock(directory / f".{MARKS}.lock"):  # read, merge, write: no save lost
                try:
                    merged = merge_marks(read_saved(path), editor, marks)
                except DamagedMarks as e:
                    return self._error(409, str(e))
                except ValueError as e:
                    return self._error(400, str(e))
                write_json_atomic(path, {"version": MARKS_VERSION, "saved_at": datetime.now(timezone.utc).isoformat(),
                                         "marks": merged})
            own = sum(m["editor"] == editor for m in merged)
            self._send(200, json.dumps({"marks": own, "total": len(merged), "editor": editor,
                                        "path": str(path)}).encode("utf-8"), "application/json")

        def _refuse(self):
            self._error(405, "GET or POST only")

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse  # noqa: N815 - the stdlib's names

    return ThreadingHTTPServer((host, port), Handler)


def serve(directory: Path, port: int = 8765) -> None:
    server = make_server(directory, port)
    host, port = server.server_address[:2]
    print(f"reviewing {directory}: open http://{host}:{port}/ (several editors: http://{host}:{port}/?editor=NAME; "
          f"each one's marks are merged into {Path(directory) / MARKS}); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
