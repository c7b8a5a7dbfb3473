"""The Library inside the whole web app (`ui.server.create_app`, as `python -m ui` serves it) on a
real uvicorn server: uploads over the API's body limit still reach it, each refusal has its code
and reason, and a job that fails leaves the index, the upload folder and the staging as they were."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import qa
from qa import store
from qa.config import SETTINGS
from tests.libraryserver import TOKEN, copy_index, serve_app
from tests.test_formats import make_docx
from tests.test_library import ADMIN, NOTE, sources, wait
from tests.webserver import ARTICLE_PAGE
from ui.jobs import DONE, FAILED
from ui.server import create_app
from ui.uploads import Refused, cited_name

ARTICLE = "michael-west-collective-leadership-for-culture-change.txt"


@dataclass
class Site:
    client: httpx.Client
    index: Path
    uploads: Path

    def state(self) -> tuple:
        """What a failed change must leave as it was: the build served, its manifest, the kept uploads."""
        kept = sorted(p.name for p in self.uploads.iterdir() if p.is_file()) if self.uploads.exists() else []
        staged = list((self.uploads / ".incoming").rglob("*")) if (self.uploads / ".incoming").exists() else []
        return store.resolve(self.index), (self.index / "manifest.json").read_bytes(), kept, staged


@pytest.fixture(scope="module")
def site(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The whole app over a private copy of the article's index, with the Library on."""
    folder = tmp_path_factory.mktemp("app")
    index_path = copy_index(built_index, folder / "library")
    app = create_app(qa.Index.load(index_path), admin_token=TOKEN, upload_dir=folder / "uploads")
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield Site(client, index_path, folder / "uploads")


def test_an_upload_over_the_api_body_limit_is_indexed_and_answered_from(site):
    # A page padded with a style sheet: over the API's 64 kB body limit, a few passages once read.
    padding = "<style>" + ".ward { margin: 0 }\n" * 4000 + "</style>"
    page = ARTICLE_PAGE.replace("</head>", padding + "</head>").encode()
    assert len(page) > 1.2 * SETTINGS.api_max_body_bytes
    response = site.client.post("/api/v1/documents", files={"files": ("huddles.html", page)}, headers=ADMIN)
    assert response.status_code == 202, response.text
    assert wait(site.client, response.json()["job"])["state"] == DONE
    assert "huddles.html" in sources(site.client)
    answer = site.client.post("/api/v1/ask", json={"question": "How long did the safety huddles last on average?"})
    assert "seven minutes" in answer.json()["answer"]
    # The exemption is the upload route's alone: a question that large is still refused.
    big = json.dumps({"question": "x" * len(page)})
    refused = site.client.post("/api/v1/ask", content=big, headers={"Content-Type": "application/json"})
    assert refused.status_code == 413


def _docx_with_parts(path: Path, extra: int) -> bytes:
    make_docx(path)
    with zipfile.ZipFile(path, "a") as archive:
        for n in range(extra):
            archive.writestr(f"word/media/p{n}.xml", "")
    return path.read_bytes()


def test_each_refusal_has_its_code_and_reason_and_changes_nothing(site, tmp_path):
    before, indexed = site.state(), sources(site.client)
    client, post = site.client, site.client.post

    def chunked():  # no Content-Length: the size cannot be checked before reading
        yield NOTE

    no_length = post("/api/v1/documents", content=chunked(), headers={**ADMIN, "Content-Type": "text/markdown"})
    assert no_length.status_code == 411 and "Content-Length" in no_length.json()["error"]
    plain = post("/api/v1/documents", content=NOTE, headers={**ADMIN, "Content-Type": "text/plain"})
    assert plain.status_code == 415 and "multipart/form-data" in plain.json()["error"]

    urls = [f"http://127.0.0.1:9/page{n}" for n in range(51)]
    many = post("/api/v1/documents", json={"urls": urls}, headers=ADMIN)
    assert many.status_code == 422 and "50" in many.json()["error"]  # declared in the schema: at most 50
    files = [("files", (f"note{n}.md", NOTE)) for n in range(51)]
    many = post("/api/v1/documents", files=files, headers=ADMIN)
    assert many.status_code == 400 and "50" in many.json()["error"]

    two = [("files", ("a.md", NOTE)), ("files", ("b.md", NOTE))]
    replace = post("/api/v1/documents", files=two, data={"replace": ARTICLE}, headers=ADMIN)
    assert replace.status_code == 400 and "exactly one file" in replace.json()["error"]

    crowded = _docx_with_parts(tmp_path / "crowded.docx", 2001)
    response = post("/api/v1/documents", files={"files": ("crowded.docx", crowded)}, headers=ADMIN)
    assert response.status_code == 400
    (refusal,) = response.json()["refused"]
    assert "parts, over the 2,000 a document may have" in refusal["reason"]
    assert site.state() == before and sources(client) == indexed

    # Two files whose names are stored alike: the second is refused, the first is kept, cited as uploaded.
    twins = [("files", ("Rota: plan.md", NOTE)), ("files", ("Rota_ plan.md", NOTE))]
    response = post("/api/v1/documents", files=twins, headers=ADMIN)
    assert response.status_code == 202, response.text
    assert response.json()["refused"] == [
        {"name": "Rota_ plan.md", "reason": "another file in this upload has the same name"}
    ]
    assert wait(client, response.json()["job"])["state"] == DONE
    assert "Rota: plan.md" in sources(client)
    removed = client.delete("/api/v1/documents/Rota: plan.md", headers=ADMIN)
    assert wait(client, removed.json()["job"])["state"] == DONE


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("..\\..\\notes.txt", "folder part"),
        ("reports\\notes.txt", "folder part"),
        ("C:notes.txt", "folder part"),
        ("c:\\Users\\me\\notes.txt", "folder part"),
        (".notes.txt", "hidden"),
        (".htaccess", "hidden"),
        ("..", "folder part"),
        ("  ", "no name"),
    ],
)
def test_cited_name_refuses_folders_drives_and_hidden_names(name, says):
    with pytest.raises(Refused, match=says):
        cited_name(name)


def test_a_failed_job_leaves_the_index_the_uploads_and_the_staging_as_they_were(site):
    before = site.state()
    # Passes every check before the job (it opens like a PDF), then no page of it can be read.
    broken = b"%PDF-1.7\n" + b"not really a PDF " * 200
    response = site.client.post("/api/v1/documents", files={"files": ("minutes.pdf", broken)}, headers=ADMIN)
    assert response.status_code == 202, response.text
    job = wait(site.client, response.json()["job"])
    assert job["state"] == FAILED and "unchanged" in job["error"], job
    # Addresses that all fail: nothing fetched, nothing built.
    response = site.client.post("/api/v1/documents", json={"urls": ["http://127.0.0.1:9/gone"]}, headers=ADMIN)
    job = wait(site.client, response.json()["job"])
    assert job["state"] == FAILED and "the index is unchanged" in job["error"], job
    assert site.state() == before
    assert site.client.post("/api/v1/ask", json={"question": "What is collective leadership?"}).json()["found"]
