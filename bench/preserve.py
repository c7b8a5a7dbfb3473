"""Content preservation on new content: `python -m bench.preserve [--articles N] [--build]`.

Writes each SQuAD v1.1 dev article five ways, as a user might add it: `.txt` with no title
line (paragraphs separated by blank lines), `.md` under a `#` heading, `.html` with navigation
and a footer around the article, a multi-page `.pdf` (a running header with the page number, a
footer, and a line of figures at the foot of each page, whose numbers differ from page to page)
and a `.docx` from Word's default template with a table. Each file goes through the project's
readers and splitter (with `--build`, a real `python -m index build`, passages read back from
the index), and every sentence of every paragraph (and of the PDF's figure lines and the DOCX's
table) is looked for, word for word, inside one passage (a sentence over `QA_SENTENCE_CHARS`,
which the splitter cuts, in consecutive ones). Prints the paragraphs kept whole, the
sentences found, the numbers lost or added and the passages over 1,000 characters, per format.
"""

from __future__ import annotations

import argparse
import html
import random
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import report
from bench.eval_squad import load_articles
from qa.config import SETTINGS

FORMATS = ("txt", "md", "html", "pdf", "docx")
# The target's ceiling on a passage's length (qa.config's sentence_chars keeps under it).
LONG_PASSAGE = 1000
# A font with the Latin, Greek and Cyrillic letters of the articles (Debian's fonts-dejavu-core);
# a character it lacks is left out of both the PDF and the text it is checked against.
PDF_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_NUMBER = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def flat(text: str) -> str:
    """White space collapsed: a reader may turn a soft line wrap into a space and back."""
    return _SPACE.sub(" ", text).strip()


def numbers(text: str) -> Counter[str]:
    """The digit runs of `text`, counted."""
    return Counter(_NUMBER.findall(text))


@dataclass
class Tally:
    """What survived of one format's documents."""

    paragraphs: int = 0
    paragraphs_whole: int = 0
    sentences: int = 0
    sentences_found: int = 0
    numbers_lost: int = 0
    numbers_added: int = 0
    passages_over: int = 0
    sentences_cut: int = 0

    def add(
        self, body: Sequence[str], passages: Sequence[str], extra: str = "", sentence_chars: int = 1000
    ) -> list[str]:
        """Count `body` paragraphs against `passages` (in document order); return the sentences
        not found in one passage.

        `extra` is text the reader adds on purpose (a "Published <date>" byline made from the
        page's metadata), whose numbers are not counted as added. A sentence longer than
        `sentence_chars` cannot be in one passage: the splitter cuts it, and it is found (and
        counted in `sentences_cut`) when its pieces follow each other in consecutive passages.
        """
        from index.split import sentences

        flats = [flat(p) for p in passages]
        joined = " ".join(flats)
        missing = []
        for paragraph in body:
            texts = [flat(paragraph[x.start : x.end]) for x in sentences(paragraph)]
            apart = [s for s in texts if not any(s in p for p in flats)]
            cut = [s for s in apart if len(s) > sentence_chars and s in joined]
            lost = [s for s in apart if s not in cut]
            self.paragraphs += 1
            self.paragraphs_whole += not lost
            self.sentences += len(texts)
            self.sentences_found += len(texts) - len(lost)
            self.sentences_cut += len(cut)
            missing += lost
        source, quoted = numbers(" ".join(body)), numbers(" ".join(passages)) - numbers(extra)
        self.numbers_lost += sum((source - quoted).values())
        self.numbers_added += sum((quoted - source).values())
        self.passages_over += sum(len(p) > LONG_PASSAGE for p in passages)
        return missing


def write(title: str, paragraphs: Sequence[str], folder: Path, stem: str) -> list[Path]:
    """The article as .txt (no title line), .md (under a heading) and .html (nav, article, footer)."""
    folder.mkdir(parents=True, exist_ok=True)
    txt = folder / f"{stem}.txt"
    txt.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    md = folder / f"{stem}.md"
    md.write_text(f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    page = folder / f"{stem}.html"
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)} - Example Wiki</title>"
        "</head><body><nav><ul><li><a href='/'>Home</a></li><li><a href='/about'>About us</a></li>"
        "<li><a href='/contact'>Contact</a></li></ul></nav>"
        f"<main><article><h1>{html.escape(title)}</h1>\n{body}\n</article></main>"
        "<footer><p>Copyright Example Wiki. All rights reserved.</p><a href='/privacy'>Privacy</a></footer>"
        "</body></html>",
        encoding="utf-8",
    )
    return [txt, md, page]


