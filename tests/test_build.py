"""The builder on real files: bad input, incremental reuse, add and remove, the single-writer lock."""

import importlib
import logging
import threading
from dataclasses import replace
from pathlib import Path

import pytest

import qa
from index import add, build, remove
from qa import store
from qa.config import SETTINGS
from qa.errors import BuildError, IndexBusyError
from qa.sources import fingerprint
from qa.types import Document
from tests.conftest import ARTICLE


def test_unusable_files_are_skipped_with_a_warning_naming_each(tmp_path, caplog):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "article.txt").write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (folder / "image.png").write_bytes(b"\x89PNG")
    with caplog.at_level(logging.WARNING):
        report = build([folder], tmp_path / "idx", progress=False)
    assert report.documents == 1
    assert set(report.skipped) == {str(folder / n) for n in ("empty.txt", "binary.txt", "image.png")}
    for name in ("empty.txt", "binary.txt", "image.png"):
        assert name in caplog.text
    assert "empty file" in caplog.text and "binary" in caplog.text and "unsupported format" in caplog.text


def test_no_usable_document_is_an_error_and_the_serving_index_survives(tmp_path, built_index):
    out = tmp_path / "idx"
    build([ARTICLE], out, progress=False)
    before = store.resolve(out)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "empty.md").write_text("   \n")
    with pytest.raises(BuildError, match="no usable document"):
        build([junk], out, progress=False)
    assert store.resolve(out) == before
    assert qa.Index.load(out).ask("What is collective leadership?").found


def test_a_missing_source_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build([tmp_path / "nope"], tmp_path / "idx", progress=False)


def test_unchanged_documents_are_reused_not_re_embedded(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "article.txt").write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "idx"
    first = build([folder], out, progress=False)
    (folder / "note.md").write_text("# Team huddles\n\nA daily team huddle lasts ten minutes.\n")
    second = build([folder], out, progress=False)
    assert first.embedded == first.passages and first.reused == 0
    assert second.reused == first.passages and second.embedded == second.passages - first.passages
    answer = qa.Index.load(out).ask("How long does a team huddle last?")
    assert answer.found and answer.passages[0].source == "note.md"


def test_a_second_concurrent_build_is_refused(tmp_path):
    out = tmp_path / "idx"
    with store.build_lock(out), pytest.raises(IndexBusyError, match="another build"):
        build([ARTICLE], out, progress=False)


