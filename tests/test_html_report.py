"""report.html in headless Chromium: ranking, sorting, filters, marks export, and escaping of
hostile model output (no script runs; the text shows literally)."""

import json

import pytest

from harness.run import run

from .browser import browser_page
from .helpers.cli import harness
from .helpers.configs import config

pytestmark = pytest.mark.browser
HOSTILE = ('<script>window.__pwned = 1; alert("script")</script> Protesters burned '
           '<img src=x onerror="window.__pwned = 2; alert(\'img\')"> cars.\n'
           "Read [the full story](javascript:alert(3)) now.")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    done = harness("run", "-m", "system=lead3,bullets", "decoding=greedy", f"hydra.sweep.dir={root / 'sweep'}",
                   "progress=false", cache_dir=root / "cache")
    assert done.returncode == 0, done.stderr
    return root / "sweep"


def test_sweep_report_ranks_sorts_filters_marks_and_exports(sweep, tmp_path):
    with browser_page() as page:
        page.goto((sweep / "report.html").as_uri() + "?editor=alice")
        cards = page.locator("div.summary").evaluate_all("els => els.map(e => [e.dataset.run, e.className])")
        # The reference bullets scored as a summary: shown apart, after the ranked systems, never ranked.
        assert cards == [["lead-3", "summary"], ["reference-bullets", "summary reference"]]
        assert page.locator("div.summary.reference h3").inner_text().startswith(
            "Reference bullets as a summary (not ranked): reference-bullets")
        assert page.locator("div.summary").first.locator("h3").inner_text().startswith("1. lead-3")
        page.select_option("#sort-by", "consistency/unsupported@embedding")
        assert "Unsupported sentences (embedding) ↓ = 0" in page.locator("div.summary").first.locator("h3").inner_text()
        assert page.title().startswith("Comparison of 2 runs · seed.jsonl · 20")
        option = page.locator('#sort-by option[value="consistency/unsupported@embedding"]')
        assert option.inner_text() == "Unsupported sentences (embedding) ↓"
        assert option.evaluate("o => o.parentElement.label") == "more"
        headline = page.locator('#sort-by optgroup[label="headline"] option').evaluate_all("os => os.map(o => o.value)")
        assert headline[0] == "rouge/rougeLsum_f" and "extractive/words" not in headline
        # The article beside the summaries: its real title, its text (folded), evidence on a click.
        assert page.locator("article.item h2").inner_text().startswith("Vladimir Putin deploys troops")
        assert page.locator("details.article-text p.paragraph").count() > 10
        page.locator('div.summary[data-run="reference-bullets"] span.sent').first.click()
        assert page.locator("details.article-text").evaluate("d => d.open")
        assert page.locator("mark.evidence").first.inner_text().startswith("Russia has sent a peacekeeping force")
        page.locator('input[data-run="reference-bullets"]').uncheck()
        assert page.locator("div.summary").count() == 1
        page.locator('input[data-run="reference-bullets"]').check()
        assert page.locator("div.summary").count() == 2
        lead3 = page.locator('div.summary[data-run="lead-3"]')
        lead3.locator("button.mark-accept").click()
        page.locator('div.summary[data-run="lead-3"] input.note').fill("good lead")
        with page.expect_download() as download:
            page.evaluate("document.getElementById('more-controls').open = true")  # the header's folded "More"
            page.click("#export")
        saved = tmp_path / "marks.json"
        download.value.save_as(saved)
        exported = json.loads(saved.read_text())
        assert json.loads(page.locator("#marks-json").input_value()) == exported
        marks = {m["run"]: m for m in exported["marks"]}
        assert marks["lead-3"]["mark"] == "accept" and marks["lead-3"]["note"] == "good lead"
        assert set(marks) == {"lead-3"} and marks["lead-3"]["editor"] == "alice"  # the reference is not marked
        assert marks["lead-3"]["article_id"] == "000_b456ec66e27cc290"
        assert page.locator("ul.coverage li.covered").count() > 0 and page.errors == []
    done = harness("compare", str(sweep), "--marks", str(saved), cache_dir=tmp_path)
    assert done.returncode == 0 and "agreement with the editors' marks" in done.stdout


def test_hostile_summary_runs_no_script_and_shows_literally(tmp_path, cache_dir, monkeypatch):
    from harness.systems.base import Generation
    from harness.systems.extractive import ReferenceBullets

    monkeypatch.setattr(ReferenceBullets, "summarize", lambda self, a, p, d: Generation(text=HOSTILE))
    run(config("system=bullets"), tmp_path / "run")
    page_html = (tmp_path / "run" / "report.html").read_text()
    assert "<script>window.__pwned" not in page_html and "<img src=x" not in page_html
    with browser_page() as page:
        page.goto((tmp_path / "run" / "report.html").as_uri())
        page.wait_for_timeout(300)
        assert page.evaluate("window.__pwned") is None and page.dialogs == []
        text = page.locator("div.summary p.text").inner_text()
        assert '<script>window.__pwned = 1; alert("script")</script>' in text
        assert "<img src=x onerror=" in text and "the full story](javascript:alert(3))" in text
        assert page.locator("div.summary img").count() == 0 and page.locator("div.summary a").count() == 0
    report_md = (tmp_path / "run" / "report.md").read_text()
    assert "<script>" not in report_md and "<img" not in report_md and "](javascript" not in report_md
