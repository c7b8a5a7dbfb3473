"""A long-lived Index and rebuilds: one build per answer, a failed reload tried again only after a back-off."""

from __future__ import annotations

import logging

import qa
from index import build
from qa import engine, store

FIRST = "Huddles last ten minutes at the start of each shift.\n\nEvery grade of staff may speak."
# The same document name, its text moved along: old offsets would cut the wrong words.
SECOND = "A preface added later moves everything along by a paragraph.\n\n" + FIRST


def _build(folder, text):
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "huddles.txt").write_text(text, encoding="utf-8")
    return build([folder / "src"], folder / "index", progress=False)


def test_a_view_keeps_answering_from_its_own_build(tmp_path):
    _build(tmp_path, FIRST)
    index = qa.Index.load(tmp_path / "index")
    view = index.view()
    answer = view.ask("How long do huddles last?")
    _build(tmp_path, SECOND)
    passage = answer.passages[0]
    # The view cuts the passage's surroundings from the text its offsets belong to ...
    assert view.context(passage) == ("", "Every grade of staff may speak.")
    # ... the index without a view refuses to cut the new text with the old offsets ...
    assert index.context(passage) == ("", "")
    # ... and its next question is answered from the new build.
    fresh = index.ask("How long do huddles last?").passages[0]
    assert fresh.start > passage.start and "preface" in index.context(fresh)[0]


def test_a_failed_reload_is_logged_once_and_retried_after_a_back_off(tmp_path, monkeypatch, caplog):
    _build(tmp_path, FIRST)
    index = qa.Index.load(tmp_path / "index")
    report = _build(tmp_path, SECOND)
    (report.path / "passages.jsonl").write_text("damaged", encoding="utf-8")  # sizes no longer match
    loads = []
    real_load = store.load
    monkeypatch.setattr(store, "load", lambda path: loads.append(path) or real_load(path))
    with caplog.at_level(logging.ERROR, logger="qa.engine"):
        for _ in range(5):
            answer = index.ask("How long do huddles last?")
            assert answer.found and answer.passages[0].start == 0  # the build loaded before serves
    assert len(loads) == 1
    assert caplog.text.count("not reloading") == 1 and "damaged" in caplog.text
    # A newer build is tried at once, back-off or not.
    _build(tmp_path, SECOND)
    loads.clear()
    assert index.ask("How long do huddles last?").passages[0].start > 0
    assert len(loads) == 1


def test_after_the_back_off_the_same_build_is_tried_again(tmp_path, monkeypatch, caplog):
    _build(tmp_path, FIRST)
    index = qa.Index.load(tmp_path / "index")
    damaged = _build(tmp_path, SECOND).path / "passages.jsonl"
    good = damaged.read_bytes()
    damaged.write_text("damaged", encoding="utf-8")
    monkeypatch.setattr(engine, "RELOAD_BACKOFF_SECONDS", 0.0)
    with caplog.at_level(logging.ERROR, logger="qa.engine"):
        assert index.ask("How long do huddles last?").passages[0].start == 0
        damaged.write_bytes(good)  # repaired in place: the same build, tried again once the wait is over
        assert index.ask("How long do huddles last?").passages[0].start > 0
    assert caplog.text.count("not reloading") == 1
