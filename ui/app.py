"""The Gradio app: lay out the chat page over one index and wire its events.

Layout (one column, so it reads the same at 390 px and on a desktop): title and a line on what
is loaded, the conversation, the question box, example questions, the "passages to show"
control, and a panel listing what is indexed. Answers come from `ui.chat`; markup from
`ui.render`; the JSON endpoints from `ui.api`. Nothing here searches or ranks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from qa.config import SETTINGS
from qa.questionlog import QuestionLog, open_log
from ui import a11y, render
from ui.api import make_endpoints
from ui.chat import DEFAULT_K, EMPTY_QUESTION, MAX_K, MIN_K, ChatService
from ui.security import ClientLimit, too_many
from ui.site import site_for

log = logging.getLogger(__name__)

STYLE = Path(__file__).with_name("style.css")
# How long a conversation counts as waiting for an answer at most, so that a request lost on
# the way cannot block it for good.
BUSY_SECONDS = 60.0
_EMPTY_HINT = EMPTY_QUESTION.split(",")[0]  # "Type a question first": how the chat knows it said so last
WELCOME = (
    "Ask a question in your own words. Each reply quotes the sentence that answers it and "
    "lists the passages it comes from."
)

# Whenever the conversation changes, bring the latest question to the top of the chat so the
# reply is read from its start (the quoted answer), not from its last citation as Gradio's
# scroll-to-bottom would show it. Runs in the browser only.
SCROLL_TO_LATEST_JS = """
() => {
  setTimeout(() => {
    const log = document.querySelector("#qa-chat [role=log]");
    if (!log) return;
    const rows = log.querySelectorAll(".message-row");
    if (!rows.length) return;
    const last = rows[rows.length - 1];
    const prev = rows.length > 1 ? rows[rows.length - 2] : null;
    const target = last.classList.contains("user-row") || !prev || !prev.classList.contains("user-row") ? last : prev;
    // Land below the chat's floating clear button, which would otherwise cover the question.
    const panel = document.querySelector("#qa-chat .top-panel");
    const top = panel ? panel.getBoundingClientRect().bottom + 6 : log.getBoundingClientRect().top + 8;
    log.scrollTop += target.getBoundingClientRect().top - top;
  }, 60);
}
"""

# Gradio scopes `css_paths` rules to its content area, so the page's outer padding (wide on a
# phone), and whatever must also reach Gradio's own footer panels (`ui.a11y`), can only be set
# from a plain <style> in the page head.
OUTER_CSS = (
    """
