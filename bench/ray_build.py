"""A build on a Ray cluster against a local build: `python -m bench.ray_build [--articles 12] [--nodes 2]`.

Writes the first N SQuAD dev articles as .txt files, builds them here (this process, the
machine's build threads), then with `python -m index build ... --ray ADDRESS` on a cluster of
`--nodes` Ray nodes started on this machine (`ray start --head --num-cpus 1`, then
`ray start --address ... --num-cpus 1`), stopped at the end whatever happens. Checks the two
indexes agree: the same passages, vectors equal to 1e-5, and the same top passage for every
SQuAD question of those articles. Prints characters embedded per second for each, and per
worker (CPU): the figure that scales with the nodes of a real cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import SHARED, report
from bench.speed import PROJECT_ROOT, write_squad_articles

SQUAD = SHARED / "bench" / "squad-dev-v1.1.jsonl"
RAY = Path(sys.executable).with_name("ray")
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop a `ray start --block` and every process it started (its own process group), by id."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    # Ray's daemons may outlive the `ray start` that launched them: end the whole group, and
    # wait until the last of its processes has gone.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.2)


@dataclass(frozen=True)
class Cluster:
    """A running Ray cluster: its address, and the environment a driver needs to join it."""

    address: str
    env: dict[str, str]
    groups: tuple[int, ...]  # the process group of each node (its `ray start`'s id)


@contextlib.contextmanager
def local_cluster(workdir: Path, nodes: int = 2, ready_within: float = 90.0) -> Iterator[Cluster]:
    """A Ray cluster of `nodes` one-CPU nodes on this machine.

    Every node is a `ray start --block` in a process group of its own, so stopping it (at the
    end, whatever happens) ends exactly the processes it started. The cluster takes only
    drivers that present its token (Ray's token authentication), a fresh random one.
    """
    port = _free_port()
    address = f"{HOST}:{port}"
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # Ray's socket paths must stay short
    joining = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16), "RAY_USAGE_STATS_ENABLED": "0"}
    env = {**os.environ, **joining, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    common = ["--block", "--num-cpus", "1", "--object-store-memory", str(128 * 2**20), "--disable-usage-stats"]
    processes: list[subprocess.Popen] = []
    try:
        for number in range(nodes):
            if number == 0:
                where = ["--head", "--port", str(port), "--include-dashboard=false", "--temp-dir", str(temp)]
            else:
                where = ["--address", address]
            where += ["--node-ip-address", HOST]  # loopback only
            log = (workdir / f"ray-node-{number}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [str(RAY), "start", *where, *common],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            if number == 0:
                _wait_for_port(port, processes[0], ready_within)
        _wait_for_nodes(address, nodes, ready_within, env)
        yield Cluster(address, joining, tuple(p.pid for p in processes))
    finally:
        for process in reversed(processes):
            _stop(process)
        shutil.rmtree(temp, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Ray head exited ({process.returncode})")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the Ray head did not listen on {port} within {within:.0f}s")


def _wait_for_nodes(address: str, nodes: int, within: float, env: dict[str, str]) -> None:
    """Until `nodes` nodes are alive (asked in a child process, so this one stays unconnected)."""
    probe = (
        "import ray, sys, time\n"
        f"ray.init(address={address!r}, log_to_driver=False, logging_level='ERROR')\n"
        f"deadline = time.monotonic() + {within}\n"
        f"while sum(n['Alive'] for n in ray.nodes()) < {nodes}:\n"
        "    if time.monotonic() > deadline: sys.exit(1)\n"
        "    time.sleep(0.5)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=within + 30, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"the Ray cluster did not reach {nodes} nodes: {result.stderr.decode()[-2000:]}")


@dataclass(frozen=True)
class Built:
    """One build by the command line: how long it took and what it logged."""

    wall: float  # seconds of the whole command
    seconds: float  # seconds of the build as it reports them: reading to publishing, without start-up
    log: str  # what the command wrote to stderr (e.g. the Ray cluster it ran on)


def build_with_cli(sources: list[Path], out: Path, cluster: Cluster | None = None) -> Built:
    """`python -m index build SOURCES --out OUT [--ray ADDRESS]` as a user runs it."""
    command = [sys.executable, "-m", "index", "build", *map(str, sources), "--out", str(out), "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if cluster is not None:
        command.append(f"--ray={cluster.address}")
        env.update(cluster.env)
    began = time.perf_counter()
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    wall = time.perf_counter() - began
    reported = re.search(r" in ([0-9.]+)s -> ", result.stdout)
    return Built(wall, float(reported.group(1)) if reported else wall, result.stderr)


def compare(local: Path, other: Path, questions: list[str]) -> dict[str, float | int]:
    """How two indexes differ: passages, largest vector difference, questions whose top passage differs."""
    import qa
    from qa import store

    a, b = store.load(local), store.load(other)
    same_passages = [(p.source, p.start, p.end, p.text) for p in a.passages] == [
        (p.source, p.start, p.end, p.text) for p in b.passages
    ]
    diff = max(
        float(np.max(np.abs(np.asarray(a.arrays[name]) - np.asarray(b.arrays[name]))))
        for name in ("passage_vectors", "sentence_vectors")
    )
    first, second = qa.Index.load(local), qa.Index.load(other)
    changed = 0
    for question in questions:
        x, y = first.retrieve(question, k=1), second.retrieve(question, k=1)
        changed += (x[0].source, x[0].start) != (y[0].source, y[0].start)
    return {
        "passages": len(a.passages),
        "same_passages": int(same_passages),
        "max_vector_difference": diff,
        "questions": len(questions),
        "top_passage_changed": changed,
    }


def squad_questions(articles: int, path: Path = SQUAD) -> list[str]:
    """Every question of the first `articles` SQuAD dev articles."""
    questions: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for _, line in zip(range(articles), lines, strict=False):
            row = json.loads(line)
            questions += [q["question"] for q in row["qas"]]
    return questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=12, help="SQuAD dev articles to index (default: 12)")
    parser.add_argument("--nodes", type=int, default=2, help="Ray nodes of one CPU each (default: 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        work = Path(tmp)
        corpus = work / "articles"
        chars = write_squad_articles(corpus, args.articles)
        # Warm the page cache and the ONNX export, so neither side pays for them.
        build_with_cli([corpus], work / "warm")
        local = build_with_cli([corpus], work / "local")
        with local_cluster(work, args.nodes) as cluster:
            ray = build_with_cli([corpus], work / "ray", cluster)
        figures = compare(work / "local", work / "ray", squad_questions(args.articles))
    local_workers = int(os.environ.get("QA_BUILD_THREADS", "0")) or min(os.cpu_count() or 1, 4)
    report(
        "build on a Ray cluster vs a local build",
        {
            "articles": args.articles,
            "characters": chars,
            **figures,
            "local_command_seconds": local.wall,
            "local_seconds": local.seconds,
            "local_chars_per_s": chars / local.seconds,
            "local_workers": local_workers,
            "local_chars_per_s_per_worker": chars / local.seconds / local_workers,
            "ray_nodes": args.nodes,
            "ray_command_seconds": ray.wall,
            "ray_seconds": ray.seconds,
            "ray_chars_per_s": chars / ray.seconds,
            "ray_chars_per_s_per_worker": chars / ray.seconds / args.nodes,
        },
    )


if __name__ == "__main__":
    main()
