"""`python -m index build ... --ray ADDRESS` on a two-node Ray cluster started on this machine
(`ray start --head --num-cpus 1`, `ray start --address ... --num-cpus 1`), stopped whatever
happens: the index is the one a local build makes."""

from __future__ import annotations

import os
import shutil

import pytest

from bench.ray_build import build_with_cli, compare, local_cluster
from tests.conftest import ARTICLE

QUESTIONS = [
    "What is collective leadership?",
    "Who is accountable under collective leadership?",
    "How long does a daily huddle last?",
    "Who won the 2018 FIFA World Cup?",
]


def test_a_two_node_ray_build_equals_the_local_build(tmp_path):
    source = tmp_path / "docs"
    source.mkdir()
    shutil.copy(ARTICLE, source)
    (source / "huddles.md").write_text("# Huddles\n\nA daily team huddle lasts ten minutes. Everyone speaks once.\n")
    build_with_cli([source], tmp_path / "local")
    with local_cluster(tmp_path, nodes=2) as cluster:
        built = build_with_cli([source], tmp_path / "ray", cluster)
    assert "Ray cluster: 2 CPUs on 2 nodes" in built.log  # the build ran on the cluster, not here
    figures = compare(tmp_path / "local", tmp_path / "ray", QUESTIONS)
    assert figures["same_passages"] == 1 and figures["passages"] > 19
    assert figures["max_vector_difference"] <= 1e-5
    assert figures["top_passage_changed"] == 0
    # Both nodes were stopped, with every process they started.
    assert len(cluster.groups) == 2
    for group in cluster.groups:
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)
