"""The editor's page measures itself (issue #34, items 4 and 6): `harness review` answers each
scorer's precision and recall against the editors' sentence verdicts on the page, the figures
`harness compare --marks` prints for the same marks, and the legend shows them; the chart has a
panel per consistency scorer and labels of at least 11 px, on a wide screen and on a phone."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest

from harness.reports.compare import marks_review
from harness.reports.html import chart_panels
from harness.results.marks import page_summaries
from harness.review import make_server

from .browser import browser_page
from .helpers.editor_page import expect, ready, write_page


@pytest.fixture
def served(tmp_path):
    """(directory, url, runs, rewrite): `harness review` over a written page."""
    _, runs = write_page(tmp_path)
    server = make_server(tmp_path, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}", runs, lambda **kw: write_page(tmp_path, **kw)
    server.shutdown()
    server.server_close()


def _post(url: str, editor: str, marks: list[dict]) -> dict:
    request = urllib.request.Request(url + "/marks.json", data=json.dumps({"editor": editor, "marks": marks}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


def _get(url: str) -> dict:
    with urllib.request.urlopen(url + "/marks.json") as answer:
        return json.loads(answer.read())


def _verdicts(directory, run: str, verdicts: dict[int, str]) -> dict:
    """A mark of ``run``'s summary of article a1 on the page, judging its sentences."""
    summaries = page_summaries((directory / "report.html").read_text(encoding="utf-8"))
    ref = summaries.by_label[(run, "a1")]
    return {"run_key": ref.run_key, "article_id": "a1", "summary_sha256": ref.summary_sha256, "mark": None,
            "sentences": [{"index": i, "verdict": v} for i, v in verdicts.items()]}


def test_the_server_measures_the_page_as_compare_marks_does(served):
    directory, url, runs, rewrite = served
    assert _get(url)["page_rates"] == {"flags": {}, "judged": 0, "editors": 0}
    # The embedding scorer flags both of bad's sentences and neither of good's; entity flags none.
    _post(url, "alice", [_verdicts(directory, "bad", {0: "supported", 1: "unsupported"}),
                         _verdicts(directory, "good", {1: "unsupported"})])
    after_bob = _post(url, "bob", [_verdicts(directory, "bad", {0: "unsupported"})])
    answer = _get(url)
    rates = answer["page_rates"]
    assert after_bob["page_rates"] == rates  # every save answers the new figures
    assert rates["judged"] == 3 and rates["editors"] == 2
    # By hand: bad's sentence 0 is unsupported for 1 of its 2 editors (0.5), bad's 1 and good's 1 for all (1).
    # embedding flagged [0.5, 1]: precision 1.5 / 2; it left [1] unflagged: recall 1.5 / (1.5 + 1).
    embedding = rates["flags"]["embedding"]
    assert embedding["precision"] == pytest.approx(0.75, abs=1e-12) and embedding["n_flagged"] == 2
    assert embedding["recall"] == pytest.approx(0.6, abs=1e-12) and embedding["n_unsupported"] == 3
    assert embedding["n_judged"] == 3
    entity = rates["flags"]["entity"]
    assert entity["precision"] is None and entity["recall"] == 0.0 and entity["n_judged"] == 3
    # The same marks through `harness compare --marks`: the same figures, exactly.
    assert marks_review(runs, answer["marks"])["flags"] == rates["flags"]
    # bad's summary changes: its marks are left out of the page's figures, as compare leaves them out.
    runs = rewrite(edits={("bad", "a1"): "Police said 18 officers were killed in Almaty. Putin resigned."})[1]
    answer = _get(url)
    assert answer["page_rates"]["judged"] == 1 and answer["page_rates"]["editors"] == 1
    assert answer["page_rates"]["flags"]["embedding"] == {"n_flagged": 0, "precision": None, "n_judged": 1,
                                                          "n_unsupported": 1, "recall": 0.0}  # it missed good's
    assert marks_review(runs, answer["marks"])["flags"] == answer["page_rates"]["flags"]


