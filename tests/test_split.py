import re

from hypothesis import given
from hypothesis import strategies as st

from index.clean import clean_page
from index.split import chunk, paragraphs, sentences
from qa.types import Document
from tests.conftest import ARTICLE


def _texts(text, spans):
    return [text[s.start : s.end] for s in spans]


def test_sentences_respect_abbreviations_and_decimals():
    text = "Dr. Smith joined the U.S. team in 2014. It grew 3.5 times! Did it? Yes."
    assert _texts(text, sentences(text)) == [
        "Dr. Smith joined the U.S. team in 2014.",
        "It grew 3.5 times!",
        "Did it?",
        "Yes.",
    ]


def test_a_line_break_ends_a_sentence_and_a_blank_line_a_paragraph():
    text = "Title line\nFirst sentence. Second one.\n\nNext paragraph."
    assert _texts(text, sentences(text)) == ["Title line", "First sentence.", "Second one.", "Next paragraph."]
    assert _texts(text, paragraphs(text)) == ["Title line\nFirst sentence. Second one.", "Next paragraph."]


def test_article_passages_are_exact_spans_within_the_limit():
    doc = clean_page(ARTICLE.read_text(encoding="utf-8"), ARTICLE.name)
    chunks = chunk(doc, 600)
    assert len(chunks) > 10
    for c in chunks:
        text = doc.text[c.span.start : c.span.end]
        assert len(text) <= 600 or len(c.sentences) == 1
        assert text == text.strip() and text[0].isupper()
        # No passage crosses a section boundary (teasers never merge into the article).
        assert doc.section_at(c.span.start) == doc.section_at(c.span.end - 1)
    # Paragraph numbers never decrease.
    assert [c.paragraph for c in chunks] == sorted(c.paragraph for c in chunks)


def test_a_sentence_over_the_limit_is_cut_at_clause_marks_then_spaces():
    clauses = "Ward 7 cut falls by 40 percent, Ward 9 by 12 percent; Ward 3 saw no change at all"
    words = " ".join(f"word{n}" for n in range(60))
    doc = Document("x.txt", "x", f"Short one. {clauses}.\n\n{words} end.")
    texts = [doc.text[c.span.start : c.span.end] for c in chunk(doc, 60)]
    assert texts[:3] == [
        "Short one.",
        "Ward 7 cut falls by 40 percent, Ward 9 by 12 percent;",
        "Ward 3 saw no change at all.",
    ]
    assert all(len(t) <= 60 for t in texts)
    # Cut between words, never inside one, and nothing lost.
    assert " ".join(texts[3:]) == f"{words} end."
    assert all(re.fullmatch(r"(word\d+ ?)+(end\.)?", t) for t in texts[3:])


def test_a_long_sentence_stands_alone_up_to_its_own_limit():
    fits = "Word " + "word " * 38 + "end."
    over = "Word " + "word " * 58 + "end."
    doc = Document("x.txt", "x", f"Short one. {fits} Another short.\n\n{over}")
    texts = [doc.text[c.span.start : c.span.end] for c in chunk(doc, 100, 250)]
    assert texts[:3] == ["Short one.", fits.strip(), "Another short."]
    assert len(texts) == 5 and " ".join(texts[3:]) == over.strip() and all(len(t) <= 250 for t in texts)


def test_a_run_without_spaces_is_cut_at_the_limit():
    doc = Document("x.txt", "x", "x" * 250)
    assert [c.span.end - c.span.start for c in chunk(doc, 100)] == [100, 100, 50]


_RUN = st.text(alphabet="abcxyz ,;:-", min_size=0, max_size=600)  # long runs without a full stop


@given(
    st.lists(st.one_of(st.text(alphabet="abc. \n?!AB1", min_size=0, max_size=80), _RUN), max_size=8),
    st.integers(20, 300),
)
def test_chunks_are_exact_ordered_spans_within_the_limit(parts, limit):
    text = "\n\n".join(parts)
    doc = Document("h.txt", "h", text)
    last_end = 0
    covered = ""
    for c in chunk(doc, limit):
        assert 0 <= c.span.start < c.span.end <= len(text)
        assert c.span.start >= last_end
        assert c.span.end - c.span.start <= limit
        for s in c.sentences:
            assert c.span.start <= s.start < s.end <= c.span.end
        last_end = c.span.end
        covered += text[c.span.start : c.span.end]
    # Every character that is not white space is in exactly one passage, in order.
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text)
