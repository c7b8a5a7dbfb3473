"""The benchmark scripts still run: each piece on tiny inputs. No timing is asserted, ever.

Timings on a shared machine say nothing in a test; these only catch a benchmark broken by a
change elsewhere (an API renamed, a file format changed) before someone needs its figures.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import numpy as np

from bench import eval_seed, load, scale, speed
from tests.conftest import ARTICLE

# The tests need no data from outside the repository (the benchmarks read ../shared).
QUESTIONS = ["What is collective leadership?", "Who is accountable?", "How tall is Mount Everest?"]


class _CountingModel:
    """Stands in for the sentence-transformers baseline, so the smoke test never imports torch."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        return np.zeros((1 if isinstance(texts, str) else len(texts), 384), dtype=np.float32)


def test_speed_query_latency_reports_every_figure(built_index):
    questions = QUESTIONS
    model = _CountingModel()
    figures = speed.query_latency(built_index, questions, model, repeat=2)
    assert figures["queries"] == 6
    assert model.calls == 6 + len(questions)  # timed calls plus the warm-up
    for key in ("retrieve_p50_ms", "retrieve_p95_ms", "bare_encode_p50_ms", "retrieve_over_bare_p50"):
        assert figures[key] > 0


def test_eval_seed_asks_each_question_in_the_frame_given(article_index):
    questions = [
        {"question": "What is collective leadership?", "answers": ["all staff take responsibility"]},
        {"question": "How tall is Mount Everest?", "answers": []},
    ]
    plain = eval_seed.evaluate(questions, article_index)
    framed = eval_seed.evaluate(questions, article_index, frame="{question}, according to the article?")
    assert plain["hit@1"] == plain["right_rate"] == plain["rejection_rate"] == 1.0 and plain["unsure_rate"] == 0.0
    assert framed == plain  # naming the document changes nothing the service tells
    asked = eval_seed.evaluate(questions[:1], article_index, frame="{question} in 1966, on Mount Everest?")
    assert asked["right_rate"] == 0.0  # the frame is what is asked


def test_a_child_reports_its_own_peak_memory_not_ours():
    ballast = np.ones(200 * 2**20, dtype=np.uint8)  # this process: +200 MiB
    wall, peak = speed.run_child("pass")
    assert wall > 0
    assert 0 < peak < ballast.nbytes  # a bare interpreter is far smaller than the ballast


def test_speed_build_throughput_counts_what_the_build_embeds(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "article.txt").write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    figures = speed.build_throughput([docs], _CountingModel(), tmp_path / "builds", repeat=1)
    assert figures["texts_embedded"] > 0 and figures["chars_embedded"] > figures["texts_embedded"]
    assert figures["build_chars_per_s"] > 0


def test_scale_pieces_on_small_data(tmp_path, capsys):
    vectors = scale.synthetic(1200, seed=1, per_cluster=20)
    assert vectors.shape == (1200, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    base, queries = vectors[:1000], np.ascontiguousarray(vectors[1000:])
    truth = scale.exact_neighbours(base, queries, chunk=300)  # chunks smaller than base: the merge is exercised
    brute = np.argsort(-(queries @ base.T), axis=1)[:, : scale.K]
    assert scale.recall_at(truth, brute) == 1.0
    shape = scale.data_shape(base, queries, truth)
    assert shape["cos_top1"] > shape["cos_random_pair"]

    import faiss

    hnsw = faiss.IndexHNSWFlat(384, 8, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(base)
    rows = scale.sweep(hnsw, queries, truth, "efSearch", [16, 64], lambda v: setattr(hnsw.hnsw, "efSearch", v))
    assert [r["efSearch"] for r in rows] == [16, 64] and all(0 <= r["recall@10"] <= 1 for r in rows)
    figures = scale.mmap_check(hnsw, queries, 64, tmp_path)
    assert figures["file_mib"] > 0
    assert all(figures[f"{label}_same_results"] for label in ("mmap", "ifc", "both"))

    scale.bench_chosen(base, queries, truth, tmp_path)  # small: the exact index, reported
    assert '"benchmark": "scale.chosen"' in capsys.readouterr().out


def test_load_against_the_real_server(built_index, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_LOG", "1")  # the server logs its questions, as one deployed does
    figures = load.run(built_index, tmp_path, users=2, per_user=1, call_timeout=60, deadline=120, questions=QUESTIONS)
    assert figures["errors"] == 0, figures.get("first_error")
    assert figures["answered"] == 2 and "/ask" in figures["endpoints"]
    # Its questions went to a log of its own in the benchmark's folder, not the project's.
    with closing(sqlite3.connect(tmp_path / "server-questions.db")) as log:
        assert log.execute("SELECT COUNT(*) FROM questions").fetchone()[0] >= 2


def test_speed_question_log_cost_reports_every_figure(built_index, tmp_path):
    figures = speed.question_log_cost(built_index, QUESTIONS, tmp_path, repeat=2)
    assert figures["questions"] == 6
    assert (tmp_path / "questions.db").exists()
    for key in ("chat_log_off_p50_ms", "chat_log_on_p50_ms", "record_p50_ms", "record_p95_ms"):
        assert figures[key] > 0


def test_questionlog_target_check_runs_end_to_end(built_index, tmp_path):
    from bench import questionlog

    figures = questionlog.run(built_index, tmp_path)
    assert figures["uncovered_questions"] >= 10 and figures["covered_listed"] == "False"
    assert 0 <= figures["of_them_unsure"] <= figures["listed_with_count_2"] <= figures["uncovered_questions"]
