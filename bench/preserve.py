"""Content preservation on new content: `python -m bench.preserve [--articles N] [--build]`.

Writes each SQuAD v1.1 dev article three ways, as a user might add it: `.txt` with no title
line (paragraphs separated by blank lines), `.md` under a `#` heading, and `.html` with
navigation and a footer around the article. Each file goes through the project's readers and
splitter (with `--build`, a real `python -m index build`, passages read back from the index), and
every sentence of every paragraph is looked for, word for word, inside one passage. Prints the
paragraphs kept whole, the sentences found, and the numbers lost or added, per format.
"""

from __future__ import annotations

import argparse
import html
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import report
from bench.eval_squad import load_articles

FORMATS = ("txt", "md", "html")
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

    def add(self, body: Sequence[str], passages: Sequence[str], extra: str = "") -> list[str]:
        """Count `body` paragraphs against `passages`; return the sentences not found in one passage.

        `extra` is text the reader adds on purpose (a "Published <date>" byline made from the
        page's metadata), whose numbers are not counted as added.
        """
        from index.split import sentences

        flats = [flat(p) for p in passages]
        missing = []
        for paragraph in body:
            spans = sentences(paragraph)
            lost = [s for s in (flat(paragraph[x.start : x.end]) for x in spans) if not any(s in p for p in flats)]
            self.paragraphs += 1
            self.paragraphs_whole += not lost
            self.sentences += len(spans)
            self.sentences_found += len(spans) - len(lost)
            missing += lost
        source, quoted = numbers(" ".join(body)), numbers(" ".join(passages)) - numbers(extra)
        self.numbers_lost += sum((source - quoted).values())
        self.numbers_added += sum((quoted - source).values())
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


def passages_by_file(files: Iterable[Path], build: bool, out: Path) -> dict[str, tuple[list[str], str]]:
    """{file name: (its passages' texts, its reader-made byline)}, by reading and splitting or by a build."""
    from index.clean import byline
    from index.read import read
    from index.split import chunk
    from qa.config import SETTINGS
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
            for path in write(article["title"].replace("_", " "), article["paragraphs"], docs, f"{n:02d}"):
                bodies[path.name] = article["paragraphs"]
        found = passages_by_file(sorted(docs.iterdir()), args.build, Path(tmp) / "index")
        for name, body in bodies.items():
            texts, extra = found.get(name, ([], ""))
            lost = tallies[name.rsplit(".", 1)[1]].add(body, texts, extra)
            missing += [f"{name}: {s}" for s in lost]
    figures: dict[str, float | int | str] = {"articles": len(articles), "built": "yes" if args.build else "no"}
    for fmt, t in tallies.items():
        figures[f"{fmt}_paragraphs_whole"] = f"{t.paragraphs_whole}/{t.paragraphs}"
        figures[f"{fmt}_sentences_found"] = f"{t.sentences_found}/{t.sentences}"
        figures[f"{fmt}_numbers_lost"] = t.numbers_lost
        figures[f"{fmt}_numbers_added"] = t.numbers_added
    report("Content preservation, SQuAD v1.1 dev articles as .txt, .md and .html", figures)
    for line in missing[: args.show]:
        print("  not found:", line[:200])
    return 0 if not missing and not any(t.numbers_lost or t.numbers_added for t in tallies.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
