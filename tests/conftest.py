"""Session fixtures: the real model and a real index of the bundled article, built once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# No test writes to the project's own question log (var/questions.db); the tests of the log
# give every log, and every server they start, a file of its own.
os.environ.setdefault("QA_LOG", "0")

ARTICLE = (
    Path(__file__).resolve().parent.parent / "corpus" / "michael-west-collective-leadership-for-culture-change.txt"
)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of an index built from the bundled article with the project's own builder."""
    from index import build

    out = tmp_path_factory.mktemp("article") / "index"
    build([ARTICLE], out, progress=False)
    return out


@pytest.fixture(scope="session")
def article_index(built_index: Path):
    """The loaded `qa.Index` of the bundled article."""
    import qa

    return qa.Index.load(built_index)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Chromium (Debian's, driven by pip's playwright) for every browser test.

    Session-wide and here, not in a test module: Playwright's sync API runs one instance a thread.
    """
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (Debian package 'chromium')"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def allow_fetch(monkeypatch: pytest.MonkeyPatch, *entries: str) -> None:
    """QA_FETCH_ALLOW set to `entries` for one test (index.fetch reads the setting at each fetch)."""
    import dataclasses

    import index.fetch

    monkeypatch.setattr(index.fetch, "SETTINGS", dataclasses.replace(index.fetch.SETTINGS, fetch_allow=entries))


@pytest.fixture
def allow_local_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA_FETCH_ALLOW=127.0.0.1 for this test, so fetches reach tests/webserver.py's local pages."""
    allow_fetch(monkeypatch, "127.0.0.1")
