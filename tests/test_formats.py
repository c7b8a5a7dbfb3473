"""The readers on real files of each format, made here: HTML by hand, DOCX and PDF by libraries."""

import datetime
import re
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

import qa
from index import build
from index.read import Unusable, read
from index.split import chunk
from qa import store
from qa.sources import SourceFile

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Team huddles that work</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2023-05-04">
</head><body>
<header><nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/donate">Donate today</a></nav></header>
<main><article>
<h1>Team huddles that work</h1>
<p>A daily team huddle lasts ten minutes and happens at the start of each shift.
Staff share the risks they see and agree who will act on them.</p>
<h2>Why huddles help</h2>
<p>Huddles help because everyone hears the same information at the same time. Nurses said
the huddle made it easier to raise concerns about patient safety.</p>
<ul><li>Keep it short and regular.</li><li>Open it to every grade of staff.</li></ul>
<h2>Getting started</h2>
<p>Start with one ward and a fixed time. Keep a simple board where actions are written down
and reviewed the next day.</p>
</article></main>
<aside><h3>Most read</h3><a href="/x">Ten things you never knew about hospital car parks</a></aside>
<footer><p>Copyright 2024 Care Journal. All rights reserved. Cookie settings. Privacy policy.</p></footer>
</body></html>
"""

PDF_PAGES = [
    (
        "Introduction",
        [
            "Wards that hold a daily safety huddle report fewer falls. The huddle lasts ten minutes and happens "
            "at the start of each shift, with every grade of staff invited to speak.",
            "This report looks at twelve wards over two years and describes what the best huddles share.",
        ],
    ),
    (
        "Findings",
        [
            "Falls dropped by a third on the wards that kept their huddles going for a whole year. Staff said "
            "the huddle made it easier to raise concerns about patient safety with senior colleagues.",
            "The wards that stopped huddling saw falls return to their former level within six months.",
        ],
    ),
    (
        "Recommendations",
        [
            "Hold the huddle at a fixed time and keep a board of actions that is reviewed the next day. Invite "
            "porters, cleaners and students as well as nurses and doctors.",
            "Managers should attend at least once a week but should not lead the huddle.",
        ],
    ),
]


class Report(FPDF):
    """A report with a running header and page-numbered footer, as real PDFs have; its pages
    numbered from `first_page` (3 when a cover and a contents page come before them)."""

    def __init__(self, running_header: str = "Care Journal - Safety huddles report", first_page: int = 1) -> None:
        super().__init__()
        self.running_header = running_header
        self.first_page = first_page

    def header(self):
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 6, self.running_header, align="R")
        self.ln(10)

    def footer(self):
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 10, f"Page {self.page_no() + self.first_page - 1}", align="C")


def make_pdf(path: Path, pages=PDF_PAGES, title: str = "Safety huddles report") -> Path:
    """A PDF with one heading and wrapped paragraphs per page, and document information."""
    pdf = Report()
    if title:
        pdf.set_title(title)
    pdf.set_author("John Smith")
    pdf.set_creation_date(datetime.datetime(2022, 3, 1, tzinfo=datetime.UTC))
    for heading, paragraphs in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, heading)
        pdf.ln(3)
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(4)
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    """A Word document with a title, headings, a list, a table and core properties."""
    document = docx.Document()
    document.core_properties.title = "Ward rounds guide"
    document.core_properties.author = "Amy Lee"
    document.core_properties.created = datetime.datetime(2021, 7, 9)
    document.add_heading("Ward rounds guide", 0)
    document.add_heading("Before the round", 1)
    document.add_paragraph("Check the list of patients. Bring the latest blood results to the bedside.")
    document.add_paragraph("Ask the patient first.", style="List Bullet")
    document.add_paragraph("Then ask the nurse in charge.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Time", (0, 1): "Task", (1, 0): "9am", (1, 1): "Consultant round"}.items():
        table.cell(r, c).text = text
    document.add_heading("After the round", 1)
    document.add_paragraph("Write the plan in the notes within the hour.")
    document.save(str(path))
    return path


def read_file(path: Path, max_bytes: int = 10_000_000) -> qa.Document:
    return read(SourceFile(path, path.name), max_bytes)


def assert_well_formed(document: qa.Document) -> None:
    """Cleaned text: paragraphs separated by exactly one blank line, no stray white space."""
    assert "\n\n\n" not in document.text and document.text == document.text.strip()
    for line in document.text.split("\n"):
        assert line == line.strip() and "  " not in line


def test_html_keeps_the_article_drops_the_furniture_and_lifts_the_metadata(tmp_path):
    path = tmp_path / "huddles.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    doc = read_file(path)
    assert_well_formed(doc)
    assert doc.title == "Team huddles that work"
    assert doc.metadata == {"title": "Team huddles that work", "author": "Jane Doe", "date": "4 May 2023"}
    assert doc.text.startswith("By Jane Doe\nPublished 4 May 2023\nA daily team huddle")
    for furniture in ("About us", "Donate", "car parks", "Copyright", "Cookie"):
        assert furniture not in doc.text
    paragraphs = doc.text.split("\n\n")
    # A heading leads its section, on a line of its own; list items are lines of one paragraph.
    assert "Why huddles help\nHuddles help because everyone hears" in paragraphs[1]
    assert paragraphs[2] == "Keep it short and regular.\nOpen it to every grade of staff."
    assert paragraphs[3].startswith("Getting started\nStart with one ward")
    assert "Team huddles that work" not in doc.text  # the <h1> repeats the title, which is metadata
    assert "ten minutes and happens at the start of each shift. Staff share" in doc.text  # soft wrap joined


def test_html_without_a_title_is_named_after_its_file(tmp_path):
    path = tmp_path / "ward-notes.htm"
    path.write_bytes(b"<html><body><p>The ward closes its doors to visitors at eight in the evening.</p></body></html>")
    doc = read_file(path)
    assert doc.title == "Ward notes" and "eight in the evening" in doc.text


def test_pdf_keeps_pages_for_citations_and_drops_running_headers(tmp_path):
    doc = read_file(make_pdf(tmp_path / "report.pdf"))
    assert_well_formed(doc)
    assert doc.title == "Safety huddles report"
    # The creation date is when the file was made: kept as such, never as a publication date.
    assert doc.metadata == {"title": "Safety huddles report", "author": "John Smith", "file_date": "1 March 2022"}
    assert "Published" not in doc.text
    assert "Care Journal" not in doc.text and not re.search(r"Page \d", doc.text)
    # Wrapped lines are rejoined into whole sentences.
    assert "happens at the start of each shift, with every grade of staff invited to speak." in doc.text
    assert len(doc.pages) == 3 and doc.pages[0] == 0
    for number, (heading, paragraphs) in enumerate(PDF_PAGES, start=1):
        for paragraph in paragraphs:
            assert doc.page_at(doc.text.index(paragraph[:60])) == number
        assert doc.page_at(doc.text.index(heading + "\n")) == number
    # No passage crosses a page.
    for c in chunk(doc, 600):
        assert doc.page_at(c.span.start) == doc.page_at(c.span.end - 1)


def test_pdf_without_a_title_takes_its_first_heading(tmp_path):
    doc = read_file(make_pdf(tmp_path / "untitled.pdf", title=""))
    assert doc.title == "Introduction"


def test_docx_reads_headings_lists_tables_and_core_properties(tmp_path):
    doc = read_file(make_docx(tmp_path / "rounds.docx"))
    assert_well_formed(doc)
    assert doc.metadata == {"title": "Ward rounds guide", "author": "Amy Lee", "file_date": "9 July 2021"}
    paragraphs = doc.text.split("\n\n")
    assert paragraphs[0] == (
        "By Amy Lee\nBefore the round\nCheck the list of patients. Bring the latest blood results to the bedside."
    )
    assert paragraphs[1] == "Ask the patient first.\nThen ask the nurse in charge."
    assert paragraphs[2] == "Time | Task\n9am | Consultant round"
    assert paragraphs[3] == "After the round\nWrite the plan in the notes within the hour."


def test_an_index_of_every_format_answers_and_cites_pdf_pages(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "huddles.html").write_text(HTML_PAGE, encoding="utf-8")
    make_pdf(folder / "report.pdf")
    make_docx(folder / "rounds.docx")
    (folder / "note.md").write_text("# Parking\n\nStaff park in the multi-storey car park on Elm Road.\n")
    out = tmp_path / "idx"
    report = build([folder], out, progress=False)
    assert report.documents == 4 and not report.skipped
    index = qa.Index.load(out)
    falls = index.ask("By how much did falls drop on wards that kept their huddles?")
    assert falls.found and falls.passages[0].source == "report.pdf" and falls.passages[0].page == 2
    results = index.ask("Which results should I bring to the bedside?")
    assert results.found and results.passages[0].source == "rounds.docx"
    why = index.ask("Why do huddles help?")
    assert why.found and why.passages[0].source == "huddles.html" and why.passages[0].page == 0
    # Page numbers survive the round trip through the files on disk, and reuse by a rebuild.
    data = store.load(out)
    assert data.documents["report.pdf"].pages == read_file(folder / "report.pdf").pages
    assert {p.page for p in data.passages if p.source == "report.pdf"} == {1, 2, 3}
    again = build([folder], out, progress=False)
    assert again.embedded == 0 and again.read == 0
    assert {p.page for p in store.load(out).passages if p.source == "report.pdf"} == {1, 2, 3}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n%%EOF", "corrupt or unreadable PDF"),
        ("cut.pdf", "truncated pdf", "corrupt or unreadable PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip archive", "corrupt or unreadable DOCX"),
        ("other.docx", "zip without a document", "corrupt or unreadable DOCX"),
        ("cp.txt", b"caf\x81 \x8d\x8f\x90\x9d", "not UTF-8, UTF-16, UTF-32 or Windows-1252 text"),
        ("image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("empty.html", b"<html><head><title>Nothing</title></head><body></body></html>", "no main text"),
        ("blank.docx", "docx without text", "no text in the document"),
        ("scan.pdf", "pdf without text", "no text in the PDF"),
        ("data.xlsx", b"PK\x03\x04", "unsupported format '.xlsx'"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    if content == "truncated pdf":
        path.write_bytes(make_pdf(tmp_path / "whole.pdf").read_bytes()[:800])
    elif content == "zip without a document":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "hello")
    elif content == "docx without text":
        docx.Document().save(str(path))
    elif content == "pdf without text":
        pdf = FPDF()
        pdf.add_page()
        pdf.output(str(path))
    else:
        path.write_bytes(content)
    with pytest.raises(Unusable, match=re.escape(reason)):
        read_file(path)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    path = make_pdf(tmp_path / "report.pdf")
    with pytest.raises(Unusable, match="over the 1,000-byte limit"):
        read_file(path, max_bytes=1000)
