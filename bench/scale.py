"""The dense index at scale: `python -m bench.scale [--n 1000000] [--queries 200] [--ivf]`.

Synthetic vectors stand in for a million passages (the index layer sees only vectors): unit
vectors in 384 dimensions drawn from a Gaussian mixture with a decaying spectrum and a shared
direction, so that, like real all-MiniLM-L6-v2 embeddings, unrelated texts sit near cosine 0.05
and a passage's nearest neighbours near 0.7 (both printed, to check). The index is the one
`qa.search.make_dense` chooses for that size; the figures are its build time and memory, the
search p50/p95 of one query at a time (as the service asks) and recall@10 against exact search on
held-out queries, for several efSearch values, and whether the saved file is memory-mapped
(shared between server processes) when read back with each FAISS mmap flag. `--ivf` adds an IVF-Flat
index over the same vectors for comparison.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import report

DIMENSION = 384
K = 10
RECALL_TARGET = 0.95


def synthetic(n: int, seed: int = 0, per_cluster: int = 100, chunk: int = 100_000) -> np.ndarray:
    """`n` unit vectors in clusters of about `per_cluster`, generated in chunks to bound memory.

    Variance decays along the dimensions (1/i) and every vector shares a common direction, as in
    real sentence embeddings; isotropic noise would make the search harder than real data is.
    """
    rng = np.random.default_rng(seed)
    spectrum = np.arange(1, DIMENSION + 1, dtype=np.float32) ** -0.5
    spectrum /= np.linalg.norm(spectrum)
    rotation = np.linalg.qr(rng.standard_normal((DIMENSION, DIMENSION)))[0].astype(np.float32)
    common = rng.standard_normal(DIMENSION).astype(np.float32)
    common /= np.linalg.norm(common)
    centres = rng.standard_normal((max(1, n // per_cluster), DIMENSION), dtype=np.float32) * spectrum
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, DIMENSION), dtype=np.float32)
    for first in range(0, n, chunk):
        rows = min(n, first + chunk) - first
        labels = rng.integers(0, len(centres), rows)
        noise = rng.standard_normal((rows, DIMENSION), dtype=np.float32) * spectrum
        x = (0.35 * common + centres[labels] + 0.9 * noise) @ rotation
        out[first : first + rows] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def exact_neighbours(base: np.ndarray, queries: np.ndarray, k: int = K, chunk: int = 200_000) -> np.ndarray:
    """The true top-k rows by inner product, in chunks (no second full copy of `base`)."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), 0), dtype=np.int64)
    for first in range(0, len(base), chunk):
        scores = queries @ base[first : first + chunk].T
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        best_scores = np.hstack([best_scores, np.take_along_axis(scores, top, axis=1)])
        best_rows = np.hstack([best_rows, top + first])
        keep = np.argsort(-best_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(best_scores, keep, axis=1)
        best_rows = np.take_along_axis(best_rows, keep, axis=1)
    return best_rows


def data_shape(base: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Cosines that say whether the synthetic data looks like real embeddings."""
    sample = base[: min(2000, len(base) // 2)]
    other = base[len(sample) : 2 * len(sample)]
    top = np.einsum("qd,qkd->qk", queries, base[truth])
    return {
        "cos_random_pair": float(np.mean(np.sum(sample * other, axis=1))),
        "cos_top1": float(np.mean(top[:, 0])),
        "cos_top10": float(np.mean(top[:, -1])),
    }


def one_at_a_time(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    """Search query by query, as the service does; (result rows, seconds per query)."""
    rows = np.empty((len(queries), k), dtype=np.int64)
    seconds = []
    for i in range(len(queries)):
        began = time.perf_counter()
        _, found = index.search(queries[i : i + 1], k)
        seconds.append(time.perf_counter() - began)
        rows[i] = found[0]
    return rows, seconds


def recall_at(found: np.ndarray, truth: np.ndarray, k: int = K) -> float:
    """Mean share of the true top-k among the first k found."""
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth, strict=True)]))


def sweep(
    index: Any, queries: np.ndarray, truth: np.ndarray, name: str, values: Sequence[int], set_value: Callable
) -> list[dict[str, float | int]]:
    """p50/p95 and recall@10 of `index` for each value of one search parameter (efSearch, nprobe)."""
    one_at_a_time(index, queries[:20], K)  # warm caches
    rows = []
    for value in values:
        set_value(value)
        found, seconds = one_at_a_time(index, queries, K)
        rows.append(
            {
                name: value,
                "p50_ms": 1000 * float(np.percentile(seconds, 50)),
                "p95_ms": 1000 * float(np.percentile(seconds, 95)),
                "recall@10": recall_at(found, truth),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def memory_kib() -> dict[str, int]:
    """This process's current and peak resident memory and its anonymous share, in KiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0])
    return fields


# Run in a fresh process: read the index as qa.store does and say where its bytes live.
MMAP_CHILD = """
import json, sys, time
import faiss, numpy as np

def mem():
    out = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0])
    return out

path, queries_file, flag_names = sys.argv[1], sys.argv[2], sys.argv[4].split("|")
flags = 0
for name in flag_names:
    flags |= getattr(faiss, name)
before = mem()
began = time.perf_counter()
index = faiss.read_index(path, flags)
load_s = time.perf_counter() - began
after = mem()
queries = np.load(queries_file)
if hasattr(index, "hnsw"):
    index.hnsw.efSearch = int(sys.argv[3])
elif hasattr(index, "nprobe"):
    index.nprobe = int(sys.argv[3])
_, rows = index.search(queries, 10)
mapped = sum(
    1 for line in open("/proc/self/maps") if line.rstrip().endswith(path)
)
print(json.dumps({
    "load_s": load_s,
    "anon_growth_mib": (after["RssAnon"] - before["RssAnon"]) / 1024,
    "file_backed_growth_mib": (after["RssFile"] - before["RssFile"]) / 1024,
    "mapped_regions": mapped,
    "rows": rows.tolist(),
}))
"""


# The plain mmap flag, and the zero-copy flag of FAISS >= 1.11 for flat codes and HNSW that
# qa.store.load uses (IO_FLAG_MMAP alone maps only IVF inverted lists; other indexes are copied
# into RAM).
READ_FLAGS = {
    "mmap": "IO_FLAG_MMAP|IO_FLAG_READ_ONLY",
    "ifc": "IO_FLAG_MMAP_IFC|IO_FLAG_READ_ONLY",
    "both": "IO_FLAG_MMAP|IO_FLAG_MMAP_IFC|IO_FLAG_READ_ONLY",
}


def mmap_check(index: Any, queries: np.ndarray, param: int, workdir: Path) -> dict[str, float | int | str]:
    """Save `index`, read it back in fresh processes with each of READ_FLAGS.

    Memory-mapped means the file appears in the child's mappings and loading it does not grow the
    child's anonymous (private) memory: its pages are the page cache, one copy shared by every
    server process mapping the file. Each child's results must equal this process's (the caller
    has set `index` to the same search parameter `param`).
    """
    import faiss

    path = workdir / "dense.faiss"
    began = time.perf_counter()
    faiss.write_index(index, str(path))
    figures: dict[str, float | int | str] = {
        "file_mib": path.stat().st_size / 2**20,
        "write_s": time.perf_counter() - began,
    }
    np.save(workdir / "queries.npy", queries)
    _, ours = index.search(queries, K)
    for label, flags in READ_FLAGS.items():
        done = subprocess.run(
            [sys.executable, "-c", MMAP_CHILD, str(path), str(workdir / "queries.npy"), str(param), flags],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            figures[f"{label}_mmap"] = f"read failed: {done.stderr.strip().splitlines()[-1][:80]}"
            continue
        child = json.loads(done.stdout.splitlines()[-1])
        shared = child["mapped_regions"] > 0 and child["anon_growth_mib"] < 0.1 * figures["file_mib"]
        figures[f"{label}_load_s"] = child["load_s"]
        figures[f"{label}_private_mib"] = child["anon_growth_mib"]
        figures[f"{label}_mmap_shared"] = "yes" if shared else "no"
        figures[f"{label}_same_results"] = bool(np.array_equal(np.asarray(child["rows"]), ours))
    return figures


def best(rows: list[dict[str, float | int]], name: str) -> dict[str, float | int | str]:
    """The cheapest setting that reaches the recall target (the rows run from cheap to dear)."""
    for row in rows:
        if row["recall@10"] >= RECALL_TARGET:
            return {
                f"proposed_{name}": row[name],
                "proposed_p50_ms": row["p50_ms"],
                "proposed_recall@10": row["recall@10"],
            }
    return {f"proposed_{name}": "none reaches the target"}


def hnsw_variant(m: int, ef_construction: int) -> Callable[[np.ndarray], tuple[Any, str]]:
    """A builder like `make_dense`'s HNSW branch with other parameters, to propose better ones."""

    def make(vectors: np.ndarray) -> tuple[Any, str]:
        import faiss

        index = faiss.IndexHNSWFlat(DIMENSION, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return index, "hnsw"

    return make


def bench_chosen(
    base: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    workdir: Path,
    make: Callable[[np.ndarray], tuple[Any, str]] | None = None,
    name: str = "scale.chosen",
) -> None:
    """The index qa builds for this many passages (or `make`'s), searched as `qa.search.rank` does."""
    from qa.search import POOL, make_dense

    before = memory_kib()
    began = time.perf_counter()
    index, kind = (make or make_dense)(base)
    build_s = time.perf_counter() - began
    after = memory_kib()
    figures: dict[str, Any] = {
        "n": len(base),
        "queries": len(queries),
        "kind": kind,
        "build_s": build_s,
        "build_growth_mib": (after["VmRSS"] - before["VmRSS"]) / 1024,
        "peak_rss_mib": after["VmHWM"] / 1024,
    }
    if kind == "hnsw":
        service_ef = max(64, POOL)  # what rank() sets before searching
        figures.update(M=index.hnsw.nb_neighbors(1), efConstruction=index.hnsw.efConstruction)

        def set_ef(value: int) -> None:
            index.hnsw.efSearch = value

        rows = sweep(index, queries, truth, "efSearch", sorted({16, 32, 48, 64, service_ef, 200}), set_ef)
        service = next(r for r in rows if r["efSearch"] == service_ef)
        figures.update(
            service_efSearch=service_ef,
            p50_ms=service["p50_ms"],
            p95_ms=service["p95_ms"],
            **{"recall@10": service["recall@10"]},
            **best(rows, "efSearch"),
        )
        set_ef(service_ef)
        # The service asks for a pool of candidates, not 10: time that call too.
        _, seconds = one_at_a_time(index, queries, POOL)
        figures[f"service_k{POOL}_p50_ms"] = 1000 * float(np.percentile(seconds, 50))
        param = service_ef
    else:
        _, seconds = one_at_a_time(index, queries, K)
        figures.update(p50_ms=1000 * float(np.percentile(seconds, 50)), **{"recall@10": 1.0})
        param = 0
    figures.update(mmap_check(index, queries, param, workdir))
    report(name, figures)


def bench_ivf(base: np.ndarray, queries: np.ndarray, truth: np.ndarray, workdir: Path) -> None:
    """IVF-Flat over the same vectors: builds in a fraction of HNSW's time and memory-maps."""
    import faiss

    nlist = 4 * int(math.sqrt(len(base)))
    began = time.perf_counter()
    quantizer = faiss.IndexFlatIP(DIMENSION)
    index = faiss.IndexIVFFlat(quantizer, DIMENSION, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(1)
    sample = base[np.sort(rng.choice(len(base), min(len(base), 32 * nlist), replace=False))]
    index.cp.niter = 10  # k-means converges well enough for routing; each iteration is costly
    index.train(sample)
    index.add(base)
    build_s = time.perf_counter() - began

    def set_nprobe(value: int) -> None:
        index.nprobe = value

    rows = sweep(index, queries, truth, "nprobe", [8, 16, 32, 64, 128], set_nprobe)
    chosen = best(rows, "nprobe")
    figures: dict[str, Any] = {"n": len(base), "kind": "ivf-flat", "nlist": nlist, "build_s": build_s, **chosen}
    for row in rows:
        figures[f"nprobe{row['nprobe']}_p50_ms"] = row["p50_ms"]
        figures[f"nprobe{row['nprobe']}_recall@10"] = row["recall@10"]
    nprobe = chosen["proposed_nprobe"] if isinstance(chosen["proposed_nprobe"], int) else 32
    set_nprobe(nprobe)
    figures.update(mmap_check(index, queries, nprobe, workdir))
    report("scale.ivf", figures)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="vectors in the index")
    parser.add_argument("--queries", type=int, default=200, help="held-out queries (never in the index)")
    parser.add_argument("--ivf", action="store_true", help="also measure an IVF-Flat index")
    parser.add_argument(
        "--hnsw",
        nargs="*",
        default=[],
        metavar="M,EFC",
        help="also measure IndexHNSWFlat with these M,efConstruction pairs (e.g. 32,40)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    began = time.perf_counter()
    vectors = synthetic(args.n + args.queries, seed=args.seed)
    base, queries = vectors[: args.n], np.ascontiguousarray(vectors[args.n :])
    generate_s = time.perf_counter() - began
    began = time.perf_counter()
    truth = exact_neighbours(base, queries)
    exact_s = time.perf_counter() - began
    report(
        "scale.data",
        {"n": args.n, "queries": args.queries, "generate_s": generate_s, "exact_search_s": exact_s}
        | data_shape(base, queries, truth),
    )
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        bench_chosen(base, queries, truth, Path(tmp))
        for pair in args.hnsw:
            m, efc = (int(v) for v in pair.split(","))
            bench_chosen(base, queries, truth, Path(tmp), hnsw_variant(m, efc), f"scale.hnsw-M{m}-efC{efc}")
        if args.ivf:
            bench_ivf(base, queries, truth, Path(tmp))


if __name__ == "__main__":
    main()
