"""The ONNX embedder agrees with sentence-transformers on the same packaged weights."""

import numpy as np

from qa.embed import get_embedder, model_path


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
