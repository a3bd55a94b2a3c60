"""The editor's desk, round three (issue #34), in headless Chromium: keys act on the summary on
screen, marks keep their author, the header stays small, and on a phone a tapped sentence takes
the reader to its evidence and back."""

from __future__ import annotations

import json

import pytest

from .browser import browser_page
from .helpers.editor_page import ready, write_page

CURRENT = ("(() => { const c = document.querySelector('.current-summary'); "
           "return c && [c.dataset.article, c.dataset.key]; })()")
PRESSED = ("([key, choice]) => document.querySelector(`div.summary[data-key=\"${CSS.escape(key)}\"] "
           "button.mark-${choice}`).getAttribute('aria-pressed') === 'true'")


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    return write_page(tmp_path_factory.mktemp("keys"))[0]


def _pressed(page, article, run, choice):
    card = page.locator(f'article.item[data-article="{article}"] div.summary[data-run="{run}"]')
    return card.locator(f"button.mark-{choice}").get_attribute("aria-pressed") == "true"


@pytest.mark.browser
def test_J_j_j_a_marks_the_summary_on_screen_and_u_undoes_it(page_file):
    with browser_page() as page:
        page.set_viewport_size({"width": 1280, "height": 720})
        ready(page, page_file.as_uri() + "?editor=alice")
        page.keyboard.press("J")
        assert page.evaluate(CURRENT)[0] == "a1"
        page.keyboard.press("j")
        page.keyboard.press("j")
        article, key = page.evaluate(CURRENT)
        assert article != "a1"  # the current summary followed the article
        page.keyboard.press("a")
        assert page.evaluate(PRESSED, [key, "accept"])
        assert not any(_pressed(page, "a1", r, "accept") for r in ("good", "bad", "third"))
        page.keyboard.press("u")
        assert not page.evaluate(PRESSED, [key, "accept"])
        assert page.errors == []


@pytest.mark.browser
def test_a_never_marks_a_summary_off_screen(page_file):
    with browser_page() as page:
        page.set_viewport_size({"width": 1280, "height": 720})
        ready(page, page_file.as_uri() + "?editor=alice")
        page.keyboard.press("J")  # a1's first summary is current
        _, key = page.evaluate(CURRENT)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_timeout(300)
        on_screen = page.evaluate("(key) => { const r = document.querySelector("
                                  "`div.summary[data-key=\"${CSS.escape(key)}\"]`).getBoundingClientRect(); "
                                  "return r.bottom > 0 && r.top < innerHeight; }", key)
        page.keyboard.press("a")
        assert on_screen or not page.evaluate(PRESSED, [key, "accept"])  # scrolled away: never the old one
        assert page.locator("button.mark-accept[aria-pressed=true]").count() <= 1
        assert page.errors == []


@pytest.mark.browser
def test_keys_work_after_a_checkbox_or_a_select(page_file):
    with browser_page() as page:
        ready(page, page_file.as_uri() + "?editor=alice")
        box = page.locator('#run-filters input[data-run="third"]')
        box.click()  # untick, focus stays on the box
        box.click()
        page.keyboard.press("j")
        assert page.evaluate("document.querySelector('article.item.current').dataset.article") == "cnn_3f2a"
        page.locator("#queue-filter").select_option("all")
        page.locator("#queue-filter").focus()
        page.keyboard.press("k")
        assert page.evaluate("document.querySelector('article.item.current').dataset.article") == "a1"
        assert page.locator("#queue-filter").input_value() == "all"  # the key did not pick an option
        page.locator("input.note").first.focus()
        page.keyboard.press("j")  # a text field pauses them
        assert page.locator("input.note").first.input_value() == "j"
        assert page.errors == []


@pytest.mark.browser
def test_ctrl_z_never_changes_the_editor(page_file):
    with browser_page() as page:
        ready(page, page_file.as_uri())
        page.locator("#editor").fill("alice")
        page.locator("#editor").press("Enter")
        page.locator("#editor").dispatch_event("change")
        assert page.locator("#editor").input_value() == "alice"
        page.locator("body").click(position={"x": 5, "y": 300})
        for key in ("Control+z", "Control+z", "r", "Control+Shift+z"):
            page.keyboard.press(key)
        page.locator("#editor").focus()
        page.keyboard.press("Control+z")
        page.keyboard.type("r")
        assert page.locator("#editor").input_value() == "alice"
        page.reload()
        page.wait_for_selector("html[data-ready=true]", state="attached")
        assert page.locator("#editor").input_value() == "alice"
        page.click("#change-editor")  # the prompt is dismissed (tests/browser.py): nothing changes
        assert page.locator("#editor").input_value() == "alice" and page.dialogs
        assert page.errors == []