@media (max-width: 640px) {
  .gradio-container .app.main { padding: 8px 10px !important; }
  /* Gradio hides "Use via API" here but not the dot after it, which then opened the footer. */
  footer[aria-label="Gradio footer navigation"] > div.divider:first-of-type { display: none !important; }
}
"""
    + a11y.HEAD_CSS
)

# "Copy reference" under each citation (ui.render.reference_html). One listener for the whole
# page, since the chat's sanitiser strips inline handlers and replies arrive after load. The
# reference goes on the clipboard as plain text and as HTML (title in italics); where the
# clipboard API is unavailable (plain http off this machine) a selected text copy stands in.
COPY_REFERENCE_JS = """
<script>
document.addEventListener("click", async (event) => {
  const button = event.target.closest && event.target.closest(".qa-copy-ref");
  if (!button) return;
  const box = button.closest(".qa-reference");
  const reference = box && box.querySelector(".qa-ref-text");
  if (!reference) return;
  const plain = reference.textContent, rich = reference.innerHTML;
  let copied = false;
  try {
    if (navigator.clipboard && window.ClipboardItem) {
      await navigator.clipboard.write([new ClipboardItem({
        "text/plain": new Blob([plain], {type: "text/plain"}),
        "text/html": new Blob([rich], {type: "text/html"}),
      })]);
      copied = true;
    } else if (navigator.clipboard) {
      await navigator.clipboard.writeText(plain);
      copied = true;
    }
  } catch (error) { copied = false; }
  if (!copied) {
    const area = document.createElement("textarea");
    area.value = plain;
    document.body.appendChild(area);
    area.select();
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    area.remove();
  }
  box.classList.add("qa-copied");
  button.textContent = copied ? "Copied" : "Select and copy:";
  setTimeout(() => { button.textContent = "Copy reference"; }, 2500);
});
</script>
"""

# What the page's <head> needs besides Gradio's own; any server mounting the chat passes it on
# (`launch(head=...)` or `gr.mount_gradio_app(..., head=...)`).
PAGE_HEAD = f"<style>{OUTER_CSS}</style>{a11y.HEAD_JS}{COPY_REFERENCE_JS}"

# System fonts only: the default theme fetches Google Fonts, which fails (and logs console
# errors) on machines without internet access, and sends every visitor's address to Google.
_SANS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]


def theme() -> gr.themes.Base:
    """A calm theme with system fonts, so the page loads nothing from other sites.

    The Soft theme's grey text, blue labels and white-on-blue buttons fall below WCAG's 4.5:1
    contrast (axe-core measured 2.4 to 3.7); these shades keep its look and pass in both schemes.
    """
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate", font=_SANS, font_mono=_MONO).set(
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_300",
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        input_placeholder_color="*neutral_500",
        input_placeholder_color_dark="*neutral_400",
        link_text_color="*primary_700",
        link_text_color_hover="*primary_800",
        link_text_color_visited="*primary_800",
        link_text_color_dark="*primary_300",
        link_text_color_hover_dark="*primary_200",
        link_text_color_visited_dark="*primary_200",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_border_color="*primary_700",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_border_color_dark="*primary_700",
    )


Message = dict[str, Any]


def _sample_text(sample: Any) -> str:
    """The question held by a clicked example (Gradio passes the sample's row of values)."""
    if isinstance(sample, list | tuple):
        sample = sample[0] if sample else ""
    return str(sample or "")


def _is_busy(busy_since: float) -> bool:
    """Whether this conversation is still waiting for an answer (see `build_app`)."""
    return bool(busy_since) and time.monotonic() - busy_since < BUSY_SECONDS


def _handed_on(question: str) -> dict[str, Any]:
    """A question for `converse`, stamped so that asking the same one twice is still a change."""
    return {"question": question, "at": time.time()}


def _take_typed(typed: str | None, busy_since: float) -> tuple[Any, Any, Any]:
    """Hand a typed question on (the browser has emptied the box), unless an answer is on its way.

    While busy the question is put back in the box, to be sent again once the answer is in.
    """
    box = (typed or "") if _is_busy(busy_since) else gr.skip()
    return (box, *_take_example(typed, busy_since))


def _take_example(sample: Any, busy_since: float) -> tuple[Any, Any]:
    """Hand a clicked example question on, unless an answer is still on its way."""
    if _is_busy(busy_since):
        return gr.skip(), gr.skip()
    return _handed_on(_sample_text(sample)), time.monotonic()


def _take_option(busy_since: float, event: gr.SelectData) -> tuple[Any, Any]:
    """Hand on the suggestion button clicked under a reply, unless an answer is on its way."""
    return _take_example(event.value, busy_since)


def default_question_log() -> QuestionLog | None:
    """The question log from settings; answering goes on without one if it cannot be opened."""
    try:
        return open_log()
    except (OSError, ValueError) as exc:
        log.error("questions are not logged: %s", exc)
        return None


def _feedback(service: ChatService, logged: dict[int, int] | None, like: gr.LikeData) -> None:
    """A thumbs up or down on a reply, stored on that reply's row of the question log.

    The row is looked up server side from the reply's place in the chat, so a page can only
    rate answers it was given. Gradio sends True (like), False (dislike) or "" (withdrawn).
    """
    row = (logged or {}).get(like.index) if isinstance(like.index, int) else None
    if row is not None:
        service.feedback(row, like.liked if isinstance(like.liked, bool) else None)


# After the header is refreshed, the browser tab takes the heading's title too.
TAB_TITLE_JS = """
() => {
  const heading = document.querySelector("#qa-header h1");
  if (heading && heading.textContent) document.title = heading.textContent;
}
"""


def build_app(
    index: Any,
    examples: Sequence[str] | None = None,
    default_k: int = DEFAULT_K,
    question_log: QuestionLog | None = None,
    limit: ClientLimit | None = None,
) -> gr.Blocks:
    """Build the chat page for `index` (a `qa.Index`); `examples` are offered to click.

    Without `examples`, the page's title, heading and example questions come from what is
    indexed (`ui.site`); the header, examples and "What is indexed" panel are read again on
    each page load and after each answer, so they follow rebuilds. The conversation's earlier
    questions live in per-browser-session state and are passed to `index.ask(history=...)`,
    so a follow-up is searched with its context. Every question is stored in `question_log` (by
    default the one `QA_LOG_DB` names, none when `QA_LOG=0`), and the like buttons under each
    reply rate its row there.
    """
    info = index.info
    site = site_for(info)
    fixed_examples = None if examples is None else tuple(examples)
    service = ChatService(
        index,
        site.examples if fixed_examples is None else fixed_examples,
        question_log=question_log or default_question_log(),
    )
    retrieve, ask = make_endpoints(index, service.question_log, limit)

    def page() -> tuple[Any, ...]:
        """The parts of the page that depend on what is indexed, for the index serving now."""
        now = index.info
        current = site_for(now)
        offered = current.examples if fixed_examples is None else fixed_examples
        service.examples = offered
        return (
            render.header_html(now, current.title),
            render.index_info_html(now),
            gr.Dataset(samples=[[e] for e in offered], visible=bool(offered)),
        )

    def loaded_page() -> tuple[Any, ...]:
        """`page()` plus the question box's placeholder, set only on load (never under typing)."""
        return (*page(), gr.Textbox(placeholder=site_for(index.info).placeholder))

    shown = site.examples if fixed_examples is None else fixed_examples
    with gr.Blocks(title=site.title, analytics_enabled=False) as demo:
        gr.HTML(a11y.SKIP_AND_ANNOUNCE, elem_id="qa-skip-and-announce", padding=False)
        header = gr.HTML(render.header_html(info, site.title), elem_id="qa-header")
        chatbot = gr.Chatbot(
            elem_id="qa-chat",
            label="Conversation",
            show_label=False,
            height="60vh",
            min_height=320,
            placeholder=f'<p class="qa-welcome">{render.text(WELCOME)}</p>',
            # Messages are HTML built by ui.render with all text escaped; the sanitiser stays on
            # as a second guard, and LaTeX is off so "$$" in a document is just text.
            sanitize_html=True,
            render_markdown=True,
            latex_delimiters=[],
            buttons=[],
            feedback_options=("Like", "Dislike") if service.question_log else None,
            group_consecutive_messages=False,
            autoscroll=False,  # SCROLL_TO_LATEST_JS places the view instead
        )
        question = gr.Textbox(
            elem_id="qa-question",
            label="Your question",  # its accessible name (hidden, the placeholder shows); was "Textbox"
            show_label=False,
            placeholder=site.placeholder,
            submit_btn="Ask",
            autofocus=True,
            lines=1,
            max_lines=4,
        )
        with gr.Row(equal_height=False, elem_id="qa-controls"):
            example_list = gr.Dataset(
                elem_id="qa-examples",
                label="Example questions",
                components=[question],
                samples=[[e] for e in shown],
                visible=bool(shown),
                type="values",
                scale=2,
                min_width=260,
            )
            k = gr.Slider(
                MIN_K,
                MAX_K,
                value=default_k,
                step=1,
                label="Passages to show",
                elem_id="qa-k",
                buttons=[],
                scale=1,
                min_width=260,
            )
        with gr.Accordion("What is indexed", open=False):
            info_panel = gr.HTML(render.index_info_html(info), elem_id="qa-info")
        gr.HTML(a11y.FOOTER, elem_id="qa-footer", padding=False)

        asked = gr.State([])  # this conversation's earlier questions, for follow-ups
        # One question at a time per conversation: the chat is replaced whole by each step, so
        # two answers in flight could each drop the other's messages. `busy` (server side, so
        # every click sees it at once) is when the question being answered was handed on.
        busy = gr.State(0.0)
        # The question handed on to `converse`. A component, not a gr.State: the browser sends
        # its value along, so `converse` gets the question that was handed on to it.
        pending = gr.JSON(None, visible=False)
        # Each logged reply's place in the chat -> its row in the question log, for the likes.
        logged = gr.State({})

        def converse(
            handed_on: dict[str, Any] | None,
            chat: list[Message] | None,
            earlier: list[str] | None,
            k_value: float,
            rows: dict[int, int] | None,
            request: gr.Request,
        ) -> Iterator[tuple[Any, Any, Any, Any]]:
            """Show the question (escaped), then add its answer (or say the client must wait).

            A generator, so the question appears as soon as this starts, before the answer.
            """
            if not handed_on:
                return
            message = str(handed_on.get("question", ""))
            chat = list(chat or [])
            earlier = list(earlier or [])
            if message.strip():
                chat.append({"role": "user", "content": render.question_html(message)})
                yield chat, gr.skip(), gr.skip(), gr.skip()
            elif chat and _EMPTY_HINT in str(chat[-1]):
                # The hint is what was said last: pressing Ask again on nothing adds nothing (a
                # generator that yields nothing would empty the chat).
                yield gr.skip(), gr.skip(), 0.0, gr.skip()
                return
            wait = limit.wait(request.client.host if request.client else None, request.headers, "chat") if limit else 0
            if wait:
                notice = render.notice_html(too_many(wait).capitalize() + ".", "error")
                yield [*chat, {"role": "assistant", "content": notice}], earlier, 0.0, rows
                return
            turn = service.reply(message, earlier, k_value)
            reply: Message = {"role": "assistant", "content": turn.html}
            if turn.suggestions:
                # Shown as buttons under the reply; a click asks it (see _take_option).
                reply["options"] = [{"value": s, "label": s} for s in turn.suggestions]
            if turn.answered:
                earlier = [*earlier, message.strip()][-SETTINGS.history_turns :]
            rows = dict(rows or {})
            if turn.log_id is not None:
                rows[len(chat)] = turn.log_id
            yield [*chat, reply], earlier, 0.0, rows

        quick: dict[str, Any] = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
        # The browser empties the box the moment a question is sent (a reply from the server
        # would arrive late and could wipe a question typed in the meantime); `typed` carries it.
        typed = gr.Textbox(visible=False)
        question.submit(None, [question], [question, typed], js="(q) => ['', q]", **quick).then(
            _take_typed, [typed, busy], [question, pending, busy], **quick
        )
        example_list.click(_take_example, [example_list, busy], [pending, busy], **quick)
        chatbot.option_select(_take_option, [busy], [pending, busy], **quick)
        refreshed = [header, info_panel, example_list]
        pending.change(
            converse,
            [pending, chatbot, asked, k, logged],
            [chatbot, asked, busy, logged],
            # Should a question be handed on while the last is still answered in this page, it
            # waits for that answer and then starts from the chat as it is by then.
            trigger_mode="always_last",
            show_progress="minimal",  # the chat shows its own "thinking" bubble
            api_visibility="private",
        ).then(page, None, refreshed, **quick).then(None, js=TAB_TITLE_JS, **quick)
        demo.load(loaded_page, None, [*refreshed, question], **quick).then(None, js=TAB_TITLE_JS, **quick)
        chatbot.change(fn=None, js=SCROLL_TO_LATEST_JS)
        chatbot.change(fn=None, js=a11y.ANNOUNCE_JS)
        # Clearing the chat starts a new conversation: earlier questions no longer apply.
        chatbot.clear(lambda: ([], {}), None, [asked, logged], queue=False, api_visibility="private")

        if service.question_log is not None:  # no like buttons (nor listener) without a log to keep them

            def rate(rows: dict[int, int] | None, like: gr.LikeData) -> None:
                _feedback(service, rows, like)

            chatbot.like(rate, [logged], None, **quick)

        gr.api(retrieve, api_name="retrieve")
        gr.api(ask, api_name="ask")
    return demo


def mount(
    app: Any,
    demo: gr.Blocks,
    path: str = "/",
    auth: list[tuple[str, str]] | None = None,
    concurrency: int = 4,
    max_queue: int = 256,
) -> Any:
    """Serve `demo` at `path` of the FastAPI `app`: queued, never shared, tracebacks kept private."""
    demo.queue(default_concurrency_limit=concurrency, max_size=max_queue)
    return gr.mount_gradio_app(
        app,
        demo,
        path=path,
        auth=auth,
        auth_message="Enter the user name and password you were given." if auth else None,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        footer_links=["api", "settings"],
        theme=theme(),
        css_paths=[STYLE],
        head=PAGE_HEAD,
    )
