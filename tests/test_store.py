"""The index on disk: a round trip, refusal of damaged directories, atomic publishing."""

import json
import os
import shlex

import numpy as np
import pytest

import qa
from index import build
from qa import store
from tests.conftest import ARTICLE


@pytest.fixture
def small_index(tmp_path):
    out = tmp_path / "idx"
    build([ARTICLE], out, progress=False)
    return out


def test_round_trip_keeps_passages_and_vectors(built_index):
    data = store.load(built_index)
    assert data.manifest["counts"]["passages"] == len(data.passages) == data.dense.ntotal
    assert data.arrays["passage_vectors"].shape == (len(data.passages), 384)
    assert data.arrays["sentence_vectors"].shape[0] == len(data.sentences) == data.first_sentence[-1]
    doc = data.documents[ARTICLE.name]
    for p in data.passages:
        assert doc.text[p.start : p.end] == p.text
    assert np.allclose(np.linalg.norm(data.arrays["passage_vectors"], axis=1), 1, atol=1e-4)
    manifest = data.manifest
    assert manifest["documents"][0]["sha256"] and manifest["model"].startswith("sentence-transformers/all-MiniLM")
    assert manifest["settings"]["passage_chars"] == 600 and manifest["dense_index"] == "flat"


def test_nothing_on_disk_is_a_pickle(built_index):
    for path in store.resolve(built_index).rglob("*.npy"):
        np.load(path, allow_pickle=False)  # raises if an object array (pickle) were stored


@pytest.mark.parametrize("damage", ["truncate", "delete", "garbage_manifest", "bad_json"])
def test_damaged_index_is_refused_with_a_rebuild_message(small_index, damage):
    directory = store.resolve(small_index)
    if damage == "truncate":
        path = directory / "arrays" / "passage_vectors.npy"
        path.write_bytes(path.read_bytes()[:-100])
    elif damage == "delete":
        (directory / "dense.faiss").unlink()
    elif damage == "garbage_manifest":
        (directory / "manifest.json").write_text("{not json")
    else:
        lines = (directory / "passages.jsonl").read_text().splitlines()
        (directory / "passages.jsonl").write_text(
            "\n".join(["{broken", *lines[1:]]).ljust((directory / "passages.jsonl").stat().st_size)
        )
    with pytest.raises(qa.IndexCorruptError) as raised:
        qa.Index.load(small_index)
    # Rebuilt from what it was built from: the hint once named no source, and so the default
    # corpus, which would have replaced this index's documents with the bundled article.
    sources = "SOURCE ..." if damage == "garbage_manifest" else shlex.quote(str(ARTICLE.resolve()))
    assert f"rebuild it with `python -m index build {sources} --out {small_index}`" in str(raised.value)


def test_publish_swaps_a_link_and_keeps_the_previous_build(small_index):
    first = store.resolve(small_index)
    build([ARTICLE], small_index, progress=False)
    second = store.resolve(small_index)
    assert first != second and first.exists() and os.path.islink(small_index)
    build([ARTICLE], small_index, progress=False)
    assert not first.exists()  # only the current and the previous build are kept
    assert json.loads((small_index / "manifest.json").read_text())["counts"]["documents"] == 1
