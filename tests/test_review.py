"""`harness review` (harness/review.py) and marks.json version 3 (harness/marks.py), over HTTP:
marks kept per editor and summary (run identity + summary hash), merged under a lock, stamped by
the server, validated against the current page; marks the page cannot place kept and counted with
their reason; the page reread when report.html is rewritten; legacy v1/v2 files read."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import urllib.error
import urllib.request

import pytest

from .helpers.review_pages import (
    ARTICLES,
    SENTENCES,
    body,
    get,
    mark,
    post,
    saved,
    sha,
    summary_text,
    write_page,
)


def test_a_save_is_kept_by_editor_run_identity_and_summary_hash_and_stamped_by_the_server(server):
    directory, start = server
    url = start()
    sent = mark("bad", "a1", "reject", "wrong city", sentences=[(0, "unsupported"), (1, "supported")],
                at="1999-01-01T00:00:00+00:00", run="a label the page had")
    status, answer = post(url, body("alice", sent))
    assert status == 200, answer
    assert json.loads(answer)["marks"] == 1 and json.loads(answer)["editor"] == "alice"
    file = json.loads((directory / "marks.json").read_text())
    assert file["version"] == 3
    (kept,) = file["marks"]
    assert kept["at"] != "1999-01-01T00:00:00+00:00" and kept["at"] == file["saved_at"]  # the server's time
    assert {k: v for k, v in kept.items() if k != "at"} == {
        "editor": "alice", "run": "bad", "run_key": "identity-bad", "article_id": "a1",
        "article_sha256": sent["article_sha256"], "summary_sha256": sha(summary_text("bad", "a1")),
        "mark": "reject", "note": "wrong city",
        "sentences": [{"index": 0, "text": "Police said 40 officers died in Moscow.", "verdict": "unsupported"},
                      {"index": 1, "text": "Russia sent troops.", "verdict": "supported"}]}  # texts from the page
    answer = get(url)
    assert answer["marks"] == file["marks"] and answer["unplaced"] == 0
    assert answer["unplaced_reasons"] == {"summary changed": 0, "article changed": 0, "run not on this page": 0}
    # verdicts only (no accept/reject, no note) are a mark too; clearing everything removes it
    assert post(url, body("alice", mark("bad", "a1", None, sentences=[(0, "unsupported")])))[0] == 200
    assert saved(directory)[0]["mark"] is None and len(saved(directory)[0]["sentences"]) == 1
    assert post(url, body("alice", mark("bad", "a1", None)))[0] == 200
    assert saved(directory) == []


def test_every_save_names_its_editor_and_marks_name_the_current_pages_summaries(server):
    directory, start = server
    url = start()
    for editor in (None, "", "a b", "x" * 65):
        status, message = post(url, body(editor, mark("good", "a1")))
        assert status == 400 and "enter your name" in message and "?editor=NAME" in message
    changed = mark("good", "a1", summary_sha256=sha("another text"))
    status, message = post(url, body("alice", changed))
    assert status == 400 and "names no summary on this page" in message and "reload the page" in message
    assert post(url, body("alice", mark("fourth", "a1")))[0] == 400  # a run not on this page
    legacy = {"run": "good", "article_id": "a1", "mark": "accept"}  # a v2 page's mark: no hashes
    assert post(url, body("alice", legacy))[0] == 400
    status, message = post(url, body("alice", mark("good", "a1", article_sha256="0" * 64)))
    assert status == 400 and "changed since the page was loaded" in message
    status, message = post(url, body("alice", mark("good", "a1", sentences=[(2, "supported")])))
    assert status == 400 and "index must be 0 to 1 (the summary has 2 sentences)" in message
    status, message = post(url, body("alice", mark("good", "a1", sentences=[(0, "wrong")])))
    assert status == 400 and "verdict must be 'unsupported' or 'supported'" in message
    assert post(url, body("alice", mark("good", "a1", "maybe")))[0] == 400
    assert post(url, body("alice", mark("good", "a1", note="x" * 5001)))[0] == 400
    assert not (directory / "marks.json").exists()  # nothing refused was written


def test_two_editors_saves_are_merged(server):
    directory, start = server
    url = start()
    assert post(url, body("alice", mark("good", "a1")))[0] == 200
    status, answer = post(url, body("bob", mark("bad", "a1", "reject", "wrong city")))
    assert status == 200 and json.loads(answer)["marks"] == 1 and json.loads(answer)["total"] == 2
    assert [(m["editor"], m["run"], m["mark"]) for m in saved(directory)] == [("alice", "good", "accept"),
                                                                             ("bob", "bad", "reject")]
    assert post(url, body("bob", mark("good", "a1", "reject")))[0] == 200  # the same summary: both kept
    assert sorted((m["editor"], m["run"], m["mark"]) for m in saved(directory)) == [
        ("alice", "good", "accept"), ("bob", "bad", "reject"), ("bob", "good", "reject")]
    assert post(url, body("bob", mark("good", "a1", None)))[0] == 200  # cleared: bob's only
    assert [(m["editor"], m["run"]) for m in saved(directory)] == [("alice", "good"), ("bob", "bad")]


def test_relabelled_runs_keep_every_mark_placed_and_the_rewritten_page_is_served(server):
    directory, start = server
    url = start()
    marks = [mark(s, a, "accept" if s == "good" else "reject") for s in ("good", "bad", "third") for a in ("a1", "a2")]
    assert post(url, body("alice", *marks))[0] == 200
    # The comparison rewritten with a fourth run: the old runs get new labels (their identity is the same).
    write_page(directory, systems=("good", "bad", "third", "fourth"),
               labels={"good": "good (k=1)", "bad": "bad (k=1)", "third": "third (k=1)"})
    page = get(url, "/")
    assert "good (k=1)" in page and "fourth" in page  # the current report.html, reread
    answer = get(url)
    assert answer["unplaced"] == 0 and len(answer["marks"]) == 6
    # and a save from the new page lands beside them (the old marks are not duplicated)
    assert post(url, body("alice", mark("good", "a1", "reject")))[0] == 200
    assert len(saved(directory)) == 6 and saved(directory)[0]["run"] == "good (k=1)"


def test_marks_the_page_cannot_place_are_kept_and_counted_by_reason(server):
    directory, start = server
    url = start()
    marks = [mark(s, a) for s in ("good", "bad", "third") for a in ("a1", "a2")]
    assert post(url, body("alice", *marks))[0] == 200
    # Rerun: bad's summary of a1 changed; a2's text edited (every summary of it changed with it); third left out.
    edited = {**SENTENCES, "bad": {**SENTENCES["bad"], "a1": [("Police said 18 officers died.", False, False)]}}
    articles = [ARTICLES[0], {**ARTICLES[1], "paragraphs": ["Heavy snow closed schools in Boston on Tuesday."]}]
    edited = {s: {**v, "a2": [("Snow on Tuesday.", False, False)]} for s, v in edited.items()}
    write_page(directory, systems=("good", "bad"), sentences=edited, articles=articles)
    answer = get(url)
    assert answer["unplaced"] == 5
    assert answer["unplaced_reasons"] == {"summary changed": 1, "article changed": 2, "run not on this page": 2}
    assert len(answer["marks"]) == 6 and saved(directory) == answer["marks"]  # kept, all of them
    # a save on the new page keeps the unplaced ones as they are
    new = mark("bad", "a1", "reject", runs_sentences=edited)
    assert post(url, body("alice", new))[0] == 200
    assert len(saved(directory)) == 7 and get(url)["unplaced"] == 5


def test_a_same_summary_beside_an_edited_article_is_unplaced_as_article_changed():
    from harness.results.marks import Summaries, SummaryRef, normalize

    here = Summaries([SummaryRef("lead-3", "k", "a1", "s1", "article-now", ("One.",))])
    base = {"editor": "e", "run": "lead-3", "run_key": "k", "article_id": "a1", "summary_sha256": "s1",
            "mark": "accept"}
    assert here.place(normalize({**base, "article_sha256": "article-now"}))[0] is not None
    assert here.place(normalize({**base, "article_sha256": "article-then"})) == (None, "article changed")
    assert here.place(normalize({**base, "summary_sha256": "s0"})) == (None, "summary changed")
    assert here.place(normalize({**base, "article_id": "a9"})) == (None, "article not on this page")
    assert here.place(normalize({**base, "run_key": "other"})) == (None, "run not on this page")
    legacy = normalize({"run": "lead-3", "article_id": "a1", "mark": "reject"})
    assert here.place(legacy)[0].key == ("k", "a1", "s1") and legacy["editor"] == ""


def test_legacy_marks_are_read_placed_by_label_and_replaced_by_the_editors_new_mark(server):
    directory, start = server
    (directory / "marks.json").write_text(json.dumps({"version": 2, "marks": [
        {"editor": "bob", "run": "good", "article_id": "a1", "mark": "accept", "note": "v2"},
        {"editor": "bob", "run": "gone", "article_id": "a1", "mark": "accept", "note": ""},
        {"run": "bad", "article_id": "a1", "mark": "reject", "note": "v1"}]}))
    url = start()
    answer = get(url)
    assert answer["unplaced"] == 1 and answer["unplaced_reasons"]["run not on this page"] == 1
    assert [m["editor"] for m in answer["marks"]] == ["bob", "bob", ""]
    assert post(url, body("bob", mark("good", "a1", "reject")))[0] == 200  # bob's v2 mark of it: replaced
    assert [(m["editor"], m["run"], m["mark"], m["run_key"]) for m in saved(directory)] == [
        ("bob", "gone", "accept", None), ("", "bad", "reject", None), ("bob", "good", "reject", "identity-good")]


def test_a_damaged_marks_file_is_never_overwritten(server):
    directory, start = server
    url = start()
    (directory / "marks.json").write_text('{"marks": [tru')
    status, message = post(url, body("bob", mark("bad", "a1", "reject")))
    assert status == 409 and "left as it is" in message
    assert (directory / "marks.json").read_text() == '{"marks": [tru'
    with pytest.raises(urllib.error.HTTPError) as refused:
        get(url)
    assert refused.value.code == 409


def test_editors_saving_at_once_and_two_servers_lose_nothing(server):
    directory, start = server
    url, other = start(), start()  # the second has its own thread lock: only the flock orders the two
    summaries = [(s, a["id"]) for s in ("good", "bad", "third") for a in ARTICLES]
    errors = []

    def editor(n, where):
        for system, article in summaries:
            status, answer = post(where, body(f"e{n}", mark(system, article, note=f"by {n}")))
            if status != 200:
                errors.append(answer)

    threads = [threading.Thread(target=editor, args=(n, url if n % 2 else other)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {(m["editor"], m["run"], m["article_id"]) for m in saved(directory)} == {
        (f"e{n}", s, a) for n in range(6) for s, a in summaries}
    assert len(saved(directory)) == 6 * len(summaries)


def test_one_editor_keeps_one_mark_per_summary_the_later_one(server):
    directory, start = server
    url = start()
    assert post(url, body("alice", mark("good", "a1")))[0] == 200
    assert post(url, body("alice", mark("good", "a1", "reject", "no")))[0] == 200
    assert [(m["mark"], m["note"]) for m in saved(directory)] == [("reject", "no")]
    flood = [mark("bad", "a1", "accept" if n % 2 else "reject") for n in range(8_000)]  # ends on accept
    status, answer = post(url, body("alice", *flood))
    assert status == 200 and json.loads(answer)["marks"] == 2
    assert [(m["run"], m["mark"]) for m in saved(directory)] == [("good", "reject"), ("bad", "accept")]


def test_a_summary_holds_at_most_so_many_editors_marks(server, monkeypatch):
    import harness.review

    directory, start = server
    url = start()
    monkeypatch.setattr(harness.review, "MAX_EDITORS_PER_SUMMARY", 3)
    for n in range(3):
        assert post(url, body(f"e{n}", mark("good", "a1")))[0] == 200
    status, message = post(url, body("e3", mark("good", "a1"), mark("bad", "a1")))
    assert status == 400 and "holds marks of 3 editors already" in message
    assert len(saved(directory)) == 3
    assert post(url, body("e0", mark("good", "a1", "reject")))[0] == 200  # their own: changes


def test_only_the_pages_own_posts_and_the_page_names_its_directory(server):
    directory, start = server
    url = start()
    good = body("alice", mark("good", "a1"))
    assert post(url, good)[0] == 200
    assert post(url, good, content_type="text/plain")[0] == 415  # a cross-site form's type
    assert post(url, good, headers={"Origin": "http://evil.example"})[0] == 403
    assert post(url, good, headers={"Host": "evil.example:80"})[0] == 403  # DNS rebinding
    assert post(url, b"{broken")[0] == 400
    assert post(url, b"x" * 10, headers={"Content-Length": "999999999"})[0] == 413
    assert not list(directory.glob("*.tmp*"))
    served = get(url, "/")
    csp = re.compile(r'http-equiv="Content-Security-Policy" content="([^"]*)"')
    assert "connect-src 'self'" in csp.search(served)[1] and '<meta name="harness-review"' in served
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()
    assert f'<meta name="harness-review-dir" content="{digest}">' in served
    on_disk = (directory / "report.html").read_text()  # the file itself never gets network access
    assert "connect-src 'none'" in csp.search(on_disk)[1] and '<meta name="harness-review' not in on_disk
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(url, "/../results.json")
    assert missing.value.code == 404


def test_a_page_that_goes_bad_is_refused_until_it_is_rewritten(server):
    from harness.review import ReviewError, make_server

    directory, start = server
    url = start()
    (directory / "report.html").write_text("<html>not ours</html>")
    with pytest.raises(urllib.error.HTTPError) as refused:
        get(url, "/")
    assert refused.value.code == 503 and "harness compare" in refused.value.read().decode()
    write_page(directory)
    assert "report-data" in get(url, "/")
    (directory / "report.html").unlink()
    with pytest.raises(ReviewError, match="no report.html"):
        make_server(directory, port=0)
