"""Accessibility (WCAG 2.2 AA) of the chat, the Library and the statement, in a real browser.

axe-core (bundled by the pinned `axe-playwright-python`, so nothing is fetched at run time) runs
the rules tagged wcag2a, wcag2aa, wcag21a, wcag21aa and wcag22aa in every state of each page, at
1280 and 390 px and in the light and dark colour schemes; the page is loaded once and the width
and scheme changed under it (Gradio follows a change of scheme live). Then a keyboard-only walk
through asking and copying a reference, and reflow at 320 px with the text-spacing overrides.

One real server for the module: the whole app of `ui.server.create_app` (chat, Library, question
log, statement) over a private copy of the article's index, served by uvicorn in a thread.
"""

from __future__ import annotations

import itertools
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import expect

import qa
from qa.questionlog import QuestionLog
from qa.types import STATUSES, Answer
from tests.libraryserver import TOKEN, copy_index, serve_app
from tests.test_answerable import UNSURE_QUESTION
from tests.test_browser import ANSWER_MS, DEFINITION, TITLE, ask
from tests.test_ui import found_answer
from ui import render
from ui.accessibility import NO_CONTACT, statement_html
from ui.server import create_app
from ui.site import site_for

pytestmark = pytest.mark.browser

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (1280, 390)
SCHEMES = ("light", "dark")
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
ARTICLE = "michael-west-collective-leadership-for-culture-change.txt"
LOGGED = (
    "Who won the 2018 FIFA World Cup?",
    "Zz" * 500,  # one word as long as a question can be: the report once grew 9,000 px wide
    "How many nurses did the NHS employ in 2019?",
    "What is collective leadership?",
)
NOTES = "keyboard-notes.txt"
# Answered from the article even after the Library test has added its documents to this site.
KEYBOARD_QUESTION = "Who is Michael West?"


@dataclass
class Served:
    """What a served site (by its address) works on, for tests that look behind the page."""

    index_path: Path
    log: QuestionLog


SITES: dict[str, Served] = {}
# The WCAG 1.4.12 text-spacing overrides, as the W3C's test bookmarklet applies them.
TEXT_SPACING = """* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
  word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }"""


@pytest.fixture(scope="module")
def site(built_index: Path, article_index, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole app, with a question log that already holds a few real answers for the report."""
    folder = tmp_path_factory.mktemp("a11y")
    index_path = copy_index(built_index, folder / "library")
    log = QuestionLog(folder / "questions.db")
    rows = [log.record(q, article_index.ask(q), 0.01) for q in LOGGED]
    log.feedback(rows[-1], False)  # so the report's "marked unhelpful" table has a row too
    app = create_app(qa.Index.load(index_path), admin_token=TOKEN, upload_dir=folder / "uploads", question_log=log)
    with serve_app(app) as url:
        SITES[url] = Served(index_path, log)
        yield url
    log.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    errors: list[str] = []
    opened = context.new_page()
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert errors == [], "the page raised errors"


def axe(page, state: str) -> list[str]:
    """axe-core's violations in `state`, at each width and colour scheme, one line per element."""
    found = []
    # Without motion, colours change at once when the scheme does (no fade to catch half way).
    page.emulate_media(reduced_motion="reduce")
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            settle(page)
            if not page.evaluate("() => Boolean(window.axe)"):
                page.evaluate(AXE_SCRIPT)
            result = page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                TAGS,
            )
            for violation in result["violations"]:
                for node in violation["nodes"]:
                    why = " ".join(node.get("failureSummary", "").split())[:200]
                    found.append(f"{state}, {scheme}, {width}px: {violation['id']} on {node['html'][:120]}: {why}")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 900})
    return found


# Every element's colours, to tell when a change of scheme has reached them all.
COLOURS_JS = """() => [...document.querySelectorAll('body *')]
    .map(e => { const s = getComputedStyle(e); return s.color + s.backgroundColor; }).join()"""


def settle(page) -> None:
    """Wait until the page's colours stop changing: Gradio restyles some parts 100 ms or more
    after the scheme changes, later on a busy machine, and axe must not catch it half way."""
    last = None
    for _ in range(30):
        page.wait_for_timeout(150)
        now = page.evaluate(COLOURS_JS)
        if now == last:
            return
        last = now
    pytest.fail("the page's colours kept changing for 4.5 s")


