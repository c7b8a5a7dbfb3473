"""The web chat in a real browser: `python -m ui` serving a real index, driven by Chromium.

Uses pip's playwright with Debian's chromium (never `playwright install`). A missing browser is
a failure, not a skip: these tests are the only proof the page works. Screenshots go to
screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFINITION = "Collective leadership is a leadership in which all staff take responsibility"
TITLE = "Michael West: collective leadership for culture change"
STARTUP_SECONDS = 180
ANSWER_MS = 60_000


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def start_server(index: Path, log: Path, extra_env: dict[str, str] | None = None, args: Sequence[str] = ()) -> Server:
    """Start `python -m ui [args]` as a user would, and wait until it is ready (/readyz says 200).

    The server gets no login but what `extra_env` gives it.
    """
    port = free_port()
    logins = ("QA_UI_PASSWORD", "QA_UI_USER", "QA_API_TOKEN", "QA_ADMIN_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in logins}
    env.update({"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra_env or {})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui", "--index", str(index), "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the web chat exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:  # open to load balancers whatever the login
            with urllib.request.urlopen(f"{url}/readyz", timeout=5):
                return Server(url, process, log)
        except OSError:  # not listening yet, or 503 until the index is loaded
            time.sleep(0.5)
    stop_server(process)
    pytest.fail(f"the web chat did not start in {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def server(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("ui") / "server.log"
    running = start_server(built_index, log)
    yield running
    stop_server(running.process)
    # The server must not have leaked a traceback while serving the tests either.
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


# --- the browser --------------------------------------------------------------------------------


# `browser` (one Chromium for the whole session) is in conftest.py: every browser test shares it.


@dataclass
class Watch:
    """What the page did that it should not: console errors, uncaught exceptions, dialogs."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_page(browser, url: str, width: int = 1280, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watch = Watch()
    page.on("console", lambda m: watch.errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(f"page error: {e}"))

    def on_dialog(dialog) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url)
    page.wait_for_selector("#qa-question textarea", timeout=ANSWER_MS)
    return context, page, watch


@pytest.fixture
def chat(browser, server):
    """A fresh desktop-sized page on the chat; fails the test on console errors or dialogs."""
    context, page, watch = open_page(browser, server.url)
    yield page
    try:
        assert watch.dialogs == [], "the page opened a dialog"
        assert watch.errors == [], "the browser console reported errors"
    finally:
        context.close()


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def ask(page, question: str):
    """Type `question`, send it, and return the reply that appears for it."""
    replies = page.locator("#qa-chat [data-testid=bot]")
    before = replies.count()
    page.fill("#qa-question textarea", question)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#qa-chat [data-testid=bot]').length > n", arg=before, timeout=ANSWER_MS
    )
    return replies.nth(before)


# --- the tests ----------------------------------------------------------------------------------


def test_first_screen_has_title_examples_k_control_and_index_panel(chat):
    assert "Ask about collective leadership" in chat.locator("#qa-header h1").inner_text()
    assert TITLE in chat.locator("#qa-header").inner_text()
    assert "passages" in chat.locator("#qa-header").inner_text()
    # The examples render after the question box: wait for them rather than count at once.
    expect(chat.locator("#qa-examples button", has_text="What is collective leadership?")).to_have_count(
        1, timeout=ANSWER_MS
    )
    assert chat.locator("#qa-k input[type=number]").input_value() == "3"
    chat.get_by_text("What is indexed").click()
    panel = chat.locator("#qa-info")
    panel.wait_for()
    assert TITLE in panel.inner_text() and "Michael West" in panel.inner_text()
    shoot(chat, "desktop-first-screen")


def test_answer_with_citation(chat):
    reply = ask(chat, "What is collective leadership?")
    assert DEFINITION in reply.locator(".qa-answer").inner_text()
    first = reply.locator(".qa-cite").first
    head = first.locator(".qa-cite-head").inner_text()
    assert "[1]" in head and TITLE in head and "Michael West" in head and "4 June 2014" in head
    assert "paragraph" in head
    assert "relevance" in first.locator(".qa-rel").inner_text()
    assert DEFINITION in first.locator(".qa-passage mark").inner_text()
    shoot(chat, "desktop-answer")
    # The surrounding text is there on demand, collapsed until asked for.
    context = first.locator("details.qa-context")
    assert not context.evaluate("d => d.open")
    context.locator("summary").click()
    assert context.evaluate("d => d.open")
    assert DEFINITION in context.locator(".qa-current").inner_text()
    shoot(chat, "desktop-answer-surrounding-text")


def test_asked_what_the_article_is_about_the_chat_quotes_its_opening_unrated(chat):
    reply = ask(chat, "What is this article about?")
    assert "Michael West, Senior Fellow at The King's Fund, explains" in reply.locator(".qa-answer").inner_text()
    first = reply.locator(".qa-cite").first
    assert "Relevance not rated" in first.locator(".qa-rel").inner_text()  # no search rated it
    assert "Senior Fellow" in first.locator(".qa-passage mark").inner_text()


