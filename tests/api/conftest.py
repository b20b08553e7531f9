"""The shared market of the trading tests: three admitted traders, one holding 1,000 t, one with cash."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from registry.context import Registry
from tests.conftest import Backend
from tests.support import DEPOSIT_FEN, People, bearer, free_port, issue_to, make_user, seed_ledger, served


@pytest.fixture
def market(client: TestClient, registry: Registry) -> dict[str, Any]:
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 1000)  # to holders[0], vintage 2023
    operator_id = make_user(registry, "operator", ["operator"])
    operator = bearer(client, operator_id)
    for holder in holders:
        assert client.post(f"/market/participants/{holder.participant_id}/admission", headers=operator,
                           json={"trading_status": "admitted", "reason": "准入"}).status_code == 200
    client.post("/cash/deposits", headers=operator, json={
        "participant_id": holders[1].participant_id, "amount_fen": DEPOSIT_FEN, "bank_reference": "BANK-0001"})
    made = client.post("/instruments", headers=operator, json={
        "code": "JXCI-2023", "name_zh": "2023年度", "name_en": "2023 vintage", "vintage": 2023,
        "settings": {"reference_price_fen": 5000, "price_band_bp": 1000}})
    assert made.status_code == 201, made.text
    people = People(client, {"seller": holders[0].user_id, "buyer": holders[1].user_id,
                             "stranger": holders[2].user_id, "operator": operator_id})
    return {"people": people, "operator": operator, "batch": batch, "holders": holders}


@pytest.fixture
def live_server(registry: Registry, backend: Backend, settings: Settings) -> Iterator[str]:
    settings.auto_execute_retirements = True
    app = create_app(settings, registry=registry, kv=backend.kv)
    with served(app, free_port(), start_timeout_s=20, limit_concurrency=200) as url:
        yield url
