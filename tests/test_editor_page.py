"""The editor's desk in report.html, in headless Chromium: the article beside the summaries with
evidence highlighting, flags by level, marks that survive a reload and come back from a file,
keyboard navigation and folding, two systems side by side, a 1,000-article page, and
`harness review` (the local server that saves marks into the run directory)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest

from harness.reports.compare import agreement_with_marks
from harness.reports.html import review_page

from .browser import browser_page
from .helpers.editor_page import (
    HOSTILE,
    expect,
    ready,
    report_paint_benchmark,
    write_page,
)
from .helpers.timing import scaled_timeout


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    return write_page(tmp_path_factory.mktemp("editor"))[0]


@pytest.mark.browser
def test_article_titles_evidence_and_flags(page_file):
    with browser_page() as page:
        ready(page, page_file.as_uri())
        titles = page.locator("article.item h2").all_inner_texts()
        assert titles[0] == "Russia sends troops to Kazakhstan"
        assert titles[1] == "Heavy snow closed schools across Boston on Monday. Drivers were told to …"
        first = page.locator('article.item[data-article="a1"]')
        assert not first.locator("details.article-text").evaluate("d => d.open")  # folded by default
        bad = first.locator('div.summary[data-run="bad"]')
        flagged = bad.locator("span.sent.flagged")
        assert flagged.count() == 2  # one says flagged, one older verdict unsupported
        assert flagged.nth(0).locator("span.level").inner_text() == "contradicted"
        assert flagged.nth(1).locator("span.level").inner_text() == "unsupported"
        assert bad.locator("mark.missing").all_inner_texts() == ["Moscow"]
        covered = first.locator('div.summary[data-run="good"] ul.coverage li').first  # compact form, resolved
        assert covered.inner_text() == "Russia sent troops"
        assert covered.get_attribute("title") == "0.900 — Russia sent troops to Kazakhstan on Thursday."
        # One threshold, one meaning: a sentence is supported or flagged, never a grey third tag.
        assert first.locator('div.summary[data-run="good"] span.sent.weak').count() == 0
        assert first.locator('div.summary[data-run="good"] span.level').count() == 0
        assert first.locator('div.summary[data-run="good"] span.sent.flagged').count() == 0
        flagged.nth(0).click()
        assert first.locator("details.article-text").evaluate("d => d.open")
        assert first.locator("mark.evidence").all_inner_texts() == ["Police said 18 officers were killed in Almaty."]
        assert first.locator("span.sent.selected").count() == 1
        first.locator('div.summary[data-run="good"] span.sent').first.focus()
        page.keyboard.press("Enter")
        assert first.locator("mark.evidence").all_inner_texts() == ["Russia sent troops to Kazakhstan on Thursday."]
        flagged.nth(1).click()
        assert first.locator("mark.evidence").count() == 0
        assert "No scorer gave evidence" in first.locator(".evidence-note").inner_text()
        assert page.errors == []


@pytest.mark.browser
def test_direction_aware_ranking(page_file):
    with browser_page() as page:
        ready(page, page_file.as_uri())
        runs = page.locator('[data-article="a1"] div.summary').evaluate_all("e => e.map(x => x.dataset.run)")
        assert runs[0] == "good" and set(runs[1:]) == {"bad", "third"}  # ROUGE, higher is better
        page.select_option("#sort-by", "consistency/unsupported@embedding")
        runs = page.locator('[data-article="a1"] div.summary').evaluate_all("e => e.map(x => x.dataset.run)")
        assert runs[0] == "good"  # fewest unsupported sentences first


@pytest.mark.browser
def test_marks_survive_a_reload_and_import_from_a_file(page_file, tmp_path):
    with browser_page() as page:
        ready(page, page_file.as_uri() + "?editor=alice")
        card = page.locator('article.item[data-article="a1"] div.summary[data-run="good"]')
        card.locator("button.mark-accept").click()
        card.locator("input.note").fill("clear lead")
        page.locator('article.item[data-article="a1"] div.summary[data-run="bad"] button.mark-reject').click()
        page.reload()
        page.wait_for_selector("html[data-ready=true]", state="attached")
        card = page.locator('article.item[data-article="a1"] div.summary[data-run="good"]')
        assert card.locator("button.mark-accept").get_attribute("aria-pressed") == "true"
        assert card.locator("input.note").input_value() == "clear lead"
        bad = page.locator('article.item[data-article="a1"] div.summary[data-run="bad"]')
        assert bad.locator("button.mark-reject").get_attribute("aria-pressed") == "true"
        assert "2 marks kept" in page.locator("#status").inner_text()
        # Import: a file as exported, with a hostile note, a mark of no summary here and junk.
        marks = tmp_path / "marks.json"
        marks.write_text(json.dumps({"marks": [
            {"editor": "alice", "run": "third", "article_id": "cnn_3f2a", "mark": "reject", "note": HOSTILE},
            {"run": "nope", "article_id": "a1", "mark": "accept"},
            {"run": "third", "article_id": "a1", "mark": "<b>maybe</b>"}, "junk"]}))
        page.set_input_files("#import", str(marks))
        expect(page.locator("#status")).to_contain_text("imported")
        assert page.locator("#status").inner_text() == "marks.json: 1 mark imported as yours (alice), 3 skipped " \
                                                       "(not summaries on this page, or malformed)"
        third = page.locator('article.item[data-article="cnn_3f2a"] div.summary[data-run="third"]')
        assert third.locator("button.mark-reject").get_attribute("aria-pressed") == "true"
        assert third.locator("input.note").input_value() == HOSTILE
        page.evaluate("document.getElementById('more-controls').open = true")  # the header's folded "More"
        with page.expect_download() as download:
            page.click("#export")
        exported = json.loads(Path(download.value.path()).read_text())
        assert {(m["run"], m["article_id"], m["mark"]) for m in exported["marks"]} == {
            ("good", "a1", "accept"), ("bad", "a1", "reject"), ("third", "cnn_3f2a", "reject")}
        page.reload()
        page.wait_for_selector("html[data-ready=true]", state="attached")
        assert "3 marks kept" in page.locator("#status").inner_text()
        assert page.evaluate("window.__pwned") is None and page.locator("main img").count() == 0
        assert page.errors == []


@pytest.mark.browser
def test_keyboard_navigation_and_folding(page_file):
    with browser_page() as page:
        ready(page, page_file.as_uri() + "?editor=alice")
        assert "j / k next / previous article" in page.locator("#help").text_content()  # under "More"
        items = page.locator("article.item")
        current = "document.querySelector('article.item.current').dataset.article"
        assert page.evaluate(current) == "a1"
        page.keyboard.press("j")
        assert page.evaluate(current) == "cnn_3f2a"
        page.keyboard.press("o")
        assert items.nth(1).locator("div.item-body").is_hidden()
        assert items.nth(1).locator("button.fold").get_attribute("aria-expanded") == "false"
        page.keyboard.press("o")
        assert items.nth(1).locator("div.item-body").is_visible()
        page.keyboard.press("k")
        assert page.evaluate(current) == "a1"
        items.nth(0).locator("button.next").click()
        assert page.evaluate(current) == "cnn_3f2a"
        page.evaluate("document.getElementById('more-controls').open = true")  # the header's folded "More"
        page.click("#fold-all")
        assert page.locator("article.item div.item-body:visible").count() == 0
        page.click("#unfold-all")
        assert page.locator("article.item div.item-body:visible").count() == 3
        page.locator("input.note").first.focus()
        page.keyboard.press("j")  # typing a note does not navigate
        assert page.locator("input.note").first.input_value() == "j"
        assert page.errors == []


@pytest.mark.browser
def test_side_by_side_aligns_coverage_and_flags(page_file):
    with browser_page() as page:
        page.set_viewport_size({"width": 1300, "height": 900})
        ready(page, page_file.as_uri())
        page.evaluate("document.getElementById('more-controls').open = true")  # the header's folded "More"
        page.select_option("#pair-a", "good")
        page.select_option("#pair-b", "bad")
        pair = page.locator('article.item[data-article="a1"] div.pair')
        assert pair.locator(".pair-cell.head h3").all_inner_texts()[0].startswith("good")
        assert page.locator('article.item[data-article="a1"] div.summary').count() == 0
        rows_a = pair.locator('.pair-cell.bullet-row[data-side="a"]')
        rows_b = pair.locator('.pair-cell.bullet-row[data-side="b"]')
        assert rows_a.count() == rows_b.count() == 2
        for i in range(2):
            assert rows_a.nth(i).bounding_box()["y"] == rows_b.nth(i).bounding_box()["y"]
        assert rows_a.locator("li.covered").count() == 2 and rows_b.locator("li.missed").count() == 2
        flags = pair.locator('.pair-cell.text[data-side="b"] span.sent.flagged')
        assert flags.count() == 2
        flags.first.click()
        assert page.locator('article.item[data-article="a1"] mark.evidence').count() == 1
        page.select_option("#pair-b", "")
        assert page.locator('article.item[data-article="a1"] div.summary').count() == 3
        assert page.errors == []


@pytest.mark.browser
def test_hostile_titles_ids_and_article_text_show_literally(page_file):
    page_html = page_file.read_text()
    assert "<img src=x" not in page_html
    with browser_page() as page:
        ready(page, page_file.as_uri())
        page.locator("article.item").nth(2).locator("details.article-text").evaluate("d => d.open = true")
        page.wait_for_timeout(200)
        assert page.evaluate("window.__pwned") is None and page.dialogs == []
        assert page.locator("main img").count() == 0
        assert f"Hostile {HOSTILE}" in page.locator("article.item h2").all_inner_texts()
        assert f"x{HOSTILE}" in page.locator("article.item .article-id").all_inner_texts()
        assert f"Body {HOSTILE} text." in page.locator("p.paragraph").all_inner_texts()


@pytest.mark.browser
def test_a_thousand_articles_open_quickly(tmp_path):
    path = report_paint_benchmark().write_report(tmp_path, 1000, 4)
    with browser_page() as page:
        start = time.perf_counter()
        ready(page, path.as_uri())
        opened = time.perf_counter() - start
        # Generous: benchmarks/report_paint.py measures about 1 s here (docs/performance.md).
        assert opened < scaled_timeout(10), f"the 1,000-article page took {opened:.1f} s to become interactive"
        assert page.locator("article.item").count() == 1000
        assert page.locator("div.summary").count() == 0  # folded: nothing drawn until opened
        page.keyboard.press("o")
        assert page.locator("article.item").first.locator("div.summary").count() == 4
        page.evaluate("document.getElementById('more-controls').open = true")  # the header's folded "More"
        page.click("#unfold-all")
        page.wait_for_timeout(300)
        drawn = page.locator("article.item div.summary").count()
        assert 4 <= drawn < 400, drawn  # only the articles near the viewport
        page.keyboard.press("End")
        page.wait_for_timeout(500)
        assert page.locator('article.item[data-index="999"] div.summary').count() == 4
        assert page.errors == []


def test_agreement_with_marks_has_an_interval(page_file):
    runs = write_page(page_file.parent / "again")[1]
    marks = [{"run": r, "article_id": a, "mark": m} for r, m in (("good", "accept"), ("bad", "reject"),
                                                                   ("third", "reject")) for a in ("a1", "cnn_3f2a")]
    agreement = agreement_with_marks(runs, marks, ["rouge/rougeLsum_f"])["rouge/rougeLsum_f"]
    assert agreement["n"] == 6 and agreement["spearman"] > 0.5
    low, high = agreement["ci95"]
    assert low <= agreement["spearman"] <= high
    assert agreement_with_marks(runs, marks, ["rouge/rougeLsum_f"]) == {"rouge/rougeLsum_f": agreement}  # seeded


# ---- harness review


@pytest.fixture
def review_server(tmp_path):
    from harness.review import make_server

    path, _ = write_page(tmp_path)
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()



@pytest.mark.browser
def test_review_server_saves_marks_into_the_run_directory(review_server):
    directory, url = review_server
    shown = ("editor", "run", "article_id", "mark", "note")
    with browser_page() as page:
        ready(page, url + "/?editor=alice")
        expect(page.locator("#status")).to_contain_text("Review server")
        card = page.locator('article.item[data-article="a1"] div.summary[data-run="bad"]')
        card.locator("button.mark-reject").click()
        card.locator("input.note").fill("wrong city")
        expect(page.locator("#status")).to_contain_text("Saved 1 mark of alice")
        saved = json.loads((directory / "marks.json").read_text())
        assert saved["version"] == 3
        assert [{k: m[k] for k in shown} for m in saved["marks"]] == [
            {"editor": "alice", "run": "bad", "article_id": "a1", "mark": "reject", "note": "wrong city"}]
        assert saved["marks"][0]["summary_sha256"] == hashlib.sha256(
            b"Police said 40 officers died in Moscow. Putin resigned.").hexdigest()
        (directory / "marks.json").unlink()  # marks this browser kept and the server lacks are sent again
        page.reload()
        expect(page.locator("#status")).to_contain_text("Saved 1 mark of alice")
        again = json.loads((directory / "marks.json").read_text())["marks"]
        assert [{k: m[k] for k in shown} for m in again] == [{k: m[k] for k in shown} for m in saved["marks"]]
        assert page.errors == []
    with browser_page() as page:  # a fresh browser, the same editor: the marks come from the server's marks.json
        ready(page, url + "/?editor=alice")
        expect(page.locator("#status")).to_contain_text("1 of alice read from it")
        card = page.locator('article.item[data-article="a1"] div.summary[data-run="bad"]')
        assert card.locator("button.mark-reject").get_attribute("aria-pressed") == "true"
    with browser_page() as page:  # another editor: alice's mark stays hers (shown), and this one's is added beside it
        ready(page, url + "/?editor=bob")
        expect(page.locator("#status")).to_contain_text("0 of bob read from it")
        card = page.locator('article.item[data-article="a1"] div.summary[data-run="bad"]')
        assert card.locator("button.mark-reject").get_attribute("aria-pressed") == "false"
        assert "alice reject" in card.locator("p.others").inner_text()
        card.locator("button.mark-accept").click()
        expect(page.locator("#status")).to_contain_text("Saved 1 mark of bob")
        card.locator("button.mark-accept").click()  # and cleared again: removed from marks.json
        expect(page.locator("#status")).to_contain_text("Saved 0 marks of bob")
        assert page.errors == []
    assert [m["editor"] for m in json.loads((directory / "marks.json").read_text())["marks"]] == ["alice"]


def test_compare_counts_each_marked_summary_once(page_file):
    runs = write_page(page_file.parent / "once")[1]
    marks = [{"run": r, "article_id": a, "mark": m} for r, m in (("good", "accept"), ("bad", "reject"),
                                                                   ("third", "reject")) for a in ("a1", "cnn_3f2a")]
    once = agreement_with_marks(runs, marks, ["rouge/rougeLsum_f"])
    repeated = [{**m, "editor": "alice"} for m in marks] * 3  # one editor's marks, each three times
    assert agreement_with_marks(runs, repeated, ["rouge/rougeLsum_f"]) == once
    flipped = repeated + [{**marks[0], "editor": "alice", "mark": "reject"}, {**marks[0], "editor": "alice"}]
    assert agreement_with_marks(runs, flipped, ["rouge/rougeLsum_f"]) == once  # accept, reject, accept: accept
    two = marks + [{**m, "editor": "bob"} for m in marks]  # two editors agreeing: still one per summary
    assert agreement_with_marks(runs, two, ["rouge/rougeLsum_f"])["rouge/rougeLsum_f"]["n"] == 6
    split = marks + [{**marks[0], "editor": "bob", "mark": "reject"}]  # they disagree: the summary's share, 0.5
    assert agreement_with_marks(runs, split, ["rouge/rougeLsum_f"])["rouge/rougeLsum_f"]["n"] == 6


def test_review_page_needs_a_page_this_harness_wrote():
    with pytest.raises(ValueError, match="harness compare"):
        review_page("<html><head></head><body>hello</body></html>")


def test_bidi_and_zero_width_characters_show_as_escapes_but_ids_stay_exact(tmp_path, monkeypatch):
    """A reviewer sees the text that was scored: a right-to-left override or a zero-width space in a
    title, article or summary is shown as an escape; the article id marks refer to stays exact."""
    from .helpers import editor_page

    tricky = {"id": "id\u200b1", "title": "Bank pays \u202e001$\u202c", "paragraphs": ["Cash\u200b flow \r rose."],
              "bullets": ["b\u2066x"]}
    monkeypatch.setattr(editor_page, "ARTICLES", [tricky])
    path, _ = write_page(tmp_path, systems=("good",))
    page = path.read_text()
    data = json.loads(page.split('<script id="report-data" type="application/json">')[1].split("</script>")[0])
    (article,) = data["articles"]
    assert article["id"] == "id\u200b1"  # exact: exported marks name it
    assert article["title"] == "Bank pays \\u202e001$\\u202c"
    assert article["paragraphs"] == ["Cash\\u200b flow \\r rose."] and article["bullets"] == ["b\\u2066x"]
    assert "\u202e" not in page and "\r" not in page