def test_related_reply(chat):
    """On the content's topic but not answered by it: said plainly, the closest passages shown open."""
    reply = ask(chat, "How many nurses did the NHS employ in 2019?")
    assert "Not answered." in reply.inner_text()
    assert reply.locator(".qa-answer").count() == 0
    assert "Related, does not answer" in reply.locator(".qa-related-label").inner_text()
    assert reply.locator(".qa-related .qa-cite").count() > 0  # open, not collapsed
    shoot(chat, "desktop-related")


def test_unsure_reply_reads_as_unsure_on_a_phone(browser, server):
    """Neither an answer nor a refusal: said in words and an icon, the closest passages shown open."""
    from tests.test_answerable import UNSURE_QUESTION

    context, page, watch = open_page(browser, server.url, width=390, height=844)
    try:
        reply = ask(page, UNSURE_QUESTION)
        outcome = reply.locator(".qa-outcome")
        assert "Not sure." in outcome.inner_text() and "may answer" in outcome.inner_text()
        assert outcome.locator(".qa-icon").inner_text() == "?"
        assert reply.locator(".qa-answer").count() == 0  # nothing is quoted as the answer
        assert reply.locator(".qa-unsure .qa-cite").count() > 0  # the closest passages, open
        assert reply.locator(".qa-unsure mark").first.is_visible()  # the likeliest sentence marked
        box = outcome.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390.5  # readable at phone width
        shoot(page, "phone-unsure")
        assert watch.errors == []
    finally:
        context.close()


def test_not_covered_reply(chat):
    reply = ask(chat, "Who won the 2018 FIFA World Cup?")
    assert "Not covered." in reply.inner_text()
    assert reply.locator(".qa-answer").count() == 0
    closest = reply.locator("details.qa-closest")
    assert "do not answer" in closest.locator("> summary").inner_text()
    assert not closest.evaluate("d => d.open")
    shoot(chat, "desktop-not-covered")
    # The suggested questions are buttons; one click asks it.
    chat.locator("#qa-chat button", has_text="What is collective leadership?").first.click()
    chat.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-found').length > 0", timeout=ANSWER_MS)
    assert DEFINITION in chat.locator("#qa-chat .qa-found .qa-answer").inner_text()


def test_markup_in_a_question_is_shown_literally_and_runs_nothing(chat):
    question = (
        "What is <img src=x onerror=\"window.__xss=1;alert('img')\"> and "
        "<script>window.__xss=2;alert('script')</script> leadership?"
    )
    reply = ask(chat, question)
    shown = chat.locator("#qa-chat [data-testid=user]").last.inner_text()
    assert "<img src=x onerror=" in shown and "<script>" in shown
    reply.wait_for()
    chat.wait_for_timeout(500)  # give an injected handler every chance to fire
    assert chat.evaluate("() => window.__xss") is None
    assert chat.locator("#qa-chat img[src='x'], #qa-chat script").count() == 0
    shoot(chat, "desktop-xss")


def test_follow_up_question_shows_what_was_searched(chat):
    first = ask(chat, "What is collective leadership?")
    assert first.locator(".qa-searched").count() == 0
    follow = ask(chat, "and who is accountable?")
    searched = follow.locator(".qa-searched").inner_text()
    assert "What is collective leadership?" in searched and "who is accountable" in searched
    assert follow.locator(".qa-answer").count() == 1
    shoot(chat, "desktop-follow-up")


def test_example_click_asks_it_and_k_control_sets_the_number_of_passages(chat):
    k = chat.locator("#qa-k input[type=number]")
    k.fill("1")
    k.press("Enter")
    chat.locator("#qa-examples button", has_text="Who is accountable under collective leadership?").click()
    chat.wait_for_selector("#qa-chat .qa-reply", timeout=ANSWER_MS)
    reply = chat.locator("#qa-chat [data-testid=bot]").last
    assert reply.locator(".qa-cite").count() == 1
    assert "Who is accountable under collective leadership?" in chat.locator("#qa-chat [data-testid=user]").inner_text()


