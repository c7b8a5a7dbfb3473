"""What is indexed is what the document says (issue 25): figures at a PDF page's foot, declared
dates only, text in any common encoding, tables quoted with their header row, no passage over
the limit. Reader checks on files made here; one real build with the real model for the answers.
"""

import logging
import random
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from fpdf.bidi import BidiParagraph

import qa
from index import build
from index.read import Unusable, read
from index.split import chunk
from qa import store
from qa.config import SETTINGS
from qa.sources import SourceFile
from tests.test_formats import Report

MONTHS = [
    ("January", "1,203", "the new discharge lounge opened and freed beds earlier in the day"),
    ("February", "987", "a norovirus outbreak closed two wards to new patients for a week"),
    ("March", "1,150", "the emergency department had its busiest month of the winter"),
    ("April", "1,342", "twelve extra beds opened on the surgical floor after the refurbishment"),
]


def make_monthly_pdf(path: Path) -> Path:
    """Four pages, each ending with its month's figure in words that differ only by the number."""
    pdf = Report("Northfield Trust monthly activity report", first_page=3)  # pages numbered after a cover
    pdf.set_title("Northfield Trust monthly activity report")
    for month, admissions, event in MONTHS:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, f"{month} 2026", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(
            0,
            6,
            f"In {month} {event}. The wards kept to their staffing plans, the theatres ran every planned "
            "list, and the trust board reviewed the month's figures at its meeting.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)
        pdf.multi_cell(0, 6, f"Every bed was full at the end of {month}.", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 6, f"Admissions: {admissions}", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


WARDS = [
    (f"{name} General", 40 + n * 7 % 60, 10 + n * 11 % 35)
    for n, name in enumerate(
        """Ashgrove Beechwood
Cedarbank Dunmore Elmfield Fernhill Glenside Hawthorn Ivybridge Juniper Kingsmead Larchwood Meadowbank Northgate
Oakridge Pinewood Queensway Riverside Southfield Thornbury Upton Valleyview Westbrook Yarrow""".split()
    )
]
TABLE_HEADER = "Hospital | Beds open | Nurses on shift"


def make_wards_docx(path: Path) -> Path:
    """A Word file (from python-docx's default template) with a table longer than a passage."""
    document = docx.Document()
    document.add_heading("Winter staffing by hospital", 1)
    document.add_paragraph("The table lists the beds open and the nurses on shift at each hospital on 1 December.")
    table = document.add_table(rows=len(WARDS) + 1, cols=3)
    for c, name in enumerate(TABLE_HEADER.split(" | ")):
        table.cell(0, c).text = name
    for r, row in enumerate(WARDS, start=1):
        for c, value in enumerate(row):
            table.cell(r, c).text = str(value)
    document.save(str(path))
    return path


def read_file(path: Path) -> qa.Document:
    return read(SourceFile(path, path.name), 10_000_000)


def test_pdf_keeps_every_figure_and_drops_only_lines_repeated_with_the_page_number(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="index.formats"):
        doc = read_file(make_monthly_pdf(tmp_path / "monthly.pdf"))
    for number, (month, admissions, _) in enumerate(MONTHS, start=1):
        assert doc.page_at(doc.text.index(f"Admissions: {admissions}")) == number
        # The figure closes its page's last paragraph, so its passage says which month it is.
        assert f"Every bed was full at the end of {month}.\nAdmissions: {admissions}" in doc.text
    assert "Northfield Trust monthly activity report" not in doc.text and "Page " not in doc.text
    assert "monthly.pdf: dropped page furniture: 4 page number, 4 running header/footer" in caplog.messages


# A font with Arabic letters and U+FEFF (Debian's fonts-dejavu-core, installed by `make browser`);
# the PDF core fonts have neither.
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def make_typeset_pdf(path: Path, paragraphs: list[list[str]], font: Path | None = None) -> Path:
    """One page of paragraphs broken into the lines given, as a typesetter draws them: lines 6 mm
    apart, paragraphs 4 mm further apart, every line drawn from the left margin."""
    pdf = FPDF()
    pdf.add_page()
    if font:
        pdf.add_font("body", fname=str(font))
    pdf.set_font("body" if font else "Helvetica", size=10)
    for lines in paragraphs:
        for line in lines:
            pdf.cell(h=6, text=line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(path))
    return path


def test_pdf_space_between_paragraphs_ends_one_whose_last_line_is_full_length(tmp_path):
    first = [
        "The discharge lounge opened in January and freed beds earlier in the day on every ward,",
        "and the nurses in charge said that patients going home no longer waited on the wards.",
    ]
    second = [
        "There have been claims that the lounge moved the wait rather than shortening it, and the",
        "board asked for the time from decision to discharge to be reported for each month.",
    ]
    doc = read_file(make_typeset_pdf(tmp_path / "lounge.pdf", [first, second]))
    assert doc.text.split("\n\n") == [" ".join(first), " ".join(second)]


def test_pdf_line_end_hyphen_is_the_writers_unless_the_document_has_the_word_whole(tmp_path):
    lines = [
        "The ward team agreed a new treatment plan at its first meeting this spring, as a well-",
        "known problem had grown: the wait for beds. Leaflets on the plan are printed in English-",
        "and Welsh-language versions, and the nurses said the plan was a model of good treat-",
        "ment for the whole hospital, which the board will review at its meeting in 2026-",
        "2027 with the figures for each of its wards and the views of patients and their carers.",
    ]
    doc = read_file(make_typeset_pdf(tmp_path / "plan.pdf", [lines]))
    assert doc.text == (
        "The ward team agreed a new treatment plan at its first meeting this spring, as a well-known problem had "
        "grown: the wait for beds. Leaflets on the plan are printed in English- and Welsh-language versions, and "
        "the nurses said the plan was a model of good treatment for the whole hospital, which the board will "
        "review at its meeting in 2026-2027 with the figures for each of its wards and the views of patients and "
        "their carers."
    )


def test_pdf_keeps_a_zero_width_no_break_space_where_it_is(tmp_path):
    # pypdf counts U+FEFF among the Arabic letters and turned it round with the " / " after it.
    line = "It is located at approximately 47°39′N 9°19′E\ufeff / \ufeff47.650°N 9.317°E\ufeff / 47.650; 9.317."
    doc = read_file(make_typeset_pdf(tmp_path / "lake.pdf", [[line]], UNICODE_FONT))
    assert doc.text == line


def test_pdf_right_to_left_script_drawn_in_display_order_is_read_in_reading_order(tmp_path):
    lines = [
        "Islamism, also known as Political Islam (Arabic: إسلام سياسي\u200e islām siyāsī), is a movement.",
        "يوجد 1,203 سرير في المستشفى.",
    ]
    # fpdf2's own bidirectional algorithm gives the order a typesetter draws the lines in.
    drawn = [BidiParagraph(line, preserve_bn_chars=True).get_reordered_string() for line in lines]
    doc = read_file(make_typeset_pdf(tmp_path / "islamism.pdf", [drawn], UNICODE_FONT))
    assert doc.text == " ".join(lines)


@pytest.mark.parametrize(
    ("head", "date"),
    [
        ("", ""),  # no declaration: the year in the text is not a publication date
        ('<meta property="article:published_time" content="2023-05-04T09:30:00Z">', "4 May 2023"),
        ('<script type="application/ld+json">{"@graph": [{"datePublished": "2021-03-02"}]}</script>', "2 March 2021"),
        ('<meta name="viewport" content="width=device-width">', ""),
    ],
)
def test_html_shows_only_a_declared_publication_date(tmp_path, head, date):
    path = tmp_path / "clinic.html"
    body = (
        "<p>The clinic opened in 2019 on the corner of Elm Road and has seen forty thousand patients.</p>"
        "<p>Updated on 3 January 2024 with new opening hours. <time datetime='2022-06-01'>June 2022</time></p>"
    )
    path.write_text(f"<html><head><title>The clinic</title>{head}</head><body>{body}</body></html>")
    doc = read_file(path)
    assert doc.metadata.get("date", "") == date
    assert ("Published" in doc.text) == bool(date)
    if date:
        assert doc.text.startswith(f"Published {date}\n")


def test_html_time_marked_as_publication_is_its_date(tmp_path):
    path = tmp_path / "news.html"
    path.write_text(
        "<html><body><article><p>Published <time itemprop='datePublished' datetime='2020-11-05'>5 Nov</time>."
        "</p><p>The hospital opened a new maternity unit with twenty beds and a birth centre.</p></article>"
        "</body></html>"
    )
    assert read_file(path).metadata["date"] == "5 November 2020"


def test_a_docx_from_the_default_template_is_not_dated_by_its_template(tmp_path):
    doc = read_file(make_wards_docx(tmp_path / "wards.docx"))
    assert "date" not in doc.metadata and "Published" not in doc.text
    # python-docx's template was made in 2013: that is when the file was made, at most.
    assert "2013" in doc.metadata["file_date"]


BODY = "Café d’Été opens at 7am.\n\nThe ward’s budget rose by £1,203 — a 5% rise, “as planned”."


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8-sig", b""), ("utf-16", b""), ("utf-16-be", b"\xfe\xff"), ("utf-32", b""), ("cp1252", b"")],
)
def test_text_in_any_common_encoding_is_read_word_for_word(tmp_path, encoding, bom):
    path = tmp_path / "notes.txt"
    path.write_bytes(bom + BODY.replace("\n", "\r\n").encode(encoding))
    assert read_file(path).text == BODY


def test_utf16_html_is_read_and_bad_utf16_refused(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes("<html><body><p>The pharmacy is open until nine on weekdays.</p></body></html>".encode("utf-16"))
    assert read_file(page).text == "The pharmacy is open until nine on weekdays."
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"\xff\xfeA\x00\x00\xd8")  # a mark, then a lone surrogate
    with pytest.raises(Unusable, match="starts as UTF-16 text but is not valid UTF-16"):
        read_file(broken)


def _rows_in(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.endswith(tuple("0123456789")) and " | " in line]


def test_every_passage_cut_from_a_table_repeats_its_header_row(tmp_path):
    doc = read_file(make_wards_docx(tmp_path / "wards.docx"))
    html = tmp_path / "wards.html"
    cells = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in WARDS)
    html.write_text(
        "<html><body><h1>Winter staffing</h1><p>The beds open and the nurses on shift at each hospital.</p>"
        f"<table><tr><th>Hospital</th><th>Beds open</th><th>Nurses on shift</th></tr>{cells}</table></body></html>"
    )
    expected = [f"{a} | {b} | {c}" for a, b, c in WARDS]
    for document in (doc, read_file(html)):
        texts = [document.text[c.span.start : c.span.end] for c in chunk(document, 600)]
        tables = [t for t in texts if _rows_in(t)]
        assert len(tables) > 1 and all(len(t) <= 600 for t in texts)
        for text in tables:
            lines = text.split("\n")
            assert lines[lines.index(TABLE_HEADER) + 1 :] == _rows_in(text)
        # Every row once, in order, in the document's own words.
        assert [row for t in tables for row in _rows_in(t)] == expected


