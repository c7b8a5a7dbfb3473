"""`index add URL` against a local web server: clean passages, citations carrying the address,
and a 404, a redirect loop or chain, a slow or trickling server, an oversized page, a false PDF or
another scheme each refused in one line with the index left as it was; `index refresh` re-embeds only what changed."""

from __future__ import annotations

import dataclasses

import pytest

import index.fetch
import qa
from index.__main__ import main
from index.read import read
from qa import store
from qa.sources import fingerprint
from tests.test_formats import make_pdf
from tests.webserver import ARTICLE_PAGE, FURNITURE, Route, serve

PRICING = (
    "<html><head><title>Ward costs</title></head><body><article><h1>Ward costs</h1>"
    "<p>A bank nurse’s shift costs £312 on average – more at weekends. " * 3 + "</p></article></body></html>"
)
NOTE = "# Rotas\n\nThe rota is agreed four weeks ahead with every member of the team.\n"


@pytest.fixture
def fast_limits(monkeypatch):
    """A 1-second fetch deadline, a 200 kB cap and 3 redirects, so the failures come quickly."""
    limits = dataclasses.replace(
        index.fetch.SETTINGS, fetch_timeout=1.0, fetch_max_bytes=200_000, fetch_max_redirects=3
    )
    monkeypatch.setattr(index.fetch, "SETTINGS", limits)


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--quiet"] if args[0] != "list" else list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_web_page_is_indexed_without_its_furniture_and_cited_by_its_address(
    tmp_path, capsys, fast_limits, allow_local_fetch
):
    pdf = make_pdf(tmp_path / "report.pdf").read_bytes()
    routes = {
        "/insight/huddles": Route(ARTICLE_PAGE.encode()),
        "/old-address": Route(status=301, headers={"Location": "/insight/huddles"}),
        "/files/report": Route(pdf, content_type="application/octet-stream"),  # a PDF labelled loosely
        # Only the header names the character set (the reader would have to guess).
        "/pricing": Route(PRICING.encode("cp1252"), content_type="text/html; charset=windows-1252"),
    }
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "rotas.md").write_text(NOTE)
    out = tmp_path / "idx"
    with serve(routes) as site:
        code, stdout, stderr = cli(capsys, "build", str(notes), f"{site.url}/old-address", "--out", str(out))
        assert code == 0, stderr
        code, stdout, stderr = cli(capsys, "add", f"{site.url}/files/report", f"{site.url}/pricing", "--out", str(out))
        assert code == 0, stderr
        assert "indexed 4 documents" in stdout and "2 documents read" in stdout

    # Web pages are not files of the index's folders: the default index's corpus check ignores them.
    assert store.load(out).manifest["inputs"] == fingerprint([notes])
    index = qa.Index.load(out)
    page = [p for p in store.load(out).passages if p.source == f"{site.url}/old-address"]
    assert page, "the page was not indexed under the address it was added by"
    for passage in page:
        assert not any(f.lower() in passage.text.lower() for f in FURNITURE), passage.text
    body = " ".join(p.text for p in page)
    assert "huddles lasted seven minutes on average" in body and "23 per cent fewer falls" in body

    answer = index.ask("How long did the safety huddles last on average?")
    assert answer.found and "seven minutes" in answer.text
    cited = answer.passages[0]
    assert cited.title == "Safety huddles on every ward"
    # The link is where the page was finally fetched from; the name is the address as added.
    assert cited.metadata["url"] == f"{site.url}/insight/huddles"
    assert cited.metadata["publisher"] == "Care Journal" and cited.metadata["author"] == "Priya Shah"
    assert cited.metadata["fetched_at"].endswith("Z") and cited.metadata["fetched_at"][:2] == "20"

    from ui.render import citation_meta

    assert f'<a href="{site.url}/insight/huddles"' in citation_meta(cited)
    assert "A bank nurse’s shift costs £312 on average – more at weekends." in index.ask("What does a shift cost?").text
    report = index.ask("Do falls drop on wards that hold a huddle?")
    assert any(p.source == f"{site.url}/files/report" and p.page for p in report.passages)


def test_fetch_failures_are_one_line_each_and_leave_the_index_as_it_was(
    tmp_path, capsys, fast_limits, allow_local_fetch
):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "rotas.md").write_text(NOTE)
    out = tmp_path / "idx"
    assert cli(capsys, "build", str(notes), "--out", str(out))[0] == 0
    before = (store.resolve(out), (out / "manifest.json").read_bytes())
    routes = {
        "/loop-a": Route(status=302, headers={"Location": "/loop-b"}),
        "/loop-b": Route(status=302, headers={"Location": "/loop-a"}),
        "/slow": Route(ARTICLE_PAGE.encode(), delay=3),
        "/huge": Route(b"<html><body><p>" + b"Long page. " * 40_000 + b"</p></body></html>", length=False),
        "/image": Route(b"\x89PNG\r\n", content_type="image/png"),
        # Every piece comes well within the socket's timeout; the whole page would take 6 s.
        "/trickle": Route(ARTICLE_PAGE.encode()[:3000], trickle=0.2),
        # Its Content-Length says it is too large: refused on the header, before a byte of the body.
        "/declared": Route(b"<html><body><p>" + b"Long page. " * 30_000 + b"</p></body></html>"),
        "/to-file": Route(status=302, headers={"Location": "file:///etc/passwd"}),
        **{f"/hop{n}": Route(status=301, headers={"Location": f"/hop{n + 1}"}) for n in range(5)},
        "/fake.pdf": Route(b"<html><body><p>A page, not a PDF.</p></body></html>", content_type="application/pdf"),
    }
    with serve(routes) as site:
        cases = {
            f"{site.url}/missing": "HTTP 404",
            f"{site.url}/loop-a": "redirect loop",
            f"{site.url}/slow": "within 1s",
            f"{site.url}/huge": "200,000-byte limit",
            f"{site.url}/image": "image/png is not a web page",
            f"{site.url}/trickle": "within 1s",
            f"{site.url}/declared": "330,033 bytes is over the 200,000-byte limit",
            f"{site.url}/to-file": "(redirected to file:///etc/passwd): only http and https",
            f"{site.url}/hop0": "more than 3 redirects",
            f"{site.url}/fake.pdf": "labelled a PDF, but it is not one",
            "file:///etc/passwd": "only http and https",
            "ftp://127.0.0.1/x.html": "only http and https",
        }
        for url, reason in cases.items():
            code, stdout, stderr = cli(capsys, "add", url, "--out", str(out))
            lines = stderr.strip().splitlines()
            assert code == 1 and len(lines) == 1, (url, stderr)
            assert lines[0].startswith(f"error: {url}: ") and reason in lines[0], lines[0]
            assert lines[0].endswith("the index is unchanged") and stdout == ""
            assert (store.resolve(out), (out / "manifest.json").read_bytes()) == before
        assert "/etc/passwd" not in " ".join(site.hits)