# From 100 ms on: two sends within one server round trip (a few ms, faster than anyone types)
# can still both pass the server-side busy check, and the later may then supersede the earlier.
@pytest.mark.parametrize("pause_ms", [100, 400])
def test_a_question_sent_while_one_is_answered_does_not_scramble_the_chat(chat, pause_ms):
    box = "#qa-question textarea"
    second = "Who is accountable under collective leadership?"
    chat.fill(box, "What is collective leadership?")
    chat.press(box, "Enter")
    chat.wait_for_timeout(pause_ms)
    chat.fill(box, second)
    chat.press(box, "Enter")
    # Settled: either both questions are answered, or the second was left in the box.
    chat.wait_for_function(
        """second => {
            const replies = document.querySelectorAll('#qa-chat .qa-reply').length;
            const box = document.querySelector('#qa-question textarea').value;
            return replies === 2 || (replies === 1 && box === second);
        }""",
        arg=second,
        timeout=ANSWER_MS,
    )
    chat.wait_for_timeout(500)  # anything still arriving would show up as a third message
    rows = chat.locator("#qa-chat .message-row")
    roles = ["user" if "user-row" in (rows.nth(i).get_attribute("class") or "") else "bot" for i in range(rows.count())]
    # Every question is followed by its own reply: nothing overwritten, nothing out of order.
    assert roles in (["user", "bot"], ["user", "bot", "user", "bot"])
    if len(roles) == 2:  # sent while the first was answered: kept in the box to send again
        assert chat.input_value(box) == second
    else:
        assert second in chat.locator("#qa-chat [data-testid=user]").nth(1).inner_text()
        assert chat.locator("#qa-chat .qa-found").count() == 2


def test_empty_question_gets_a_friendly_reply(chat):
    reply = ask(chat, "   ")
    assert "Type a question first" in reply.inner_text()
    # Pressing Ask again on nothing adds no second hint (each press added one).
    for _ in range(2):
        chat.locator("#qa-question button", has_text="Ask").click()
        chat.wait_for_timeout(1500)  # time for a reply that should not come
    assert chat.locator("#qa-chat [data-testid=bot]").count() == 1
    ask(chat, "What is collective leadership?")
    assert chat.locator("#qa-chat [data-testid=bot]").count() == 2


def test_phone_width_has_no_horizontal_overflow(browser, server):
    context, page, watch = open_page(browser, server.url, width=390, height=844)
    try:
        ask(page, "What is collective leadership?")
        shoot(page, "phone-answer")
        ask(page, "Who won the 2018 FIFA World Cup? " + "averyveryverylongwordwithoutanyspaces" * 4)
        shoot(page, "phone-not-covered")
        page.locator("#qa-chat details.qa-context").first.locator("summary").click()
        page.wait_for_timeout(300)
        shoot(page, "phone-surrounding-text")
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1] == 390, f"page is {widths[0]}px wide in a {widths[1]}px viewport"
        too_wide = page.evaluate(
            """() => [...document.querySelectorAll('#qa-chat .qa-reply, #qa-chat .qa-question')]
                 .filter(e => e.getBoundingClientRect().right > 390.5).length"""
        )
        assert too_wide == 0
        # Gradio hides "Use via API" on a phone; the dot after it opened the footer ("· Settings").
        assert page.locator("footer").first.inner_text().strip() == "Settings"
        assert watch.errors == [] and watch.dialogs == []
    finally:
        context.close()


def test_retrieve_api_through_gradio_client(server):
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    passages = client.predict("What is collective leadership?", 3, api_name="/retrieve")
    assert isinstance(passages, list) and len(passages) == 3
    assert json.loads(json.dumps(passages)) == passages
    first = passages[0]
    for key in ("text", "score", "source", "title", "start", "end", "highlight", "paragraph", "relevance"):
        assert key in first
    assert DEFINITION in first["text"] and first["highlight"] in first["text"]
    answer = client.predict("What is collective leadership?", 2, api_name="/ask")
    assert answer["found"] is True and DEFINITION in answer["answer"] and len(answer["passages"]) == 2
    follow = client.predict("and who is accountable?", 3, ["What is collective leadership?"], api_name="/ask")
    assert "What is collective leadership?" in follow["query"] and "accountable" in follow["query"]
    with pytest.raises(Exception, match=r"(?i)empty|question"):
        client.predict("   ", 3, api_name="/retrieve")


def test_many_users_at_once_all_get_answers(server):
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    questions = [
        "What is collective leadership?",
        "Who is accountable under collective leadership?",
        "Who won the 2018 FIFA World Cup?",
        "Why is collective leadership about reinforcing values?",
    ] * 3
    jobs = [client.submit(q, 3, api_name="/ask") for q in questions]
    answers = [job.result(timeout=120) for job in jobs]
    assert [a["question"] for a in answers] == questions
    assert [a["found"] for a in answers].count(False) == 3


def test_password_from_environment_guards_the_chat(browser, built_index, tmp_path):
    guarded = start_server(built_index, tmp_path / "server.log", {"QA_UI_PASSWORD": "correct horse"})
    try:
        with urllib.request.urlopen(f"{guarded.url}/config", timeout=5) as response:
            assert TITLE not in response.read().decode()  # nothing of the content before login
    except urllib.error.HTTPError as refused:
        assert refused.code in (401, 403)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(guarded.url)
        page.wait_for_selector("input[type=password]", timeout=ANSWER_MS)
        assert page.locator("#qa-question").count() == 0
        page.locator("input[type=text], input:not([type])").first.fill("nhs")
        page.fill("input[type=password]", "correct horse")
        page.keyboard.press("Enter")
        page.wait_for_selector("#qa-question textarea", timeout=ANSWER_MS)
        context.close()
    finally:
        stop_server(guarded.process)
