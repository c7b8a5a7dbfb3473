"""The OpenAPI contract, checked by Schemathesis against the real app with both tokens.

The app is served by uvicorn on 127.0.0.1 with QA_API_TOKEN and QA_ADMIN_TOKEN set (as
`create_app` arguments), over a private copy of the article's index, since the Library routes
may change it. Schemathesis runs in its own process with every check, a fixed seed and a bounded
number of examples per operation.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import qa
from qa.questionlog import QuestionLog
from tests.libraryserver import copy_index, serve_app
from ui.server import create_app

API_TOKEN = "contract-reader-token"
ADMIN_TOKEN = "contract-admin-token"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# One exception, narrow and stated: the schema says a file is sent in "files", but no schema can
# say that its bytes must be a real PDF, Word or text document matching its name. Schemathesis
# sends a one-pixel PNG there, which the Library refuses with 400 ("no file can be used").
CONFIG = """
[[operations]]
include-path = "/api/v1/documents"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
"""


def test_schemathesis_finds_no_failure_with_every_check(built_index: Path, tmp_path: Path):
    index = qa.Index.load(copy_index(built_index, tmp_path / "copy"))
    app = create_app(
        index,
        api_token=API_TOKEN,
        admin_token=ADMIN_TOKEN,
        upload_dir=tmp_path / "uploads",
        question_log=QuestionLog(tmp_path / "questions.db"),
        rate_limit=0,  # thousands of requests in seconds: the limit's own tests are in test_security
    )
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    began = time.monotonic()
    with serve_app(app) as url:
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "--config-file",
                str(config),
                "run",
                f"{url}/openapi.json",
                "--checks",
                "all",
                "--header",
                f"Authorization: Bearer {ADMIN_TOKEN}",
                "--seed",
                "1",
                "--max-examples",
                "10",
                "--generation-database",
                "none",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )
    seconds = time.monotonic() - began
    tail = "\n".join(run.stdout.splitlines()[-80:])
    assert run.returncode == 0, f"schemathesis failed after {seconds:.0f}s:\n{tail}\n{run.stderr[-2000:]}"
    assert "Tested: 12" in run.stdout, tail  # every operation was exercised, none skipped