def open_chat(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#qa-question textarea", timeout=ANSWER_MS)
    page.wait_for_selector("#qa-examples button", timeout=ANSWER_MS)


def focused(page) -> dict:
    """The focused element: its tag, classes, text and whether a focus ring of 2 px or more shows."""
    return page.evaluate(
        """() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return {tag: e.tagName, cls: String(e.className), text: e.textContent.trim().slice(0, 60),
                    label: e.getAttribute('aria-label') || '', row: e.closest('tr')?.dataset.source || '',
                    ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
        }"""
    )


# --- axe-core in every state ----------------------------------------------------------------------


def test_chat_has_no_axe_violations_in_any_state(page, site):
    open_chat(page, site)
    violations = axe(page, "empty")
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("dialog", name="Settings").wait_for()
    violations += axe(page, "settings open")
    page.keyboard.press("Escape")  # closes Gradio's panel (our handler): the keyboard way out
    page.get_by_role("dialog", name="Settings").wait_for(state="detached")
    page.get_by_role("button", name="What is indexed").click()
    page.locator("#qa-info table").wait_for()
    violations += axe(page, "what is indexed open")
    outcomes = []
    for state, question in (
        ("answered", "What is collective leadership?"),
        ("follow-up", "and who is accountable?"),
        ("related", "How many nurses did the NHS employ in 2019?"),
        ("unsure", UNSURE_QUESTION),
        ("not covered", "Who won the 2018 FIFA World Cup?"),
        ("an error (empty question)", "   "),
    ):
        reply = ask(page, question)
        outcomes.append(reply.locator(".qa-outcome-words").all_inner_texts())
        violations += axe(page, state)
    assert violations == [], "\n".join(violations)
    # Each answer opens with its outcome in words; a notice has none.
    assert outcomes == [["Answer"], ["Answer"], ["Not answered"], ["Not sure"], ["Not covered"], []]


def test_library_has_no_axe_violations_signed_out_in_failed_running_and_report(page, site, tmp_path):
    page.goto(f"{site}/library")
    page.wait_for_selector("#token")
    violations = axe(page, "Library signed out")
    page.fill("#token", TOKEN)
    page.press("#token", "Enter")
    page.wait_for_selector(f'#documents tr[data-source="{ARTICLE}"]')
    page.wait_for_selector("#asked table.qa-report")
    violations += axe(page, "Library signed in, with the report")
    # Every column in view: a long word wraps inside its cell, rather than widening the table.
    assert page.evaluate(
        "() => [...document.querySelectorAll('#asked .qa-table-wrap')].every(w => w.scrollWidth <= w.clientWidth)"
    )
    # Nothing listens on port 9 of this machine: the fetch fails at once and the job with it.
    page.fill("#urls", "http://127.0.0.1:9/nothing-here")
    page.press("#urls", "Tab")
    page.keyboard.press("Enter")  # the "Add web pages" button, by keyboard
    page.wait_for_selector(".job[data-state=failed]", timeout=ANSWER_MS)
    violations += axe(page, "Library, a change failed")
    shutil.copy(CORPUS / ARTICLE, tmp_path / "second-copy.txt")
    page.set_input_files("#files", tmp_path / "second-copy.txt")
    page.wait_for_selector(".job[data-state=running], .job[data-state=queued]", timeout=ANSWER_MS)
    violations += axe(page, "Library, a change running")
    page.wait_for_selector('#documents tr[data-source="second-copy.txt"]', timeout=4 * ANSWER_MS)
    assert violations == [], "\n".join(violations)


def test_statement_is_served_linked_from_both_pages_and_has_no_axe_violations(page, site):
    open_chat(page, site)
    page.get_by_role("link", name="Accessibility statement").click()
    page.wait_for_url("**/accessibility")
    # The site's title as the chat shows it for what is indexed now (the Library test adds to it).
    title = site_for(qa.Index.load(SITES[site].index_path).info).title
    assert page.locator("h1").inner_text() == f"Accessibility statement for {title}"
    headings = page.evaluate("() => [...document.querySelectorAll('h1,h2,h3')].map(h => Number(h.tagName[1]))")
    assert all(b - a <= 1 for a, b in itertools.pairwise(headings)), headings  # none skipped
    for part in ("Feedback and contact information", "Non-accessible content", "Compliance status", NO_CONTACT):
        assert part in page.inner_text("main")
    violations = axe(page, "statement")
    assert violations == [], "\n".join(violations)
    with urllib.request.urlopen(f"{site}/library") as response:
        assert 'href="accessibility"' in response.read().decode()


def test_statement_names_the_contact_as_a_link_and_escapes_it():
    page = statement_html("Falls <b>", "access@example.nhs.uk")
    assert '<a href="mailto:access@example.nhs.uk">access@example.nhs.uk</a>' in page
    assert "Falls &lt;b&gt;" in page and "Falls <b>" not in page
    assert '<a href="https://example.nhs.uk/report">' in statement_html("x", "https://example.nhs.uk/report")
    assert "the service desk &lt;x&gt;" in statement_html("x", "the service desk <x>")


def test_every_outcome_is_named_in_words_first_in_its_reply():
    base = found_answer()
    words = []
    for status in STATUSES:
        answer = Answer(status == "answered", base.text, base.passages, base.question, base.query, status)
        html = render.answer_html(answer)
        first = html.split('class="qa-outcome-words">', 1)
        assert 'class="qa-outcome"' in first[0] and "qa-cite" not in first[0]  # before any passage
        words.append(first[1].split("<", 1)[0])
    assert words == ["Answer", "Not sure", "Not answered", "Not covered"]
    assert render.answer_html(replace(base, question="<b>")).count("qa-outcome-words") == 1


# --- keyboard alone -----------------------------------------------------------------------------


def test_keyboard_only_asks_a_question_and_copies_a_reference(page, site):
    open_chat(page, site)
    # A reader arriving at the top of the page (the browser skips autofocus on some arrivals).
    page.evaluate("() => { document.body.tabIndex = -1; document.body.focus(); }")
    for _ in range(3):
        page.keyboard.press("Tab")
        if "qa-skip" in focused(page)["cls"]:
            break
    skip = focused(page)
    assert "qa-skip" in skip["cls"] and skip["ring"], skip
    assert page.locator(".qa-skip").is_visible() and page.locator(".qa-skip").bounding_box()["x"] >= 0
    page.keyboard.press("Enter")
    box = focused(page)
    assert box["tag"] == "TEXTAREA" and box["ring"], box
    # Named by its label alone: Gradio's Ask button sits inside that label ("Your question Ask").
    expect(page.get_by_role("textbox", name="Your question", exact=True)).to_be_focused()

    page.keyboard.type(KEYBOARD_QUESTION)
    page.keyboard.press("Enter")
    reply = page.locator("#qa-chat [data-testid=bot]").first
    reply.wait_for(timeout=ANSWER_MS)
    expect(reply.locator(".qa-found")).to_have_count(1, timeout=ANSWER_MS)
    page.wait_for_function("() => document.getElementById('qa-announce').textContent.length > 0")
    # Announced politely, outcome first, and the focus stays in the question box.
    assert page.locator("#qa-announce").get_attribute("aria-live") == "polite"
    assert page.inner_text("#qa-announce").startswith("Answer: ")
    assert focused(page)["tag"] == "TEXTAREA"

    # Back from the question box into the reply: the last citation's "Copy reference".
    button = tab_to(page, lambda f: "qa-copy-ref" in f["cls"], "Shift+Tab", 40)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.textContent === 'Copied'")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    # The article's own reference, or a teaser's "as listed on" it (qa.reference).
    assert TITLE in copied and ("Michael West (2014)" in copied or "As listed on: " in copied)
    reference = page.locator("#qa-chat .qa-reference.qa-copied .qa-ref-text").inner_text()
    assert copied == reference, button
    # The same citation's surrounding text, opened by keyboard.
    tab_to(page, lambda f: f["text"] == "Show surrounding text", "Shift+Tab", 3)
    page.keyboard.press("Enter")
    assert page.locator("#qa-chat details.qa-context[open]").count() == 1
    # The reply rated unhelpful by keyboard: the rating reaches the question log.
    tab_to(page, lambda f: f["label"] == "Dislike", "Tab", 12)
    page.keyboard.press("Enter")
    deadline = time.monotonic() + 10
    while KEYBOARD_QUESTION not in [g.question for g in SITES[site].log.unhelpful()]:
        assert time.monotonic() < deadline, "the dislike did not reach the question log"
        time.sleep(0.2)

    # The passages setting, then an example question, by keyboard: Tab on from the question box.
    page.locator("#qa-question textarea").focus()
    tab_to(page, lambda f: f["label"].startswith("number input for Passages"), "Tab", 8)
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    tab_to(page, lambda f: f["text"] == "What is collective leadership?", "Shift+Tab", 8)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-found').length == 2", timeout=ANSWER_MS)
    assert page.locator("#qa-chat .qa-found").last.locator(".qa-cite").count() == 1
    assert DEFINITION in page.locator("#qa-chat .qa-found .qa-answer").last.inner_text()


def choose_by_keyboard(page, file_input: str, path: Path) -> None:
    """Press Enter on the focused control, which must open the page's `file_input`; then choose `path`.

    The page's part (the key reaching the control, the control opening the file input) is what is
    tested; the browser's own file dialog is stood in for by choosing the file on the input, since
    headless Chromium opens it only some of the time for a script's click (1 run in 6 here).
    """
    page.evaluate(
        """selector => { window.qaChooserOpened = 0;
            document.querySelector(selector).addEventListener('click', (event) => {
              window.qaChooserOpened++; event.preventDefault(); }, {once: true}); }""",
        file_input,
    )
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.qaChooserOpened") == 1, "Enter did not open the file chooser"
    page.set_input_files(file_input, path)


def tab_to(page, wanted, key: str, limit: int) -> dict:
    """Press `key` (Tab or Shift+Tab) until the focused element is `wanted`; it must show a ring."""
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        if wanted(now):
            assert now["ring"], f"no visible focus on {now}"
            return now
    pytest.fail(f"{limit} presses of {key} did not reach it; focus is on {focused(page)}")


def test_library_by_keyboard_alone_adds_replaces_and_removes(page, site, tmp_path):
    notes = tmp_path / NOTES
    notes.write_text("Huddles at shift change. Every concern gets an owner before the shift begins.\n")
    page.goto(f"{site}/library")
    page.wait_for_selector("#token")
    page.evaluate("() => { document.body.tabIndex = -1; document.body.focus(); }")
    tab_to(page, lambda f: f["tag"] == "INPUT", "Tab", 5)
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_selector(f'#documents tr[data-source="{ARTICLE}"]')

    # Choosing files: the drop zone is a button that opens the file chooser.
    tab_to(page, lambda f: "choose files" in f["text"], "Tab", 10)
    choose_by_keyboard(page, "#files", notes)
    row = page.locator(f'#documents tr[data-source="{NOTES}"]')
    row.wait_for(timeout=2 * ANSWER_MS)

    notes.write_text("Huddles at shift change. Porters and cleaners are asked first.\n")
    tab_to(page, lambda f: f["row"] == NOTES and f["text"] == "Replace", "Tab", 40)
    choose_by_keyboard(page, "#replace-file", notes)
    page.wait_for_selector(f".job[data-state=done] >> text=Replace {NOTES}", timeout=2 * ANSWER_MS)

    # Removing asks for a confirmation: the same button, pressed again within 5 s.
    row.wait_for(timeout=ANSWER_MS)  # the list is drawn again after the change
    tab_to(page, lambda f: f["row"] == NOTES and f["text"] == "Remove", "Tab", 40)
    page.keyboard.press("Enter")
    assert focused(page)["text"] == "Confirm remove"
    # Its name says so too: it stayed "Remove <title>" while the button read "Confirm remove".
    assert focused(page)["label"].startswith("Confirm remove ")
    page.keyboard.press("Enter")
    row.wait_for(state="detached", timeout=2 * ANSWER_MS)


# --- reflow, text spacing, motion ---------------------------------------------------------------


def test_reflow_at_320_px_with_text_spacing_and_reduced_motion(page, site):
    """320 px is 1280 px at 400% zoom (WCAG 1.4.10); text spacing must not clip (1.4.12)."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.emulate_media(reduced_motion="reduce")
    open_chat(page, site)
    ask(page, "What is collective leadership?")
    ask(page, "Who won the 2018 FIFA World Cup? " + "averyveryverylongwordwithoutanyspaces" * 3)
    page.get_by_role("button", name="What is indexed").click()
    page.locator("#qa-info table").wait_for()
    page.add_style_tag(content=TEXT_SPACING)
    page.wait_for_timeout(200)
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] == 320, f"the page is {width[0]}px wide in a 320px window"
    # Text in a box that hides what overflows it would be cut off by the wider spacing.
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('#qa-header *, #qa-chat .qa-reply *, #qa-info *, #qa-examples *')]
             .filter(e => e.children.length === 0 && e.textContent.trim())
             .filter(e => { const s = getComputedStyle(e);
                            return /hidden|clip/.test(s.overflowX + s.overflowY) && !e.closest('.qa-visually-hidden')
                              && (e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1); })
             .map(e => e.outerHTML.slice(0, 100))"""
    )
    assert clipped == []
    # Gradio fades its status boxes and inputs (0.1 to 0.15 s); asked for less motion, nothing moves.
    moving = page.evaluate(
        """() => [...document.querySelectorAll('*')].filter(e => { const s = getComputedStyle(e);
                return s.transitionDuration.split(',').some(d => parseFloat(d) > 0.001)
                  || (s.animationName !== 'none' && parseFloat(s.animationDuration) > 0.001); })
             .map(e => e.outerHTML.slice(0, 100))"""
    )
    assert moving == []
