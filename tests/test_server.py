"""The web app's HTTP side in process: every route, each error code, auth, access log, metrics.

The app is the real one (`ui.server.create_app`: FastAPI with the Gradio chat mounted) over the
real article index and model, driven through Starlette's TestClient (HTTP requests handled by
the app in this process, its start-up and shut-down run as a server runs them).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from base64 import b64encode
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import qa
from qa import store
from qa.config import SETTINGS
from tests.test_answerable import NOT_ANSWERED_QUESTION, UNSURE_QUESTION
from ui.__main__ import exposure_problem, main
from ui.server import create_app

DEFINITION = "Collective leadership is a leadership in which all staff take responsibility"
QUESTION = "What is collective leadership?"
PASSAGE_KEYS = {
    "text",
    "score",
    "similarity",
    "relevance",
    "source",
    "title",
    "start",
    "end",
    "paragraph",
    "page",
    "highlight",
    "metadata",
}


@pytest.fixture(scope="module")
def client(article_index) -> Iterator[TestClient]:
    # Every request comes from one client: the question limit (its own tests: test_security) is off.
    app = create_app(article_index, examples=["What is collective leadership?"], rate_limit=0)
    with TestClient(app) as open_client:
        yield open_client


@pytest.fixture(scope="module")
def guarded(article_index) -> Iterator[TestClient]:
    """Password and token set, question text allowed in the access log."""
    app = create_app(
        article_index, auth=[("nhs", "correct horse")], api_token="s3cret-token", log_questions=True, rate_limit=0
    )
    with TestClient(app) as guarded_client:
        yield guarded_client


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + b64encode(f"{user}:{password}".encode()).decode()}


def metric(client: TestClient, name: str, **labels: str) -> float:
    """A sample's value from /metrics (0 when the series does not exist yet)."""
    text = client.get("/metrics").text
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            got = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
            if got == wanted:
                return float(match.group(3))
    return 0.0


# --- routes ------------------------------------------------------------------------------------


def test_ask_returns_the_cli_shape_plus_status_query_and_passage_details(client):
    response = client.post("/api/v1/ask", json={"question": QUESTION, "k": 2, "history": []})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "answered" and body["found"] is True
    assert DEFINITION in body["answer"] and body["query"] == QUESTION
    assert len(body["passages"]) == 2
    first = body["passages"][0]
    assert set(first) >= PASSAGE_KEYS
    assert first["highlight"] in first["text"] and first["metadata"]["author"] == "Michael West"


def test_ask_searches_a_follow_up_with_the_history(client):
    body = client.post("/api/v1/ask", json={"question": "and who is accountable?", "history": [QUESTION]}).json()
    assert QUESTION in body["query"] and "accountable" in body["query"]


def test_ask_off_topic_is_not_covered(client):
    body = client.post("/api/v1/ask", json={"question": "Who won the 2018 FIFA World Cup?"}).json()
    assert body["found"] is False and body["status"] == "not_covered"


def test_ask_carries_unsure_and_related_with_the_closest_passages(client):
    unsure = client.post("/api/v1/ask", json={"question": UNSURE_QUESTION}).json()
    assert unsure["status"] == "unsure" and unsure["found"] is False and unsure["answer"] == qa.engine.UNSURE_TEXT
    assert unsure["passages"] and unsure["passages"][0]["highlight"] in unsure["passages"][0]["text"]
    related = client.post("/api/v1/ask", json={"question": NOT_ANSWERED_QUESTION}).json()
    assert related["status"] == "related" and related["found"] is False and related["passages"]


def test_ask_tells_a_teaser_lacking_a_word_asked_from_an_answer(client):
    question = "What did Pramod Achan conclude about clinical directors' workloads?"
    body = client.post("/api/v1/ask", json={"question": question}).json()
    assert body["status"] == "unsure" and body["answer"] == qa.engine.UNSURE_TEASER_TEXT
    assert body["passages"][0]["related"] and "Pramod Achan" in body["passages"][0]["highlight"]