@pytest.mark.browser
def test_import_keeps_each_marks_editor_and_export_gives_everyones(page_file, tmp_path):
    with browser_page() as page:
        ready(page, page_file.as_uri() + "?editor=gina")
        marks = tmp_path / "alice.json"
        marks.write_text(json.dumps({"version": 3, "marks": [
            {"editor": "alice", "run": "bad", "article_id": "a1", "mark": "reject", "note": "wrong city",
             "sentences": [{"index": 0, "verdict": "supported"}]},
            {"run": "good", "article_id": "a1", "mark": "accept"}]}))  # no editor: asked, and the dialog says no
        page.set_input_files("#import", str(marks))
        page.wait_for_function("document.getElementById('status').textContent.includes('alice')")
        status = page.locator("#status").inner_text()
        assert "0 marks imported as yours (gina)" in status and "1 mark of alice kept under their names" in status
        assert "1 naming no editor not imported" in status and len(page.dialogs) == 1
        bad = page.locator('article.item[data-article="a1"] div.summary[data-run="bad"]')
        assert bad.locator("button.mark-reject").get_attribute("aria-pressed") == "false"  # not gina's
        assert "alice reject" in bad.locator("p.others").inner_text()
        assert "alice dismissed the flag" in bad.locator("div.flag").first.inner_text()
        page.reload()
        page.wait_for_selector("html[data-ready=true]", state="attached")
        bad = page.locator('article.item[data-article="a1"] div.summary[data-run="bad"]')
        assert "alice reject" in bad.locator("p.others").inner_text()
        bad.locator("button.mark-accept").click()
        page.evaluate("document.getElementById('more-controls').open = true")
        with page.expect_download() as download:
            page.click("#export")
        exported = json.loads(open(download.value.path()).read())
        assert {(m["editor"], m["run"], m["mark"]) for m in exported["marks"]} == {
            ("gina", "bad", "accept"), ("alice", "bad", "reject")}
        assert page.errors == []


@pytest.mark.browser
def test_header_is_at_most_120_px_at_1280_by_720(page_file):
    with browser_page() as page:
        page.set_viewport_size({"width": 1280, "height": 720})
        ready(page, page_file.as_uri() + "?editor=alice")
        assert page.evaluate("document.querySelector('body > header').offsetHeight") <= 120
        legend = page.locator("#flag-legend")
        if legend.count():  # outside the sticky header: opening it does not grow the header
            page.evaluate("document.getElementById('flag-legend').open = true")
            assert page.evaluate("document.querySelector('body > header').offsetHeight") <= 120
        assert page.errors == []


@pytest.mark.browser
def test_level_label_stays_with_its_sentence(page_file):
    with browser_page() as page:
        page.set_viewport_size({"width": 1280, "height": 720})
        ready(page, page_file.as_uri() + "?editor=alice")
        level = page.locator("span.sent.flagged span.level").first
        assert page.evaluate("(l) => getComputedStyle(l).whiteSpace", level.element_handle()) == "nowrap"
        assert page.evaluate("(l) => getComputedStyle(l).display", level.element_handle()) == "inline"


@pytest.mark.browser
def test_phone_tap_scrolls_to_the_evidence_and_back(page_file):
    with browser_page() as page:
        page.set_viewport_size({"width": 390, "height": 844})
        ready(page, page_file.as_uri() + "?editor=alice")
        sentence = page.locator('article.item[data-article="a1"] div.summary[data-run="bad"] span.sent').first
        sentence.scroll_into_view_if_needed()
        sentence.click()
        page.wait_for_timeout(200)
        evidence = page.locator('article.item[data-article="a1"] mark.evidence').first
        box = evidence.bounding_box()
        assert box and 0 <= box["y"] < 844  # the evidence is on screen
        back = page.locator("#back-to-sentence")
        assert back.is_visible()
        back.click()
        page.wait_for_timeout(200)
        box = sentence.bounding_box()
        assert box and 0 <= box["y"] < 844
        assert page.errors == []
