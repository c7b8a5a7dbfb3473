"""`python -m index build | add | remove | list` run as a person runs them, damage, a stopped or killed build."""

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import qa
from index import build
from qa import store
from tests.test_formats import HTML_PAGE, make_pdf

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )


def test_add_list_and_remove_change_only_what_they_name(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "huddles.md").write_text("# Huddles\n\nA daily team huddle lasts ten minutes.\n")
    out = tmp_path / "idx"
    built = run("-m", "index", "build", str(folder), "--out", str(out), "--quiet")
    assert built.returncode == 0, built.stderr
    assert "1 documents read" in built.stdout

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "journal.html").write_text(HTML_PAGE, encoding="utf-8")
    make_pdf(extra / "report.pdf")
    (extra / "huge.txt").write_text("Far too long. " * 2000)
    added = run("-m", "index", "add", str(extra), "--out", str(out), QA_MAX_FILE_BYTES="20000")
    assert added.returncode == 0, added.stderr
    assert "indexed 3 documents" in added.stdout and "2 documents read" in added.stdout
    assert "1 files skipped" in added.stdout and "huge.txt" in added.stderr and "20,000-byte limit" in added.stderr
    assert "Reading" in added.stderr and "Embedding" in added.stderr  # the progress bars
    reused = int(added.stdout.split(" reused")[0].rsplit(" ", 1)[1])
    assert reused == 1  # the note's one passage was not embedded again

    listed = run("-m", "index", "list", "--out", str(out))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "PASSAGES", "INDEXED", "TITLE"]
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert set(rows) == {"huddles.md", "journal.html", "report.pdf"}
    assert "Safety huddles report" in rows["report.pdf"] and "Team huddles that work" in rows["journal.html"]
    assert lines[-1].startswith("3 documents, ") and "built 20" in lines[-1]

    # Re-adding a changed file from the index's own folder replaces it under the same name.
    (folder / "huddles.md").write_text("# Huddles\n\nA daily team huddle lasts fifteen minutes.\n")
    replaced = run("-m", "index", "add", str(folder / "huddles.md"), "--out", str(out), "--quiet")
    assert replaced.returncode == 0, replaced.stderr
    assert "indexed 3 documents" in replaced.stdout and "1 documents read" in replaced.stdout

    removed = run("-m", "index", "remove", "report.pdf", "journal.html", "--out", str(out), "--quiet")
    assert removed.returncode == 0, removed.stderr
    assert "removed journal.html, report.pdf" in removed.stdout and "0 passages embedded" in removed.stdout
    # The replaced text is what is served (whether the judgement quotes it is not this test's business).
    passages = qa.Index.load(out).retrieve("How long does the daily team huddle last?", k=3)
    assert "fifteen minutes" in passages[0].highlight
    assert {p.source for p in passages} == {"huddles.md"}

    unknown = run("-m", "index", "remove", "nope.txt", "--out", str(out))
    assert unknown.returncode == 1 and "nope.txt" in unknown.stderr and "python -m index list" in unknown.stderr
    last = run("-m", "index", "remove", "huddles.md", "--out", str(out))
    assert last.returncode == 1 and "would leave no document" in last.stderr
    assert "Traceback" not in unknown.stderr + last.stderr


def test_the_default_index_stays_in_step_with_its_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "huddles.md").write_text("# Huddles\n\nA daily team huddle lasts ten minutes.\n")
    env = {"QA_INDEX_DIR": str(tmp_path / "index"), "QA_CORPUS_DIR": str(corpus)}
    assert run("-m", "index", "build", "--quiet", **env).returncode == 0
    # A file added to the corpus and then to the index keeps the index current: no rebuild.
    (corpus / "logo.md").write_text("# Branding\n\nThe hospital logo is coloured dark green.\n")
    added = run("-m", "index", "add", str(corpus / "logo.md"), "--quiet", **env)
    assert added.returncode == 0 and "warning" not in added.stderr, added.stderr
    asked = run("-m", "qa", "What colour is the hospital logo?", "--json", **env)
    assert asked.returncode == 0 and "building the default index" not in asked.stderr
    # A file from elsewhere would be dropped by the next corpus check: the command says so.
    other = tmp_path / "parking.md"
    other.write_text("# Parking\n\nStaff park on Elm Road.\n")
    outside = run("-m", "index", "add", str(other), "--quiet", **env)
    assert outside.returncode == 0 and "warning: " in outside.stderr and str(corpus) in outside.stderr


