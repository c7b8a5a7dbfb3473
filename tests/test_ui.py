"""Unit tests of the web chat's pieces that need no server: rendering, chat turns, JSON, options."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

import qa
from qa.types import Answer, Passage
from ui import render
from ui.__main__ import auth_from_env, is_loopback, parse_args
from ui.api import PassageJSON, answer_json, passage_json
from ui.chat import EMPTY_QUESTION, UNEXPECTED_ERROR, ChatService, clamp_k

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert('x')</script>"
DEFINITION = (
    "Collective leadership is a leadership in which all staff take responsibility for ensuring high quality "
    "patient care and all are accountable."
)
PASSAGE_TEXT = f"Michael West explains it. {DEFINITION} Watch the video."


def make_passage(**changes) -> Passage:
    start = PASSAGE_TEXT.index(DEFINITION)
    passage = Passage(
        text=PASSAGE_TEXT,
        source="michael-west.txt",
        title="Michael West: collective leadership for culture change",
        start=100,
        end=100 + len(PASSAGE_TEXT),
        paragraph=2,
        metadata={"author": "Michael West", "date": "4 June 2014"},
        score=0.9,
        similarity=0.7,
        relevance="high",
        highlight=DEFINITION,
        highlight_start=start,
        highlight_end=start + len(DEFINITION),
    )
    return replace(passage, **changes)


def found_answer(**changes) -> Answer:
    answer = Answer(
        found=True,
        text=DEFINITION,
        passages=[make_passage(), make_passage(relevance="medium", paragraph=5)],
        question="What is collective leadership?",
        query="What is collective leadership?",
    )
    return replace(answer, **changes)


def not_found_answer() -> Answer:
    return Answer(
        found=False,
        text="The indexed content does not cover this question.",
        passages=[make_passage(relevance="low", similarity=0.1)],
        question="Who won the 2018 FIFA World Cup?",
        query="Who won the 2018 FIFA World Cup?",
    )


def tags(html: str) -> set[str]:
    """The element names in an HTML string (what a browser would create from it)."""
    return {t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9-]*)", html)}


# --- escaping -----------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", [IMG, SCRIPT, '"><svg onload=alert(1)>', "</div><iframe src=javascript:1>"])
def test_question_is_escaped_never_markup(hostile):
    html = render.question_html(f"What is {hostile} leadership?")
    assert tags(html) == {"div"}
    assert "<img" not in html and "<script" not in html and "<svg" not in html and "<iframe" not in html
    assert render.text(hostile) in html


def test_document_text_is_escaped_in_every_place_it_appears():
    hostile = make_passage(
        text=f"{IMG} said {SCRIPT}. {DEFINITION}",
        title=f"Title {SCRIPT}",
        section=f"Related {IMG}",
        metadata={"author": f"A {IMG}", "date": SCRIPT},
        highlight=DEFINITION,
        highlight_start=len(f"{IMG} said {SCRIPT}. "),
        highlight_end=len(f"{IMG} said {SCRIPT}. ") + len(DEFINITION),
    )
    answer = found_answer(text=f"{DEFINITION} {IMG}", passages=[hostile], query=f"q {SCRIPT}")
    html = render.answer_html(answer, [(f"before {IMG}", f"after {SCRIPT}")], examples=[f"Example {IMG}?"])
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;" in html
    assert "img" not in tags(html) and "script" not in tags(html)


def test_escaping_does_not_break_out_of_attributes():
    assert render.text('" onmouseover="x') == "&quot; onmouseover=&quot;x"
    assert render.text("it's") == "it&#x27;s"


def test_messages_are_single_html_blocks_without_blank_lines():
    # A blank line would end the HTML block and hand the rest to the Markdown parser.
    answer = found_answer(passages=[make_passage(text=PASSAGE_TEXT.replace(". ", ".\n\n"))])
    html = render.answer_html(answer, [("one\n\ntwo", "three\nfour")])
    assert "\n" not in html
    assert "\n" not in render.question_html("first line\n\nsecond line")
    assert "<br><br>" in render.question_html("first line\n\nsecond line")


def test_very_long_question_is_shortened_for_display():
    html = render.question_html("why " * 2000)
    assert len(html) < render.QUESTION_DISPLAY_CHARS + 100
    assert html.endswith("…</div>")


# --- answers ------------------------------------------------------------------------------------


def test_found_answer_quotes_first_then_numbered_citations():
    html = render.answer_html(found_answer())
    assert html.index('class="qa-answer"') < html.index('class="qa-citations"')
    assert re.search(r'<blockquote class="qa-answer"><p>Collective leadership is .*? <span class="qa-ref">\[1\]', html)
    assert '<span class="qa-num">[1]</span>' in html and '<span class="qa-num">[2]</span>' in html
    assert "Michael West: collective leadership for culture change" in html
    assert '<span class="qa-author">Michael West</span>' in html
    assert '<span class="qa-date">4 June 2014</span>' in html
    assert "paragraph 2" in html and "paragraph 5" in html
    assert "High relevance" in html and "Medium relevance" in html
    assert "qa-searched" not in html  # the question itself was searched: nothing to add


def test_related_content_is_labelled_and_not_credited_to_the_page_author():
    meta = render.citation_meta(make_passage(section="Related content", paragraph=11))
    assert '<span class="qa-section">Related content</span>' in meta
    assert "Michael West</span>" not in meta and "4 June 2014" not in meta
    assert "paragraph 11" in meta


def test_page_is_shown_for_paged_documents_only():
    assert "page" not in render.citation_meta(make_passage()).replace("paragraph", "")
    meta = render.citation_meta(make_passage(page=3))
    assert '<span class="qa-page">page 3</span>' in meta and meta.index("page 3") < meta.index("paragraph 2")


def test_highlight_is_marked_inside_its_passage():
    passage = make_passage()
    html = render.highlighted_passage(passage)
    assert html == f"Michael West explains it. <mark>{render.text(DEFINITION)}</mark> Watch the video."


def test_highlight_falls_back_to_finding_the_text_when_offsets_are_off():
    passage = make_passage(highlight_start=0, highlight_end=5)
    assert f"<mark>{render.text(DEFINITION)}</mark>" in render.highlighted_passage(passage)


def test_no_highlight_means_no_mark():
    html = render.highlighted_passage(make_passage(highlight="", highlight_start=0, highlight_end=0))
    assert "<mark>" not in html


def test_highlight_offsets_split_escaped_text_correctly():
    text = f"{IMG} is not the answer. The answer is here."
    start = text.index("The answer")
    passage = make_passage(text=text, highlight=text[start:], highlight_start=start, highlight_end=len(text))
    html = render.highlighted_passage(passage)
    assert html == f"{render.text(IMG)} is not the answer. <mark>The answer is here.</mark>"


def test_relevance_bar_fills_by_label():
    assert render.relevance_html("high").count("qa-seg-on") == 3
    assert render.relevance_html("medium").count("qa-seg-on") == 2
    assert render.relevance_html("low").count("qa-seg-on") == 1
    assert "qa-bar" not in render.relevance_html("")


def test_surrounding_text_is_collapsed_and_holds_the_passage():
    html = render.citation_html(1, make_passage(), ("…text before.", "Text after…"))
    details = html[html.index("<details") :]
    assert details.startswith('<details class="qa-context"><summary>Show surrounding text</summary>')
    assert '…text before. <span class="qa-current">' in details
    assert "<mark>" in details and "Text after…" in details
    assert "<details" not in render.citation_html(1, make_passage(), None)


def test_follow_up_shows_what_was_searched():
    answer = found_answer(
        question="and who is accountable?", query="What is collective leadership? and who is accountable?"
    )
    html = render.answer_html(answer)
    assert (
        '<p class="qa-searched">Searched for: <q>What is collective leadership? and who is accountable?</q></p>' in html
    )


def test_not_covered_is_plain_with_suggestions_and_closest_passages_collapsed():
    html = render.answer_html(not_found_answer(), examples=["What is collective leadership?"])
    assert (
        '<strong class="qa-outcome-words">Not covered</strong>. '
        '<span class="qa-outcome-text">The indexed content does not cover this question.</span>'
    ) in html
    assert "<li>What is collective leadership?</li>" in html
    assert "Closest passages (they do not answer the question)" in html
    closest = html[html.index('<details class="qa-closest">') :]
    assert '<details class="qa-closest"><summary>' in closest and "open" not in closest.split(">")[0]
    assert "Low relevance" in closest
    assert "qa-answer" not in html  # nothing is presented as the answer


def test_each_outcome_opens_with_its_words_and_an_icon_never_colour_alone():
    base = not_found_answer()
    words = {"answered": "Answer", "unsure": "Not sure", "related": "Not answered", "not_covered": "Not covered"}
    icons = set()
    for status, said in words.items():
        answer = replace(base, status=status, found=status == "answered", text="quote" if status == "answered" else "t")
        html = render.answer_html(answer)
        assert f'<strong class="qa-outcome-words">{said}</strong>.' in html
        icons.add(re.search(r'<span class="qa-icon" aria-hidden="true">(.)</span>', html).group(1))
    assert len(icons) == 4  # four different shapes


def test_unsure_shows_the_closest_passages_open_and_claims_nothing():
    answer = replace(not_found_answer(), status="unsure", text=qa.engine.UNSURE_TEXT)
    html = render.answer_html(answer, examples=["What is collective leadership?"])
    assert f'Not sure</strong>. <span class="qa-outcome-text">{qa.engine.UNSURE_TEXT}</span>' in html
    assert "qa-answer" not in html  # no quote is presented as the answer
    assert "qa-closest" not in html and html.index("Closest passages, likeliest sentence marked") < html.index(
        "qa-cite"
    )  # shown open, not collapsed
    assert "<mark>" in html  # the likeliest sentence is marked
    assert "does not answer" not in html and "does not cover" not in html  # and nothing else is claimed


def test_not_covered_with_button_suggestions_keeps_only_the_lead_in():
    html = render.answer_html(not_found_answer(), examples=["What is collective leadership?"], examples_as_buttons=True)
    assert "Questions it can answer:" in html and "<li>What is collective leadership?</li>" not in html


def test_not_covered_without_passages_has_no_closest_section():
    html = render.answer_html(replace(not_found_answer(), passages=[]))
    assert "qa-closest" not in html


def test_index_panel_lists_documents_and_counts():
    info = qa.IndexInfo(
        path=Path("/tmp/idx"),
        documents=[qa.DocumentInfo("a.txt", f"Doc {SCRIPT}", 12, {"author": "Michael West", "date": "4 June 2014"})],
        passages=12,
        built_at="2025-11-26T16:05:00+00:00",
        model="all-MiniLM-L6-v2",
    )
    panel = render.index_info_html(info)
    assert "Doc &lt;script&gt;" in panel and "<script" not in panel
    assert "Michael West" in panel and "4 June 2014" in panel
    assert render.index_summary(info) == "1 document, 12 passages, built 26 Nov 2025, 16:05 UTC"
    assert "Doc &lt;script&gt;" in render.header_html(info)


# --- chat turns ---------------------------------------------------------------------------------


class FakeIndex:
    """Records what the chat asks; answers or fails as told."""

    def __init__(self, answer: Answer | None = None, error: Exception | None = None):
        self.answer, self.error = answer or found_answer(), error
        self.calls: list[tuple[str, int, tuple[str, ...]]] = []

    def ask(self, question: str, k: int = 3, history: Sequence[str] = ()) -> Answer:
        self.calls.append((question, k, tuple(history)))
        if self.error:
            raise self.error
        return self.answer

    def context(self, passage: Passage, chars: int = 400) -> tuple[str, str]:
        return "before", "after"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_empty_question_gets_a_friendly_reply_without_asking(blank):
    index = FakeIndex()
    turn = ChatService(index, examples=["What is collective leadership?"]).reply(blank)
    assert render.text(EMPTY_QUESTION) in turn.html
    assert not turn.answered and turn.suggestions == ("What is collective leadership?",)
    assert index.calls == []


def test_follow_up_passes_earlier_questions_as_history():
    index = FakeIndex()
    ChatService(index).reply("and who is accountable?", ["What is collective leadership?"], k=4)
    assert index.calls == [("and who is accountable?", 4, ("What is collective leadership?",))]


def test_reply_includes_surrounding_text_from_the_index():
    turn = ChatService(FakeIndex()).reply("What is collective leadership?")
    assert turn.answered and not turn.suggestions
    assert 'before <span class="qa-current">' in turn.html


def test_not_covered_reply_offers_the_examples():
    turn = ChatService(FakeIndex(not_found_answer()), examples=["Q1?", "Q2?"]).reply("FIFA?")
    assert turn.answered and turn.suggestions == ("Q1?", "Q2?")
    assert '<strong class="qa-outcome-words">Not covered</strong>.' in turn.html


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (qa.IndexNotFoundError("no index at /x; build one with: python -m index build"), "no index at /x"),
        (ValueError("the question is empty"), "the question is empty"),
        (RuntimeError("Traceback (most recent call last):\n  secret internals"), UNEXPECTED_ERROR),
    ],
)
def test_errors_become_a_short_message_never_a_traceback(error, shown):
    turn = ChatService(FakeIndex(error=error)).reply("What is collective leadership?")
    assert not turn.answered
    assert 'class="qa-notice qa-notice-error"' in turn.html
    assert render.text(shown) in turn.html
    assert "Traceback" not in turn.html and "secret internals" not in turn.html


def test_a_failing_context_lookup_does_not_lose_the_answer():
    class NoContext(FakeIndex):
        def context(self, passage, chars=400):
            raise OSError("gone")

    turn = ChatService(NoContext()).reply("What is collective leadership?")
    assert turn.answered and "qa-answer" in turn.html and "qa-context" not in turn.html


@pytest.mark.parametrize(("value", "k"), [(3, 3), (2.0, 2), ("5", 5), (0, 1), (99, 10), (None, 3), ("x", 3)])
def test_k_is_clamped_to_the_slider_range(value, k):
    assert clamp_k(value) == k


# --- JSON and command line ----------------------------------------------------------------------


def test_passages_and_answers_become_plain_json():
    data = answer_json(found_answer())
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"status", "found", "answer", "question", "query", "passages"}
    assert data["status"] == "answered"
    first = data["passages"][0]
    assert set(first) == set(PassageJSON.__annotations__)
    for key in ("text", "score", "source", "title", "start", "end", "highlight"):  # the CLI's --json keys
        assert key in first
    assert passage_json(make_passage(section="Related content"))["related"] is True


def test_password_comes_from_the_environment():
    assert auth_from_env({}) is None
    assert auth_from_env({"QA_UI_PASSWORD": ""}) is None
    assert auth_from_env({"QA_UI_PASSWORD": "s3cret"}) == [("nhs", "s3cret")]
    assert auth_from_env({"QA_UI_PASSWORD": "s3cret", "QA_UI_USER": "ward7"}) == [("ward7", "s3cret")]


def test_binds_loopback_by_default():
    args = parse_args([])
    assert (args.host, args.port, args.index) == ("127.0.0.1", 7860, None)
    assert is_loopback(args.host) and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")


def test_missing_index_is_a_message_and_exit_code_2(tmp_path, capsys):
    from ui.__main__ import main

    assert main(["--index", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "python -m index build" in err and "Traceback" not in err
