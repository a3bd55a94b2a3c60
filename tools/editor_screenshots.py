"""The screenshots in docs/editor.md, from a real comparison: ``harness compare SWEEP --out DIR``
served by ``harness review DIR``, opened in headless Chromium (tests/browser.py's Chromium), with a
few marks made by two editors (bob through the server, alice by clicking) so the cards show verdicts
and the legend the page's own precision and recall.

Usage: .venv/bin/python tools/editor_screenshots.py [SWEEP_DIR]   (default: runs/page34, written by
``harness run -m system=lead3,bullets hydra.sweep.dir=runs/page34``; any sweep directory). Writes
docs/img/editor-1440x900.png, editor-1280x720.png, editor-390x844.png (the three screen sizes),
editor-card.png (a card with both editors' marks) and editor-chart.png, and prints each path with its size.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IMG = ROOT / "docs" / "img"
MAX_BYTES = 300_000


def _bob(url: str, page_file: Path) -> None:
    """bob's marks, saved through the server as his page would: he rejects the first ranked summary
    with a note, and judges its first sentence unsupported."""
    from harness.results.marks import report_data

    data = report_data(page_file.read_text(encoding="utf-8"))
    run_keys = data.get("run_keys") or {}
    summary = next(s for a in data["articles"] for s in a["summaries"] if not s.get("reference"))
    article = next(a for a in data["articles"] if summary in a["summaries"])
    mark = {"run_key": summary.get("run_key") or run_keys[summary["run"]], "article_id": article["id"],
            "summary_sha256": summary["sha256"], "mark": "reject", "note": "the second sentence is not the news",
            "sentences": [{"index": 0, "verdict": "unsupported"}]}
    request = urllib.request.Request(url + "/marks.json", data=json.dumps({"editor": "bob", "marks": [mark]}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request).read()


def _shot(target, name: str) -> None:
    from PIL import Image

    path = IMG / name
    target.screenshot(path=path)
    with Image.open(path) as image:  # 256 colours: a page of text loses nothing visible, and half its bytes
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    size = path.stat().st_size
    print(path, f"{size // 1000} KB")
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size} bytes, over {MAX_BYTES}: take a smaller view")


def main(sweep: Path) -> None:
    from playwright.sync_api import sync_playwright

    from harness.review import make_server
    from tests.browser import CHROMIUM

    if not CHROMIUM:
        raise SystemExit("no Chromium here (apt-get install chromium, or set HARNESS_CHROMIUM)")
    out = Path(tempfile.mkdtemp(prefix="editor-shots-"))
    subprocess.run([sys.executable, "-m", "harness", "compare", str(sweep), "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    server = make_server(out, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    url = base + "/?editor=alice"
    _bob(base, out / "report.html")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url)
            page.wait_for_selector("html[data-ready=true]", state="attached")
            cards = page.locator("div.summary[data-key]")
            first = cards.first
            # alice: accepts the first summary, judges its sentences (one unsupported), dismisses nothing.
            first.locator("button.judge-all").click()
            judged = first.locator("div.flag")
            judged.nth(0).locator("button.verdict-supported").click()
            if judged.count() > 1:
                judged.nth(1).locator("button.verdict-unsupported").click()
            first.locator("button.mark-accept").click()
            page.wait_for_timeout(800)  # the save, and the page's own rates it answers
            flagged = page.locator("div.summary div.flag.flagged").first
            if flagged.count():
                flagged.locator("span, button").first.scroll_into_view_if_needed()
            page.locator("span.sent").first.click()  # a sentence's evidence, highlighted in the article
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(300)
            _shot(page, "editor-1440x900.png")
            page.set_viewport_size({"width": 1280, "height": 720})
            page.locator("#flag-legend > summary").click()
            page.wait_for_timeout(300)
            _shot(page, "editor-1280x720.png")
            page.locator("#flag-legend > summary").click()
            page.locator("#chart-panel > summary").click()
            page.wait_for_timeout(300)
            _shot(page.locator("#chart"), "editor-chart.png")
            page.locator("#chart-panel > summary").click()
            page.evaluate("document.querySelector('body > header').style.position = 'static'")  # not over the card
            _shot(first, "editor-card.png")
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
            phone.goto(url)
            phone.wait_for_selector("html[data-ready=true]", state="attached")
            phone.evaluate("window.scrollTo(0, document.querySelector('div.summaries').getBoundingClientRect().top"
                           " + window.scrollY - 120)")
            phone.wait_for_timeout(300)
            _shot(phone, "editor-390x844.png")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs" / "page34")
