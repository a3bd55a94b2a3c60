"""The editor's desk, round two, in headless Chromium: marks that survive a relabelled comparison,
a warning on a summary that changed since its mark, flags editors confirm or dismiss (and what
`compare --marks` makes of it), the review queue (filters, search, order, progress, keys), the
card's badges and the 390 x 844 phone layout."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest

from harness.reports.compare import marks_review
from harness.reports.html import chart_panels, report_data
from harness.review import make_server
from harness.text.repetition import repeated_clause, repetition_warning

from .browser import browser_page
from .helpers.editor_page import expect, ready, write_page


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    return write_page(tmp_path_factory.mktemp("queue"))[0]


@pytest.fixture
def served(tmp_path):
    """(directory, url, rewrite): `harness review` over a written page; rewrite(**write_page kwargs)
    writes the comparison again in place (the server serves the new page)."""
    write_page(tmp_path)
    server = make_server(tmp_path, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}", lambda **kw: write_page(tmp_path, **kw)
    server.shutdown()
    server.server_close()


def _saved(directory) -> dict:
    return json.loads((directory / "marks.json").read_text())


RUNS_OF_A1 = "els => els.map(e => e.dataset.run)"


def _pressed(page, run, choice, article="a1") -> bool:
    return _card(page, run, article).locator(f"button.mark-{choice}").get_attribute("aria-pressed") == "true"


def _card(page, run, article="a1"):
    return page.locator(f'article.item[data-article="{article}"] div.summary[data-run="{run}"]')


@pytest.mark.browser
def test_a_relabelled_comparison_keeps_every_mark(served):
    directory, url, rewrite = served
    with browser_page() as page:
        ready(page, url + "/?editor=alice")
        _card(page, "good").locator("button.mark-accept").click()
        _card(page, "bad").locator("button.mark-reject").click()
        _card(page, "third", "cnn_3f2a").locator("button.mark-reject").click()
        expect(page.locator("#status")).to_contain_text("Saved 3 marks of alice")
        # The comparison written again with another run's labels (a run joined it): same runs, new labels.
        runs = rewrite(labels={"good": "good (decoding=greedy)", "bad": "bad (decoding=greedy)",
                               "third": "third [x]"})[1]
        page.reload()
        page.wait_for_selector("html[data-ready=true]", state="attached")
        expect(page.locator("#status")).to_contain_text("Review server")
        assert _pressed(page, "good (decoding=greedy)", "accept") and _pressed(page, "bad (decoding=greedy)", "reject")
        third = _card(page, "third [x]", "cnn_3f2a")
        assert third.locator("button.mark-reject").get_attribute("aria-pressed") == "true"
        assert "cannot place" not in page.locator("#status").inner_text()
        assert page.errors == []
    with urllib.request.urlopen(url + "/marks.json") as answer:
        assert json.loads(answer.read())["unplaced"] == 0
    review = marks_review(runs, _saved(directory)["marks"])
    assert review["placed"] == 3 and review["warnings"] == []


@pytest.mark.browser
def test_a_changed_summary_shows_the_earlier_mark_as_a_warning(served):
    directory, url, rewrite = served
    with browser_page() as page:
        ready(page, url + "/?editor=alice")
        _card(page, "bad").locator("button.mark-reject").click()
        expect(page.locator("#status")).to_contain_text("Saved 1 mark of alice")
        runs = rewrite(edits={("bad", "a1"): "Police said 18 officers were killed in Almaty. Putin resigned."})[1]
        page.reload()
        page.wait_for_selector("html[data-ready=true]", state="attached")
        expect(page.locator("#status")).to_contain_text("this page cannot place (summary changed: 1")
        bad = _card(page, "bad")
        assert bad.locator("button.mark-reject").get_attribute("aria-pressed") == "false"  # not on the new text
        warning = bad.locator("p.warning.stale").inner_text()
        assert warning.startswith("You marked an earlier text of this summary (reject")
        page.select_option("#queue-filter", "changed")
        assert page.locator("article.item:visible").count() == 1
        assert page.errors == []
    review = marks_review(runs, _saved(directory)["marks"])
    assert review["placed"] == 0 and "1 of the editors' marks names summaries" in review["warnings"][0]


@pytest.mark.browser
def test_flags_confirmed_or_dismissed_reach_compare_precision(served):
    directory, url, _ = served
    with browser_page() as page:
        ready(page, url + "/?editor=alice")
        bad = _card(page, "bad")
        flags = bad.locator("div.flag.flagged")
        assert flags.count() == 2  # both sentences flagged by the embedding scorer, each with its reasons as text
        line = flags.first.locator("div.flag-line").inner_text()  # one line: the scores that flag it
        assert "embedding 0.200" in line and "contradicted" in line
        reasons = flags.first.locator("ul.reasons").text_content()  # folded under it: every score, the evidence
        assert "evidence: “Police said 18 officers were killed in Almaty.”" in reasons
        flags.nth(0).locator("button.verdict-supported").click()  # "dismiss flag"
        flags.nth(1).locator("button.verdict-unsupported").click()  # "confirm flag"
        expect(page.locator("#status")).to_contain_text("Saved 1 mark of alice")
        assert flags.nth(0).locator("button.verdict-supported").get_attribute("aria-pressed") == "true"
        # An unflagged sentence, judged on demand.
        good = _card(page, "good")
        assert good.locator("div.flag").count() == 0
        good.locator("button.judge-all").click()
        assert good.locator("div.flag").count() == 2
        page.evaluate("document.getElementById('status').textContent = ''")
        good.locator("div.flag").nth(1).locator("button.verdict-unsupported").click()
        expect(page.locator("#status")).to_contain_text("Saved 2 marks of alice")  # hers in marks.json
        assert page.errors == []
    marks = _saved(directory)["marks"]
    verdicts = {m["run"]: [(s["index"], s["verdict"]) for s in m["sentences"]] for m in marks}
    assert verdicts == {"bad": [(0, "supported"), (1, "unsupported")], "good": [(1, "unsupported")]}
    assert all(m["mark"] is None for m in marks)  # verdicts on sentences are marks of their own
    _, runs = write_page(directory / "again")
    flags = marks_review(runs, marks)["flags"]
    # embedding flagged bad's two sentences: one dismissed, one confirmed -> precision 1/2; it did not
    # flag good's sentence 2, judged unsupported -> recall 1/2.
    assert flags["embedding"]["precision"] == pytest.approx(0.5, abs=1e-12)
    assert flags["embedding"]["n_flagged"] == 2
    assert flags["embedding"]["recall"] == pytest.approx(0.5, abs=1e-12)
    # entity flagged none of the three: no precision; recall 0 of the 2 judged unsupported.
    assert flags["entity"]["precision"] is None and flags["entity"]["recall"] == 0.0


@pytest.mark.browser
def test_the_queue_filters_searches_orders_counts_and_takes_keys(page_file):
    with browser_page() as page:
        ready(page, page_file.as_uri() + "?editor=alice")
        progress = page.locator("#progress")
        assert progress.inner_text() == "0 of 9 summaries marked by alice"
        visible = "els => els.filter(e => !e.hidden).map(e => e.dataset.article)"
        page.select_option("#queue-filter", "flagged")
        assert page.locator("article.item").evaluate_all(visible) == ["a1"]
        assert page.locator('article.item[data-article="a1"] div.summary').evaluate_all(
            "els => els.map(e => e.dataset.run)") == ["bad", "third"]  # good's sentences are not flagged
        page.select_option("#queue-filter", "systems")
        assert page.locator("article.item").evaluate_all(visible) == ["a1"]
        assert page.locator('article.item[data-article="a1"] div.summary').count() == 3
        page.select_option("#queue-filter", "all")
        page.fill("#search", "snow")
        expect(page.locator("#queue-count")).to_have_text("1 article shown")
        assert page.locator("article.item").evaluate_all(visible) == ["cnn_3f2a"]
        page.fill("#search", "")
        expect(page.locator("#queue-count")).to_have_text("")
        page.evaluate("document.getElementById('more-controls').open = true")  # the header's folded "More"
        page.select_option("#queue-order", "flags")
        assert page.locator("article.item").evaluate_all("els => els.map(e => e.dataset.article)")[0] == "a1"
        assert page.locator('article.item[data-article="a1"] span.flag-count').inner_text() == "4 flags"
        # Keys: J to the first summary, a / r mark it and move on, n opens the current one's note.
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("Shift+J")
        order = page.locator('article.item[data-article="a1"] div.summary').evaluate_all(RUNS_OF_A1)
        current = "document.querySelector('.current-summary').dataset.run"
        assert page.evaluate(current) == order[0]
        page.keyboard.press("a")
        assert page.evaluate(current) == order[1]
        page.keyboard.press("r")
        assert page.evaluate(current) == order[2]
        page.keyboard.press("Shift+K")
        assert page.evaluate(current) == order[1]
        assert _card(page, order[0]).locator("button.mark-accept").get_attribute("aria-pressed") == "true"
        assert _card(page, order[1]).locator("button.mark-reject").get_attribute("aria-pressed") == "true"
        assert progress.inner_text() == "2 of 9 summaries marked by alice"
        page.keyboard.press("n")
        assert page.evaluate("document.activeElement.classList.contains('note')")
        page.keyboard.type("x")
        assert _card(page, order[1]).locator("input.note").input_value() == "x"
        page.locator("body").click(position={"x": 5, "y": 5})
        page.select_option("#queue-filter", "unmarked")
        runs = page.locator('article.item[data-article="a1"] div.summary').evaluate_all(RUNS_OF_A1)
        assert runs == [order[2]]
        page.select_option("#queue-filter", "mine")
        assert page.locator("article.item").evaluate_all(visible) == ["a1"]
        assert page.errors == []


@pytest.mark.browser
def test_no_name_no_mark_and_the_name_is_asked_once(page_file):
    with browser_page() as page:
        ready(page, page_file.as_uri())
        _card(page, "good").locator("button.mark-accept").click()
        assert "Type your name" in page.locator("#status").inner_text()
        assert _card(page, "good").locator("button.mark-accept").get_attribute("aria-pressed") == "false"
        page.fill("#editor", "carol")
        page.press("#editor", "Enter")
        _card(page, "good").locator("button.mark-accept").click()
        assert _card(page, "good").locator("button.mark-accept").get_attribute("aria-pressed") == "true"
        page.reload()
        page.wait_for_selector("html[data-ready=true]", state="attached")
        assert page.input_value("#editor") == "carol"  # kept
        assert _card(page, "good").locator("button.mark-accept").get_attribute("aria-pressed") == "true"
        assert page.errors == []


@pytest.mark.browser
def test_a_phone_shows_the_article_above_the_summaries_without_overlap(page_file):
    with browser_page() as page:
        page.set_viewport_size({"width": 390, "height": 844})
        ready(page, page_file.as_uri() + "?editor=alice")
        header = page.locator("body > header")
        assert header.evaluate("h => getComputedStyle(h).position") == "static"
        item = page.locator('article.item[data-article="a1"]')
        source, summaries = item.locator("div.source").bounding_box(), item.locator("div.summaries").bounding_box()

        def overlap(a, b):
            return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                        or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])

        assert not overlap(source, summaries), (source, summaries)
        assert source["y"] + source["height"] <= summaries["y"] + 1  # the article column above the summaries
        assert summaries["width"] <= 390
        page.evaluate("window.scrollTo(0, 600)")  # the header scrolls away: nothing sticky is drawn over them
        assert header.bounding_box()["y"] < 0
        source = item.locator("div.source").bounding_box()
        summaries = item.locator("div.summaries").bounding_box()
        assert not overlap(source, summaries)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px screen"
        assert page.errors == []


@pytest.mark.browser
def test_the_last_of_a_thousand_articles_can_be_reached(tmp_path):
    from .helpers.editor_page import report_paint_benchmark as _benchmark

    path = _benchmark().write_report(tmp_path, 1000, 4)
    with browser_page() as page:
        ready(page, path.as_uri())
        page.evaluate("document.getElementById('more-controls').open = true")  # the header's folded "More"
        page.click("#unfold-all")
        assert page.locator("#status").inner_text().startswith("All articles unfolded")
        for _ in range(4):  # scrolling to the end as a reader does: End, the bodies near it draw, End again
            page.keyboard.press("End")
            page.wait_for_timeout(300)
        last = page.locator('article.item[data-index="999"]').bounding_box()
        height = page.evaluate("window.innerHeight")
        assert last["y"] < height and last["y"] + last["height"] > 0, (last, height)
        assert page.errors == []


def test_card_notes_cut_loop_and_article_cut(tmp_path):
    _, runs = write_page(tmp_path, systems=("good",), edits={("good", "a1"): "The company said it will appeal. " * 11})
    run = runs[0]
    run.results["provenance"] = {"system_identity": {"decoding": {"max_new_tokens": 64}}}
    rows = [json.loads(line) for line in (tmp_path / "good" / "summaries.jsonl").read_text().splitlines()]
    rows[0].update(output_tokens=64, article_tokens_cut=120)
    rows[1].update(output_tokens=20)
    (tmp_path / "good" / "summaries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    from harness.reports.compare import compare

    data = report_data(runs, compare(runs, n_resamples=20))
    first, second = (a["summaries"][0] for a in data["articles"][:2])
    assert first["cut_at"] == 64 and first["article_cut"] == 120
    assert first["repetition"] == "repeats “The company said it will appeal” 11 times"
    assert "cut_at" not in second and "repetition" not in second


def test_repetition_finds_a_loop_not_emphasis():
    assert repeated_clause("Prices rose. Prices rose. Prices rose again.") is None  # two copies and a variant
    assert repeated_clause("a b c; a b c; A B C.") == ("a b c", 3)
    assert repetition_warning("Yes. Yes. Yes. Yes.") is None  # too short to be a clause
    # 8 words, 5 four-word sequences, 1 distinct: 4 of 5 repeat an earlier one.
    assert repetition_warning("very " * 8) == "80% of its 4-word sequences repeat earlier ones"
    assert repetition_warning("The mayor resigned on Monday after the vote.") is None


def test_the_chart_always_has_a_faithfulness_panel():
    info = {f"rouge/r{i}": {"metric": "rouge"} for i in range(8)}
    info |= {f"coverage/c{i}@m{i}": {"metric": f"coverage_m{i}"} for i in range(6)}
    info["consistency/score@embedding"] = {"metric": "consistency_embedding"}
    board = {"metric_info": info, "metrics": list(info), "rows": [{"metrics": {m: {} for m in info}}]}
    panels = chart_panels(board)
    assert panels[0] == "rouge/r0" and panels[-1] == "consistency/score@embedding" and len(panels) == 6
    assert sum(p.startswith("rouge/") for p in panels) == 1  # one panel per metric, not six ROUGE variants