@pytest.mark.browser
def test_the_legend_shows_the_pages_own_precision_and_recall(served):
    directory, url, _, _ = served
    with browser_page() as page:
        ready(page, url + "/?editor=alice")
        rates = page.locator("#page-rates")
        expect(rates).to_contain_text("No sentence judged yet")
        bad = page.locator('article.item[data-article="a1"] div.summary[data-run="bad"]')
        bad.locator("div.flag.flagged").nth(0).locator("button.verdict-supported").click()  # dismiss flag
        bad.locator("div.flag.flagged").nth(1).locator("button.verdict-unsupported").click()  # confirm flag
        good = page.locator('article.item[data-article="a1"] div.summary[data-run="good"]')
        good.locator("button.judge-all").click()
        good.locator("div.flag").nth(1).locator("button.verdict-unsupported").click()
        expect(page.locator("#status")).to_contain_text("Saved 2 marks of alice")
        page.locator("#flag-legend > summary").click()
        row = rates.locator('tr[data-scorer="embedding"]')
        # One dismissed and one confirmed flag: precision 1/2; good's unflagged sentence judged unsupported:
        # recall 1 / (1 + 1). The figures compare --marks prints (test_review_queue checks those by hand).
        expect(row.locator("td.precision")).to_have_text("0.500 (n=2)")
        expect(row.locator("td.recall")).to_have_text("0.500 (n=2)")
        expect(rates).to_contain_text("3 sentences judged by 1 editor")
        assert rates.is_visible()
        assert page.errors == []
    with browser_page() as page:  # the file itself: no server to count every editor's verdicts
        ready(page, (directory / "report.html").as_uri() + "?editor=alice")
        expect(page.locator("#page-rates")).to_contain_text("serve it with harness review DIR")
        assert page.errors == []


def test_every_consistency_scorer_has_a_chart_panel():
    info = {"rouge/rougeLsum_f": {"metric": "rouge"}, "rouge/rouge1_f": {"metric": "rouge"}}
    info |= {f"coverage/c@m{i}": {"metric": f"coverage_m{i}"} for i in range(6)}
    for scorer in ("claims", "entity", "embedding"):
        info |= {f"consistency/score@{scorer}": {"metric": f"consistency_{scorer}"},
                 f"consistency/unsupported@{scorer}": {"metric": f"consistency_{scorer}"}}
    board = {"metric_info": info, "metrics": list(info), "rows": [{"metrics": {m: {} for m in info}}]}
    panels = chart_panels(board)
    assert [p for p in panels if p.startswith("consistency/")] == [
        "consistency/score@claims", "consistency/score@entity", "consistency/score@embedding"]
    assert panels[0] == "rouge/rougeLsum_f" and len(panels) == 6  # 6 in all: 3 others, 3 consistency scorers


LABEL_SIZES = """() => [...document.querySelectorAll('#chart svg text')].map((t) => {
  const m = t.getScreenCTM();
  return [t.textContent, parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b)];
})"""


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1440, 900), (390, 844)])
def test_the_chart_labels_are_at_least_11_px(tmp_path, size):
    path = write_page(tmp_path)[0]
    with browser_page() as page:
        page.set_viewport_size({"width": size[0], "height": size[1]})
        ready(page, path.as_uri())
        page.locator("#chart-panel > summary").click()
        assert page.locator("#chart svg").count() >= 1
        sizes = page.evaluate(LABEL_SIZES)
        labels = {text for text, _ in sizes}
        assert {"good", "bad", "third"} <= labels  # the run names, drawn as text on each panel
        smallest = min(px for _, px in sizes)
        assert smallest >= 11.0, sorted(sizes, key=lambda s: s[1])[:3]
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size[0]  # no panel wider than the screen
        assert page.errors == []
