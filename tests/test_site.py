"""The page speaks of what is indexed: its title, heading and examples, following rebuilds."""

from __future__ import annotations

import pytest

from index import build
from qa import DocumentInfo, IndexInfo
from qa.config import ARTICLE_SITE_TITLE, ARTICLE_SOURCE, SETTINGS, Settings
from tests.test_browser import ANSWER_MS, ask, start_server, stop_server
from ui.site import site_for

NOTE = "Ward 7 reduced falls by 40 percent after nurses began hourly rounding.\n\nThe rounds take five minutes."


def _info(*documents: tuple[str, str]) -> IndexInfo:
    return IndexInfo(".", [DocumentInfo(source, title, 1) for source, title in documents], len(documents), "", "")


def test_the_article_keeps_its_own_wording_and_other_content_gets_neutral_wording():
    article = site_for(_info((ARTICLE_SOURCE, "Michael West: collective leadership for culture change")))
    assert (article.title, article.examples) == (ARTICLE_SITE_TITLE, SETTINGS.examples)
    squad = site_for(_info(("a.txt", "Apollo program"), ("b.txt", "Black Death")))
    assert squad.title == "Ask the indexed documents" and squad.examples == ()
    assert "collective leadership" not in squad.placeholder
    configured = Settings(site_title="Ward safety notes", configured_examples=("How much did falls drop?",))
    site = site_for(_info(("a.txt", "Apollo program")), configured)
    assert (site.title, site.examples) == ("Ward safety notes", ("How much did falls drop?",))


@pytest.mark.browser
def test_the_page_names_the_indexed_content_and_follows_a_rebuild(tmp_path, browser):
    source = tmp_path / "src"
    source.mkdir()
    (source / "falls_note.txt").write_text(NOTE, encoding="utf-8")
    build([source], tmp_path / "index", progress=False)
    server = start_server(tmp_path / "index", tmp_path / "server.log")
    try:
        page = browser.new_page()
        page.goto(server.url)
        heading = page.locator("#qa-header h1")
        heading.wait_for()
        assert heading.inner_text() == "Ask about “Falls note”"
        page.wait_for_function("() => document.title === 'Ask about “Falls note”'", timeout=ANSWER_MS)
        assert "collective leadership" not in page.locator("body").inner_text().lower()
        assert "40 percent" in ask(page, "By how much did Ward 7 reduce falls?").locator(".qa-answer").inner_text()

        (source / "huddles.md").write_text("# Huddles\n\nA daily huddle lasts ten minutes.\n", encoding="utf-8")
        build([source], tmp_path / "index", progress=False)
        # The page open before the rebuild catches up after its next answer ...
        ask(page, "How long does a huddle last?")
        page.wait_for_function(
            "() => document.querySelector('#qa-header').innerText.includes('2 documents')", timeout=ANSWER_MS
        )
        assert heading.inner_text() == "Ask the indexed documents"
        # ... and a page opened afterwards shows it at once, in the "What is indexed" panel too.
        fresh = browser.new_page()
        fresh.goto(server.url)
        fresh.get_by_text("What is indexed").click()
        fresh.wait_for_function(
            "() => document.querySelector('#qa-info').innerText.includes('Huddles')", timeout=ANSWER_MS
        )
        fresh.wait_for_function("() => document.title === 'Ask the indexed documents'", timeout=ANSWER_MS)
    finally:
        stop_server(server.process)
    assert "Traceback" not in (tmp_path / "server.log").read_text()
