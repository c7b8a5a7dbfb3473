from index.clean import AUTHOR_WORDS, PUBLISHER, RELATED, byline_words, clean_page, is_kings_fund_page
from tests.conftest import ARTICLE


def _article():
    return clean_page(ARTICLE.read_text(encoding="utf-8"), ARTICLE.name)


def test_page_furniture_is_dropped_and_content_kept():
    doc = _article()
    lines = doc.text.splitlines()
    assert "This content is more than five years old" not in doc.text
    assert "Watch video" not in lines
    assert "-" not in lines and "Authors" not in lines
    assert "Thank you very much indeed." in lines
    # Every sentence of the talk survives cleaning.
    assert "Culture is what is important to us here" in doc.text


def test_title_author_and_date_become_metadata_and_stay_searchable():
    doc = _article()
    assert doc.title == "Michael West: collective leadership for culture change"
    assert doc.metadata["date"] == "4 June 2014"
    assert doc.metadata["author"] == "Michael West"
    header = doc.text.split("\n\n")[0]
    assert "Published 4 June 2014" in header and "By Michael West" in header


def test_only_the_declared_authors_byline_gets_the_words_readers_ask_it_by():
    doc = _article()
    header = doc.text.split("\n\n")[0]
    assert byline_words(header, doc.metadata["author"]) == f"\n{AUTHOR_WORDS}"
    assert AUTHOR_WORDS not in doc.text  # for the lexical index only: never shown or quoted
    # The name in a sentence, another author's byline, or no declared author: nothing added.
    assert byline_words("Michael West, Senior Fellow at The King's Fund, explains", "Michael West") == ""
    assert byline_words(header, "Suzie Bailey") == byline_words(header, "") == ""


def test_related_teasers_are_their_own_marked_sections():
    doc = _article()
    teasers = [doc.text[s.start : s.end] for s in doc.sections]
    assert [s.label for s in doc.sections] == [RELATED] * 4
    assert any("Sally Hulks looks back on the five-year clinical leadership" in t for t in teasers)
    assert any(t.startswith("The King’s Fund responds to the NHS Staff Survey") for t in teasers)
    # The glued "EventStart date" is split into its fields.
    assert any("Event · Start date: 29 May 2025" in t for t in teasers)
    # The article body ends before the first teaser.
    assert doc.text.index("Thank you very much indeed.") < doc.sections[0].start
    assert doc.section_at(doc.text.index("Thank you")) == ""


def test_a_number_in_the_text_is_never_changed():
    # "in 2 order that" is how the article reads; a quotation keeps it as it is.
    assert "enabling staff, in 2 order that they can shape" in _article().text


def test_the_layout_is_recognised_only_on_its_own_pages():
    assert is_kings_fund_page(ARTICLE.read_text(encoding="utf-8"))
    assert _article().metadata["publisher"] == PUBLISHER
    assert not is_kings_fund_page("Ward 7 reduced falls by 40 percent.\n\nWatch video\n\nShare")
    assert not is_kings_fund_page("Minutes\n- 4 June 2014\nAgreed actions.")  # a date alone is not the layout


def test_each_kind_of_furniture_is_logged_with_its_count(caplog):
    with caplog.at_level("INFO", logger="index.clean"):
        _article()
    assert "1 age banner" in caplog.text and "'Watch video'" in caplog.text and "lone bullet" in caplog.text