def write_pdf(title: str, paragraphs: Sequence[str], path: Path, seed: int) -> list[str]:
    """The article as a paged report: a paragraph that does not fit on a page starts the next
    one; every page has a running header with its number, a footer, and a line of figures at
    its foot. Returns the body as written: the paragraphs and the figure lines.
    """
    from fpdf import FPDF

    class Report(FPDF):
        def header(self) -> None:
            self.set_font("body", size=8)
            self.cell(0, 6, f"Example Wiki, printed edition, page {self.page_no()}", align="R")
            self.ln(10)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("body", size=8)
            self.cell(0, 10, "Printed from Example Wiki. Free to share.", align="C")

    rng = random.Random(seed)
    pdf = Report()
    pdf.add_font("body", fname=str(PDF_FONT))
    pdf.set_auto_page_break(False)  # pages are broken between paragraphs, below
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("body", size=10)
    known = pdf.current_font.cmap
    body: list[str] = []

    def figures() -> None:
        line = f"Figures: {rng.randint(100, 99_999):,} | {rng.randint(1, 999)}"
        pdf.set_y(-28)
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        body.append(line)

    for paragraph in paragraphs:
        text = "".join(c for c in paragraph if ord(c) in known)
        drawn = display_order(text)
        if pdf.get_y() + pdf.multi_cell(0, 5, drawn, dry_run=True, output="HEIGHT") > pdf.h - 32:
            figures()
            pdf.add_page()
        pdf.multi_cell(0, 5, drawn, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        body.append(text)
    figures()
    pdf.output(str(path))
    return body


def display_order(text: str) -> str:
    """`text` in the order a typesetter draws it, left to right (the Unicode bidirectional
    algorithm, fpdf2's own implementation).

    fpdf2 reorders right-to-left script only when shaping text, which needs uharfbuzz; otherwise
    it draws characters in the order given, so an Arabic phrase would be printed backwards and
    the PDF would not show the article's words, which no reader could then give back. Reordered
    before fpdf2 breaks the paragraph into lines: the articles' one right-to-left phrase (in 23)
    is two words, on one line.
    """
    if not any(unicodedata.bidirectional(c) in ("R", "AL") for c in text):
        return text
    from fpdf.bidi import BidiParagraph

    return BidiParagraph(text, preserve_bn_chars=True).get_reordered_string()


def write_docx(title: str, paragraphs: Sequence[str], path: Path) -> list[str]:
    """The article as a Word file with a title, and halfway through a table of its parts' sizes
    under a heading. Returns the body as written: the paragraphs and the table, a row a line.
    """
    import docx

    document = docx.Document()
    document.add_heading(title, 0)
    half = len(paragraphs) // 2
    rows = [["Part", "Words", "Characters"]] + [
        [f"Part {n}", str(len(p.split())), str(len(p))] for n, p in enumerate(paragraphs, start=1)
    ]
    for paragraph in paragraphs[:half]:
        document.add_paragraph(paragraph)
    document.add_heading("The parts of this article", 1)
    table = document.add_table(rows=len(rows), cols=3)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    for paragraph in paragraphs[half:]:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return [*paragraphs, "\n".join(" | ".join(row) for row in rows)]


def passages_by_file(files: Iterable[Path], build: bool, out: Path) -> dict[str, tuple[list[str], str]]:
    """{file name: (its passages' texts, its reader-made byline)}, by reading and splitting or by a build."""
    from index.clean import byline
    from index.read import read
    from index.split import chunk
    from qa.sources import SourceFile

    files = list(files)
    result: dict[str, tuple[list[str], str]] = {}
    if build:
        from qa import store

        folder = files[0].parent
        subprocess.run([sys.executable, "-m", "index", "build", str(folder), "--out", str(out), "--quiet"], check=True)
        data = store.load(out)
        for name, document in data.documents.items():
            texts = [p.text for p in data.passages if p.source == name]
            result[name] = (texts, " ".join(byline("", document.metadata.get("date", ""))))
        return result
    for path in files:
        document = read(SourceFile(path, path.name), SETTINGS.max_file_bytes)
        texts = [
            document.text[c.span.start : c.span.end]
            for c in chunk(document, SETTINGS.passage_chars, SETTINGS.sentence_chars)
        ]
        result[path.name] = (texts, " ".join(byline("", document.metadata.get("date", ""))))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=0, help="only the first N articles (default: all 48)")
    parser.add_argument("--build", action="store_true", help="build a real index (embeds; minutes) and read it")
    parser.add_argument("--show", type=int, default=5, help="sentences not found to print (default: 5)")
    args = parser.parse_args(argv)
    articles = load_articles()
    if args.articles:
        articles = articles[: args.articles]
    tallies = {fmt: Tally() for fmt in FORMATS}
    missing: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        bodies = {}
        for n, article in enumerate(articles):
            title, paragraphs = article["title"].replace("_", " "), article["paragraphs"]
            for path in write(title, paragraphs, docs, f"{n:02d}"):
                bodies[path.name] = paragraphs
            bodies[f"{n:02d}.pdf"] = write_pdf(title, paragraphs, docs / f"{n:02d}.pdf", seed=n)
            bodies[f"{n:02d}.docx"] = write_docx(title, paragraphs, docs / f"{n:02d}.docx")
        found = passages_by_file(sorted(docs.iterdir()), args.build, Path(tmp) / "index")
        for name, body in bodies.items():
            texts, extra = found.get(name, ([], ""))
            lost = tallies[name.rsplit(".", 1)[1]].add(body, texts, extra, SETTINGS.sentence_chars)
            missing += [f"{name}: {s}" for s in lost]
    figures: dict[str, float | int | str] = {"articles": len(articles), "built": "yes" if args.build else "no"}
    for fmt, t in tallies.items():
        figures[f"{fmt}_paragraphs_whole"] = f"{t.paragraphs_whole}/{t.paragraphs}"
        figures[f"{fmt}_sentences_found"] = f"{t.sentences_found}/{t.sentences}"
        figures[f"{fmt}_sentences_cut_over_limit"] = t.sentences_cut
        figures[f"{fmt}_numbers_lost"] = t.numbers_lost
        figures[f"{fmt}_numbers_added"] = t.numbers_added
        figures[f"{fmt}_passages_over_{LONG_PASSAGE}"] = t.passages_over
    report("Content preservation, SQuAD v1.1 dev articles as .txt, .md, .html, .pdf and .docx", figures)
    for line in missing[: args.show]:
        print("  not found:", line[:200])
    failed = any(t.numbers_lost or t.numbers_added or t.passages_over for t in tallies.values())
    return 0 if not missing and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