def test_ask_quotes_nothing_from_a_passage_that_only_mentions_what_is_asked_about(client):
    body = client.post("/api/v1/ask", json={"question": "Who runs the Centre for Creative Leadership?"}).json()
    assert body["status"] == "unsure" and body["found"] is False and body["answer"] == qa.engine.UNSURE_TEXT
    assert "Centre of Creative Leadership" in body["passages"][0]["highlight"]


def test_ask_what_the_content_is_about_quotes_its_opening(client):
    body = client.post("/api/v1/ask", json={"question": "What is this article about?"}).json()
    assert body["status"] == "answered" and body["answer"].startswith("Michael West, Senior Fellow at The King's Fund")
    assert body["passages"][0]["highlight"] == body["answer"] and body["passages"][0]["relevance"] == ""


def test_retrieve_returns_k_passages_best_first(client):
    response = client.post("/api/v1/retrieve", json={"question": QUESTION, "k": 4})
    passages = response.json()["passages"]
    assert response.status_code == 200 and len(passages) == 4
    assert DEFINITION in passages[0]["text"]
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)


def test_documents_lists_what_is_indexed(client, article_index):
    body = client.get("/api/v1/documents").json()
    assert [d["source"] for d in body["documents"]] == ["michael-west-collective-leadership-for-culture-change.txt"]
    assert body["passages"] == article_index.info.passages == body["documents"][0]["passages"]


@pytest.mark.parametrize("route", ["/healthz", "/readyz"])
def test_health_routes_describe_the_index(client, article_index, route):
    response = client.get(route)
    assert response.status_code == 200
    body = response.json()
    assert body["passages"] == article_index.info.passages
    assert body["built_at"] == article_index.info.built_at and body["model"] == article_index.info.model