def test_a_damaged_index_gives_one_line_saying_to_rebuild(tmp_path):
    out = tmp_path / "idx"
    note = tmp_path / "note.md"
    note.write_text("# Huddles\n\nA daily team huddle lasts ten minutes.\n")
    build([note], out, progress=False)
    vectors = store.resolve(out) / "arrays" / "passage_vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-64])
    for args in (
        ("-m", "qa", "How long is a huddle?", "--index", str(out)),
        ("-m", "index", "list", "--out", str(out)),
        ("-m", "index", "add", str(note), "--out", str(out)),
    ):
        result = run(*args)
        assert result.returncode == 1, args
        assert "Traceback" not in result.stderr
        message = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(message) == 1 and "damaged" in message[0], args
        # From its own source: with none named, the hint rebuilt the default corpus in its place.
        assert f"rebuild it with `python -m index build {note.resolve()} --out {out}`" in message[0], args
    # A full build is the way out, and says why it embedded everything.
    rebuilt = run("-m", "index", "build", str(note), "--out", str(out), "--quiet")
    assert rebuilt.returncode == 0 and "full rebuild: the existing index is damaged" in rebuilt.stderr


def test_a_missing_index_is_named_by_list(tmp_path):
    result = run("-m", "index", "list", "--out", str(tmp_path / "none"))
    assert result.returncode == 1 and "no index at" in result.stderr and "Traceback" not in result.stderr


def _serving_index_and_a_bigger_folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    """An index of one note, and a folder of reports that takes seconds to embed."""
    out = tmp_path / "idx"
    old = tmp_path / "old.md"
    old.write_text("# Parking\n\nStaff park in the multi-storey car park on Elm Road.\n")
    build([old], out, progress=False)
    folder = tmp_path / "big"
    folder.mkdir()
    for n in range(4):
        paragraphs = [
            f"Ward {n}-{i} reviews its staffing every {i + 2} days. The sister in charge signs the rota. "
            f"Agency staff on ward {n}-{i} are briefed at the start of each shift. Falls are discussed weekly."
            for i in range(15)
        ]
        (folder / f"ward-{n}.txt").write_text(f"Ward report {n}\n\n" + "\n\n".join(paragraphs))
    return out, store.resolve(out), folder


def _signal_while_embedding(folder: Path, out: Path, sig: signal.Signals) -> tuple[int, str]:
    """Run `python -m index build folder`, send `sig` once it is embedding: (exit code, stderr).

    Its temporary files go to `out`'s folder's "tmp": a killed build cannot remove its own, and
    they were left in the machine's /tmp.
    """
    (out.parent / "tmp").mkdir(exist_ok=True)
    child = subprocess.Popen(
        [sys.executable, "-m", "index", "build", str(folder), "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(out.parent / "tmp")},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # A shell without job control starts background jobs with Ctrl-C ignored; undo that here.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = b""
    deadline = time.monotonic() + 120
    try:
        while b"Embedding" not in seen and time.monotonic() < deadline and child.poll() is None:
            # tqdm redraws with carriage returns, not newlines: read whatever has arrived.
            if select.select([child.stderr], [], [], 0.1)[0]:
                seen += os.read(child.stderr.fileno(), 65536)
        assert b"Embedding" in seen and child.poll() is None, seen.decode(errors="replace")
        child.send_signal(sig)
        _, rest = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    return child.returncode, (seen + rest).decode(errors="replace")


def test_ctrl_c_during_a_build_stops_it_with_a_message_and_keeps_the_index(tmp_path):
    out, serving, folder = _serving_index_and_a_bigger_folder(tmp_path)
    code, stderr = _signal_while_embedding(folder, out, signal.SIGINT)
    assert code == 130, stderr
    assert f"interrupted: {out} is as it was" in stderr and "Traceback" not in stderr
    assert store.resolve(out) == serving
    assert not list(store.builds_dir(out).glob("*.partial"))
    assert not list((out.parent / "tmp").iterdir())  # interrupted, it still cleared its temporary files


def test_a_build_killed_while_embedding_leaves_the_old_index_serving(tmp_path):
    out, serving, folder = _serving_index_and_a_bigger_folder(tmp_path)
    code, _ = _signal_while_embedding(folder, out, signal.SIGKILL)
    assert code == -signal.SIGKILL

    assert store.resolve(out) == serving
    answer = qa.Index.load(out).ask("Where do staff park?")
    assert answer.found and answer.passages[0].source == "old.md"

    # A build killed while writing leaves an unpublished folder; the next build clears it away.
    stale = store.builds_dir(out) / "20000101-000000-000000000-1.partial"
    (stale / "arrays").mkdir(parents=True)
    (stale / "arrays" / "passage_vectors.npy").write_bytes(b"half")
    report = build([folder], out, progress=False)
    assert report.documents == 4 and not stale.exists()
    assert not list(store.builds_dir(out).glob("*.partial"))
    assert qa.Index.load(out).ask("How often does ward 2-3 review its staffing?").passages[0].source == "ward-2.txt"
