"""The ONNX embedder agrees with sentence-transformers on the same packaged weights."""

import threading
import time

import numpy as np
import pytest

import qa
from qa import engine
from qa.embed import QuestionBatcher, get_embedder, model_path
from ui.slots import Slots


def test_onnx_vectors_match_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    texts = [
        "What is collective leadership?",
        "Collective leadership is a leadership in which all staff take responsibility for ensuring high quality "
        "patient care and all are accountable.",
        "a",
        "word " * 400,  # longer than the model's 256 tokens: truncated the same way
    ]
    reference = SentenceTransformer(str(model_path()), device="cpu").encode(texts, normalize_embeddings=True)
    ours = get_embedder().encode(texts)
    assert ours.shape == (4, 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    assert (np.sum(ours * reference, axis=1) >= 0.999).all()


def test_batching_does_not_change_vectors():
    texts = [f"sentence number {i} " * (i % 7 + 1) for i in range(20)]
    embedder = get_embedder()
    together = embedder.encode(texts, batch_size=8)
    alone = np.stack([embedder.encode([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_bulk_embedder_runs_batches_in_parallel_with_the_same_vectors():
    texts = [f"passage {i} about staff and patients " * (i % 11 + 1) for i in range(60)]
    done: list[int] = []

    class Progress:
        def update(self, n: int) -> None:
            done.append(n)

    bulk = get_embedder(2, bulk=True)
    assert bulk._pool is not None  # two workers, each running whole batches
    vectors = bulk.encode(texts, progress=Progress())
    assert np.allclose(vectors, get_embedder().encode(texts), atol=1e-5)  # and in the input order
    assert sum(done) == len(texts) and len(done) == 8  # one update per batch of 8


class CountingEmbedder:
    """The real question embedder, recording the size of each run the batcher asks of it."""

    def __init__(self) -> None:
        self.runs: list[int] = []
        self._embedder = get_embedder()

    def encode(self, texts, batch_size=8):
        self.runs.append(len(texts))
        return self._embedder.encode(texts, batch_size=batch_size)


def test_questions_arriving_together_are_embedded_together_with_the_same_vectors():
    questions = [f"What did the survey of ward {n} find about team leadership?" for n in range(24)]
    counting = CountingEmbedder()
    batcher = QuestionBatcher(counting, max_batch=8)
    start = threading.Barrier(len(questions))
    vectors: dict[int, np.ndarray] = {}

    def ask(n: int) -> None:
        start.wait()
        vectors[n] = batcher.encode(questions[n])

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(len(questions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(vectors) == list(range(len(questions)))
    alone = get_embedder().encode(questions, batch_size=1)
    assert np.allclose(np.stack([vectors[n] for n in range(len(questions))]), alone, atol=1e-5)
    # 24 questions at once: fewer runs than questions, none over the cap, every question once.
    assert len(counting.runs) < len(questions) and max(counting.runs) <= 8 and sum(counting.runs) == 24


def test_a_failed_run_fails_each_of_its_questions_and_the_batcher_goes_on():
    batcher = QuestionBatcher(get_embedder())
    with pytest.raises(TypeError):
        batcher.encode(None)  # not text: the tokenizer refuses it
    assert batcher.encode("What is collective leadership?").shape == (384,)


def test_the_first_vector_asked_for_embeds_every_question_queued_in_one_run():
    questions = [f"Who leads the huddles on ward {n}?" for n in range(5)]
    counting = CountingEmbedder()
    batcher = QuestionBatcher(counting)
    embedded = [batcher.submit(q) for q in questions]
    assert counting.runs == []  # queued: nothing is embedded until a vector is asked for
    vectors = np.stack([vector() for vector in embedded])
    assert counting.runs == [5]  # the first asking ran all five; the others found theirs done
    assert np.allclose(vectors, get_embedder().encode(questions, batch_size=1), atol=1e-5)


def test_questions_waiting_for_a_slot_are_embedded_together_when_the_first_turn_comes(article_index, monkeypatch):
    questions = ["What is collective leadership?", "Who is accountable?", "Why speak up?", "What do huddles do?"]
    counting = CountingEmbedder()
    batcher = QuestionBatcher(counting)
    monkeypatch.setattr(engine, "question_batcher", lambda: batcher)
    slots = Slots(1)
    slots.__enter__()  # held, as by a question being answered
    answers: dict[int, qa.Answer] = {}

    def ask(n: int) -> None:
        answers[n] = article_index.ask(questions[n], gate=slots)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(len(questions))]
    for thread in threads:
        thread.start()
    while len(slots._waiting) < len(questions):
        time.sleep(0.001)
    assert counting.runs == []  # waiting for the slot, not yet embedded
    slots.__exit__(None, None, None)
    for thread in threads:
        thread.join(60)
    assert counting.runs == [len(questions)]  # the first turn embedded all four in one run
    monkeypatch.undo()
    for n, question in enumerate(questions):
        alone = article_index.ask(question)
        assert (answers[n].status, answers[n].text) == (alone.status, alone.text)
        assert [p.text for p in answers[n].passages] == [p.text for p in alone.passages]