def test_a_docx_row_keeps_equal_values_and_a_merged_cell_once(tmp_path):
    document = docx.Document()
    document.add_paragraph("Beds on the medical wards this winter.")
    table = document.add_table(rows=4, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Ward and beds"
    table.cell(0, 2).text = "Staffed"
    for r, row in enumerate([("Ward 3", "12", "12"), ("", "", ""), ("Ward 4", "", "9")], start=1):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.save(str(tmp_path / "beds.docx"))
    text = read_file(tmp_path / "beds.docx").text
    assert text.endswith("\n\nWard and beds | Staffed\nWard 3 | 12 | 12\nWard 4 | | 9")


def test_an_index_answers_from_pdf_figures_utf16_text_tables_and_long_lines(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    make_monthly_pdf(folder / "monthly.pdf")
    make_wards_docx(folder / "wards.docx")
    (folder / "parking.txt").write_bytes(
        "Staff parking\n\nStaff park in the multi-storey car park on Elm Road, which has 240 spaces; "
        "visitors use the surface car park by the main entrance.\n".encode("utf-16")
    )
    rng = random.Random(25)
    filler = " ".join(rng.choice(["ward", "shift", "rota", "team", "bed", "board"]) for _ in range(4000))
    (folder / "minutes.txt").write_text(
        f"{filler} and the chaplaincy garden is open to patients from dawn until dusk every day {filler}\n"
    )
    out = tmp_path / "idx"
    report = build([folder], out, progress=False)
    assert report.documents == 4 and not report.skipped
    index = qa.Index.load(out)
    march = index.ask("How many admissions were there in March?")
    assert march.found and "Admissions: 1,150" in march.passages[0].text
    assert {p.text.split("Admissions: ")[1] for p in store.load(out).passages if "Admissions: " in p.text} == {
        figure for _, figure, _ in MONTHS
    }
    parking = index.ask("How many spaces does the staff car park on Elm Road have?")
    assert parking.found and parking.passages[0].source == "parking.txt" and "240 spaces" in parking.text
    nurses = index.ask("How many nurses were on shift at Ashgrove General?")
    top = nurses.passages[0]
    assert top.source == "wards.docx" and f"{TABLE_HEADER}\nAshgrove General | 40 | 10" in top.text
    garden = index.ask("When is the chaplaincy garden open to patients?")
    assert garden.passages[0].source == "minutes.txt" and "dawn until dusk" in garden.passages[0].text
    for passage in store.load(out).passages:
        assert len(passage.text) <= SETTINGS.sentence_chars
    for answer in (march, parking, nurses, garden):
        for passage in answer.passages:
            assert passage.highlight in passage.text and len(passage.highlight) <= len(passage.text)
            assert "date" not in passage.metadata
