"""Harvard references from document metadata, and how citations carry them (no browser needed)."""

from __future__ import annotations

import html
import re

import pytest

from qa.reference import harvard, reference_of
from qa.types import Passage
from ui import render

TITLE = "Michael West: collective leadership for culture change"
ARTICLE_META = {"title": TITLE, "author": "Michael West", "date": "4 June 2014"}


def passage(**metadata: str) -> Passage:
    return Passage("Collective leadership is shared.", "michael-west.txt", TITLE, 0, 32, metadata=metadata)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        # The bundled article once the King's Fund cleaner names its publisher.
        (
            {**ARTICLE_META, "publisher": "The King's Fund"},
            f"Michael West (2014) {TITLE}. The King's Fund.",
        ),
        # As it is indexed today: no publisher.
        (ARTICLE_META, f"Michael West (2014) {TITLE}."),
        # A fetched web page: address and the day it was fetched.
        (
            {
                "author": "Jane Doe",
                "date": "2021-03-09",
                "title": "Speaking up",
                "publisher": "NHS England",
                "url": "https://example.org/speaking-up",
                "fetched_at": "2026-11-28T06:40:11+00:00",
            },
            "Jane Doe (2021) Speaking up. NHS England. Available at: https://example.org/speaking-up "
            "(Accessed: 28 November 2026).",
        ),
        # No author: the organisation stands in; no date: "no date"; no fetch time: no access date.
        (
            {"publisher": "The King's Fund", "url": "https://example.org/a"},
            f"The King's Fund (no date) {TITLE}. Available at: https://example.org/a.",
        ),
        # No one to name at all: the title leads.
        ({"date": "May 2019"}, f"{TITLE} (2019)."),
    ],
)
def test_harvard_reference_from_metadata(metadata, expected):
    assert harvard(metadata, TITLE).text == expected


def test_reference_html_italicises_the_title_and_escapes_everything():
    reference = harvard({"author": "<b>Eve</b>", "title": "A <script>x</script> & co", "date": "2020"})
    assert reference.html == "&lt;b&gt;Eve&lt;/b&gt; (2020) <i>A &lt;script&gt;x&lt;/script&gt; &amp; co</i>."
    assert reference.text == "<b>Eve</b> (2020) A <script>x</script> & co."


def test_every_citation_has_a_copy_reference_button_with_its_reference():
    html = render.citation_html(1, passage(**ARTICLE_META, publisher="The King's Fund"))
    assert '<button type="button" class="qa-copy-ref">Copy reference</button>' in html
    hidden = re.search(r'<span class="qa-ref-text">(.*?)</span>', html).group(1)
    assert hidden == f"Michael West (2014) <i>{TITLE}</i>. The King&#x27;s Fund."


def test_a_web_document_title_links_to_its_page_and_nothing_else_becomes_a_link():
    linked = render.citation_meta(passage(url="https://example.org/a?b=1&c=2"))
    assert '<a href="https://example.org/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">' in linked
    for address in ("javascript:alert(1)", 'https://x.org/" onmouseover="alert(1)', "file:///etc/passwd", ""):
        meta = render.citation_meta(passage(url=address))
        assert "<a " not in meta and "onmouseover=" not in meta.replace("&quot;", "")


# The article page's related-content teasers, each as the page lists it.
TEASERS = {
    "Pramod Achan clinical leadership Barts": "Pramod Achan (2025) The conundrum of clinical leadership: after your "
    "patients, who is it that you serve? Blog, 28 April 2025.",
    "Sally Hulks Barts Health programme": "Sally Hulks (2025) Supporting clinical leaders to shape the future: the "
    "story of Barts Health. Blog, 28 April 2025.",
    "team coaching event system in crisis": "Team coaching in health care – A vital response to a system in crisis "
    "(2025). Event, Start date: 29 May 2025.",
    # Suzie Bailey is quoted in the summary, not listed as its author: no author.
    "Suzie Bailey NHS Staff Survey response": "The King’s Fund responds to the NHS Staff Survey (2025). "
    "Press release, 13 March 2025.",
}
LISTED_ON = f" As listed on: {TITLE}. The King's Fund."


@pytest.mark.parametrize(("question", "own"), TEASERS.items())
def test_a_teasers_copy_reference_is_the_teasers_own_as_listed_on_the_page(article_index, question, own):
    (teaser,) = article_index.retrieve(question, k=1)
    assert teaser.related and teaser.section == "Related content"
    copied = re.search(r'<span class="qa-ref-text">(.*?)</span>', render.citation_html(1, teaser))[1]
    assert html.unescape(re.sub(r"</?i>", "", copied)) == own + LISTED_ON
    assert "Michael West (2014)" not in copied and "2014" not in copied
    # The page's body keeps the page's own reference.
    (body,) = article_index.retrieve("What is collective leadership?", k=1)
    assert not body.related and reference_of(body).text == f"Michael West (2014) {TITLE}. The King's Fund."