def test_refresh_re_embeds_only_the_pages_that_changed(tmp_path, capsys, allow_local_fetch):
    routes = {
        "/a": Route(ARTICLE_PAGE.encode()),
        "/b": Route(ARTICLE_PAGE.replace("seven minutes", "nine minutes").encode()),
        "/c": Route(ARTICLE_PAGE.replace("seven minutes", "five minutes").encode()),
    }
    out = tmp_path / "idx"
    with serve(routes) as site:
        assert cli(capsys, "build", f"{site.url}/a", f"{site.url}/b", f"{site.url}/c", "--out", str(out))[0] == 0
        indexed = {d["source"]: d for d in store.load(out).manifest["documents"]}
        # /a changes its bytes only (an HTML comment, as pages carry tokens); /b its text; /c goes away.
        routes["/a"] = Route(ARTICLE_PAGE.replace("<main", "<!-- token 8f2c --><main").encode())
        routes["/b"] = Route(ARTICLE_PAGE.replace("seven minutes", "eleven minutes").encode())
        routes["/c"] = Route(status=500)
        code, stdout, stderr = cli(capsys, "refresh", "--out", str(out))
    assert code == 0, stderr
    assert f"checked 3 web documents, 1 changed: {site.url}/b" in stdout
    assert f"warning: kept {site.url}/c as indexed: the server answered HTTP 500" in stderr
    assert "1 documents read" in stdout
    after = {d["source"]: d for d in store.load(out).manifest["documents"]}
    assert after[f"{site.url}/a"]["sha256"] == indexed[f"{site.url}/a"]["sha256"]
    assert after[f"{site.url}/c"] == indexed[f"{site.url}/c"]
    assert after[f"{site.url}/b"]["metadata"]["fetched_at"] >= indexed[f"{site.url}/b"]["metadata"]["fetched_at"]
    texts = {p.source.rsplit("/", 1)[1]: p.text for p in store.load(out).passages if "on average" in p.text}
    assert ("nine" not in texts["b"] and "eleven minutes" in texts["b"]) and "five minutes" in texts["c"]


def test_a_page_is_read_in_the_character_set_its_server_declared(tmp_path):
    # A short KOI8-R page is one the reader's own guess gets wrong: only the header says what it is.
    text = "Медсестра получает 312 фунтов за смену."
    data = f"<html><body><article><p>{text}</p></article></body></html>".encode("koi8-r")
    fetched = index.fetch.Fetched("http://x/a", "http://x/a", "html", data, "2026-01-01T00:00:00Z", charset="koi8-r")
    assert read(index.fetch.save(fetched, tmp_path), 1_000_000).text == text


def test_a_citation_links_only_to_web_addresses_and_escapes_them():
    from ui.render import citation_meta

    passage = qa.Passage(text="x", source="a.html", title="Huddles <b>", start=0, end=1)
    scripted = dataclasses.replace(passage, metadata={"url": "javascript:alert(1)"})
    assert "<a " not in citation_meta(scripted) and "Huddles &lt;b&gt;" in citation_meta(scripted)
    web = dataclasses.replace(passage, metadata={"url": 'https://e.org/p?a="b"&c'})
    assert '<a href="https://e.org/p?a=&quot;b&quot;&amp;c" target="_blank" rel="noopener noreferrer">' in (
        citation_meta(web)
    )


def test_a_last_modified_header_is_shown_as_updated_never_as_published(tmp_path, capsys, allow_local_fetch):
    routes = {"/pricing": Route(PRICING.encode(), headers={"Last-Modified": "Fri, 03 May 2024 09:30:00 GMT"})}
    out = tmp_path / "idx"
    with serve(routes) as site:
        code, _, stderr = cli(capsys, "build", f"{site.url}/pricing", "--out", str(out))
        assert code == 0, stderr
    passage = qa.Index.load(out).retrieve("What does a shift cost?", k=1)[0]
    assert passage.metadata["updated"] == "2024-05-03" and "date" not in passage.metadata
    assert "Published" not in passage.text and "2024" not in passage.text  # never written in as a publication

    from qa.reference import harvard
    from ui.render import citation_meta

    assert '<span class="qa-date">updated 3 May 2024</span>' in citation_meta(passage)
    assert "(no date)" in harvard(passage.metadata, passage.title).text  # a reference gives declared dates only