def test_openapi_page_and_the_chat_share_the_server(client):
    assert "swagger" in client.get("/docs").text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/ask", "/api/v1/retrieve", "/api/v1/documents", "/healthz", "/readyz", "/metrics"} <= set(paths)
    assert client.get("/").status_code == 200
    assert "Michael West" in client.get("/config").text  # the chat's own config, from the index


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ('{"question": ', 400, "not valid JSON"),
        ('["What is collective leadership?"]', 400, "JSON object"),
        ('{"question": "   "}', 422, "question: is empty"),
        ('{"question": ""}', 422, "question"),
        ('{"k": 3}', 422, "question"),
        ('{"question": "Who?", "k": 0}', 422, "k"),
        ('{"question": "Who?", "k": 1000}', 422, "k"),
        ('{"question": "Who?", "colour": "red"}', 422, "colour"),
        (json.dumps({"question": "x" * (SETTINGS.question_chars + 1)}), 422, "question"),
        (json.dumps({"question": "Who?", "history": ["a"] * (SETTINGS.api_max_history + 1)}), 422, "history"),
    ],
)
def test_bad_requests_get_one_line_json_errors(client, body, code, says):
    response = client.post("/api/v1/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == code
    error = response.json()["error"]
    assert says in error and "\n" not in error and "Traceback" not in response.text


def test_a_json_body_sent_as_text_is_told_the_media_type_to_use(client):
    # It was told "the request body must be a JSON object", which it was.
    body = '{"question": "What is collective leadership?"}'
    response = client.post("/api/v1/ask", content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["error"] == 'send the body as JSON, with "Content-Type: application/json"'


def test_a_body_over_the_limit_is_refused_with_413(client):
    big = json.dumps({"question": "a" * (SETTINGS.api_max_body_bytes + 10)})
    response = client.post("/api/v1/retrieve", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "QA_API_MAX_BODY" in response.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield big.encode()

    response = client.post("/api/v1/retrieve", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]


def test_readyz_is_503_when_the_index_folder_is_gone_while_questions_still_answer(built_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(store.resolve(built_index), copy)
    with TestClient(create_app(qa.Index.load(copy))) as client:
        assert client.get("/readyz").status_code == 200
        # A file cut short under it: a restart would not load it (it said "ready").
        vectors = copy / "arrays" / "passage_vectors.npy"
        whole = vectors.read_bytes()
        vectors.write_bytes(whole[:-64])
        damaged = client.get("/readyz")
        assert damaged.status_code == 503 and "passage_vectors.npy is missing or truncated" in damaged.json()["error"]
        vectors.write_bytes(whole)
        assert client.get("/readyz").status_code == 200
        shutil.rmtree(copy)
        response = client.get("/readyz")
        assert response.status_code == 503 and "no index at" in response.json()["error"]
        assert client.get("/healthz").status_code == 200  # alive: it still serves what it loaded
        assert client.post("/api/v1/ask", json={"question": QUESTION}).json()["found"] is True


# --- auth --------------------------------------------------------------------------------------


def test_without_a_password_the_api_is_open(client):
    assert client.get("/api/v1/documents").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_with_a_password_the_api_needs_it_or_the_token(guarded):
    route = "/api/v1/retrieve"
    body = {"question": QUESTION, "k": 1}
    for headers in ({}, basic("nhs", "wrong"), basic("someone", "correct horse"), {"Authorization": "Bearer nope"}):
        refused = guarded.post(route, json=body, headers=headers)
        assert refused.status_code == 401, headers
        assert "QA_API_TOKEN" in refused.json()["error"] and refused.headers["www-authenticate"].startswith("Basic")
    assert guarded.post(route, json=body, headers=basic("nhs", "correct horse")).status_code == 200
    assert guarded.post(route, json=body, headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert guarded.get("/metrics").status_code == 401
    # The load balancer's probes need no login; the chat keeps Gradio's own login.
    assert guarded.get("/healthz").status_code == 200 and guarded.get("/readyz").status_code == 200
    assert "Michael West" not in guarded.get("/config").text


def test_a_non_loopback_host_needs_a_password_or_no_auth(monkeypatch, capsys):
    assert exposure_problem("127.0.0.1", None, False) == ""
    assert exposure_problem("0.0.0.0", [("nhs", "pw")], False) == ""
    assert exposure_problem("0.0.0.0", None, True) == ""
    monkeypatch.delenv("QA_UI_PASSWORD", raising=False)
    assert main(["--host", "0.0.0.0", "--port", "1"]) == 2  # refused before anything is loaded or bound
    error = capsys.readouterr().err
    assert "QA_UI_PASSWORD" in error and "--no-auth" in error


# --- access log and metrics ---------------------------------------------------------------------


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "ui.access"]


def test_one_json_access_line_per_request_without_the_question_by_default(client, caplog):
    caplog.set_level(logging.INFO, logger="ui.access")
    client.post("/api/v1/ask", json={"question": "Who is accountable for care?"})
    client.post("/api/v1/ask", json={"k": 1})
    first, second = access_lines(caplog)
    assert first["route"] == "/api/v1/ask" and first["method"] == "POST" and first["status"] == 200
    assert second["status"] == 422 and isinstance(second["ms"], float) and re.match(r"\d{4}-\d\d-\d\dT", first["time"])
    assert "question" not in first and "accountable" not in json.dumps(first)


def test_access_log_has_the_question_only_when_allowed(guarded, caplog):
    caplog.set_level(logging.INFO, logger="ui.access")
    login = basic("nhs", "correct horse")
    guarded.post("/api/v1/ask", json={"question": "Who is accountable for care?"}, headers=login)
    (line,) = access_lines(caplog)
    assert line["question"] == "Who is accountable for care?" and line["status"] == 200


def test_metrics_count_questions_by_status_and_errors(client, article_index):
    before = metric(client, "qa_questions_total", status="answered", via="api")
    latency_before = metric(client, "qa_question_seconds_count", via="api")
    errors_before = metric(client, "qa_http_errors_total", code="422")
    client.post("/api/v1/ask", json={"question": QUESTION})
    client.post("/api/v1/ask", json={"question": QUESTION, "k": 0})
    assert metric(client, "qa_questions_total", status="answered", via="api") == before + 1
    assert metric(client, "qa_question_seconds_count", via="api") == latency_before + 1
    assert metric(client, "qa_http_errors_total", code="422") == errors_before + 1
    assert metric(client, "qa_passages_indexed") == article_index.info.passages
    assert metric(client, "qa_index_built_timestamp_seconds") > 1.7e9


def test_chat_questions_are_counted_apart(client):
    before = metric(client, "qa_questions_total", status="answered", via="chat")
    # Gradio's own JSON endpoint for the chat's `ask`: the same queue the page uses.
    joined = client.post("/gradio_api/call/ask", json={"data": [QUESTION, 3, []]})
    assert joined.status_code == 200
    event = joined.json()["event_id"]
    stream = client.get(f"/gradio_api/call/ask/{event}").text
    assert "complete" in stream and DEFINITION[:40] in stream
    assert metric(client, "qa_questions_total", status="answered", via="chat") == before + 1


def test_questions_asked_on_the_chat_page_are_counted(article_index):
    from ui.chat import ChatService
    from ui.metrics import MeteredIndex, Metrics
    from ui.slots import Slots

    metrics = Metrics()
    # The page answers from a view.
    service = ChatService(MeteredIndex(article_index, metrics, "chat", Slots(1)))
    assert service.reply(QUESTION).answered
    sample = metrics.registry.get_sample_value("qa_questions_total", {"status": "answered", "via": "chat"})
    assert sample == 1.0


def test_a_question_waits_for_a_free_slot_and_the_wait_is_measured(article_index):
    from ui.metrics import MeteredIndex, Metrics
    from ui.slots import Slots

    metrics = Metrics()
    slots = Slots(1)
    chat = MeteredIndex(article_index, metrics, "chat", slots)
    api = MeteredIndex(article_index, metrics, "api", slots)  # every way in shares the slots
    answers = []
    api.ask(QUESTION)  # warm: the question below is embedded at once, then waits for the slot
    with slots:  # the only slot is taken, as by a question being answered
        waiting = threading.Thread(target=lambda: answers.append(api.ask(QUESTION)))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and not answers
        assert chat.view()._slots is slots
    waiting.join(30)
    assert answers and answers[0].found
    waited = metrics.registry.get_sample_value("qa_question_wait_seconds_sum", {"via": "api"})
    assert waited >= 0.3  # of the 0.5 s the slot was held; the rest went on embedding the question
    assert metrics.registry.get_sample_value("qa_question_seconds_count", {"via": "api"}) == 2.0


def test_a_server_needs_at_least_one_answering_slot(article_index):
    with pytest.raises(ValueError, match="QA_QUESTION_SLOTS must be at least 1"):
        create_app(article_index, question_slots=0)


def test_api_questions_are_logged_and_the_library_reports_what_was_not_answered(article_index, tmp_path):
    from qa.questionlog import QuestionLog

    log = QuestionLog(tmp_path / "questions.db", keep_days=90)
    app = create_app(article_index, admin_token="admin-s3cret", upload_dir=tmp_path / "uploads", question_log=log)
    with TestClient(app) as client:
        for question in ("How do I bake sourdough bread?", "how do i bake sourdough bread", QUESTION):
            assert client.post("/api/v1/ask", json={"question": question}).status_code == 200
        assert client.get("/api/v1/report").status_code == 401
        assert client.get("/api/v1/report", headers={"Authorization": "Bearer wrong"}).status_code == 403
        report = client.get("/api/v1/report", headers={"Authorization": "Bearer admin-s3cret"}).json()
    assert report["questions"] == 3
    unanswered = [(g["question"].lower(), g["count"]) for g in report["unanswered"]]
    assert unanswered == [("how do i bake sourdough bread?", 2)]
    assert "sourdough" in report["html"] and QUESTION not in report["html"]


def test_an_on_topic_question_the_content_does_not_answer_is_never_answered(client):
    answer = client.post("/api/v1/ask", json={"question": "How many nurses did the NHS employ in 2019?"}).json()
    assert answer["status"] in ("related", "unsure") and answer["found"] is False and answer["passages"]
    if answer["status"] == "related":
        assert "does not answer" in answer["answer"]
