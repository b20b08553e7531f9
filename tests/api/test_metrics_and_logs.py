"""Operations: GET /metrics (who may scrape it, what it counts) and the request id and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from api.logging_setup import JsonFormatter, RequestIdFilter, logging_config, request_id_var
from api.settings import Settings
from registry.context import Registry
from tests.support import bearer, make_user, order

SCRAPE_TOKEN = "scrape-0123456789abcdef0123456789abcdef"


@pytest.fixture
def operator(client: TestClient, registry: Registry) -> dict[str, str]:
    return bearer(client, make_user(registry, "ops", ["operator"]))


def _samples(client: TestClient, headers: dict[str, str]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_who_may_read_the_metrics(client: TestClient, registry: Registry, settings: Settings,
                                  operator: dict[str, str]) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer(client, make_user(registry, "t", ["trader"]))).status_code == 403
    assert client.get("/metrics", headers=bearer(client, make_user(registry, "a", ["admin"]))).status_code == 200
    assert client.get("/metrics", headers=operator).status_code == 200
    scraper = {"Authorization": f"Bearer {SCRAPE_TOKEN}"}
    assert client.get("/metrics", headers=scraper).status_code == 401  # no scrape token configured
    settings.metrics_token = SecretStr(SCRAPE_TOKEN)
    assert client.get("/metrics", headers=scraper).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN[:-1]}x"}).status_code == 401


def test_requests_are_counted_by_route_template(client: TestClient, operator: dict[str, str]) -> None:
    before = _samples(client, operator)
    for rid in (123456, 654321):
        assert client.get(f"/retirements/{rid}").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    after = _samples(client, operator)
    route = {"route": "/retirements/{retirement_id}", "method": "GET"}
    assert (_value(after, "carbonx_http_requests_total", **route, status="404")
            - _value(before, "carbonx_http_requests_total", **route, status="404")) == 2
    assert (_value(after, "carbonx_http_request_duration_seconds_count", **route)
            - _value(before, "carbonx_http_request_duration_seconds_count", **route)) == 2
    assert (_value(after, "carbonx_http_requests_total", route="unmatched", method="GET", status="404")
            - _value(before, "carbonx_http_requests_total", route="unmatched", method="GET", status="404")) == 1
    assert not any("123456" in str(labels) for _, labels in after)  # raw paths never become labels


def test_exchange_commands_trades_and_commits(client: TestClient, market: dict[str, Any],
                                              operator: dict[str, str]) -> None:
    people = market["people"]
    before = _samples(client, operator)
    assert order(client, people["seller"], side="sell", quantity_t=100, price_fen=5000).status_code == 201
    assert order(client, people["buyer"], quantity_t=60, price_fen=5100).status_code == 201
    refused = order(client, people["buyer"], price_fen=5501)  # above the 10% band: the engine refuses
    assert refused.status_code == 409 and refused.json()["code"] == "order_rejected"
    after = _samples(client, operator)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("carbonx_exchange_commands_total", command="place", outcome="accepted") == 2
    assert grew("carbonx_exchange_commands_total", command="place", outcome="rejected") == 1
    assert grew("carbonx_exchange_trades_total", mode="continuous") == 1
    assert grew("carbonx_exchange_traded_tonnes_total", mode="continuous") == 60
    assert grew("carbonx_exchange_settlement_seconds_count") == 1
    batches = grew("carbonx_exchange_commit_seconds_count")
    assert 1 <= batches <= 3 and grew("carbonx_exchange_batch_commands_count") == batches
    assert grew("carbonx_exchange_batch_commands_sum") == 3  # every command in exactly one batch


def test_request_ids_and_request_log_lines(client: TestClient, registry: Registry,
                                           caplog: pytest.LogCaptureFixture) -> None:
    user_id = make_user(registry, "logged", ["trader"])
    with caplog.at_level(logging.INFO, logger="carbonx.http"):
        answered = client.get("/retirements/424242",
                              headers={"X-Request-ID": "trace-42.a:b", **bearer(client, user_id)})
    assert answered.headers["x-request-id"] == "trace-42.a:b" == answered.json()["request_id"]
    line = next(r for r in caplog.records if r.name == "carbonx.http")
    assert (line.request_id, line.method, line.path, line.status, line.principal_id) == (  # type: ignore[attr-defined]
        "trace-42.a:b", "GET", "/retirements/424242", 404, user_id)
    assert line.duration_ms >= 0  # type: ignore[attr-defined]
    for offered in ("has space", "x" * 65, "<script>", ""):
        response = client.get("/health", headers={"X-Request-ID": offered} if offered else {})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), offered
    accepted = client.get("/health", headers={"X-Request-ID": "y" * 64})
    assert accepted.headers["x-request-id"] == "y" * 64
    too_large = client.post("/auth/login", content=b"x" * (1024 * 1024 + 1), headers={"X-Request-ID": "big-1"})
    assert too_large.status_code == 413 and too_large.json()["request_id"] == "big-1"
    assert too_large.headers["x-request-id"] == "big-1"


def _log_line(log_format: str) -> str:
    """One record through the handler configuration the service uses, with a request id set."""
    config = logging_config(log_format, "INFO")
    formatter_config = config["formatters"]["default"]
    formatter = formatter_config["()"]() if "()" in formatter_config else logging.Formatter(formatter_config["format"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(config["filters"]["request_id"]["()"]())
    logger = logging.getLogger(f"carbonx.test.{log_format}")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id_var.set("req-7")
    try:
        logger.warning("注销 %s failed", "JXR-1", extra={"status": 409})
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    return stream.getvalue()


def test_json_and_plain_log_lines() -> None:
    entry = json.loads(_log_line("json"))
    assert entry["level"] == "WARNING" and entry["logger"] == "carbonx.test.json"
    assert entry["message"] == "注销 JXR-1 failed" and entry["request_id"] == "req-7" and entry["status"] == 409
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])
    assert "[req-7] 注销 JXR-1 failed" in _log_line("plain")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, None)
    try:
        raise ValueError("bad")
    except ValueError:
        record.exc_info = sys.exc_info()
    RequestIdFilter().filter(record)
    assert "ValueError: bad" in json.loads(JsonFormatter().format(record))["exception"]
