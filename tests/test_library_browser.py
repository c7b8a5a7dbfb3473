"""The Library in a real browser: an admin uploads a .docx, a .pdf and an .html and watches the
job; the chat then answers from them, while a question asked of the server during the build was
answered from the index before it; a reader without the token gets nowhere; unusable files are named with why."""

from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import httpx
import pytest
from fastapi import FastAPI

import qa
from tests.libraryserver import TOKEN, copy_index, make_docx_bomb, serve_app
from tests.test_browser import ANSWER_MS, ask, shoot
from tests.test_formats import HTML_PAGE, make_docx, make_pdf
from tests.webserver import ARTICLE_PAGE, Route, serve
from ui.app import OUTER_CSS, STYLE, build_app, theme
from ui.library import mount_library
from ui.uploads import Limits

pytestmark = pytest.mark.browser

ARTICLE = "michael-west-collective-leadership-for-culture-change.txt"
TITLE = "Michael West: collective leadership for culture change"
NEW = {
    "ward-rounds.docx": "Ward rounds guide",
    "huddles-report.pdf": "Safety huddles report",
    "huddles.html": "Team huddles that work",
}
LONG = "culture-change-notes.txt"
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
QUESTION = "What should I bring to the bedside before the ward round?"
LIMITS = Limits(file_bytes=200_000, request_bytes=2_000_000, docx_unzipped_bytes=5_000_000)


@pytest.fixture
def site(built_index: Path, tmp_path: Path):
    """The chat and the Library on one FastAPI app, over a private copy of the article's index."""
    index_path = copy_index(built_index, tmp_path / "library")
    app = FastAPI()
    mount_library(app, index_path, admin_token=TOKEN, upload_dir=tmp_path / "uploads", limits=LIMITS)
    demo = build_app(qa.Index.load(index_path))
    app = gr.mount_gradio_app(app, demo, path="/", theme=theme(), css_paths=[STYLE], head=f"<style>{OUTER_CSS}</style>")
    with serve_app(app) as url:
        yield url


def chat_answer(client: httpx.Client, question: str) -> str:
    """The server's chat reply to `question`, asked through Gradio's queue as the page asks it."""
    joined = client.post("/gradio_api/call/ask", json={"data": [question, 3, []]})
    assert joined.status_code == 200, joined.text
    reply = client.get(f"/gradio_api/call/ask/{joined.json()['event_id']}").text
    assert "event: complete" in reply, reply[-500:]
    return reply


