"""`pip install` of the project as a newcomer does it: the wheel, installed into a new virtual
environment, answers from an empty folder, keeps its data in the user's folders, and serves MCP
over stdio with `qa-mcp`.

Installing torch and the rest into a new environment would take minutes, so the new environment
sees the test environment's packages through a .pth file, and the wheel is installed without
dependencies; `pip check` then proves the wheel's declared dependencies are met by them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from qa.config import APP_NAME, SETTINGS
from tests.conftest import ARTICLE
from tests.test_mcp import check, exercise, run_async

ROOT = Path(__file__).resolve().parent.parent
# What a fresh clone builds the package from (bench/, tests/ and var/ are not part of it).
PACKAGED = ("pyproject.toml", "README.md", "qa", "index", "ui", "corpus")


def run(command: list[str | Path], env: dict[str, str], cwd: Path, timeout: float = 120) -> str:
    """Run `command`; its stdout, or a failure showing what it printed."""
    done = subprocess.run(
        [str(part) for part in command], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_wheel_installs_into_a_new_venv_and_answers_from_an_empty_folder(built_index: Path, tmp_path: Path) -> None:
    source = tmp_path / "clone"
    source.mkdir()
    for name in PACKAGED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("QA_", "XDG_", "PYTHON", "VIRTUAL_ENV"))
    }
    home = tmp_path / "home"
    env |= {"HOME": str(home), "HF_HUB_OFFLINE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", source],
        env,
        tmp_path,
    )
    wheel = next((tmp_path / "dist").glob("collective_leadership_qa-*.whl"))

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], env, tmp_path)
    python = venv / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env, tmp_path).strip())
    (site / "shared-test-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", wheel], env, tmp_path)
    run([python, "-m", "pip", "check"], env, tmp_path)

    empty = tmp_path / "empty"
    empty.mkdir()
    # Installed, the package is imported from the new venv, and keeps its data in the user's folders.
    where = json.loads(
        run(
            [
                python,
                "-c",
                "import json, qa.config as c; s = c.SETTINGS; print(json.dumps({'qa': c.__file__, "
                "'in_project': c.IN_PROJECT, 'index': str(s.index_dir), 'cache': str(s.cache_dir), "
                "'corpus': str(s.corpus_dir), 'log': str(s.log_db), 'uploads': str(s.upload_dir)}))",
            ],
            env | {"XDG_CACHE_HOME": str(tmp_path / "cache")},
            empty,
        )
    )
    data = home / ".local" / "share" / APP_NAME
    assert Path(where["qa"]).is_relative_to(site) and where["in_project"] is False
    assert where["index"] == str(data / "index") and where["log"] == str(data / "questions.db")
    assert where["uploads"] == str(data / "uploads") and where["cache"] == str(tmp_path / "cache" / APP_NAME)
    corpus = Path(where["corpus"])
    assert corpus == site / "qa" / "corpus" and [p.name for p in corpus.iterdir()] == [ARTICLE.name]

    # The first question builds the default index from the bundled article. The model's ONNX
    # export is taken from the test session's cache (exporting it again takes a minute of torch).
    asking = env | {"QA_CACHE_DIR": str(SETTINGS.cache_dir.absolute())}
    answer = json.loads(run([venv / "bin" / "qa", "What is collective leadership?", "--json"], asking, empty, 300))
    assert answer["status"] == "answered" and answer["found"] is True
    assert answer["passages"][0]["source"] == ARTICLE.name
    assert (data / "index" / "manifest.json").is_file() and list(empty.iterdir()) == []
    # The other commands are on the PATH too, and find the same default index.
    listing = run([venv / "bin" / "qa-index", "list"], asking, empty)
    assert ARTICLE.name in listing and f"at {data}/" in listing
    assert "--workers" in run([venv / "bin" / "qa-serve", "--help"], asking, empty)

    # An assistant starts `qa-mcp`, lists its tools and calls each over stdio.
    params = StdioServerParameters(command=str(venv / "bin" / "qa-mcp"), env=asking, cwd=empty)

    async def assistant() -> dict[str, Any]:
        async with Client(params) as client:
            return await exercise(client)

    check(run_async(assistant))