def test_a_running_index_picks_up_a_rebuild(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.md").write_text("# Huddles\n\nA daily team huddle lasts ten minutes.\n")
    out = tmp_path / "idx"
    build([folder], out, progress=False)
    index = qa.Index.load(out)
    assert not index.ask("What colour is the hospital logo?").found
    (folder / "b.md").write_text("# Branding\n\nThe hospital logo is coloured dark green.\n")
    build([folder], out, progress=False)
    answer = index.ask("What colour is the hospital logo?")
    assert answer.found and answer.passages[0].source == "b.md"


def test_bad_input_is_skipped_naming_each_file_and_symlink_loops_do_not_hang(tmp_path, caplog):
    folder = tmp_path / "src"
    (folder / "sub").mkdir(parents=True)
    (folder / "note.md").write_text("# Huddles\n\nA daily team huddle lasts ten minutes.\n")
    (folder / "big.txt").write_text("Far too long a text. " * 100)
    (folder / "latin.txt").write_bytes(b"caf\x81 \x8d\x8f\x90\x9d")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf\n%%EOF")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)  # a loop through a folder link
    (folder / "self.txt").symlink_to(folder / "self.txt")  # a link to itself
    result: list = []
    worker = threading.Thread(
        target=lambda: result.append(build([folder], tmp_path / "idx", progress=False, max_file_bytes=1000))
    )
    with caplog.at_level(logging.WARNING):
        worker.start()
        worker.join(timeout=120)
    assert not worker.is_alive(), "the build hangs"
    report = result[0]
    assert report.documents == 1
    reasons = {Path(path).name: reason for path, reason in report.skipped.items()}
    assert set(reasons) == {"big.txt", "latin.txt", "broken.pdf", "broken.docx"}
    assert "over the 1,000-byte limit (QA_MAX_FILE_BYTES)" in reasons["big.txt"]
    assert "not UTF-8" in reasons["latin.txt"]
    assert "corrupt or unreadable PDF" in reasons["broken.pdf"]
    assert "corrupt or unreadable DOCX" in reasons["broken.docx"]
    for name in reasons:
        assert name in caplog.text


def test_a_changed_splitter_rebuilds_everything_and_says_why(tmp_path, monkeypatch):
    note = tmp_path / "note.md"
    note.write_text("# Huddles\n\nA daily team huddle lasts ten minutes. It starts each shift.\n")
    out = tmp_path / "idx"
    build([note], out, progress=False)
    # `index.build` the module, not the function that `index` exports under the same name.
    monkeypatch.setattr(importlib.import_module("index.build"), "SETTINGS", replace(SETTINGS, passage_chars=300))
    with pytest.raises(qa.IndexCorruptError, match=r"splitter settings changed.*python -m index build"):
        add([note], out, progress=False)
    report = build([note], out, progress=False)
    assert "splitter settings changed" in report.full_rebuild_reason
    assert report.embedded == report.passages and report.reused == 0


def test_add_and_remove_keep_the_rest_and_a_folder_index_in_step_with_its_folder(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "huddles.md").write_text("# Huddles\n\nA daily team huddle lasts ten minutes.\n")
    out = tmp_path / "idx"
    first = build([folder], out, progress=False)
    index = qa.Index.load(out)

    # A file put into the index's folder and added is named as a build of the folder names it,
    # so the index still matches the folder (the default index's staleness check relies on it).
    (folder / "sub").mkdir()
    (folder / "sub" / "logo.md").write_text("# Branding\n\nThe hospital logo is coloured dark green.\n")
    added = add([folder / "sub" / "logo.md"], out, progress=False)
    manifest = store.load(out).manifest
    assert added.read == 1 and added.reused == first.passages and added.embedded == added.passages - first.passages
    assert manifest["inputs"] == fingerprint([folder]) and manifest["sources"] == [str(folder.resolve())]
    answer = index.ask("What colour is the hospital logo?")  # the running index picks it up
    assert answer.found and answer.passages[0].source == "sub/logo.md"

    # A file from elsewhere is named by its file name, and its place recorded among the sources.
    other = tmp_path / "other.md"
    other.write_text("# Parking\n\nStaff park in the multi-storey car park on Elm Road.\n")
    add([other], out, progress=False)
    assert store.load(out).manifest["sources"] == [str(folder.resolve()), str(other.resolve())]

    removed = remove(["sub/logo.md"], out, progress=False)
    assert removed.removed == ["sub/logo.md"] and removed.embedded == 0 and removed.documents == 2
    assert {d["source"] for d in store.load(out).manifest["documents"]} == {"huddles.md", "other.md"}
    assert all(p.source != "sub/logo.md" for p in index.retrieve("What colour is the hospital logo?"))
    with pytest.raises(BuildError, match="not in the index"):
        remove(["nope.md"], out, progress=False)
    (tmp_path / "empty.md").write_text("")
    with pytest.raises(BuildError, match="no usable document"):
        add([tmp_path / "empty.md"], out, progress=False)


def test_two_files_cited_by_one_name_are_refused(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "note.md").write_text(f"# Note {folder}\n\nA note from folder {folder}.\n")
    with pytest.raises(BuildError, match=r"more than one file would be cited as note\.md"):
        build([tmp_path / "a", tmp_path / "b"], tmp_path / "idx", progress=False)


def test_the_published_line_is_embedded_as_it_is_and_every_other_sentence_with_its_title():
    # The date a document declares is about when, not its topic: titled, "Published 4 June 2014"
    # read as the title and pulled questions naming the article's subject to the byline.
    build_module = importlib.import_module("index.build")
    text = "By Ann Lee\nPublished 2 May 2024\nHuddles last ten minutes.\nPublished 2 May 2024"
    doc = Document(source="a.html", title="Huddles", text=text, metadata={"author": "Ann Lee", "date": "2 May 2024"})
    spans = [(0, 10), (11, 31), (32, 57), (58, 78)]
    assert build_module.sentence_embedding_texts(doc, spans) == [
        "Huddles: By Ann Lee",
        "Published 2 May 2024",
        "Huddles: Huddles last ten minutes.",
        "Published 2 May 2024",
    ]
    # A document that declares no date has no such line: every sentence is titled.
    undeclared = replace(doc, metadata={"author": "Ann Lee"})
    assert build_module.sentence_embedding_texts(undeclared, spans)[1] == "Huddles: Published 2 May 2024"
