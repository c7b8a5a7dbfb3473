"""The builder on real files: bad input, incremental reuse, the single-writer lock."""

import logging

import pytest

import qa
from index import build
from qa import store
from qa.errors import BuildError, IndexBusyError
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
