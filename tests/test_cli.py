"""The command lines, run as a person runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )


def test_qa_json_has_the_documented_shape(built_index):
    result = run("-m", "qa", "What is collective leadership?", "--json", "--index", str(built_index), "--k", "2")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"status", "found", "answer", "passages"}
    assert data["found"] is True and data["status"] == "answered"
    assert len(data["passages"]) == 2
    for p in data["passages"]:
        assert set(p) == {"text", "score", "source", "title", "start", "end", "highlight", "section", "related"}
    assert "all staff take responsibility" in data["passages"][0]["text"]
    assert (data["passages"][0]["section"], data["passages"][0]["related"]) == ("", False)


def test_qa_json_says_which_passages_are_teasers_of_other_pages(built_index):
    question = "Who reflects on the conundrum of clinical leadership?"
    result = run("-m", "qa", question, "--json", "--index", str(built_index), "--k", "1")
    assert result.returncode == 0, result.stderr
    (teaser,) = json.loads(result.stdout)["passages"]
    assert teaser["text"].startswith("The conundrum of clinical leadership")
    assert (teaser["section"], teaser["related"]) == ("Related content", True)


def test_qa_asked_what_the_article_is_about_quotes_its_opening(built_index):
    result = run("-m", "qa", "What is this article about?", "--index", str(built_index))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("“Michael West, Senior Fellow at The King's Fund, explains")
    assert "relevance:" not in result.stdout  # no search rated it
    data = json.loads(run("-m", "qa", "Summarise the article", "--json", "--index", str(built_index)).stdout)
    assert data["status"] == "answered" and data["answer"] == data["passages"][0]["highlight"]


def test_qa_readable_output_marks_the_answer(built_index):
    result = run("-m", "qa", "Who commented on the latest NHS Staff Survey?", "--index", str(built_index))
    assert result.returncode == 0, result.stderr
    assert "[1]" in result.stdout and "»" in result.stdout and "Related content" in result.stdout


def test_qa_bad_input_gives_a_message_and_exit_code(tmp_path, built_index):
    empty = run("-m", "qa", "  ", "--index", str(built_index))
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr
    # A byte that is not UTF-8 (a Latin-1 terminal's "é") reached the tokenizer as a lone surrogate.
    latin = run("-m", "qa", "What is caf\udce9 culture?", "--json", "--index", str(built_index))
    assert latin.returncode == 0 and json.loads(latin.stdout)["passages"], latin.stderr
    missing = run("-m", "qa", "What?", "--index", str(tmp_path / "none"))
    assert missing.returncode == 1 and "python -m index build" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_index_build_cli_and_its_errors(tmp_path):
    out = tmp_path / "idx"
    built = run("-m", "index", "build", "--out", str(out), "--quiet")
    assert built.returncode == 0, built.stderr
    assert "indexed 1 documents" in built.stdout and (out / "manifest.json").exists()
    missing = run("-m", "index", "build", str(tmp_path / "nope"), "--out", str(out))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.txt").write_text("")
    nothing = run("-m", "index", "build", str(tmp_path / "empty"), "--out", str(out))
    assert nothing.returncode == 1 and "no usable document" in nothing.stderr
    assert "the existing index is unchanged" in nothing.stderr  # the one built above
    (tmp_path / "fresh").mkdir()
    none_yet = run("-m", "index", "build", str(tmp_path / "empty"), "--out", str(tmp_path / "fresh" / "idx"))
    assert none_yet.returncode == 1 and none_yet.stderr.rstrip().endswith("; no index was written"), none_yet.stderr
    assert "Traceback" not in nothing.stderr
    # An --out that can never be an index is refused before any work (it failed at the end,
    # with a traceback and a lock file left beside it).
    (tmp_path / "a-file").write_text("notes")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-folder" / "keep.txt").write_text("mine")
    for name, said in (("a-file", "is a file, not an index folder"), ("a-folder", "is a folder that holds no index")):
        refused = run("-m", "index", "build", "--out", str(tmp_path / name), "--quiet")
        assert refused.returncode == 1 and said in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
        assert not (tmp_path / f".{name}.lock").exists()
    assert (tmp_path / "a-file").read_text() == "notes" and (tmp_path / "a-folder" / "keep.txt").read_text() == "mine"


def test_default_index_is_built_on_first_use(tmp_path):
    env = {"QA_INDEX_DIR": str(tmp_path / "default")}
    first = run("-m", "qa", "What is collective leadership?", "--json", **env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["found"] and "building the default index" in first.stderr
    again = run("-m", "qa", "What is collective leadership?", **env)
    assert again.returncode == 0 and "building" not in again.stderr
