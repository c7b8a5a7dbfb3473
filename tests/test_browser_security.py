"""The chat and the Library in a real browser with the security headers in force.

The whole app (`create_app`, as `python -m ui` builds it) over a private copy of the article's
index: the Content-Security-Policy must not block anything either page needs (no console
error, no "Refused to ..." report), the chat says when a reader asks too fast, and the Library's
Changes panel shows the audit trail (here, a wrong token typed before the right one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import qa
from qa.questionlog import QuestionLog
from tests.libraryserver import TOKEN, copy_index, serve_app
from tests.test_browser import ANSWER_MS, DEFINITION, ask, shoot
from ui.server import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def site(built_index: Path, tmp_path: Path):
    index = qa.Index.load(copy_index(built_index, tmp_path / "copy"))
    # One question, then one every ten seconds: the second question of the test is refused.
    app = create_app(
        index,
        admin_token=TOKEN,
        upload_dir=tmp_path / "uploads",
        question_log=QuestionLog(tmp_path / "questions.db"),
        rate_limit=0.1,
    )
    with serve_app(app) as url:
        yield url


def watched_page(browser, url: str):
    """A page whose console errors (CSP refusals are reported there) and page errors are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.type}: {m.text} @ {m.location.get('url', '')}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"error: {e}"))
    page.goto(url)
    return context, page, problems


def csp_reports(problems: list[str]) -> list[str]:
    return [p for p in problems if "Content Security Policy" in p or "Refused to" in p]


def assert_nothing_refused(problems: list[str]) -> None:
    """No CSP report, and no failed load but the two a page may show."""
    assert csp_reports(problems) == [], problems
    # The wrong token's refusal (403), and the browser's own look for /favicon.ico (the page has
    # none: 404), may be reported as failed loads; nothing else may be.
    expected = ("status of 403", "favicon.ico")
    assert [p for p in problems if p.startswith("error") and not any(e in p for e in expected)] == [], problems


def test_the_chat_works_under_the_csp_and_says_when_a_reader_asks_too_fast(browser, site):
    context, page, problems = watched_page(browser, site)
    try:
        page.wait_for_selector("#qa-question textarea", timeout=ANSWER_MS)
        first = ask(page, "What is collective leadership?")
        assert DEFINITION in first.inner_text()
        second = ask(page, "Who is accountable under collective leadership?")
        assert "Too many questions at once: try again in" in second.inner_text()
        shoot(page, "chat-rate-limited")
    finally:
        context.close()
    assert_nothing_refused(problems)
    assert [p for p in problems if p.startswith("error")] == [], problems  # the chat: not even those two


def test_the_library_works_under_the_csp_and_shows_the_audit_trail(browser, site):
    context, page, problems = watched_page(browser, f"{site}/library")
    try:
        page.wait_for_selector("#token")
        page.fill("#token", "not-the-token")
        page.click("#login-form button")
        # A function, not an expression: Playwright evals an expression in the page, which the CSP forbids.
        page.wait_for_function("() => document.getElementById('login-error').textContent.length > 0")
        page.fill("#token", TOKEN)
        page.click("#login-form button")
        page.wait_for_selector("#documents tr[data-source]")
        row = page.locator("#audit tr").first
        row.wait_for()
        cells = [c.inner_text() for c in row.locator("td").all()]
        assert cells[1:] == ["token", "GET /api/v1/library", "refused: wrong admin token", "127.0.0.1"], cells
        shoot(page, "library-audit")
    finally:
        context.close()
    assert_nothing_refused(problems)
