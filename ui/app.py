"""The Gradio app: lay out the chat page over one index and wire its events.

Layout (one column, so it reads the same at 390 px and on a desktop): title and a line on what
is loaded, the conversation, the question box, example questions, the "passages to show"
control, and a panel listing what is indexed. Answers come from `ui.chat`; markup from
`ui.render`; the JSON endpoints from `ui.api`. Nothing here searches or ranks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from ui import render
from ui.api import make_endpoints
from ui.chat import DEFAULT_K, MAX_K, MIN_K, ChatService

log = logging.getLogger(__name__)

STYLE = Path(__file__).with_name("style.css")
PAGE_TITLE = "Ask about collective leadership"
WELCOME = (
    "Ask a question in your own words. Each reply quotes the sentence that answers it and "
    "lists the passages it comes from."
)

# System fonts only: the default theme fetches Google Fonts, which fails (and logs console
# errors) on machines without internet access, and sends every visitor's address to Google.
_SANS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]


def theme() -> gr.themes.Base:
    """A calm theme with system fonts, so the page loads nothing from other sites."""
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate", font=_SANS, font_mono=_MONO)


Message = dict[str, Any]


def _echo(message: str | None, chat: list[Message] | None) -> tuple[str, list[Message], str]:
    """Show the question at once (escaped), clear the box, and hand the question on."""
    message = message or ""
    chat = list(chat or [])
    if message.strip():
        chat.append({"role": "user", "content": render.question_html(message)})
    return "", chat, message


def _sample_text(sample: Any) -> str:
    """The question held by a clicked example (Gradio passes the sample's row of values)."""
    if isinstance(sample, list | tuple):
        sample = sample[0] if sample else ""
    return str(sample or "")


def build_app(index: Any, examples: Sequence[str] = (), default_k: int = DEFAULT_K) -> gr.Blocks:
    """Build the chat page for `index` (a `qa.Index`); `examples` are offered to click.

    The conversation's earlier questions live in per-browser-session state and are passed to
    `index.ask(history=...)`, so a follow-up is searched with its context.
    """
    info = index.info
    service = ChatService(index, examples)
    retrieve, ask = make_endpoints(index)

    with gr.Blocks(title=PAGE_TITLE, analytics_enabled=False) as demo:
        gr.HTML(render.header_html(info), elem_id="qa-header")
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
            feedback_options=None,
            group_consecutive_messages=False,
        )
        question = gr.Textbox(
            elem_id="qa-question",
            show_label=False,
            placeholder="Ask a question, e.g. What is collective leadership?",
            submit_btn="Ask",
            autofocus=True,
            lines=1,
            max_lines=4,
        )
        with gr.Row(equal_height=False):
            example_list = gr.Dataset(
                elem_id="qa-examples",
                label="Example questions",
                components=[question],
                samples=[[e] for e in examples],
                type="values",
                scale=3,
                min_width=240,
            )
            k = gr.Slider(
                MIN_K,
                MAX_K,
                value=default_k,
                step=1,
                label="Passages to show",
                elem_id="qa-k",
                scale=1,
                min_width=200,
            )
        with gr.Accordion(f"What is indexed: {render.index_summary(info)}", open=False):
            gr.HTML(render.index_info_html(info), elem_id="qa-info")

        pending = gr.State("")  # the question being answered, raw (the chat holds it escaped)
        asked = gr.State([])  # this conversation's earlier questions, for follow-ups

        def answer(
            message: str, earlier: list[str], chat: list[Message], k_value: float
        ) -> tuple[list[Message], list[str]]:
            turn = service.reply(message, earlier or [], k_value)
            chat = [*(chat or []), {"role": "assistant", "content": turn.html}]
            if turn.answered:
                earlier = [*(earlier or []), message.strip()]
            return chat, earlier or []

        # Two steps: the echo skips the queue so the question shows instantly; the answer
        # waits its turn under the concurrency limit.
        echo_io: dict[str, Any] = {
            "fn": _echo,
            "inputs": [question, chatbot],
            "outputs": [question, chatbot, pending],
            "queue": False,
            "api_visibility": "private",
        }
        answer_io: dict[str, Any] = {
            "fn": answer,
            "inputs": [pending, asked, chatbot, k],
            "outputs": [chatbot, asked],
            "api_visibility": "private",
        }
        question.submit(**echo_io).then(**answer_io)
        example_list.click(_sample_text, [example_list], [question], queue=False, api_visibility="private").then(
            **echo_io
        ).then(**answer_io)
        # Clearing the chat starts a new conversation: earlier questions no longer apply.
        chatbot.clear(lambda: [], None, [asked], queue=False, api_visibility="private")

        gr.api(retrieve, api_name="retrieve")
        gr.api(ask, api_name="ask")
    return demo


def launch(
    demo: gr.Blocks,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: list[tuple[str, str]] | None = None,
    concurrency: int = 4,
    max_queue: int = 256,
) -> None:
    """Serve `demo` until interrupted: queued, never shared publicly, tracebacks kept private."""
    demo.queue(default_concurrency_limit=concurrency, max_size=max_queue)
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
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
    )
