"""Does this sentence answer this question? A cross-encoder reads the two together.

A search compares a question's vector with each sentence's, made apart; on the content's own
topic the closest sentence is close even when it does not say what was asked. The cross-encoder
reads the question and one candidate sentence as one input, so it sees whether the sentence
holds what the question asks for. The judgement (qa.answerable) reads its scores beside the
search's own features.

It is all-MiniLM-L6-v2's transformer with one output, fine-tuned on CPU from the packaged
weights on SQuAD's even articles (`python -m bench.fit_crossencoder`), and shipped as int8 ONNX
(`crossencoder.onnx`, about 23 MB) with the record of its fit (`crossencoder.json`). It uses the
packaged tokenizer, as the embedding does, and runs on ONNX Runtime: no torch at question time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.config import SETTINGS
from qa.embed import cpu_session, model_path, padded

WEIGHTS = Path(__file__).with_name("crossencoder.onnx")
RECORD = WEIGHTS.with_suffix(".json")
# Question and sentence together; longer pairs lose the end of the longer side. 128 tokens hold
# 99% of SQuAD's question-sentence pairs whole.
MAX_TOKENS = 128


@lru_cache(maxsize=1)
def pair_tokenizer():  # -> tokenizers.Tokenizer
    """The packaged tokenizer, set for (question, sentence) pairs: `[CLS] q [SEP] s [SEP]`."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer


def feed(pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
    """The model's inputs for `pairs` of (question, sentence), padded to the longest.

    Training (bench/fit_crossencoder.py) and scoring both encode through here, so the model
    always sees pairs made the same way.
    """
    return padded(pair_tokenizer().encode_batch(list(pairs)))


class CrossEncoder:
    """Scores (question, sentence) pairs: a logit, above zero when the sentence answers.

    >>> get_cross_encoder().score("Who proclaimed the embargo?", ["OAPEC proclaimed an oil embargo."])
    array([...], dtype=float32)
    """

    def __init__(self, onnx_file: Path = WEIGHTS, threads: int = SETTINGS.query_threads) -> None:
        if not onnx_file.exists():
            raise FileNotFoundError(
                f"The cross-encoder {onnx_file} is missing: restore it from git or refit it with "
                "`python -m bench.fit_crossencoder`"
            )
        self._session = cpu_session(onnx_file, threads)
        self._lock = threading.Lock()  # the tokenizer is shared; the session is safe across threads

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """One logit per sentence, in order; an empty array for no sentences.

        Each pair runs alone: the int8 model quantises its activations over the whole batch, so
        in a batch a sentence's score would move (by up to 0.9 measured) with its neighbours and
        their padding. Alone, a pair always scores the same, at about the same cost (a batch
        saves little on 2 cores, and pays for padding).
        """
        with self._lock:
            inputs = [feed([(question, s)]) for s in sentences]
        return np.array([self._session.run(None, one)[0][0] for one in inputs], dtype=np.float32)


@lru_cache(maxsize=1)
def get_cross_encoder() -> CrossEncoder:
    """The process-wide cross-encoder (loaded once)."""
    return CrossEncoder()


def record() -> dict:
    """How the shipped cross-encoder was fitted, and what it measured (crossencoder.json)."""
    return json.loads(RECORD.read_text(encoding="utf-8"))
