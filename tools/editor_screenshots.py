"""The screenshots in docs/editor.md, from a real comparison: ``harness compare SWEEP --out DIR``
served by ``harness review DIR``, opened in headless Chromium (tests/browser.py's Chromium).

Usage: .venv/bin/python tools/editor_screenshots.py [SWEEP_DIR]   (default: runs/candidate,
the sweep `make run` writes with hydra.sweep.dir=runs/candidate). Writes docs/img/editor-*.png
and prints each path.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
    url = f"http://127.0.0.1:{server.server_address[1]}/?editor=alice"
    img = ROOT / "docs" / "img"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("html[data-ready=true]", state="attached")
            page.select_option("#queue-filter", "flagged")
            page.wait_for_timeout(300)
            page.keyboard.press("Shift+J")
            page.screenshot(path=img / "editor-queue.png")
            print(img / "editor-queue.png")
            flag = page.locator("div.summary div.flag.flagged").first
            flag.locator("button.verdict-supported").click()
            page.wait_for_timeout(600)
            page.evaluate("document.querySelector('body > header').style.position = 'static'")  # not over the card
            page.locator("div.summary div.flags").first.screenshot(path=img / "editor-dismissed-flag.png")
            print(img / "editor-dismissed-flag.png")
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            phone.goto(url)
            phone.wait_for_selector("html[data-ready=true]", state="attached")
            phone.evaluate("window.scrollTo(0, document.querySelector('div.summaries').getBoundingClientRect().top"
                           " + window.scrollY - 200)")
            phone.screenshot(path=img / "editor-phone.png")
            print(img / "editor-phone.png")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs" / "candidate")