def test_admin_adds_three_formats_while_the_chat_keeps_answering(browser, site, tmp_path, allow_local_fetch):
    url = site
    files = tmp_path / "to-upload"
    files.mkdir()
    make_docx(files / "ward-rounds.docx")
    make_pdf(files / "huddles-report.pdf")
    (files / "huddles.html").write_text(HTML_PAGE, encoding="utf-8")
    # A longer document too (the article five times over, each part its own text, so nothing is
    # reused), so the build lasts long enough to ask questions during it, even on a busy machine.
    article = (CORPUS / ARTICLE).read_text(encoding="utf-8")
    (files / LONG).write_text("\n\n".join(f"Notes, part {n}.\n\n{article}" for n in range(1, 6)), encoding="utf-8")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # A reader without the token sees a login form and nothing of the library.
        page.goto(f"{url}/library")
        page.wait_for_selector("#token")
        assert page.locator("#admin").is_hidden() and ARTICLE not in page.content()
        page.fill("#token", "not-the-token")
        page.click("#login-form button")
        # A function, not an expression: Playwright evals an expression in the page, which the CSP forbids.
        page.wait_for_function("() => document.getElementById('login-error').textContent.length > 0")
        assert "wrong admin token" in page.inner_text("#login-error") and page.locator("#admin").is_hidden()

        page.fill("#token", TOKEN)
        page.click("#login-form button")
        page.wait_for_selector(f'#documents tr[data-source="{ARTICLE}"]')
        # No web page yet: neither the button to fetch them again nor its hint.
        assert page.locator("#refresh-row").is_hidden() and page.get_by_text("only pages whose text").is_hidden()
        shoot(page, "library-documents")

        with page.expect_response(lambda r: r.url.endswith("/api/v1/documents") and r.request.method == "POST") as sent:
            page.set_input_files("#files", [files / name for name in [*NEW, LONG]])
        job = sent.value.json()["job"]
        during = []
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
            while (state := client.get(f"/api/v1/jobs/{job}").json())["state"] not in ("done", "failed"):
                answer = chat_answer(client, QUESTION)
                # Still reading or embedding once answered: the new index cannot have been published before.
                stage = client.get(f"/api/v1/jobs/{job}").json()["stage"]
                if state["state"] == "running" and stage.startswith(("Reading", "Embedding")):
                    during.append(answer)
        assert state["state"] == "done", state
        # Asked of the server while the new index was being built: answered from the index as it was.
        assert during, state
        assert all(TITLE in a and not any(title in a for title in NEW.values()) for a in during), during[0]

        box = page.locator(f'.job[data-job="{job}"]')
        box.locator("progress").wait_for()
        page.wait_for_selector(f'.job[data-job="{job}"][data-state="done"]', timeout=ANSWER_MS)
        assert box.locator("progress").get_attribute("value") == "100" and "Done" in box.inner_text()
        # What became of each file, in words, and when the change ran.
        lines = box.locator("ul.files li").all_inner_texts()
        assert sorted(line.split(":")[0] for line in lines) == sorted([*NEW, LONG])
        assert all(re.fullmatch(r"[^:]+: added(, \d+ pages?)?, \d+ passages?", line) for line in lines), lines
        assert re.match(r"huddles-report.pdf: added, [1-9]\d* pages?, ", next(ln for ln in lines if ".pdf" in ln))
        assert re.search(r"4 files read \([1-9]\d* pages?\), \d+ passages added", box.locator(".summary").inner_text())
        assert " – " in box.locator(".times").inner_text()
        for name, title in NEW.items():
            row = page.locator(f'#documents tr[data-source="{name}"]')
            row.wait_for()
            assert title in row.inner_text() and int(row.locator("td.num").inner_text()) > 0
        assert "Amy Lee" in page.locator('#documents tr[data-source="ward-rounds.docx"]').inner_text()
        shoot(page, "library-after-upload")

        # A web page added by its address: listed with its link, and the chat's citation links to it.
        with serve({"/insight/huddles": Route(ARTICLE_PAGE.encode())}) as web:
            page.fill("#urls", f"{web.url}/insight/huddles")
            with page.expect_response(lambda r: r.url.endswith("/api/v1/documents")) as sent:
                page.click("#url-form button")
            web_job = sent.value.json()["job"]
            page.wait_for_selector(f'.job[data-job="{web_job}"][data-state="done"]', timeout=ANSWER_MS)
        link = page.locator(f'#documents tr[data-source="{web.url}/insight/huddles"] a')
        assert link.get_attribute("href") == f"{web.url}/insight/huddles" and page.locator("#refresh-web").is_visible()
        # The Changes list is newest first, as it happens and as listed when the page is opened again.
        assert page.locator("#jobs .job").evaluate_all("boxes => boxes.map(b => b.dataset.job)") == [web_job, job]
        page.reload()
        page.wait_for_selector(f'.job[data-job="{web_job}"]')
        assert page.locator("#jobs .job").evaluate_all("boxes => boxes.map(b => b.dataset.job)") == [web_job, job]

        # A line that is no web address is named whole, and the addresses stay to be corrected.
        typed = f"not a url\n{web.url}/insight/huddles"
        page.fill("#urls", typed)
        page.click("#url-form button")
        page.wait_for_selector("#messages li >> text=so none was: 'not a url'; correct or remove it")
        assert page.input_value("#urls") == typed

        # Unusable files are named with the reason; nothing is lost.
        make_docx_bomb(files / "bomb.docx", inflated=20 << 20)
        (files / "huge.txt").write_bytes(b"Far too long. " * 20_000)
        page.set_input_files("#files", [files / "bomb.docx", files / "huge.txt"])
        page.wait_for_selector("#messages li:nth-child(2)")
        messages = page.inner_text("#messages")
        assert "Refused bomb.docx: the .docx would inflate to" in messages
        assert "Refused huge.txt: 280,000 bytes is over the 200,000-byte limit per file" in messages
        # Dropped on the page, as an admin drags it from their desktop.
        page.evaluate(
            """() => {
                const files = new DataTransfer();
                files.items.add(new File(["Out."], "../../x.txt", {type: "text/plain"}));
                document.getElementById("drop").dispatchEvent(
                    new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
            }"""
        )
        page.wait_for_selector("#messages li:nth-child(3)")
        assert "x.txt: the name has a folder part" in page.inner_text("#messages")
        shoot(page, "library-refused")

        # The chat answers from the new document, citing it.
        page.goto(url)
        page.wait_for_selector("#qa-question textarea", timeout=ANSWER_MS)
        reply = ask(page, QUESTION)
        assert "Bring the latest blood results to the bedside" in reply.locator(".qa-answer").inner_text()
        assert "Ward rounds guide" in reply.locator(".qa-cite-head").first.inner_text()
        reply = ask(page, "On the wards studied, how long did safety huddles last on average?")
        assert "seven minutes on average" in reply.locator(".qa-answer").inner_text()
        cited = reply.locator(".qa-cite-head").first
        assert cited.locator("cite a").get_attribute("href") == f"{web.url}/insight/huddles"
        assert "Safety huddles on every ward" in cited.inner_text()
        shoot(page, "library-chat-web-citation")
        assert errors == []
    finally:
        context.close()
    assert not any((tmp_path / "uploads").glob("x.txt")) and not (tmp_path / "x.txt").exists()
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir() if p.is_file()) == sorted([*NEW, LONG])
