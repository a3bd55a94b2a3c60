"""Headless Chromium (Debian's /usr/bin/chromium) through Playwright, for the report.html tests.
Skipped where Chromium is missing, except in CI (CI=true), where .ci/run installs it: there a
missing browser fails."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM = os.environ.get("HARNESS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def browser_page():
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("no Chromium in CI: .ci/run should have installed Debian's chromium")
        pytest.skip("no Chromium here (apt-get install chromium, or set HARNESS_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(accept_downloads=True)
            page.errors = []
            page.dialogs = []
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
            yield page
        finally:
            browser.close()
